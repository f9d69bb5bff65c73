from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.monitor.heartbeats import PING_MESSAGE, record_ping
from fallback.monitor.models import Check, CheckResult, State, System
from fallback.monitor.tests.engine_helpers import make_check, make_system
from fallback.testing.factories import make_org

BEAT = {"period_seconds": 300, "grace_seconds": 60}


@pytest.fixture
def check(db):
    system = make_system(make_org("Acme"), "Backups", successes_to_up=1)
    return make_check(system, "nightly backup", kind="heartbeat", config=BEAT, push_token="t0k3n")


def test_a_ping_is_stored_and_the_check_looked_at_when_it_would_be_overdue(check):
    now = timezone.now()
    assert record_ping("t0k3n", now).pk == check.pk
    check.refresh_from_db()
    assert check.last_ping_at == now
    assert check.next_run_at == now + timedelta(seconds=360)


def test_a_ping_to_a_check_that_was_not_up_records_an_up_result_at_once(check):
    now = timezone.now()
    pinged = record_ping("t0k3n", now)
    assert pinged.status == State.UP and pinged.result_seq == 1
    result = CheckResult.objects.get(for_check=check)
    assert (result.status, result.message, result.at) == (State.UP, PING_MESSAGE, now)
    assert System.objects.get(pk=check.system_id).state == State.UP


def test_a_down_heartbeat_recovers_through_the_state_machine(check):
    system = check.system
    system.successes_to_up = 2
    system.save()
    Check.objects.filter(pk=check.pk).update(status=State.DOWN, consecutive_failures=3)
    now = timezone.now()
    assert record_ping("t0k3n", now).status == State.DOWN  # one success of two
    assert record_ping("t0k3n", now + timedelta(seconds=1)).status == State.UP


def test_a_ping_to_an_up_check_writes_no_result(check):
    Check.objects.filter(pk=check.pk).update(status=State.UP)
    record_ping("t0k3n")
    assert not CheckResult.objects.exists()
    check.refresh_from_db()
    assert check.result_seq == 0 and check.last_ping_at is not None


def test_the_same_ping_twice_changes_nothing_more(check):
    now = timezone.now()
    record_ping("t0k3n", now)
    again = record_ping("t0k3n", now)
    assert again.result_seq == 1 and CheckResult.objects.count() == 1
    late = record_ping("t0k3n", now - timedelta(seconds=30))
    late.refresh_from_db()
    assert late.last_ping_at == now


def test_an_unknown_or_empty_token_is_none(check):
    assert record_ping("nope") is None
    assert record_ping("") is None
    check.refresh_from_db()
    assert check.last_ping_at is None


def test_a_paused_or_disabled_check_keeps_the_ping_but_gets_no_result(check):
    System.objects.filter(pk=check.system_id).update(paused=True)
    now = timezone.now()
    assert record_ping("t0k3n", now).last_ping_at == now
    assert not CheckResult.objects.exists()
    System.objects.filter(pk=check.system_id).update(paused=False)
    Check.objects.filter(pk=check.pk).update(enabled=False)
    record_ping("t0k3n", now + timedelta(seconds=1))
    assert not CheckResult.objects.exists()


def test_a_ping_to_a_broken_definition_is_kept(check):
    Check.objects.filter(pk=check.pk).update(config={"period_seconds": -5})
    now = timezone.now()
    assert record_ping("t0k3n", now).last_ping_at == now
