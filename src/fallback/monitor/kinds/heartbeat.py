"""Heartbeat: a script or device pings the check's secret URL; silence means down.

Passive: a run makes no network call, it compares the last ping with the clock.
- Pinged within period + grace: up.
- Last ping older than period + grace: down.
- Never pinged: unknown ("waiting for the first ping") until period + grace have passed since
  the check was created (RunContext.created_at), then down; without created_at it stays
  unknown, since it cannot be late for something it never started.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from fallback.monitor.kinds.base import CheckKind, Outcome, RunContext, duration_text
from fallback.monitor.kinds.fields import PositiveSeconds, Seconds
from fallback.monitor.kinds.registry import register
from fallback.monitor.models import State


class HeartbeatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period_seconds: PositiveSeconds
    grace_seconds: Seconds = 300

    @property
    def allowed(self) -> timedelta:
        return timedelta(seconds=self.period_seconds + self.grace_seconds)

    def expectation(self) -> str:
        return (
            f"expected every {duration_text(self.period_seconds)}, "
            f"grace {duration_text(self.grace_seconds) if self.grace_seconds else 'none'}"
        )


class HeartbeatKind(CheckKind[HeartbeatConfig]):
    key = "heartbeat"
    label = "Heartbeat (pinged by a script or device)"
    Config = HeartbeatConfig
    passive = True

    async def run(self, config: HeartbeatConfig, ctx: RunContext) -> Outcome:
        return evaluate(config, ctx.last_ping_at, ctx.now, ctx.created_at)

    def next_due(
        self, config: HeartbeatConfig, last_ping_at: datetime | None, now: datetime
    ) -> datetime | None:
        """The moment the heartbeat becomes overdue, if that is still to come."""
        if last_ping_at is None:
            return None
        overdue_at = last_ping_at + config.allowed
        return overdue_at if overdue_at > now else None


def evaluate(
    config: HeartbeatConfig,
    last_ping_at: datetime | None,
    now: datetime,
    created_at: datetime | None = None,
) -> Outcome:
    if last_ping_at is None:
        if created_at is not None and now >= created_at + config.allowed:
            waited = duration_text((now - created_at).total_seconds())
            message = f"no ping received since the check was created {waited} ago"
            return Outcome(State.DOWN, None, f"{message} ({config.expectation()})")
        return Outcome(State.UNKNOWN, None, "waiting for the first ping")
    seconds = (now - last_ping_at).total_seconds()
    ago = duration_text(seconds)
    details = {"last_ping_at": last_ping_at.isoformat()}
    if now >= last_ping_at + config.allowed:
        message = f"no ping for {ago} ({config.expectation()})"
        return Outcome(State.DOWN, None, message, details)
    message = "last ping just now" if seconds < 1 else f"last ping {ago} ago"
    return Outcome(State.UP, None, message, details)


register(HeartbeatKind())
