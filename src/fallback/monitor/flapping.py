"""Flapping: a system that keeps changing state sends one notice, not a storm.

More than `System.flap_changes` state changes within `flap_window_minutes` marks the
system as flapping (`flapping_since`) and queues one FLAPPING alert. While it flaps, the
incident lifecycle keeps its per-change alerts to itself (the timeline still records every
change). Once the system has gone a whole window without a change, the periodic sweep
clears the mark and lets the lifecycle announce where things settled.

Changes into or out of PAUSED and MAINTENANCE are made by people and plans, not by the
system misbehaving, so they do not count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet

from fallback.incidents.alerts import queue_alert
from fallback.incidents.lifecycle import after_flapping
from fallback.monitor.models import State, StateChange, System

_DELIBERATE = (State.PAUSED, State.MAINTENANCE)


def _window(system: System) -> timedelta:
    return timedelta(minutes=max(system.flap_window_minutes, 1))


def counted_changes(system: System, since: datetime) -> QuerySet[StateChange]:
    return (
        StateChange.objects.filter(org_id=system.org_id, system_id=system.pk, at__gt=since)
        .exclude(from_state__in=_DELIBERATE)
        .exclude(to_state__in=_DELIBERATE)
    )


def note_change(system: System, change: StateChange, now: datetime) -> bool:
    """After `change` was written: True when the system has just started flapping.

    Sets `flapping_since` (saved) and queues the one FLAPPING alert."""
    if system.flapping_since is not None or not system.flap_changes:
        return False
    if change.from_state in _DELIBERATE or change.to_state in _DELIBERATE:
        return False
    count = counted_changes(system, now - _window(system)).count()
    if count <= system.flap_changes:
        return False
    if not System.objects.filter(pk=system.pk, flapping_since__isnull=True).update(
        flapping_since=now
    ):
        return False  # another worker marked it first
    system.flapping_since = now
    # Keyed on the start of this episode: one notice per episode, whichever worker sends it.
    queue_alert("flapping", system=system, n=int(now.timestamp()), now=now, changes=count)
    return True


def is_stable(system: System, now: datetime) -> bool:
    """A flapping system is stable again after a whole window without a counted change."""
    if system.flapping_since is None:
        return True
    window = _window(system)
    if now - system.flapping_since < window:
        return False
    return not counted_changes(system, now - window).exists()


def clear_if_stable(system: System, now: datetime) -> bool:
    """Clear `flapping_since` once stable; then the lifecycle announces the settled state."""
    if system.flapping_since is None or not is_stable(system, now):
        return False
    if not System.objects.filter(pk=system.pk, flapping_since=system.flapping_since).update(
        flapping_since=None
    ):
        return False  # another worker cleared it (and settled the incidents) first
    system.flapping_since = None
    after_flapping(system, now)
    return True
