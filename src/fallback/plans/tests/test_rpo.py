"""The plan's RPOs against the replica's freshness alerts: a mismatch is shown, and
tightening the connector is one audited change."""

from __future__ import annotations

import pytest

from fallback.audit.models import AuditEvent
from fallback.plans import editing, rpo
from fallback.plans.tests.conftest import files_connector
from fallback.replica.models import Connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector(world):
    return files_connector(world["acme"], world["crm"])


def test_a_stricter_activity_rpo_is_a_mismatch(world, connector):
    plan = editing.start(world["acme"], world["ann"])
    assert rpo.mismatches(plan) == []  # suggested activities do not count yet
    orders = plan.activities.get(name="Taking orders")
    editing.save_activity(plan, orders, rpo_minutes=15)
    editing.confirm(plan.activities.get(name="Dispatch"))  # 4 h: looser than 60 min
    [mismatch] = rpo.mismatches(plan)
    assert (mismatch.connector, mismatch.warns_at, mismatch.needed) == (connector, 60, 15)
    assert mismatch.activities == ("Taking orders",)
    assert mismatch.text == (
        "The replica of CRM copy warns only when its copy is older than 1 hour, but "
        "“Taking orders” needs data no older than 15 minutes"
    )


def test_tightening_changes_the_connector_and_is_audited(world, connector):
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=15)
    [done] = rpo.tighten(plan)
    connector.refresh_from_db()
    assert connector.rpo_minutes == 15 and done.needed == 15
    event = AuditEvent.objects.filter(action="connector.updated").latest("at")
    assert event.changes["rpo_minutes"] == [60, 15]
    assert rpo.mismatches(plan) == []
    assert rpo.tighten(plan) == []


def test_a_looser_plan_never_loosens_the_connector(world, connector):
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=600)
    assert rpo.mismatches(plan) == [] and rpo.tighten(plan) == []
    connector.refresh_from_db()
    assert connector.rpo_minutes == 60


def test_disabled_connectors_and_other_systems_are_left_alone(world, connector):
    other = Connector.objects.create(org=world["acme"], name="Files", slug="files", kind="files")
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=5)
    assert rpo.mismatches(plan) == []
    other.refresh_from_db()
    assert other.rpo_minutes == 60
