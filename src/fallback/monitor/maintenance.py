"""Maintenance windows: when planned work suppresses alerts and incidents.

A window is one-off (`starts_at` ≤ now < `ends_at`) or weekly recurring: on each ISO weekday
in `weekdays`, from `start_time` on the wall clock of `time_zone`, for `duration_minutes` of
real (elapsed) time. So "Sunday 02:00" starts at 02:00 local time in winter and in summer.
On the day the clocks go forward a start time that does not exist (01:30 in London on the
last Sunday of March) starts when the clock would show it, i.e. 02:30 BST; on the day they
go back an ambiguous start time (01:30 on the last Sunday of October) takes its first
occurrence. A window may cross midnight (Saturday 23:00 for 3 hours ends Sunday 02:00).

A window without a system covers every system of its organisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db.models import Q

from fallback.monitor.models import MaintenanceWindow, System

MAX_DURATION_MINUTES = 7 * 24 * 60  # a weekly window longer than a week would never end


def parse_weekdays(text: str) -> frozenset[int]:
    """'1,3,5' → {1, 3, 5}; raises ValueError naming the bad part."""
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 7:
            raise ValueError(
                f"{part!r} is not an ISO weekday (1 = Monday … 7 = Sunday), "
                "give them separated by commas, e.g. '6,7'"
            )
        days.add(int(part))
    return frozenset(days)


def is_recurring(window: MaintenanceWindow) -> bool:
    return bool(window.weekdays.strip())


def validate_window(window: MaintenanceWindow) -> None:
    """Raise ValidationError, by field, for a window that is neither a clear one-off nor a clear
    weekly window. Nothing is saved here; call it before saving."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if is_recurring(window):
        try:
            if not parse_weekdays(window.weekdays):
                add("weekdays", "Give at least one weekday (1 = Monday … 7 = Sunday).")
        except ValueError as exc:
            add("weekdays", str(exc))
        if window.start_time is None:
            add("start_time", "A weekly window needs a start time, e.g. 02:00.")
        if not window.duration_minutes:
            add("duration_minutes", "A weekly window needs a duration in minutes.")
        elif window.duration_minutes > MAX_DURATION_MINUTES:
            add("duration_minutes", f"At most {MAX_DURATION_MINUTES} minutes (one week).")
        try:
            ZoneInfo(window.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            add("time_zone", f"{window.time_zone!r} is not a time zone, e.g. Europe/London.")
        if window.starts_at is not None or window.ends_at is not None:
            add("starts_at", "A weekly window has weekdays and a start time, not dates.")
    else:
        if window.starts_at is None:
            add("starts_at", "Give a start, or weekdays for a weekly window.")
        if window.ends_at is None:
            add("ends_at", "Give an end, or weekdays for a weekly window.")
        if window.starts_at and window.ends_at and window.ends_at <= window.starts_at:
            add("ends_at", "The end must come after the start.")
        if window.start_time is not None or window.duration_minutes:
            add("weekdays", "A start time and duration need weekdays (a weekly window).")
    if (
        window.system_id is not None
        and not System.objects.filter(pk=window.system_id, org_id=window.org_id).exists()
    ):
        add("system", "No such system in this organisation.")
    if errors:
        raise ValidationError(errors)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC  # validate_window refuses these; a stored bad one must not stop the engine


def _local_start(day: date, window: MaintenanceWindow, zone: tzinfo) -> datetime:
    assert window.start_time is not None
    local = datetime.combine(day, window.start_time).replace(tzinfo=zone, fold=0)
    # A round trip through UTC moves a time skipped by a spring-forward to when the clock
    # would show it (01:30 GMT → 02:30 BST); fold=0 picks the first of an ambiguous pair.
    return local.astimezone(UTC)


def occurrence_at(window: MaintenanceWindow, now: datetime) -> tuple[datetime, datetime] | None:
    """The (start, end) of the occurrence of `window` that contains `now`, if any (UTC)."""
    if not is_recurring(window):
        if window.starts_at and window.ends_at and window.starts_at <= now < window.ends_at:
            return window.starts_at, window.ends_at
        return None
    if window.start_time is None or not window.duration_minutes:
        return None
    try:
        days = parse_weekdays(window.weekdays)
    except ValueError:
        return None
    zone = _zone(window.time_zone)
    duration = timedelta(minutes=min(window.duration_minutes, MAX_DURATION_MINUTES))
    today = now.astimezone(zone).date()
    # An occurrence containing now started at most `duration` (+1 day for the clock) ago.
    back = duration.days + 2
    for offset in range(back + 1):
        day = today - timedelta(days=offset)
        if day.isoweekday() not in days:
            continue
        start = _local_start(day, window, zone)
        if start <= now < start + duration:
            return start, start + duration
    return None


def is_active(window: MaintenanceWindow, now: datetime) -> bool:
    return occurrence_at(window, now) is not None


def windows_for(system: System) -> Iterable[MaintenanceWindow]:
    return MaintenanceWindow.objects.filter(org_id=system.org_id).filter(
        Q(system_id=system.pk) | Q(system__isnull=True)
    )


def in_maintenance(system: System, now: datetime) -> MaintenanceWindow | None:
    """The window (of the system or org-wide) that covers `system` at `now`, if any."""
    for window in windows_for(system):
        if is_active(window, now):
            return window
    return None


def active_windows(now: datetime) -> list[MaintenanceWindow]:
    """Every window of every organisation that is open at `now` (for the periodic sweep)."""
    return [w for w in MaintenanceWindow.objects.all() if is_active(w, now)]
