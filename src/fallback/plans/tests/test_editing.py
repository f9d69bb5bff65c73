"""Changing the plan: starting it with suggested defaults, the rules of each part (RTO before
MTPD, one incident lead, alternates, members only), and every change audited and kept as a
plan version."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from fallback.audit.models import AuditEvent
from fallback.monitor import editing as monitor_editing
from fallback.plans import editing, seeds
from fallback.plans.models import (
    Activity,
    Band,
    Contact,
    ContactKind,
    Plan,
    PlanRole,
    PlanVersion,
    Risk,
    Scenario,
    ScenarioKind,
)
from fallback.testing.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(world):
    return editing.start(world["acme"], world["ann"])


def test_starting_a_plan_seeds_the_suggested_defaults(world, plan):
    assert [a.name for a in plan.activities.all()] == [a.name for a in seeds.ACTIVITIES]
    assert all(a.suggested for a in plan.activities.all())
    orders = plan.activities.get(name="Taking orders")
    assert list(orders.systems.all()) == [world["crm"]]
    assert (orders.mtpd_minutes, orders.rto_minutes, orders.rpo_minutes) == (1440, 240, 60)
    assert not plan.activities.get(name="Payroll").systems.exists()  # no accounting system
    assert [s.kind for s in plan.scenarios.all()] == [
        ScenarioKind.SYSTEM_LOST,
        ScenarioKind.PREMISES,
        ScenarioKind.PEOPLE,
        ScenarioKind.LINE_DOWN,
    ]
    lost = plan.scenarios.get(kind=ScenarioKind.SYSTEM_LOST)
    assert list(lost.systems.all()) == [world["crm"]]
    assert lost.steps.count() >= 4 and lost.back_up_steps.count() >= 4
    [lead] = plan.roles.all()
    assert (lead.name, lead.is_incident_lead, lead.holder_user) == (
        "Incident lead",
        True,
        world["ann"],
    )
    assert lost.steps.first().role == lead
    unthinkable = plan.risks.get(unthinkable=True)
    assert unthinkable.title.startswith("CloudCRM is down for a week")
    assert unthinkable.contrarian == world["ann"]
    assert not plan.contacts.exists()  # contacts are only suggested
    [version] = plan.versions.all()
    assert (version.number, version.summary) == (1, "Plan started with suggested defaults")
    assert AuditEvent.objects.filter(org=world["acme"], action="plans.plan.started").exists()


def test_starting_twice_keeps_the_first_plan(world, plan):
    again = editing.start(world["acme"], world["mo"])
    assert again.pk == plan.pk
    assert Plan.objects.filter(org=world["acme"]).count() == 1
    assert plan.activities.count() == len(seeds.ACTIVITIES)


def test_an_organisation_has_one_plan(world, plan):
    with pytest.raises(IntegrityError):
        Plan.objects.create(org=world["acme"])


def test_rto_must_be_shorter_than_mtpd(world, plan):
    orders = plan.activities.get(name="Taking orders")
    with pytest.raises(editing.PlanInvalid) as caught:
        editing.save_activity(plan, orders, mtpd_minutes=240, rto_minutes=480)
    assert caught.value.errors == [
        (
            "rto_minutes",
            "must be shorter than the MTPD (4 hours): work has to resume before the outage "
            "becomes intolerable (got 8 hours)",
        )
    ]
    orders.refresh_from_db()
    assert (orders.mtpd_minutes, orders.rto_minutes, orders.suggested) == (1440, 240, True)
    with pytest.raises(editing.PlanInvalid, match="shorter than the MTPD"):
        editing.save_activity(plan, None, name="Quoting", mtpd_minutes=60, rto_minutes=60)
    assert not plan.activities.filter(name="Quoting").exists()


def test_saving_an_activity_confirms_it_and_keeps_a_version(world, plan):
    orders = plan.activities.get(name="Taking orders")
    editing.save_activity(
        plan,
        orders,
        rto_minutes=120,
        owner=world["mo"],
        impacts={Band.HOURS_1_8: editing.ImpactInput(money=500, customers=12, note="phones")},
    )
    orders.refresh_from_db()
    assert (orders.rto_minutes, orders.owner, orders.suggested) == (120, world["mo"], False)
    [impact] = orders.impacts.all()
    assert (impact.band, impact.money, impact.customers, impact.note) == (
        Band.HOURS_1_8,
        500,
        12,
        "phones",
    )
    event = AuditEvent.objects.filter(action="plans.activity.changed").latest("at")
    assert event.changes["rto"] == ["4h", "2h"]
    assert event.changes["suggested"] == [True, None]
    latest = plan.versions.first()
    assert (latest.number, latest.summary) == (2, "Activity changed: Taking orders")
    assert "rto 4h → 2h" in latest.changes[0]


def test_an_impact_row_left_empty_is_removed(world, plan):
    orders = plan.activities.get(name="Taking orders")
    editing.save_activity(plan, orders, impacts={Band.UNDER_1H: editing.ImpactInput(money=10)})
    editing.save_activity(plan, orders, impacts={Band.UNDER_1H: editing.ImpactInput()})
    assert not orders.impacts.exists()


def test_names_are_unique_in_the_plan_whatever_their_case(world, plan):
    with pytest.raises(editing.PlanInvalid) as caught:
        editing.save_activity(plan, None, name="taking ORDERS")
    assert caught.value.errors == [
        ("name", "the plan already has an activity called 'taking ORDERS'")
    ]
    with pytest.raises(editing.PlanInvalid, match="already has a risk"):
        editing.save_risk(plan, None, title=plan.risks.first().title.upper())


def test_an_owner_or_contrarian_must_be_a_member(world, plan):
    stranger = make_user("someone@else.test")
    with pytest.raises(editing.PlanInvalid) as caught:
        editing.save_activity(plan, None, name="Quoting", owner=stranger)
    assert caught.value.errors == [("owner", "someone@else.test is not a member of Acme")]
    with pytest.raises(editing.PlanInvalid, match="contrarian"):
        editing.save_risk(plan, None, title="Fire", contrarian=world["bob"])


def test_risk_scale_is_one_to_five(world, plan):
    with pytest.raises(editing.PlanInvalid) as caught:
        editing.save_risk(plan, None, title="Flood", likelihood=6, severity=0)
    fields = [f for f, _ in caught.value.errors]
    assert fields == ["likelihood", "severity"]
    risk = editing.save_risk(plan, None, title="Flood", likelihood=2, severity=4)
    assert (risk.score, risk.suggested) == (8, False)


def test_one_role_leads_incidents(world, plan):
    lead = plan.roles.get(is_incident_lead=True)
    deputy = editing.save_role(plan, None, name="Deputy", is_incident_lead=True)
    lead.refresh_from_db()
    assert (lead.is_incident_lead, deputy.is_incident_lead) == (False, True)
    assert plan.roles.all()[0] == deputy  # the incident lead comes first


def test_alternates_are_ordered_and_never_the_holder_or_twice(world, plan):
    lead = plan.roles.get(is_incident_lead=True)
    it = editing.save_contact(plan, None, kind=ContactKind.VENDOR_SUPPORT, name="IT Partner")
    role = editing.save_role(plan, lead, holder=world["ann"], alternates=[world["mo"], it])
    assert [(a.user, a.contact) for a in role.alternates.all()] == [
        (world["mo"], None),
        (None, it),
    ]
    with pytest.raises(editing.PlanInvalid) as caught:
        editing.save_role(plan, lead, holder=world["ann"], alternates=[world["ann"], it, it])
    assert caught.value.errors == [
        ("alternates", "alternate 1 holds the role already"),
        ("alternates", "alternate 3 is listed twice"),
    ]
    assert role.alternates.count() == 2


def test_a_contact_email_is_checked_and_names_are_unique_per_kind(world, plan):
    with pytest.raises(editing.PlanInvalid) as caught:
        editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes", email="nope")
    assert caught.value.errors == [("email", "is not an email address (got 'nope')")]
    editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes")
    editing.save_contact(plan, None, kind=ContactKind.KEY_CUSTOMER, name="Pipes")
    with pytest.raises(editing.PlanInvalid, match="already has a Supplier contact"):
        editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="PIPES")


def test_a_system_of_another_organisation_is_refused(world, plan):
    theirs = monitor_editing.create_system(world["bravo"], name="Their CRM")
    with pytest.raises(editing.PlanInvalid, match="systems of this organisation"):
        editing.save_activity(plan, None, name="Quoting", systems=[theirs])
    with pytest.raises(editing.PlanInvalid, match="system of this organisation"):
        editing.save_contact(plan, None, kind=ContactKind.VENDOR_SUPPORT, name="X", system=theirs)


def test_scenario_steps_and_back_up_checklist_are_replaced_in_order(world, plan):
    lead = plan.roles.get()
    scenario = plan.scenarios.get(kind=ScenarioKind.SYSTEM_LOST)
    editing.save_scenario(
        plan,
        scenario,
        steps=[
            editing.StepInput("Call the vendor", lead, "Phone", "0800 123", 10),
            editing.StepInput("Open the desk"),
        ],
        back_up=["Log in", "", "  Enter the orders  "],
    )
    assert [(s.position, s.action, s.role) for s in scenario.steps.all()] == [
        (1, "Call the vendor", lead),
        (2, "Open the desk", None),
    ]
    assert [b.text for b in scenario.back_up_steps.all()] == ["Log in", "Enter the orders"]
    with pytest.raises(editing.PlanInvalid, match="step 1: say what is done"):
        editing.save_scenario(plan, scenario, steps=[editing.StepInput("  ")])


def test_removing_and_confirming_are_audited_and_versioned(world, plan):
    payroll = plan.activities.get(name="Payroll")
    editing.remove(payroll)
    assert not Activity.objects.filter(pk=payroll.pk).exists()
    assert plan.versions.first().summary == "Activity removed: Payroll"
    assert "Activity removed: Payroll" in plan.versions.first().changes
    risk = plan.risks.first()
    editing.confirm(risk)
    risk.refresh_from_db()
    assert not risk.suggested
    assert AuditEvent.objects.filter(action="plans.risk.confirmed").exists()
    versions = PlanVersion.objects.filter(plan=plan).count()
    editing.confirm(risk)  # already confirmed: nothing happens
    assert PlanVersion.objects.filter(plan=plan).count() == versions


def test_a_save_that_changes_nothing_makes_no_version(world, plan):
    orders = plan.activities.get(name="Taking orders")
    editing.confirm(orders)
    count = plan.versions.count()
    editing.save_activity(plan, orders, name="Taking orders")
    assert plan.versions.count() == count


def test_verifying_contacts_records_who_and_when(world, plan):
    a = editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Sid")
    b = editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Val")
    import datetime

    assert editing.verify_contacts(plan, [a, b], world["mo"], datetime.date(2026, 3, 1)) == 2
    a.refresh_from_db()
    assert (a.last_verified_on, a.verified_by) == (datetime.date(2026, 3, 1), world["mo"])
    assert plan.versions.first().summary == "2 contacts verified"


def test_adding_suggested_contacts_skips_those_already_there(world, plan):
    found = seeds.suggestions(plan)
    added = editing.add_suggested(plan, found)
    assert {c.kind for c in added} == {ContactKind.STAFF, ContactKind.VENDOR_SUPPORT}
    assert editing.add_suggested(plan, found) == []
    assert seeds.suggestions(plan) == []
    assert Contact.objects.filter(plan=plan).count() == len(found)


def test_owners_must_be_members(world, plan):
    with pytest.raises(editing.PlanInvalid, match=r"bob@bravo\.test is not a member"):
        editing.set_owners(plan, world["bob"], None, None)
    changes = editing.set_owners(plan, world["mo"], world["sid"], None)
    assert changes["owner"] == ["ann@acme.test", "mo@acme.test"]
    plan.refresh_from_db()
    assert (plan.owner, plan.contacts_owner, plan.price_list_owner) == (
        world["mo"],
        world["sid"],
        None,
    )


def test_models_say_what_they_are(world, plan):
    assert str(plan.risks.first()) == plan.risks.first().title
    assert str(Scenario.objects.filter(plan=plan).first()) == "A system or its data is lost"
    assert str(PlanRole.objects.get(plan=plan)) == "Incident lead"
    assert Risk.objects.filter(plan=plan, unthinkable=True).count() == 1
