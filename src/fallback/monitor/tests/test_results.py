from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.monitor import results
from fallback.monitor.models import RESULT_RING, CheckResult, CheckRollup, State, System
from fallback.monitor.tests.engine_helpers import make_check, make_system
from fallback.testing.factories import make_org

URL = {"url": "http://127.0.0.1:9/health"}


@pytest.fixture
def check(db):
    return make_check(make_system(make_org("Acme")), config=URL)


def result(check, status, at=None, ms=12.5, message="HTTP 200 in 13 ms"):
    return results.Result(check.pk, check.org_id, at or timezone.now(), status, ms, message)


def test_result_updates_the_check_row(check):
    at = timezone.now()
    results.write_results([result(check, State.DOWN, at, ms=None, message="connection refused")])
    check.refresh_from_db()
    assert check.consecutive_failures == 1 and check.consecutive_successes == 0
    assert check.status == State.UNKNOWN  # one failure is not yet down (3 needed)
    assert (check.last_run_at, check.last_message, check.last_response_ms) == (
        at,
        "connection refused",
        None,
    )
    assert check.result_seq == 1


def test_status_changes_only_after_the_systems_threshold(check):
    start = timezone.now()
    changes = []
    for i in range(3):
        changes += results.write_results([result(check, State.DOWN, start + timedelta(seconds=i))])
    check.refresh_from_db()
    assert check.status == State.DOWN and check.consecutive_failures == 3
    assert check.status_since == start + timedelta(seconds=2)
    assert [(c.before, c.after, c.system_id) for c in changes] == [
        (State.UNKNOWN, State.DOWN, check.system_id)
    ]


def test_status_since_is_kept_while_the_status_holds(check):
    start = timezone.now()
    batch = [result(check, State.UP, start + timedelta(seconds=i)) for i in range(2)]
    results.write_results(batch)
    check.refresh_from_db()
    since = check.status_since
    assert check.status == State.UP and since == start + timedelta(seconds=1)
    results.write_results([result(check, State.UP, start + timedelta(seconds=5))])
    check.refresh_from_db()
    assert check.status_since == since and check.result_seq == 3


def test_several_results_of_one_check_in_a_batch_apply_in_order(check):
    start = timezone.now()
    statuses = [State.DOWN, State.DOWN, State.DOWN, State.UP]
    batch = [result(check, s, start + timedelta(seconds=i)) for i, s in enumerate(statuses)]
    changes = results.write_results(batch)
    check.refresh_from_db()
    assert [c.after for c in changes] == [State.DOWN]
    assert check.status == State.DOWN and check.consecutive_successes == 1
    assert check.result_seq == 4
    assert list(CheckResult.objects.order_by("seq").values_list("seq", "status")) == [
        (i + 1, s) for i, s in enumerate(statuses)
    ]


def test_ring_overwrites_old_slots_and_keeps_result_ring_rows(check):
    start = timezone.now()
    total = RESULT_RING + 25
    batch = [
        result(check, State.UP, start + timedelta(seconds=i), message=f"run {i + 1}")
        for i in range(total)
    ]
    results.write_results(batch[:60])
    results.write_results(batch[60:])
    rows = CheckResult.objects.filter(for_check=check)
    assert rows.count() == RESULT_RING
    seqs = sorted(rows.values_list("seq", flat=True))
    assert seqs == list(range(total - RESULT_RING + 1, total + 1))
    newest = rows.get(seq=total)
    assert newest.slot == total % RESULT_RING and newest.message == f"run {total}"
    assert newest.org_id == check.org_id


def test_results_of_a_deleted_check_are_dropped(check):
    gone = make_check(check.system, "gone", config=URL)
    stale = result(gone, State.UP)
    gone.delete()
    results.write_results([stale, result(check, State.UP)])
    assert CheckResult.objects.count() == 1
    assert CheckResult.objects.get().for_check_id == check.pk


def test_long_messages_are_cut_to_fit(check):
    results.write_results([result(check, State.DOWN, message="x" * 2000)])
    check.refresh_from_db()
    assert len(check.last_message) == results.MESSAGE_MAX
    assert len(CheckResult.objects.get().message) == results.MESSAGE_MAX


def test_results_are_added_into_rollups(check):
    at = timezone.now().replace(second=10, microsecond=0)
    results.write_results(
        [result(check, State.UP, at, ms=10.0), result(check, State.DOWN, at, ms=None)]
    )
    minute = CheckRollup.objects.get(for_check=check, resolution="minute")
    assert (minute.up, minute.down, minute.timed, minute.total_ms) == (1, 1, 1, 10.0)
    assert CheckRollup.objects.filter(for_check=check).count() == 3


def test_a_status_change_refreshes_the_system(check):
    start = timezone.now()
    changes = results.record(
        [result(check, State.UP, start), result(check, State.UP, start + timedelta(seconds=1))]
    )
    assert [c.after for c in changes] == [State.UP]
    system = System.objects.get(pk=check.system_id)
    assert system.state == State.UP
    assert system.state_since == start + timedelta(seconds=1)


def test_writing_without_a_status_change_leaves_the_system_alone(check):
    results.record([result(check, State.UP)])
    system = System.objects.get(pk=check.system_id)
    assert system.state == State.UNKNOWN and not system.state_changes.exists()
