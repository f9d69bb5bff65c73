"""How complete each section of the plan is, what is missing (with the page that fixes it),
and where "Continue" goes next."""

from __future__ import annotations

import pytest

from fallback.plans import editing, sections
from fallback.plans.models import ContactKind, ScenarioKind
from fallback.plans.tests.conftest import complete_one_system_plan

pytestmark = pytest.mark.django_db


def by_key(plan):
    return {s.key: s for s in sections.sections(plan)}


def texts(section):
    return [m.text for m in section.missing]


def test_a_new_plan_has_everything_to_confirm(world):
    plan = editing.start(world["acme"], world["ann"])
    found = by_key(plan)
    assert [s.key for s in sections.sections(plan)] == list(sections.TITLES)
    assert not any(s.complete for s in found.values())
    assert texts(found["activities"])[:2] == [
        "Say which work keeps the business going: confirm a suggested activity or add one",
        "Confirm or remove the suggested activity “Taking orders”",
    ]
    assert "Name who stands in for the incident lead" in texts(found["roles"])
    assert texts(found["contacts"]) == ["Add the staff to the contact tree"]
    missing = sections.next_missing(list(found.values()))
    assert missing is not None and missing.url == "/o/acme/plan/activities/"
    assert sections.progress(list(found.values())) < 50


def test_a_complete_one_system_plan(world):
    plan = editing.start(world["acme"], world["ann"])
    complete_one_system_plan(plan, world)
    found = sections.sections(plan)
    assert {s.key: texts(s) for s in found} == {k: [] for k in sections.TITLES}
    assert sections.progress(found) == 100
    assert sections.next_missing(found) is None


def test_a_confirmed_activity_needs_its_times_impact_and_owner(world):
    plan = editing.start(world["acme"], world["ann"])
    orders = plan.activities.get(name="Taking orders")
    editing.save_activity(plan, orders, mtpd_minutes=None, rpo_minutes=None)
    edit = f"/o/acme/plan/activities/{orders.pk}/"
    missing = [m for m in by_key(plan)["activities"].missing if m.url == edit]
    assert [m.text for m in missing] == [
        "Say how long “Taking orders” can stop (MTPD) and how fast it must resume (RTO)",
        "Say how old the data of “Taking orders” may be when it resumes (RPO)",
        "Estimate what a stop of “Taking orders” costs, in money or customers",
        "Name who owns “Taking orders”",
    ]
    assert sections.missing_for(sections.sections(plan), edit) == [m.text for m in missing]


def test_a_system_the_work_depends_on_needs_a_scenario_and_a_vendor_contact(world):
    plan = editing.start(world["acme"], world["ann"])
    complete_one_system_plan(plan, world)
    editing.remove(plan.scenarios.get(kind=ScenarioKind.SYSTEM_LOST))
    editing.remove(plan.contacts.get(kind=ContactKind.VENDOR_SUPPORT))
    found = by_key(plan)
    assert texts(found["scenarios"]) == ["No scenario says what to do when CloudCRM is lost"]
    assert texts(found["contacts"]) == ["Add the support line of CloudCRM's vendor"]


def test_risks_need_a_treatment_and_an_unthinkable_one_with_a_contrarian(world):
    plan = editing.start(world["acme"], world["ann"])
    for r in plan.risks.all():
        editing.remove(r)
    editing.save_risk(plan, None, title="Flood")
    assert texts(by_key(plan)["risks"]) == [
        "Say what we do about “Flood”",
        "Name one “unthinkable” risk, and someone to play the contrarian who assumes it happens",
    ]
    risk = plan.risks.get()
    editing.save_risk(plan, risk, treatment="Sandbags", unthinkable=True)
    assert texts(by_key(plan)["risks"]) == ["Name the contrarian who assumes “Flood” will happen"]


def test_a_holder_who_left_the_organisation_counts_as_missing(world):
    from fallback.accounts.membership import remove_member
    from fallback.accounts.models import Membership

    plan = editing.start(world["acme"], world["ann"])
    complete_one_system_plan(plan, world)
    lead = plan.roles.get()
    editing.save_role(plan, lead, holder=world["mo"], alternates=[world["ann"]])
    remove_member(Membership.objects.get(org=world["acme"], user=world["mo"]))
    assert texts(by_key(plan)["roles"]) == [
        "Say who is the incident lead (the holder is no longer a member)"
    ]


def test_replica_customers_and_suppliers_make_those_contacts_expected(world):
    from fallback.desk.tests.conftest import put_records

    plan = editing.start(world["acme"], world["ann"])
    complete_one_system_plan(plan, world)
    put_records(world["acme"], "customer", [{"key": "C1", "name": "Smith"}])
    put_records(world["acme"], "supplier", [{"key": "S1", "name": "Pipes"}])
    assert texts(by_key(plan)["contacts"]) == [
        "Add the key customers to call first",
        "Add the suppliers",
    ]
