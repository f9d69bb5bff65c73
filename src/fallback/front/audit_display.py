"""Turning audit events into what a person reads: filters and "field: old → new" rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from fallback.accounts.models import Organisation
from fallback.audit.models import AuditEvent


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any
    has_old: bool  # False when the event recorded a value, not a change (e.g. "created")


def changes_of(event: AuditEvent) -> list[Change]:
    """`changes` holds field -> [old, new] for updates, or field -> value for snapshots."""
    rows = []
    raw = event.changes if isinstance(event.changes, dict) else {}
    for field, value in raw.items():
        if isinstance(value, list) and len(value) == 2:
            rows.append(Change(str(field), value[0], value[1], has_old=True))
        else:
            rows.append(Change(str(field), None, value, has_old=False))
    return rows


def events_for(org: Organisation, action_prefix: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(org=org)
    if action_prefix:
        events = events.filter(action__startswith=action_prefix)
    return events


def action_choices(org: Organisation) -> list[tuple[str, str]]:
    """Filter choices from the actions this organisation's trail holds: groups, then each."""
    # order_by() replaces the model's ordering, which would otherwise defeat distinct().
    actions = list(
        AuditEvent.objects.filter(org=org)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
    groups = sorted({a.split(".", 1)[0] for a in actions if "." in a})
    return [(f"{g}.", f"{g} – all") for g in groups] + [(a, a) for a in actions]
