"""ISO 22301 coverage: what Fallback holds mapped to the topics of clauses 4 to 10, each
present, partial or missing with what to add and where."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from fallback.plans import actions, binder, editing, iso22301
from fallback.plans.models import CopyKind
from fallback.plans.tests.conftest import complete_one_system_plan, files_connector
from fallback.plans.tests.test_readiness import _drill

pytestmark = pytest.mark.django_db


def states(found):
    return {t.clause: t.state for c in found.clauses for t in c.topics}


def test_every_clause_from_4_to_10_is_covered(world):
    found = iso22301.coverage(world["acme"])
    assert [c.number for c in found.clauses] == [4, 5, 6, 7, 8, 9, 10]
    assert found.total == found.present + found.partial + found.missing == 27
    for clause in found.clauses:
        for t in clause.topics:
            assert t.title and t.about and t.held, t.clause
            assert t.state in ("present", "partial", "missing")
            assert t.state == "present" or t.add, t.clause


def test_with_no_plan_the_plan_topics_say_start_it(world):
    found = iso22301.coverage(world["acme"])
    scope = found.topic("4.3")
    assert (scope.state, scope.link_text, scope.url) == (
        "missing",
        "Start the plan",
        "/o/acme/plan/",
    )
    assert found.topic("4.1").state == "partial"  # a system, no activities yet
    assert found.topic("8.5").state == "missing"


def test_a_plan_kept_up_covers_most_topics(world):
    acme, ann = world["acme"], world["ann"]
    plan = complete_one_system_plan(editing.start(acme, ann), world)
    editing.set_statements(plan, "Trading from the Leeds office.", "We keep a plan and drill it.")
    _drill(world, plan, timezone.now() - timedelta(days=2))
    editing.mark_reviewed(plan, ann)
    actions.record_management_review(
        plan, held_on=actions.today(plan), attendees="Ann", decisions="Carry on", by=ann
    )
    done = actions.add(plan, finding="Check the vendor number")
    actions.mark_done(done, ann)
    binder.record_copy(plan, binder.inputs(plan), CopyKind.PRINTED, ann)
    files_connector(acme, world["crm"])
    found = states(iso22301.coverage(acme))
    for clause in [
        "4.1",
        "4.3",
        "4.4",
        "5.1",
        "5.2",
        "5.3",
        "6.1",
        "6.2",
        "6.3",
        "7.2",
        "7.5",
        "8.2.2",
        "8.2.3",
        "8.3",
        "8.5",
        "8.6",
        "9.3",
        "10.1",
        "10.2",
    ]:
        assert found[clause] == "present", clause
    assert found["9.2"] == "partial"  # Fallback does not run the audit programme


def test_an_overdue_action_makes_corrective_action_partial(world):
    plan = editing.start(world["acme"], world["ann"])
    actions.add(plan, finding="Late", due_on=date(2000, 1, 1))
    topic = iso22301.coverage(world["acme"]).topic("10.1")
    assert topic.state == "partial" and "1 overdue" in topic.held
