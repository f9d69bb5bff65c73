from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.comms import notices, watch
from fallback.comms.models import ItemState, OutboxItem
from fallback.comms.tests.builders import declare, mail_setup, put_records
from fallback.incidents.models import AlertDelivery, AlertEvent
from fallback.incidents.tests.builders import make_channel
from fallback.runtime import health, schedulers
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org = make_org("Hartley")
    mail_setup(org, 2525)
    put_records(
        org,
        "customer",
        [{"key": f"C{i}", "name": f"C{i}", "email": f"c{i}@example.com"} for i in range(3)],
    )
    make_channel(org, "json://127.0.0.1:9/alerts", name="Office")
    notice, _ = notices.create(declare(org), "all_customers", "first_notice")
    notices.send(notice, make_user("mo@hartley.example"))
    return org


def age(minutes):
    OutboxItem.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=minutes))


def test_messages_due_for_a_while_with_no_progress_alert_the_people_on_duty_once(org):
    age(6)
    assert watch.watch() == 1
    delivery = AlertDelivery.objects.get(event=AlertEvent.OUTBOX_STALLED)
    assert "3 not sent" in delivery.title and f"/o/{org.slug}/comms/outbox/" in delivery.body
    assert watch.watch() == 0  # the same stall is alerted once


def test_fresh_messages_are_not_a_stall(org):
    age(1)
    assert watch.watch() == 0


def test_a_slow_but_moving_outbox_is_not_a_stall(org):
    age(10)
    first = OutboxItem.objects.first()
    OutboxItem.objects.filter(pk=first.pk).update(state=ItemState.SENT, sent_at=timezone.now())
    assert watch.watch() == 0


def test_messages_a_sender_took_and_never_finished_are_a_stall(org):
    OutboxItem.objects.update(
        state=ItemState.CLAIMED, claimed_by="gone", claimed_at=timezone.now() - timedelta(minutes=7)
    )
    assert [s.waiting for s in watch.stalls()] == [3]


def test_each_organisation_s_own_stall_minutes_apply(org):
    from fallback.comms import preferences

    preferences.update_settings(org, stall_minutes=30)
    age(10)
    assert watch.watch() == 0
    age(31)
    assert watch.watch() == 1


def test_doctor_reports_a_stuck_outbox_with_the_fix(org):
    assert watch.check_outbox().status == health.Status.OK
    age(6)
    result = watch.check_outbox()
    assert result.status == health.Status.FAIL and "3 stuck" in result.detail
    assert "fallback worker" in result.fix
    assert watch.check_outbox in health.CHECKS


def test_the_watch_is_a_registered_scheduler_job():
    assert "comms.outbox_watch" in {j.name for j in schedulers.registered()}


def test_messages_that_keep_failing_are_a_stall_with_the_last_error(org):
    OutboxItem.objects.update(
        attempts=3,
        last_error="Cannot talk to smtp.backup.example:587: ConnectionRefusedError",
        created_at=timezone.now() - timedelta(minutes=20),
        next_attempt_at=timezone.now() + timedelta(minutes=2),  # waiting for its next try
    )
    assert watch.watch() == 1
    delivery = AlertDelivery.objects.get(event=AlertEvent.OUTBOX_STALLED)
    assert "ConnectionRefusedError" in delivery.body
