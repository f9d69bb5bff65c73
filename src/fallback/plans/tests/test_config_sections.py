"""The plan in `fallback apply` / `fallback export`: a complete description, applied as one
audited plan version, exported so that applying the export changes nothing, and every bad
value reported at its line with nothing changed."""

from __future__ import annotations

import re
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from fallback.accounts.membership import add_member, create_organisation
from fallback.audit.context import acting_as
from fallback.audit.models import AuditEvent
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.export import export_config
from fallback.configfile.loader import load_config
from fallback.monitor import editing as monitor_editing
from fallback.plans import editing
from fallback.plans.models import Band, ContactKind, Plan, PlanVersion
from fallback.plans.tests.conftest import files_connector

pytestmark = pytest.mark.django_db

HEAD = "version: 1\norganisation:\n  slug: acme\n"

FULL = """\
plan:
  owner: ann@acme.test
  contacts_owner: mo@acme.test
  contacts:
    - kind: staff
      name: Mo Manager
      phones: [07700 900111]
      member: mo@acme.test
      verified_on: 2026-02-01
    - kind: vendor_support
      name: CloudCo support
      organisation: CloudCo Ltd
      phones: [0800 123 4567]
      email: support@cloudco.test
      account_number: ACME-991
      system: cloudcrm
    - kind: supplier
      name: Pipes Ltd
      replica_key: S1
  roles:
    - name: Incident lead
      incident_lead: true
      duties: Declares the outage
      holder: ann@acme.test
      alternates: [mo@acme.test, CloudCo support]
    - name: Phones
      holder: Mo Manager
  activities:
    - name: Taking orders
      owner: ann@acme.test
      systems: [cloudcrm]
      people: [Ann, Mo]
      suppliers: [Courier]
      supplier_keys: [S1]
      data: Customers, prices
      mtpd: 1d
      rto: 4h
      rpo: 30m
      impact:
        hours_1_8: {money: 500, customers: 10}
        over_week: {money: 50000, note: we close}
  risks:
    - title: CloudCRM gone for a week
      likelihood: 2
      severity: 5
      treatment: Replica and desk
      unthinkable: true
      contrarian: mo@acme.test
  scenarios:
    - title: CloudCRM lost
      kind: system_lost
      systems: [cloudcrm]
      trigger: Outage declared
      steps:
        - who: Incident lead
          does: Call the vendor
          where: Phone
          how: Contacts, vendor support
          minutes: 15
        - does: Work from the desk
      back_up:
        - Log in to CloudCRM
        - Enter the desk's documents
"""


@pytest.fixture
def acme(world):
    return world["acme"]


def apply(text: str, **kwargs):
    with acting_as(None, "cli"):
        return apply_documents(load_config(HEAD + textwrap.dedent(text), "acme.yaml"), **kwargs)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    return [str(e) for e in caught.value.errors]


def state(org) -> str:
    return export_config([org])


def test_apply_sets_up_the_whole_plan(world, acme):
    result = apply(FULL)
    plan = Plan.objects.get(org=acme)
    assert (plan.owner, plan.contacts_owner) == (world["ann"], world["mo"])
    orders = plan.activities.get()
    assert (orders.mtpd_minutes, orders.rto_minutes, orders.rpo_minutes) == (1440, 240, 30)
    assert list(orders.systems.all()) == [world["crm"]]
    assert (orders.people, orders.supplier_keys, orders.suggested) == ("Ann\nMo", ["S1"], False)
    impacts = {i.band: (i.money, i.customers, i.note) for i in orders.impacts.all()}
    assert impacts == {
        Band.HOURS_1_8: (500, 10, ""),
        Band.OVER_WEEK: (50000, None, "we close"),
    }
    lead = plan.roles.get(is_incident_lead=True)
    vendor = plan.contacts.get(kind=ContactKind.VENDOR_SUPPORT)
    assert [(a.user, a.contact) for a in lead.alternates.all()] == [
        (world["mo"], None),
        (None, vendor),
    ]
    assert plan.roles.get(name="Phones").holder_contact == plan.contacts.get(name="Mo Manager")
    assert vendor.system == world["crm"]
    scenario = plan.scenarios.get()
    assert [(s.role, s.action, s.minutes) for s in scenario.steps.all()] == [
        (lead, "Call the vendor", 15),
        (None, "Work from the desk", None),
    ]
    assert [b.text for b in scenario.back_up_steps.all()] == [
        "Log in to CloudCRM",
        "Enter the desk's documents",
    ]
    risk = plan.risks.get()
    assert (risk.score, risk.unthinkable, risk.contrarian) == (10, True, world["mo"])
    texts = [c.text for c in result.changes]
    assert texts[0] == "plan"
    assert "plan: activity Taking orders" in texts and "plan: role Incident lead" in texts
    [version] = PlanVersion.objects.filter(plan=plan)
    assert (version.summary, version.via, version.created_by_label) == (
        "Applied from a config file",
        "cli",
        "command line",
    )
    assert AuditEvent.objects.filter(org=acme, action="plans.activity.created", via="cli").exists()


def test_applying_the_same_file_twice_changes_nothing(acme):
    apply(FULL)
    events, versions = AuditEvent.objects.count(), PlanVersion.objects.count()
    assert apply(FULL).changes == []
    assert (AuditEvent.objects.count(), PlanVersion.objects.count()) == (events, versions)


def test_export_round_trips(acme):
    apply(FULL)
    text = state(acme)
    assert "plan:\n" in text and "mtpd: 1d\n" in text and "rpo: 30m\n" in text
    events = AuditEvent.objects.count()
    with acting_as(None, "cli"):
        assert apply_documents(load_config(text, "export.yaml")).changes == []
    assert AuditEvent.objects.count() == events
    assert state(acme) == text


def test_a_plan_started_in_the_web_pages_round_trips_with_its_suggestions(world, acme):
    plan = editing.start(acme, world["ann"])
    editing.save_role(
        plan,
        plan.roles.get(),
        holder=world["ann"],
        alternates=[editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Mo")],
    )
    text = state(acme)
    assert "suggested: true" in text
    with acting_as(None, "cli"):
        assert apply_documents(load_config(text, "export.yaml")).changes == []
    assert state(acme) == text


def test_export_copies_the_plan_to_another_installation(world, acme):
    apply(FULL)
    text = state(acme)
    Plan.objects.filter(org=acme).delete()
    with acting_as(None, "cli"):
        apply_documents(load_config(text, "export.yaml"))
    assert state(acme) == text


def test_an_organisation_without_a_plan_exports_no_plan(acme):
    assert "plan:" not in state(acme)


def test_a_list_given_is_complete_and_a_list_left_out_is_left_as_it_is(acme):
    apply(FULL)
    result = apply(
        """\
        plan:
          risks:
            - title: Flood
              likelihood: 1
              severity: 4
        """
    )
    assert [(c.kind, c.text) for c in result.changes] == [
        ("remove", "plan: risk CloudCRM gone for a week"),
        ("create", "plan: risk Flood"),
    ]
    plan = Plan.objects.get(org=acme)
    assert plan.activities.count() == 1 and plan.contacts.count() == 3


def test_a_contact_keeps_its_check_date_when_the_file_leaves_it_out(world, acme):
    apply(FULL)
    plan = Plan.objects.get(org=acme)
    supplier = plan.contacts.get(name="Pipes Ltd")
    import datetime

    editing.verify_contacts(plan, [supplier], world["mo"], datetime.date(2026, 3, 3))
    assert apply(FULL).changes == []
    supplier.refresh_from_db()
    assert (supplier.last_verified_on, supplier.verified_by) == (
        datetime.date(2026, 3, 3),
        world["mo"],
    )


def test_the_incident_lead_can_move_to_another_role(acme):
    apply(FULL)
    moved = FULL.replace("      incident_lead: true\n", "").replace(
        "    - name: Phones\n", "    - name: Phones\n      incident_lead: true\n"
    )
    apply(moved)
    plan = Plan.objects.get(org=acme)
    assert plan.roles.get(is_incident_lead=True).name == "Phones"


def test_a_stricter_rpo_than_the_replica_warns_at_is_a_notice_and_survives_apply(world, acme):
    from fallback.replica import freshness

    connector = files_connector(acme, world["crm"])
    result = apply(FULL)
    assert result.notices == [
        "The replica of CRM copy warns when its copy is older than 30 minutes, not its own "
        "1 hour: “Taking orders” needs data no older than that (the replica's alerts use the "
        "stricter)"
    ]
    # Applying the exported file (the connector's own RPO, 60) leaves the plan's in force.
    with acting_as(None, "cli"):
        apply_documents(load_config(export_config([acme]), "acme.yaml"))
    connector.refresh_from_db()
    assert connector.rpo_minutes == 60
    assert freshness.of(connector, timezone.now()).target == timedelta(minutes=30)


def test_dry_run_changes_nothing(acme):
    result = apply(FULL, dry_run=True)
    assert result.changes
    assert not Plan.objects.filter(org=acme).exists()


def test_a_new_organisation_gets_its_plan_from_the_same_file():
    with acting_as(None, "cli"):
        apply_documents(
            load_config(
                "version: 1\norganisation: {slug: beta, name: Beta}\n"
                "members: [{email: b@beta.test, role: owner}]\n"
                "systems: [{slug: crm, name: CRM}]\n"
                "plan:\n  owner: b@beta.test\n"
                "  activities: [{name: Orders, systems: [crm], mtpd: 2d, rto: 1d}]\n",
                "beta.yaml",
            )
        )
    plan = Plan.objects.get(org__slug="beta")
    assert plan.owner.email == "b@beta.test"
    assert [s.slug for s in plan.activities.get().systems.all()] == ["crm"]


# ---------------------------------------------------------------- bad files


@pytest.fixture
def applied(acme):
    apply(FULL)
    return state(acme)


def test_rto_not_shorter_than_mtpd_is_reported_at_its_line(acme, applied):
    assert problems(
        """\
        plan:
          activities:
            - name: Orders
              mtpd: 4h
              rto: 1d
        """
    ) == [
        "acme.yaml:8: plan.activities[0].rto: must be shorter than the MTPD (4 hours): work has "
        "to resume before the outage becomes intolerable (got 1 day)"
    ]
    assert state(acme) == applied


def test_bad_values_are_reported_at_their_lines(acme, applied):
    assert problems(
        """\
        plan:
          activities:
            - name: Orders
              mtpd: 240
              rto: soon
              impact:
                hours_1_8: {money: -5}
                tomorrow: {money: 1}
          risks:
            - title: Flood
              likelihood: 7
          colour: red
        """
    ) == [
        "acme.yaml:7: plan.activities[0].mtpd: must be a duration with its unit, e.g. 30m, 4h, "
        "1d 12h or 2 weeks (got 240)",
        "acme.yaml:8: plan.activities[0].rto: is not a duration: e.g. 30m, 4h, 1d 12h or 2 "
        "weeks (got 'soon')",
        "acme.yaml:10: plan.activities[0].impact.hours_1_8.money: must be a whole amount from 0 "
        "(got -5)",
        "acme.yaml:11: plan.activities[0].impact.tomorrow: unknown key (known keys: under_1h, "
        "hours_1_8, hours_8_24, days_1_3, over_3d, over_week)",
        "acme.yaml:14: plan.risks[0].likelihood: must be from 1 (low) to 5 (high) (got 7)",
        "acme.yaml:15: plan.colour: unknown key (known keys: owner, contacts_owner, "
        "price_list_owner, scope, policy, activities, risks, scenarios, roles, contacts)",
    ]
    assert state(acme) == applied


def test_references_are_checked_across_the_plan(acme, applied):
    assert problems(
        """\
        plan:
          contacts:
            - {kind: staff, name: Mo}
            - {kind: staff, name: mo}
          roles:
            - {name: Lead, incident_lead: true, holder: Nobody, alternates: [Mo, Mo]}
            - {name: Deputy, incident_lead: true}
          scenarios:
            - title: Lost
              kind: system_lost
              steps: [{who: Chief, does: Call}]
        """
    ) == [
        "acme.yaml:7: plan.contacts[1]: contact 'mo' is listed twice (also contacts[0])",
        "acme.yaml:9: plan.roles[0].holder: no contact called 'Nobody' is listed under contacts",
        "acme.yaml:9: plan.roles[0].alternates[1]: is listed twice (also alternates[0])",
        "acme.yaml:10: plan.roles[1].incident_lead: only one role leads an incident (also "
        "roles[0])",
        "acme.yaml:14: plan.scenarios[0].steps[0].who: no role called 'Chief' is listed under "
        "roles",
    ]
    assert state(acme) == applied


def test_a_member_or_system_the_organisation_lacks_is_refused(acme, applied):
    assert problems("plan:\n  owner: stranger@else.test\n") == [
        "acme.yaml:5: plan.owner: stranger@else.test is not a member of the organisation (add "
        "them under members)"
    ]
    assert problems("plan:\n  activities: [{name: Orders, systems: [nope]}]\n") == [
        "acme.yaml:5: plan.activities[0].systems[0]: the organisation has no system 'nope' (add "
        "it under systems)"
    ]
    assert problems(
        "plan:\n  scenarios:\n    - {title: X, kind: custom, steps: [{who: Boss, does: Y}]}\n"
    ) == [
        "acme.yaml:6: plan.scenarios[0].steps[0].who: the plan has no role called 'Boss' (add it "
        "under roles)"
    ]
    assert state(acme) == applied


def test_members_and_systems_of_the_same_file_are_checked_against_it(world, acme, applied):
    add_member(acme, "new@acme.test", "staff")
    assert problems(
        """\
        members:
          - {email: ann@acme.test, role: owner}
        systems:
          - {slug: cloudcrm, name: CloudCRM}
        plan:
          owner: new@acme.test
          activities: [{name: Orders, systems: [xero]}]
        """
    ) == [
        "acme.yaml:9: plan.owner: new@acme.test is not listed under members",
        "acme.yaml:10: plan.activities[0].systems[0]: no system 'xero' is listed under systems",
    ]


def test_a_system_of_another_organisation_is_refused():
    create_organisation("Acme", slug="acme")
    other = create_organisation("Other", slug="other")
    monitor_editing.create_system(other, slug="theirs", name="Theirs")
    assert problems("plan:\n  activities: [{name: X, systems: [theirs]}]\n") == [
        "acme.yaml:5: plan.activities[0].systems[0]: the organisation has no system 'theirs' "
        "(add it under systems)"
    ]


def test_the_plan_example_in_the_guide_applies(world, acme):
    docs = Path(__file__).resolve().parents[4] / "docs" / "CONFIG.md"
    blocks = re.findall(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    [example] = [b for b in blocks if b.startswith("plan:")]
    apply(example)
    plan = Plan.objects.get(org=acme)
    assert plan.activities.exists() and plan.scenarios.exists() and plan.roles.exists()
    assert apply(example).changes == []


def test_scope_and_policy_are_applied_and_exported(acme):
    from fallback.plans.spec import export_plan

    apply(
        """\
        plan:
          scope: The Leeds office.
          policy: We drill twice a year.
        """
    )
    plan = Plan.objects.get(org=acme)
    assert (plan.scope, plan.policy) == ("The Leeds office.", "We drill twice a year.")
    exported = export_plan(plan)
    assert (exported.scope, exported.policy) == ("The Leeds office.", "We drill twice a year.")
    apply("plan:\n  scope: ''\n")
    plan.refresh_from_db()
    assert (plan.scope, plan.policy) == ("", "We drill twice a year.")
