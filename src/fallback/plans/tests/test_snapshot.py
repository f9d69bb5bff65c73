"""Plan history: every change keeps the whole plan as JSON with who changed what, and any
past version can be read back as it was, whatever changed since."""

from __future__ import annotations

import pytest

from fallback.audit.context import acting_as
from fallback.plans import editing, snapshot
from fallback.plans.models import ContactKind

pytestmark = pytest.mark.django_db


def test_each_change_is_a_numbered_version_with_who_made_it(world):
    with acting_as(world["ann"], "web"):
        plan = editing.start(world["acme"], world["ann"])
        editing.remove(plan.activities.get(name="Payroll"))
    with acting_as(world["mo"], "api"):
        editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Sid", phones="07700 1")
    versions = list(plan.versions.all())
    assert [v.number for v in versions] == [3, 2, 1]
    assert [(v.created_by, v.created_by_label, v.via) for v in versions] == [
        (world["mo"], "mo@acme.test", "api"),
        (world["ann"], "ann@acme.test", "web"),
        (world["ann"], "ann@acme.test", "web"),
    ]
    assert versions[0].changes == ["Contact added: Sid"]
    assert versions[2].changes == ["Plan started"]


def test_a_past_version_keeps_the_plan_as_it_was(world):
    plan = editing.start(world["acme"], world["ann"])
    first = plan.versions.get(number=1)
    editing.remove(plan.activities.get(name="Taking orders"))
    world["crm"].name = "New CRM name"
    world["crm"].save()
    names = [a["name"] for a in first.data["plan"]["activities"]]
    assert "Taking orders" in names
    assert first.data["meta"]["systems"] == {"cloudcrm": "CloudCRM"}
    assert first.data["meta"]["people"]["ann@acme.test"] == "Ann Archer"
    orders = next(a for a in first.data["plan"]["activities"] if a["name"] == "Taking orders")
    assert (orders["mtpd"], orders["rto"], orders["rpo"], orders["suggested"]) == (
        "1d",
        "4h",
        "1h",
        True,
    )


def test_describe_says_what_changed_field_by_field():
    old = {
        "plan": {
            "owner": "a@x.test",
            "activities": [{"name": "Orders", "rto": "4h"}, {"name": "Payroll"}],
            "contacts": [{"kind": "staff", "name": "Sid", "phones": ["1"]}],
        },
        "meta": {"reviewed_at": None},
    }
    new = {
        "plan": {
            "owner": "b@x.test",
            "activities": [{"name": "Orders", "rto": "2h", "owner": "b@x.test"}],
            "contacts": [{"kind": "staff", "name": "Sid", "phones": ["2"]}],
            "risks": [{"title": "Flood"}],
        },
        "meta": {"reviewed_at": "2026-03-01T10:00:00+00:00"},
    }
    assert snapshot.describe(old, new) == [
        "Plan owner: a@x.test → b@x.test",
        "Activity 'Orders': rto 4h → 2h; owner — → b@x.test",
        "Activity removed: Payroll",
        "Risk added: Flood",
        "Contact 'Sid': phones changed",
        "Whole plan reviewed",
    ]


def test_a_reorder_is_a_change():
    old = {"plan": {"risks": [{"title": "A"}, {"title": "B"}]}}
    new = {"plan": {"risks": [{"title": "B"}, {"title": "A"}]}}
    assert snapshot.describe(old, new) == ["Risks: order changed"]


def test_a_review_is_a_version_even_when_nothing_else_changed(world):
    plan = editing.start(world["acme"], world["ann"])
    editing.mark_reviewed(plan, world["ann"])
    latest = plan.versions.first()
    assert (latest.number, latest.summary, latest.changes) == (
        2,
        "Whole plan reviewed",
        ["Whole plan reviewed"],
    )


def test_durations_in_a_snapshot_read_as_words():
    assert snapshot.duration_words("1d 12h") == "1 day 12 hours"
    assert snapshot.duration_words("") == ""
    assert snapshot.duration_words("nonsense") == "nonsense"
