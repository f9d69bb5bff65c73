"""The plan's RPOs feed the replica's freshness alerts: the replica's target is the strictest
of the connector's own RPO and the RPOs of the confirmed activities using its system —
computed, never copied onto the connector."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.incidents.models import AlertDelivery
from fallback.incidents.tests.builders import make_channel
from fallback.plans import editing, rpo
from fallback.plans.tests.conftest import as_user, files_connector
from fallback.replica import editing as replica_editing
from fallback.replica import freshness
from fallback.replica.models import Connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector(world):
    return files_connector(world["acme"], world["crm"])


def test_a_stricter_activity_rpo_becomes_the_replicas_target(world, connector):
    plan = editing.start(world["acme"], world["ann"])
    now = timezone.now()
    assert freshness.of(connector, now).target == timedelta(hours=1)  # suggested: not yet
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=15)
    editing.confirm(plan.activities.get(name="Dispatch"))  # 4 h: looser than 60 min
    f = freshness.of(connector, now)
    assert f.target == timedelta(minutes=15) and f.own_target == timedelta(hours=1)
    assert f.stricter is not None and f.stricter.source == "the plan: “Taking orders”"
    assert f.stricter.url == "/o/acme/plan/activities/"
    [feed] = rpo.feeds(plan)
    assert (feed.connector, feed.own, feed.needed) == (connector, 60, 15)
    assert feed.text == (
        "The replica of CRM copy warns when its copy is older than 15 minutes, not its own "
        "1 hour: “Taking orders” needs data no older than that"
    )
    connector.refresh_from_db()
    assert connector.rpo_minutes == 60  # nothing copied onto the connector


def test_the_stale_alert_fires_at_the_plans_rpo_and_says_where_it_comes_from(world, connector):
    make_channel(world["acme"], "json://127.0.0.1:9/")
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=15)
    now = timezone.now()
    Connector.objects.filter(pk=connector.pk).update(last_good_at=now - timedelta(minutes=20))
    assert freshness.alert_stale(now) == 1  # 20 min old: within 1 h, not within 15 min
    alert = AlertDelivery.objects.get(event="replica_stale")
    assert "the target (RPO) is 15 min, set by the plan: “Taking orders”" in alert.body


def test_changing_the_connectors_own_rpo_does_not_undo_the_plans(world, connector):
    """What `fallback apply` of a replica section does: set the connector's own RPO."""
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=15)
    replica_editing.update_connector(connector, rpo_minutes=240)
    assert freshness.of(connector, timezone.now()).target == timedelta(minutes=15)
    replica_editing.update_connector(connector, rpo_minutes=5)  # stricter than the plan
    f = freshness.of(connector, timezone.now())
    assert (f.target, f.stricter) == (timedelta(minutes=5), None)
    assert rpo.feeds(plan) == []


def test_a_looser_plan_never_loosens_the_target(world, connector):
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=600)
    f = freshness.of(connector, timezone.now())
    assert (f.target, f.stricter) == (timedelta(hours=1), None)
    assert rpo.feeds(plan) == []


def test_disabled_connectors_and_other_systems_are_left_alone(world, connector):
    other = Connector.objects.create(org=world["acme"], name="Files", slug="files", kind="files")
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=5)
    assert rpo.feeds(plan) == []
    assert freshness.of(other, timezone.now()).target == timedelta(hours=1)


def test_another_orgs_plan_does_not_count(world, connector):
    from fallback.monitor import editing as monitor_editing

    bravo_crm = monitor_editing.create_system(world["bravo"], name="CloudCRM", kind="crm")
    plan = editing.start(world["bravo"], world["bob"])
    activity = plan.activities.get(name="Taking orders")
    editing.save_activity(plan, activity, rpo_minutes=5, systems=[bravo_crm])
    assert freshness.of(connector, timezone.now()).target == timedelta(hours=1)


def test_the_replica_page_shows_the_target_and_where_it_comes_from(world, connector):
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=15)
    client = as_user(world["val"])
    page = client.get(f"/o/acme/replica/{connector.slug}/").content.decode()
    assert "no older than 15 min, set by" in page
    assert "the plan: “Taking orders”</a> (the connector's own: 1 h)" in page.replace("&#x27;", "'")
