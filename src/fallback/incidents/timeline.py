"""The incident timeline, and the plain words timelines and alerts share."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.incidents.models import EntryKind, Incident, TimelineEntry


def actor_label(by: Any) -> str:
    if by is not None and getattr(by, "is_authenticated", False):
        return str(by.email)
    return "Fallback"


def add(
    incident: Incident,
    kind: EntryKind,
    text: str,
    *,
    by: Any = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append one entry. `by` is the person who acted; None means Fallback itself."""
    person = by if by is not None and getattr(by, "is_authenticated", False) else None
    return TimelineEntry.objects.create(
        org_id=incident.org_id,
        incident=incident,
        at=at or timezone.now(),
        kind=kind,
        actor=person,
        actor_label=actor_label(by),
        text=text,
        data=data or {},
    )


def incident_path(incident: Incident) -> str:
    return f"/o/{incident.org.slug}/incidents/{incident.pk}/"


def duration(delta: timedelta) -> str:
    """4 min, 1 h 12 min, 2 days 3 h — rounded down to the minute."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    day_word = "day" if days == 1 else "days"
    return f"{days} {day_word} {hours} h" if hours else f"{days} {day_word}"


def _zone(org: Organisation) -> ZoneInfo:
    try:
        return ZoneInfo(org.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime, org: Organisation, now: datetime | None = None) -> str:
    """'10:00' today, else '10:00 on Mon 2 Mar', on the organisation's clock."""
    zone = _zone(org)
    local = moment.astimezone(zone)
    today = (now or timezone.now()).astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return clock
    return f"{clock} on {local:%a} {local.day} {local:%b}"
