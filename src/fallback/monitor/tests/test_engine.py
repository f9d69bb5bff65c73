"""The engine against real loopback servers: runs, cadence, re-tests, timeouts, failures."""

import asyncio
import itertools
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.monitor import claims, kinds
from fallback.monitor import engine as engine_module
from fallback.monitor.kinds import registry
from fallback.monitor.models import CheckResult, State
from fallback.monitor.tests.engine_helpers import (
    Target,
    closed_port,
    make_check,
    make_system,
    running_engine,
    seq,
    wait_until,
)
from fallback.testing.factories import make_org


@pytest.fixture
def target():
    server = Target().start()
    yield server
    server.stop()


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def system():
    return make_system(make_org("Acme"))


def last_result(check) -> CheckResult:
    return CheckResult.objects.filter(for_check=check).order_by("-seq").first()


def test_due_checks_run_and_their_results_are_written(system, target):
    checks = [make_check(system, f"c{i}", config={"url": target.url(f"/c{i}")}) for i in range(3)]
    not_due = make_check(
        system,
        "later",
        config={"url": target.url("/later")},
        next_run_at=timezone.now() + timedelta(hours=1),
    )
    with running_engine() as engine:
        assert wait_until(lambda: all(seq(c) == 1 for c in checks))
    for i, check in enumerate(checks):
        assert len(target.hits[f"/c{i}"]) == 1
        result = last_result(check)
        assert result.status == State.UP and result.response_ms is not None
        assert result.message.startswith("HTTP 200")
    assert "/later" not in target.hits and seq(not_due) == 0
    assert engine.stats.finished == 3 and engine.stats.written == 3


def test_each_check_runs_once_per_interval(system, target):
    checks = [
        make_check(system, f"c{i}", config={"url": target.url(f"/c{i}")}, interval_seconds=1)
        for i in range(5)
    ]
    with running_engine():
        time.sleep(3.5)
    for check in checks:
        hits = target.hits[f"/{check.name}"]
        assert 3 <= len(hits) <= 5, hits
        gaps = [b - a for a, b in itertools.pairwise(hits)]
        assert all(0.75 < gap < 1.3 for gap in gaps), gaps


def test_a_failure_is_retested_before_it_counts(system, target):
    target.fail_first["/flaky"] = 1
    check = make_check(system, config={"url": target.url("/flaky")}, retries=2)
    with running_engine():
        assert wait_until(lambda: seq(check) == 1)
    assert len(target.hits["/flaky"]) == 2
    assert last_result(check).status == State.UP
    check.refresh_from_db()
    assert check.consecutive_failures == 0 and check.consecutive_successes == 1


def test_a_lasting_failure_counts_once_after_its_retests(system, target):
    target.status["/broken"] = 503
    check = make_check(system, config={"url": target.url("/broken")}, retries=2)
    with running_engine():
        assert wait_until(lambda: seq(check) == 1)
    assert len(target.hits["/broken"]) == 3
    result = last_result(check)
    assert result.status == State.DOWN
    assert "HTTP 503" in result.message and "same after 2 re-tests" in result.message
    check.refresh_from_db()
    assert check.consecutive_failures == 1


def test_waiting_to_retest_does_not_hold_up_other_checks(system, target):
    target.status["/broken"] = 503
    slow_retest = make_check(
        system, "broken", config={"url": target.url("/broken")}, retries=1, retry_delay_seconds=3
    )
    healthy = make_check(system, "fine", config={"url": target.url("/fine")}, interval_seconds=1)
    with running_engine(concurrency=1):
        assert wait_until(lambda: seq(healthy) >= 2, timeout=2.5)
        assert seq(slow_retest) == 0 and len(target.hits["/broken"]) == 1
        assert wait_until(lambda: seq(slow_retest) == 1)


def test_no_answer_within_the_timeout_is_down(system, target):
    target.delay["/slow"] = 1.2
    check = make_check(system, config={"url": target.url("/slow")}, timeout_seconds=0.3)
    with running_engine():
        assert wait_until(lambda: seq(check) == 1)
    result = last_result(check)
    assert result.status == State.DOWN and "within 300 ms" in result.message


def test_refused_connection_is_down(system):
    check = make_check(system, config={"url": f"http://127.0.0.1:{closed_port()}/"})
    with running_engine():
        assert wait_until(lambda: seq(check) == 1)
    result = last_result(check)
    assert result.status == State.DOWN and "refused" in result.message


class Exploding(kinds.CheckKind[registry.get("http").Config]):
    key = "test-exploding"
    label = "Raises"
    Config = registry.get("http").Config

    async def run(self, config, ctx):
        raise ZeroDivisionError("division by zero")


def test_a_kind_that_raises_gives_unknown_and_the_loop_carries_on(system, target, monkeypatch):
    monkeypatch.setitem(registry._KINDS, Exploding.key, Exploding())
    bad = make_check(system, "bad", kind=Exploding.key, config={"url": target.url("/x")})
    good = make_check(system, "good", config={"url": target.url("/good")}, interval_seconds=1)
    with running_engine():
        assert wait_until(lambda: seq(bad) >= 1 and seq(good) >= 2)
    result = last_result(bad)
    assert result.status == State.UNKNOWN
    assert result.message == "the check could not run: ZeroDivisionError: division by zero"


def test_an_invalid_definition_gives_an_unknown_result(system):
    check = make_check(system, kind="http", config={"url": "not a url"})
    with running_engine():
        assert wait_until(lambda: seq(check) == 1)
    result = last_result(check)
    assert result.status == State.UNKNOWN
    assert result.message.startswith("the check's definition is not valid: config.url")


def test_a_missed_heartbeat_goes_down_without_any_network(system):
    system.failures_to_down = 1
    system.save()
    check = make_check(
        system,
        kind="heartbeat",
        config={"period_seconds": 60, "grace_seconds": 0},
        last_ping_at=timezone.now() - timedelta(minutes=5),
        retries=3,
        retry_delay_seconds=5,
    )
    with running_engine():
        assert wait_until(lambda: seq(check) == 1, timeout=3)  # no re-tests for a passive kind
    check.refresh_from_db()
    assert check.status == State.DOWN and check.last_message.startswith("no ping for 5 min")


def test_stopping_lets_running_checks_finish(system, target):
    target.delay["/slow"] = 0.8
    check = make_check(system, config={"url": target.url("/slow")})
    with running_engine():
        assert wait_until(lambda: target.hits["/slow"])
    assert seq(check) == 1  # written during the stop, not lost
    assert last_result(check).status == State.UP


def test_checks_claimed_by_a_worker_that_died_are_run_again_within_two_intervals(system, target):
    check = make_check(system, config={"url": target.url("/orphan")}, interval_seconds=1)
    assert len(claims.claim_due("dead-worker", timezone.now(), 10)) == 1  # then it "died"
    started = time.monotonic()
    with running_engine("survivor"):
        assert wait_until(lambda: seq(check) == 1, timeout=3)
    assert time.monotonic() - started <= 2.0
    check.refresh_from_db()
    assert check.claimed_by == "survivor"


def test_a_status_change_updates_the_system(system, target):
    system.successes_to_up = 1
    system.save()
    make_check(system, config={"url": target.url("/ok")})
    with running_engine():
        assert wait_until(lambda: type(system).objects.get(pk=system.pk).state == State.UP)


class Hanging(kinds.CheckKind[registry.get("http").Config]):
    key = "test-hanging"
    label = "Ignores its timeout"
    Config = registry.get("http").Config

    async def run(self, config, ctx):
        await asyncio.sleep(3600)


def test_a_kind_that_ignores_its_timeout_is_given_up_as_down(system, target, monkeypatch):
    monkeypatch.setitem(registry._KINDS, Hanging.key, Hanging())
    monkeypatch.setattr(engine_module, "TIMEOUT_GRACE", 0.1)
    check = make_check(
        system, kind=Hanging.key, config={"url": target.url("/x")}, timeout_seconds=0.2
    )
    with running_engine():
        assert wait_until(lambda: seq(check) == 1, timeout=3)
    result = last_result(check)
    assert result.status == State.DOWN and result.message == "no answer within 200 ms"


def test_the_limiter_lets_at_most_its_slots_in_and_serves_in_order():
    async def scenario():
        limiter = engine_module.Limiter(2)
        inside, most, order = 0, 0, []

        async def holder(n):
            nonlocal inside, most
            async with limiter:
                inside += 1
                most = max(most, inside)
                order.append(n)
                await asyncio.sleep(0.01)
                inside -= 1

        tasks = [asyncio.create_task(holder(n)) for n in range(6)]
        await asyncio.sleep(0)
        tasks[3].cancel()  # cancelled while waiting: must not take or leak a slot
        await asyncio.gather(*tasks, return_exceptions=True)
        async with limiter:  # every slot came back
            pass
        return most, order, limiter._free

    most, order, free = asyncio.run(scenario())
    assert most == 2
    assert order == [0, 1, 2, 4, 5]
    assert free == 2


def test_hour_and_day_rollups_are_written_by_the_engine_too(system, target):
    from fallback.monitor.models import CheckRollup

    check = make_check(system, config={"url": target.url("/ok")})
    with running_engine():
        assert wait_until(lambda: seq(check) >= 1)
    # Stopping writes what the engine had added up for the hour and the day.
    resolutions = set(
        CheckRollup.objects.filter(for_check=check).values_list("resolution", flat=True)
    )
    assert resolutions == {"minute", "hour", "day"}
