"""When connectors sync: due ones are claimed once and queued; stale replicas alert once."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fallback.incidents.models import AlertChannel, AlertDelivery
from fallback.replica import editing, freshness, schedule
from fallback.replica.models import Connector
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org = make_org("Harbour Plumbing")
    AlertChannel.objects.create(org=org, name="Phones", url="json://127.0.0.1:9/alerts")
    return org


def connector(org, **fields):
    return editing.create_connector(
        org,
        name=fields.pop("name", "Shop"),
        kind="shopify",
        config={"base_url": "https://shop.example.com/admin/api/2024-10/"},
        **fields,
    )


def test_a_due_connector_is_claimed_once_and_its_next_sync_moved_on(org):
    shop = connector(org, interval_minutes=15)
    now = timezone.now() + timedelta(seconds=1)
    assert [c.pk for c in schedule.claim_due(now)] == [shop.pk]
    assert schedule.claim_due(now) == []  # a second worker asking at the same moment
    shop.refresh_from_db()
    assert shop.next_sync_at == now + timedelta(minutes=15)


def test_disabled_connectors_are_not_claimed(org):
    connector(org, enabled=False)
    assert schedule.claim_due(timezone.now() + timedelta(seconds=1)) == []


def test_enqueue_due_queues_one_task_per_due_connector(org):
    connector(org)
    connector(org, name="Books")
    with time_machine.travel(timezone.now() + timedelta(seconds=1)):
        assert schedule.enqueue_due() == 2
        assert schedule.enqueue_due() == 0
    assert DBTaskResult.objects.filter(task_path__endswith="sync_connector").count() == 2


def test_freshness_is_the_age_of_the_last_good_sync(org):
    shop = connector(org, rpo_minutes=60)
    now = timezone.now()
    assert freshness.of(shop, now).stale  # never synced
    Connector.objects.filter(pk=shop.pk).update(last_good_at=now - timedelta(minutes=20))
    shop.refresh_from_db()
    f = freshness.of(shop, now)
    assert f.age == timedelta(minutes=20)
    assert not f.stale
    assert freshness.of(shop, now + timedelta(minutes=41)).stale


def test_a_stale_replica_alerts_once_per_stale_spell(org):
    shop = connector(org, rpo_minutes=60)
    synced = timezone.now() - timedelta(minutes=90)
    Connector.objects.filter(pk=shop.pk).update(last_good_at=synced)
    now = timezone.now()
    assert freshness.alert_stale(now) == 1
    assert freshness.alert_stale(now + timedelta(minutes=5)) == 0
    Connector.objects.filter(pk=shop.pk).update(last_good_at=now)  # a good sync…
    assert freshness.alert_stale(now + timedelta(minutes=120)) == 1  # …then stale again
    titles = AlertDelivery.objects.filter(event="replica_stale").values_list("title", flat=True)
    assert all("Replica of Shop" in t for t in titles)


def test_a_never_synced_connector_does_not_alert(org):
    connector(org)
    assert freshness.alert_stale(timezone.now()) == 0
