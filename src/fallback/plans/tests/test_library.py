"""The tabletop library: five outages with their injects, questions and expected steps,
each addable to the plan as a scenario on the organisation's own systems."""

from __future__ import annotations

import pytest

from fallback.monitor import editing as monitor_editing
from fallback.plans import editing, library, sections
from fallback.plans.models import ScenarioKind

pytestmark = pytest.mark.django_db


def test_the_library_has_the_five_outages_each_complete():
    assert [e.title for e in library.LIBRARY] == [
        "Ransomware at the host",
        "Two-week hosting outage",
        "Email provider down",
        "Internet link down",
        "Key person absent",
    ]
    for entry in library.LIBRARY:
        assert entry.story and entry.trigger and entry.questions and entry.back_up
        assert entry.injects[0].minute == 0
        minutes = [i.minute for i in entry.injects]
        assert minutes == sorted(minutes), entry.key
        assert all(s.action for s in entry.steps)
    assert len({e.key for e in library.LIBRARY}) == len(library.LIBRARY)


def test_an_unknown_key_names_the_known_ones():
    with pytest.raises(library.NotInLibrary) as refused:
        library.get("meteor")
    assert "ransomware" in str(refused.value)


def test_adding_one_makes_a_confirmed_scenario_on_our_systems(world):
    plan = editing.start(world["acme"], world["ann"])
    scenario = library.add_to_plan(plan, library.get("ransomware"))
    assert not scenario.suggested and scenario.kind == ScenarioKind.SYSTEM_LOST
    assert list(scenario.systems.all()) == [world["crm"]]
    assert scenario.steps.count() == 6 and scenario.back_up_steps.count() == 5
    lead = plan.roles.get(is_incident_lead=True)
    assert scenario.steps.first().role == lead
    assert scenario.steps.get(position=5).role is None  # anyone at the desk
    found = {s.key: s for s in sections.sections(plan)}["scenarios"]
    assert f"Confirm or remove the suggested scenario “{scenario.title}”" not in [
        m.text for m in found.missing
    ]
    assert library.in_plan(plan, library.get("ransomware")) == scenario
    with pytest.raises(editing.PlanInvalid):  # already there
        library.add_to_plan(plan, library.get("ransomware"))


def test_the_email_and_line_scenarios_pick_those_systems(world):
    mail = monitor_editing.create_system(world["acme"], name="Mailchimp", kind="email")
    line = monitor_editing.create_system(world["acme"], name="Office fibre", kind="internet")
    plan = editing.start(world["acme"], world["ann"])
    assert list(library.add_to_plan(plan, library.get("email-down")).systems.all()) == [mail]
    assert list(library.add_to_plan(plan, library.get("internet-down")).systems.all()) == [line]
    assert not library.add_to_plan(plan, library.get("key-person-absent")).systems.exists()


def test_a_scenario_finds_its_library_entry_by_title_then_kind(world):
    plan = editing.start(world["acme"], world["ann"])
    added = library.add_to_plan(plan, library.get("hosting-outage"))
    assert library.matching(added).key == "hosting-outage"
    people = plan.scenarios.get(kind=ScenarioKind.PEOPLE)
    assert library.matching(people).key == "key-person-absent"
