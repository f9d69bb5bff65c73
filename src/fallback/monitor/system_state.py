"""A system's state from its checks, its pause switch, maintenance windows and our own link.

Precedence, first match wins:

1. `paused` → PAUSED (a person switched watching off);
2. inside a maintenance window (its own or an org-wide one) → MAINTENANCE;
3. otherwise the worst enabled check: DOWN > DEGRADED > UP; checks that cannot tell
   (UNKNOWN) are outvoted by any that can; all UNKNOWN, or no enabled checks → UNKNOWN;
4. our own link first: when an internet-link system of the organisation is DOWN, a
   non-internet system that would be DOWN (or UNKNOWN) is UNKNOWN — "our own connection
   is down" — so no vendor is blamed. A system whose checks still succeed stays UP: that is
   evidence, not a guess. A canary is a check of the internet-link system like any other,
   so it only moves that system.

The state lives in the database (System.state/state_since/state_reason), so it survives
restarts. Every change writes a StateChange row (the evidence for downtime and SLA claims),
then flapping is noted and the incident lifecycle is told, all in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fallback.incidents.lifecycle import on_system_state_change
from fallback.monitor import flapping
from fallback.monitor.maintenance import active_windows, in_maintenance
from fallback.monitor.models import Check, State, StateChange, System, SystemKind
from fallback.runtime import schedulers

log = logging.getLogger("fallback.monitor")

SWEEP_EVERY = 30.0  # seconds: how late a maintenance window may start or end
LINK_DOWN_REASON = "Unknown: our own internet connection is down, so this cannot be checked"
_RANK = {State.DOWN: 3, State.DEGRADED: 2, State.UP: 1}
_REASON_MAX = 300


def _describe(checks: list[Check], label: str) -> str:
    parts = [f"{c.name}: {c.last_message}" if c.last_message else c.name for c in checks]
    return f"{label}: " + "; ".join(parts)


def worst_of_checks(checks: list[Check]) -> tuple[str, str]:
    """(state, reason) of a system from its enabled checks."""
    if not checks:
        return State.UNKNOWN, "No enabled checks"
    worst = max((c.status for c in checks), key=lambda s: _RANK.get(State(s), 0))
    if worst not in _RANK:
        return State.UNKNOWN, "No check can tell yet"
    matching = [c for c in checks if c.status == worst]
    if worst == State.UP:
        unknown = len(checks) - len(matching)
        suffix = f" ({unknown} cannot tell)" if unknown else ""
        return State.UP, ("All checks up" if not unknown else f"{len(matching)} checks up{suffix}")
    label = "Down" if worst == State.DOWN else "Degraded"
    if len(checks) > 1:
        label = f"{len(matching)} of {len(checks)} checks {label.lower()}"
    return worst, _describe(matching, label)


def link_down(system: System) -> bool:
    """Is an internet-link system of the organisation (other than this one) down?"""
    return (
        System.objects.filter(org_id=system.org_id, kind=SystemKind.INTERNET, state=State.DOWN)
        .exclude(pk=system.pk)
        .exists()
    )


def compute_state(system: System, now: datetime) -> tuple[str, str]:
    """What `system`'s state should be at `now`, and why (plain words)."""
    if system.paused:
        return State.PAUSED, "Paused: not being watched"
    window = in_maintenance(system, now)
    if window is not None:
        return State.MAINTENANCE, f"Maintenance: {window.title}"
    checks = list(
        Check.objects.filter(org_id=system.org_id, system_id=system.pk, enabled=True).only(
            "name", "status", "last_message"
        )
    )
    state, reason = worst_of_checks(checks)
    if (
        state in (State.DOWN, State.UNKNOWN)
        and system.kind != SystemKind.INTERNET
        and link_down(system)
    ):
        return State.UNKNOWN, LINK_DOWN_REASON
    return state, reason


def refresh_system(system_id: int, now: datetime) -> StateChange | None:
    """Recompute and store a system's state; the StateChange when it changed, else None."""
    with transaction.atomic():
        # Serialises refreshes of one system across workers (no-op on SQLite, whose
        # IMMEDIATE transactions already serialise writers).
        system = System.objects.select_for_update().filter(pk=system_id).first()
        if system is None:
            return None
        state, reason = compute_state(system, now)
        reason = reason[:_REASON_MAX]
        if state == system.state:
            if reason != system.state_reason:
                system.state_reason = reason
                system.save(update_fields=["state_reason"])
            return None
        change = StateChange.objects.create(
            org_id=system.org_id,
            system=system,
            at=now,
            from_state=system.state,
            to_state=state,
            reason=reason,
        )
        system.state, system.state_since, system.state_reason = state, now, reason
        system.save(update_fields=["state", "state_since", "state_reason"])
        flapping.note_change(system, change, now)
        on_system_state_change(system, change)
        if system.kind == SystemKind.INTERNET and State.DOWN in (change.from_state, state):
            _refresh_behind_link(system, now)
    return change


def _refresh_behind_link(link: System, now: datetime) -> None:
    """Our link went down or came back: the org's other systems read differently now."""
    others = (
        System.objects.filter(org_id=link.org_id, state__in=[State.DOWN, State.UNKNOWN])
        .exclude(kind=SystemKind.INTERNET)
        .values_list("pk", flat=True)
    )
    for pk in list(others):
        refresh_system(pk, now)


@schedulers.register("monitor.state_sweep", every=SWEEP_EVERY)
def sweep(now: datetime | None = None) -> int:
    """Catch what no check result announces: maintenance windows opening and closing, the
    pause switch, flapping systems gone quiet. Returns how many systems changed state."""
    now = now or timezone.now()
    windows = active_windows(now)
    covered = Q(pk__in={w.system_id for w in windows if w.system_id is not None}) | Q(
        org_id__in={w.org_id for w in windows if w.system_id is None}
    )
    ids: set[int] = set()
    ids.update(
        System.objects.filter(state=State.MAINTENANCE).exclude(covered).values_list("pk", flat=True)
    )
    ids.update(
        System.objects.filter(covered, paused=False)
        .exclude(state=State.MAINTENANCE)
        .values_list("pk", flat=True)
    )
    ids.update(
        System.objects.filter(
            Q(paused=True) & ~Q(state=State.PAUSED) | Q(paused=False, state=State.PAUSED)
        ).values_list("pk", flat=True)
    )
    changed = 0
    for pk in sorted(ids):
        try:
            changed += refresh_system(pk, now) is not None
        except Exception:
            log.exception("refreshing system %s failed", pk)
    for system in System.objects.filter(flapping_since__isnull=False):
        try:
            flapping.clear_if_stable(system, now)
        except Exception:
            log.exception("clearing flapping of system %s failed", system.pk)
    return changed
