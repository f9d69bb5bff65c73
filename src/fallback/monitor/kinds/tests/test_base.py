"""Outcome, RunContext and the wording helpers every kind uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fallback.monitor.kinds import InvalidCheckConfig, Outcome, RunContext
from fallback.monitor.kinds.base import clip, duration_text
from fallback.monitor.models import State


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.0004, "0 ms"),
        (0.85, "850 ms"),
        (1, "1 s"),
        (2.4, "2.4 s"),
        (59.94, "59.9 s"),
        (60, "1 min"),
        (90, "1 min 30 s"),
        (300, "5 min"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
        (86400, "24 h"),
        (2 * 86400, "2 days"),
        (3 * 86400 + 7200, "3 days 2 h"),
    ],
)
def test_durations_read_the_way_people_say_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_clip_keeps_untrusted_text_on_one_short_line() -> None:
    assert clip("line one\n  line two") == "line one line two"
    assert clip("x" * 200, 10) == "x" * 9 + "…"


def test_outcome_and_context_defaults() -> None:
    outcome = Outcome(State.UP, 12.5, "fine")
    assert outcome.details == {}
    assert Outcome(State.UP, None, "x").details is not outcome.details
    now = datetime(2025, 1, 1, tzinfo=UTC)
    ctx = RunContext(None, 10.0, now)  # type: ignore[arg-type]
    assert (ctx.last_ping_at, ctx.resolver_nameservers, ctx.created_at) == (None, None, None)


def test_invalid_check_config_reads_as_one_line_per_problem() -> None:
    error = InvalidCheckConfig(
        [("config.url", "is required"), ("config.port", "must be a whole number")],
        [("config", "url"), ("config", "port")],
    )
    assert str(error) == "config.url: is required; config.port: must be a whole number"
    assert isinstance(error, ValueError)


def test_invalid_check_config_works_out_locations_from_paths_when_not_given() -> None:
    error = InvalidCheckConfig([("config.expected_status[1]", "x"), ("kind", "y")])
    assert error.locs == [("config", "expected_status", 1), ("kind",)]
