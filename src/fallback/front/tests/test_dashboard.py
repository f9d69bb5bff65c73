from __future__ import annotations

import pytest

from fallback.accounts.models import ApiToken, Membership
from fallback.accounts.roles import Role
from fallback.front import dashboard
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


def titles(steps: list[dashboard.Step]) -> list[str]:
    return [s.title for s in steps]


def test_owner_gets_every_step_in_order():
    ann = make_user("ann@acme.test")
    org = make_org("Acme", owner=ann)
    steps = dashboard.getting_ready(Membership.objects.get(user=ann), ann, member_count=1)
    assert titles(steps) == [
        "Check the organisation's details",
        "Add your team",
        "Make an API token",
        "Keep a copy of the configuration",
    ]
    assert steps[-1].command == f"fallback export --org {org.slug}"


def test_viewer_gets_only_the_steps_they_can_take():
    org = make_org("Acme")
    val = make_user("val@acme.test")
    m = join(org, val, Role.VIEWER)
    assert titles(dashboard.getting_ready(m, val, member_count=2)) == ["Make an API token"]


def test_steps_are_marked_done_when_fallback_can_tell():
    ann = make_user("ann@acme.test")
    make_org("Acme", owner=ann)
    m = Membership.objects.get(user=ann)
    before = {s.title: s.done for s in dashboard.getting_ready(m, ann, member_count=1)}
    assert before["Add your team"] is False
    assert before["Make an API token"] is False
    assert before["Check the organisation's details"] is None
    ApiToken.issue(ann, "x")
    after = {s.title: s.done for s in dashboard.getting_ready(m, ann, member_count=3)}
    assert after["Add your team"] is True
    assert after["Make an API token"] is True


def test_revoked_tokens_do_not_count_as_done():
    from django.utils import timezone

    ann = make_user("ann@acme.test")
    make_org("Acme", owner=ann)
    token, _ = ApiToken.issue(ann, "x")
    token.revoked_at = timezone.now()
    token.save()
    steps = dashboard.getting_ready(Membership.objects.get(user=ann), ann, member_count=1)
    assert {s.title: s.done for s in steps}["Make an API token"] is False


def test_context_lists_the_cards_features_can_extend():
    ann = make_user("ann@acme.test")
    make_org("Acme", owner=ann)
    ctx = dashboard.context(Membership.objects.get(user=ann), ann)
    assert ctx["cards"] == dashboard.CARDS and ctx["side_cards"] == dashboard.SIDE_CARDS
    assert ctx["cards"][0] == "plans/cards/readiness.html"  # the first thing an owner sees
    assert ctx["member_count"] == 1
    assert [e.action for e in ctx["recent_events"]] == ["member.added", "organisation.created"]
