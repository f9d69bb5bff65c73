"""Shared by the state-machine and incident tests: systems, checks, channels, and a way to
feed check outcomes through the state machine as the engine does (without the network)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fallback.accounts.models import Organisation
from fallback.incidents.models import AlertChannel
from fallback.monitor.models import Check, State, StateChange, System
from fallback.monitor.system_state import refresh_system
from fallback.monitor.transitions import next_check_status


def make_system(org: Organisation, name: str = "CRM", **fields: Any) -> System:
    fields.setdefault("slug", name.lower().replace(" ", "-"))
    return System.objects.create(org=org, name=name, **fields)


def make_check(system: System, name: str = "Home page", **fields: Any) -> Check:
    fields.setdefault("kind", "http")
    fields.setdefault("config", {"url": "http://127.0.0.1:9/"})
    return Check.objects.create(org_id=system.org_id, system=system, name=name, **fields)


def make_channel(org: Organisation, url: str, name: str = "Office", **fields: Any) -> AlertChannel:
    return AlertChannel.objects.create(org=org, name=name, url=url, **fields)


def feed(check: Check, outcome: str, now: datetime, message: str = "") -> StateChange | None:
    """One result of `check` at `now`, through next_check_status, then refresh_system when
    the check's status changed — the engine's path, minus the network."""
    check.refresh_from_db()
    system = check.system
    status, failures, successes = next_check_status(
        check.status,
        check.consecutive_failures,
        check.consecutive_successes,
        outcome,
        system.failures_to_down,
        system.successes_to_up,
    )
    changed = status != check.status
    check.status = status
    check.consecutive_failures, check.consecutive_successes = failures, successes
    check.last_message = message or ("OK" if outcome == State.UP else f"Saw {outcome}")
    check.last_run_at = now
    if changed:
        check.status_since = now
    check.save()
    return refresh_system(system.pk, now) if changed else None


def set_status(check: Check, status: str, now: datetime, message: str = "") -> StateChange | None:
    """Put a check straight into `status` (as if its debounce just completed) and refresh."""
    check.status = status
    check.status_since = now
    check.last_message = message or f"Saw {status}"
    check.save()
    return refresh_system(check.system_id, now)
