"""Corrective actions: a finding with an owner and a due date, open until done; the open
ones by owner, overdue first; the management review recorded with what was open."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from fallback.audit.models import AuditEvent
from fallback.plans import actions, editing
from fallback.plans.models import ActionStatus, CorrectiveAction, PlanPart

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def plan(world):
    return editing.start(world["acme"], world["ann"])


def test_an_action_is_added_with_its_owner_and_due_date_and_audited(world, plan):
    item = actions.add(
        plan,
        finding="The vendor's number was wrong",
        action="Check it with the vendor",
        plan_part=PlanPart.CONTACTS,
        owner=world["mo"],
        due_on=date(2026, 6, 1),
        by=world["ann"],
    )
    assert (item.status, item.owner, item.source) == (
        ActionStatus.OPEN,
        world["mo"],
        "Management review",
    )
    assert AuditEvent.objects.filter(action="plans.action.created").count() == 1


def test_bad_input_names_each_field_and_saves_nothing(world, plan):
    with pytest.raises(editing.PlanInvalid) as refused:
        actions.add(plan, finding="  ", plan_part="garden", owner=world["bob"])
    assert [f for f, _ in refused.value.errors] == ["finding", "plan_part", "owner"]
    assert not CorrectiveAction.objects.exists()


def test_a_retried_add_makes_one_action(world, plan):
    first = actions.add(plan, finding="A", request_key="r1")
    assert actions.add(plan, finding="A", request_key="r1") == first
    assert CorrectiveAction.objects.count() == 1


def test_done_once_then_reopened(world, plan):
    item = actions.add(plan, finding="A")
    assert actions.mark_done(item, world["ann"], "Fixed the number")
    assert not actions.mark_done(item, world["ann"])
    assert (item.status, item.done_by, item.done_note) == ("done", world["ann"], "Fixed the number")
    assert actions.reopen(item) and item.status == ActionStatus.OPEN
    assert not actions.reopen(item)


def test_open_actions_by_owner_overdue_first(world, plan):
    with time_machine.travel(NOW, tick=False):
        today = actions.today(plan)
        actions.add(plan, finding="Mo later", owner=world["mo"], due_on=date(2026, 7, 1))
        actions.add(plan, finding="Ann undated", owner=world["ann"])
        actions.add(plan, finding="Ann late", owner=world["ann"], due_on=date(2026, 5, 1))
        actions.add(plan, finding="Nobody's")
        done = actions.add(plan, finding="Done", owner=world["mo"])
        actions.mark_done(done, world["mo"])
        groups = actions.open_by_owner(plan, today)
        assert actions.counts(plan, today) == (4, 1)
    assert [(g.owner, [a.finding for a in g.actions], g.overdue) for g in groups] == [
        (world["ann"], ["Ann late", "Ann undated"], 1),
        (world["mo"], ["Mo later"], 0),
        (None, ["Nobody's"], 0),
    ]


def test_a_management_review_records_what_was_open(world, plan):
    with time_machine.travel(NOW, tick=False):
        actions.add(plan, finding="Late", due_on=date(2026, 5, 1))
        actions.add(plan, finding="Fine", due_on=date(2026, 6, 1))
        review = actions.record_management_review(
            plan,
            held_on=date(2026, 5, 19),
            attendees="Ann\nMo",
            decisions="Move the late one to June",
            by=world["ann"],
        )
    assert (review.open_actions, review.overdue_actions) == (2, 1)


def test_a_management_review_needs_its_date_people_and_decisions(world, plan):
    with time_machine.travel(NOW, tick=False), pytest.raises(editing.PlanInvalid) as refused:
        actions.record_management_review(
            plan, held_on=date(2026, 6, 1), attendees="", decisions="", by=world["ann"]
        )
    assert [f for f, _ in refused.value.errors] == ["held_on", "attendees", "decisions"]
    assert "cannot be in the future" in refused.value.errors[0][1]
