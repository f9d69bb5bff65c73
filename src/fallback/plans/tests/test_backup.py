"""The desk's way-back page uses the plan's "system back up" checklist for the systems that
went down, when the plan has one."""

from __future__ import annotations

import pytest

from fallback.desk import mode, reconciliation
from fallback.incidents import lifecycle
from fallback.monitor import editing as monitor_editing
from fallback.plans import editing
from fallback.plans.models import ScenarioKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(world):
    lifecycle.declare_manually(world["acme"], [world["crm"]], "CRM down", world["ann"])
    return mode.state(world["acme"]).period


def test_without_a_plan_the_desk_keeps_its_checklist(world, period):
    assert reconciliation.checklist(period) == list(reconciliation.DEFAULT_CHECKLIST)


def test_a_suggested_scenario_is_not_the_plan_yet(world, period):
    plan = editing.start(world["acme"], world["ann"])
    scenario = plan.scenarios.get(kind=ScenarioKind.SYSTEM_LOST)
    scenario.back_up_steps.update(text="changed")
    assert reconciliation.checklist(period) == list(reconciliation.DEFAULT_CHECKLIST)


def test_the_plans_checklist_for_the_down_system_comes_first(world, period):
    plan = editing.start(world["acme"], world["ann"])
    scenario = plan.scenarios.get(kind=ScenarioKind.SYSTEM_LOST)
    editing.save_scenario(plan, scenario, back_up=["Log in to CloudCRM", "Re-enter the orders"])
    assert reconciliation.checklist(period) == ["Log in to CloudCRM", "Re-enter the orders"]


def test_only_scenarios_about_the_systems_that_went_down_count(world, period):
    plan = editing.start(world["acme"], world["ann"])
    xero = monitor_editing.create_system(world["acme"], name="Xero", kind="accounting")
    editing.save_scenario(
        plan,
        None,
        kind=ScenarioKind.SYSTEM_LOST,
        title="Xero lost",
        systems=[xero],
        back_up=["Reconcile the bank feed"],
    )
    assert reconciliation.checklist(period) == list(reconciliation.DEFAULT_CHECKLIST)
    editing.save_scenario(
        plan,
        None,
        kind=ScenarioKind.SYSTEM_LOST,
        title="CRM data lost",
        systems=[world["crm"]],
        back_up=["Check the last orders", "Tell staff"],
    )
    scenario = plan.scenarios.get(title="A system or its data is lost")
    editing.save_scenario(plan, scenario, back_up=["Log in", "Tell staff"])
    # In the plan's order, each step once.
    assert reconciliation.checklist(period) == ["Log in", "Tell staff", "Check the last orders"]


def test_a_period_opened_by_hand_keeps_the_desks_checklist(world):
    plan = editing.start(world["acme"], world["ann"])
    editing.confirm(plan.scenarios.get(kind=ScenarioKind.SYSTEM_LOST))
    mode.switch_on(world["acme"], world["ann"], "Trying the desk")
    period = mode.state(world["acme"]).period
    assert reconciliation.checklist(period) == list(reconciliation.DEFAULT_CHECKLIST)
