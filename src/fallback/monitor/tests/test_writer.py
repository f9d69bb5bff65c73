"""The result writer process: what the engine's own thread would write, written by a child
process; a killed child replaced; the hour and day rollups written when it stops."""

import os
import signal
from datetime import UTC, datetime

import pytest

from fallback.monitor.models import Check, CheckResult, CheckRollup, State
from fallback.monitor.results import Result
from fallback.monitor.tests.engine_helpers import (
    Target,
    make_check,
    make_system,
    running_engine,
    seq,
    wait_until,
)
from fallback.monitor.writer import WriterProcess
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def check():
    return make_check(make_system(make_org("Acme")), config={"url": "http://127.0.0.1:9/"})


@pytest.fixture
def writer():
    process = WriterProcess()
    yield process
    process.close()


def down(check, second):
    at = datetime(2026, 11, 23, 10, 0, second, tzinfo=UTC)
    return Result(check.pk, check.org_id, at, State.DOWN.value, None, "connection refused")


def test_the_writer_process_writes_results_and_reports_status_changes(check, writer):
    assert writer.write([down(check, 1), down(check, 2)]) == []
    changes = writer.write([down(check, 3)])
    assert [(c.check_id, c.system_id, c.after) for c in changes] == [
        (check.pk, check.system_id, State.DOWN.value)
    ]
    assert changes[0].at == datetime(2026, 11, 23, 10, 0, 3, tzinfo=UTC)
    stored = Check.objects.get(pk=check.pk)
    assert stored.status == State.DOWN and stored.result_seq == 3
    assert CheckResult.objects.filter(for_check=check).count() == 3


def test_stopping_the_writer_writes_its_hour_and_day_rollups(check, writer):
    writer.write([down(check, 1)])
    assert set(CheckRollup.objects.values_list("resolution", flat=True)) == {"minute"}
    writer.close()
    assert set(CheckRollup.objects.values_list("resolution", flat=True)) == {
        "minute",
        "hour",
        "day",
    }


def test_a_killed_writer_is_replaced_by_a_new_one(check, writer):
    writer.write([down(check, 1)])
    first = writer.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: not os.path.exists(f"/proc/{first}/status") or _zombie(first))
    writer.write([down(check, 2)])
    assert writer.pid not in (None, first)
    assert Check.objects.get(pk=check.pk).result_seq == 2


def _zombie(pid):
    with open(f"/proc/{pid}/status") as status:
        return "zombie" in status.read()


def test_the_engine_with_a_writer_process_runs_and_writes_checks():
    target = Target().start()
    try:
        check = make_check(make_system(make_org("Acme")), config={"url": target.url("/ok")})
        with running_engine(writer="process") as engine:
            assert wait_until(lambda: seq(check) >= 1, timeout=30)
            assert engine.writer_pid is not None
        assert CheckResult.objects.filter(for_check=check).first().status == State.UP
        assert CheckRollup.objects.filter(for_check=check, resolution="day").exists()
    finally:
        target.stop()
