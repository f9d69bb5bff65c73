"""The heartbeat kind: judged from the last ping and the clock, no network."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from fallback.monitor.kinds import InvalidCheckConfig, Outcome, get, validate_config
from fallback.monitor.kinds.heartbeat import HeartbeatConfig
from fallback.monitor.models import State

Run = Callable[..., Outcome]

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
HOURLY = {"period_seconds": 3600, "grace_seconds": 300}


def _config(data: dict[str, object] = HOURLY) -> HeartbeatConfig:
    model = validate_config("heartbeat", data)
    assert isinstance(model, HeartbeatConfig)
    return model


def test_heartbeat_is_passive() -> None:
    assert get("heartbeat").passive is True
    assert get("http").passive is False


def test_up_when_pinged_within_the_period(run_check: Run) -> None:
    outcome = run_check("heartbeat", HOURLY, now=NOW, last_ping_at=NOW - timedelta(minutes=20))
    assert outcome.status == State.UP
    assert outcome.message == "last ping 20 min ago"
    assert outcome.response_ms is None


def test_still_up_during_the_grace_time(run_check: Run) -> None:
    last = NOW - timedelta(seconds=3600 + 299)
    assert run_check("heartbeat", HOURLY, now=NOW, last_ping_at=last).status == State.UP


def test_down_when_the_ping_is_missed_beyond_the_grace_time(run_check: Run) -> None:
    last = NOW - timedelta(seconds=3600 + 300)
    outcome = run_check("heartbeat", HOURLY, now=NOW, last_ping_at=last)
    assert outcome.status == State.DOWN
    assert outcome.message == "no ping for 1 h 5 min (expected every 1 h, grace 5 min)"
    assert outcome.details["last_ping_at"] == last.isoformat()


def test_never_pinged_waits_for_the_first_ping(run_check: Run) -> None:
    outcome = run_check("heartbeat", HOURLY, now=NOW)
    assert outcome.status == State.UNKNOWN
    assert outcome.message == "waiting for the first ping"
    young = NOW - timedelta(minutes=64)
    assert run_check("heartbeat", HOURLY, now=NOW, created_at=young).status == State.UNKNOWN


def test_never_pinged_is_down_a_period_and_grace_after_creation(run_check: Run) -> None:
    created = NOW - timedelta(minutes=65)
    outcome = run_check("heartbeat", HOURLY, now=NOW, created_at=created)
    assert outcome.status == State.DOWN
    assert outcome.message == (
        "no ping received since the check was created 1 h 5 min ago "
        "(expected every 1 h, grace 5 min)"
    )


def test_next_due_is_the_moment_the_heartbeat_becomes_overdue() -> None:
    kind, config = get("heartbeat"), _config()
    last = NOW - timedelta(minutes=10)
    assert kind.next_due(config, last, NOW) == last + timedelta(minutes=65)
    # Already overdue, or never pinged: no special moment, the check runs on its interval.
    assert kind.next_due(config, NOW - timedelta(hours=2), NOW) is None
    assert kind.next_due(config, None, NOW) is None


def test_active_kinds_have_no_special_due_time() -> None:
    config = validate_config("http", {"url": "https://crm.example.com/"})
    assert get("http").next_due(config, NOW, NOW) is None


def test_grace_defaults_to_five_minutes_and_may_be_zero(run_check: Run) -> None:
    assert _config({"period_seconds": 60}).grace_seconds == 300
    config = {"period_seconds": 60, "grace_seconds": 0}
    outcome = run_check("heartbeat", config, now=NOW, last_ping_at=NOW - timedelta(seconds=60))
    assert outcome.status == State.DOWN
    assert outcome.message == "no ping for 1 min (expected every 1 min, grace none)"


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({}, "config.period_seconds", "is required"),
        ({"period_seconds": -60}, "config.period_seconds", "must be at least 1 second (got -60)"),
        ({"period_seconds": 0}, "config.period_seconds", "must be at least 1 second"),
        ({"period_seconds": 1.5}, "config.period_seconds", "must be a whole number of seconds"),
        ({"period_seconds": 60, "grace_seconds": -1}, "config.grace_seconds", "at least 0"),
    ],
)
def test_bad_definitions_are_refused_with_the_field_path(
    config: dict[str, object], path: str, message: str
) -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("heartbeat", config)
    assert [p for p, _ in caught.value.errors] == [path]
    assert message in caught.value.errors[0][1]
