"""Measured availability and downtime, from the recorded state changes: the vendor report.

The rules (the report page states them to its readers too):

- A system is *down* for the time its state was DOWN, from the StateChange that made it down
  to the one that ended it. An outage still going on counts up to now.
- Planned maintenance is left out altogether: time inside one of the system's (or the
  organisation's) maintenance windows, and time in the MAINTENANCE state, is neither
  downtime nor measured time. A vendor's SLA excludes announced maintenance too.
- UNKNOWN (nothing could be measured, e.g. our own connection was down) and PAUSED are not
  downtime: the report only holds the vendor to what was seen. They are shown as
  "unmeasured" minutes so that a reader can judge.
- DEGRADED is available (slow is not down).
- Availability = (measured - downtime) / measured, where measured is the period (the month,
  up to now for the current one, from when the system was added) minus maintenance.

Months and days are calendar months and days in the organisation's time zone; arithmetic is
done in UTC, so a month with a daylight-saving change has its true length.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Q

from fallback.accounts.models import Organisation
from fallback.incidents.models import Incident
from fallback.monitor.maintenance import parse_weekdays
from fallback.monitor.models import MaintenanceWindow, State, StateChange, System

Span = tuple[datetime, datetime]
ZERO = timedelta(0)


@dataclass(frozen=True)
class Outage:
    """One stretch of downtime inside the period (clipped to it)."""

    start: datetime
    end: datetime
    ongoing: bool  # still down at the end of what was measured

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def minutes(self) -> float:
        return minutes(self.duration)


@dataclass(frozen=True)
class Measure:
    period: timedelta  # the part of the span the system existed and that has passed
    excluded: timedelta  # maintenance
    downtime: timedelta
    unmeasured: timedelta  # unknown or paused (not counted as downtime)
    outages: list[Outage] = field(default_factory=list)

    @property
    def measured(self) -> timedelta:
        return self.period - self.excluded

    @property
    def availability(self) -> Decimal | None:
        """Percent available, truncated (never rounded up) to three decimals."""
        if self.measured <= ZERO:
            return None
        up = _micro(self.measured - self.downtime)
        exact = Decimal(up) * 100 / Decimal(_micro(self.measured))
        return exact.quantize(Decimal("0.001"), rounding=ROUND_FLOOR)

    def meets(self, sla_percent: Decimal | None) -> bool | None:
        """Whether the exact availability reaches `sla_percent` (None: no SLA or no data)."""
        if sla_percent is None or self.measured <= ZERO:
            return None
        # Compared exactly: 99.8999 % misses a 99.9 % promise even if shown as 99.9.
        up = _micro(self.measured - self.downtime)
        return Decimal(up) * 100 >= sla_percent * _micro(self.measured)


@dataclass(frozen=True)
class MonthReport:
    system: System
    month: date  # first day of the month
    start: datetime  # in UTC
    end: datetime
    complete: bool  # the month is over
    measure: Measure
    incidents: list[Incident]

    @property
    def availability(self) -> Decimal | None:
        return self.measure.availability

    @property
    def sla_met(self) -> bool | None:
        return self.measure.meets(self.system.sla_percent)

    @property
    def downtime_minutes(self) -> float:
        return minutes(self.measure.downtime)

    @property
    def sla_text(self) -> str:
        return percent_text(self.system.sla_percent)

    @property
    def real_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if not i.is_exercise]


@dataclass(frozen=True)
class Day:
    day: date
    measure: Measure | None  # None: the system did not exist yet, or the day is to come

    @property
    def availability(self) -> Decimal | None:
        return self.measure.availability if self.measure else None

    @property
    def downtime_minutes(self) -> float:
        return minutes(self.measure.downtime) if self.measure else 0.0


def percent_text(value: Decimal | None) -> str:
    """99.900 -> "99.9", 100.000 -> "100"; "" for none."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def minutes(span: timedelta) -> float:
    return round(span.total_seconds() / 60, 2)


def _micro(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def zone(org: Organisation) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(org.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def month_bounds(month: date, tz: tzinfo) -> Span:
    """Start and end (exclusive) of a calendar month in `tz`, as UTC instants."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return _local_midnight(first, tz), _local_midnight(following, tz)


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_month(text: str) -> date:
    """ "2025-03" -> date(2025, 3, 1); ValueError naming the expected form otherwise."""
    try:
        parsed = datetime.strptime(text.strip(), "%Y-%m")
    except ValueError:
        raise ValueError(f"month must be written YYYY-MM, e.g. 2025-03 (got {text!r})") from None
    return parsed.date()


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


# ------------------------------------------------------------------ the data


def timeline(system: System, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """(from when, state) steps covering [start, end): the state at `start`, then changes.

    Before the system was added there is nothing to measure: the timeline starts at its
    creation. Before its first recorded change it was in that change's `from_state`.
    """
    begin = max(start, system.created_at)
    if begin >= end:
        return []
    changes = list(
        StateChange.objects.filter(system=system, at__gte=begin, at__lt=end).order_by("at", "id")
    )
    before = StateChange.objects.filter(system=system, at__lt=begin).order_by("-at", "-id").first()
    if before is not None:
        initial = before.to_state
    elif changes:
        initial = changes[0].from_state
    else:
        initial = system.state
    steps = [(begin, initial)]
    steps.extend((c.at, c.to_state) for c in changes)
    return steps


def maintenance_spans(system: System, start: datetime, end: datetime) -> list[Span]:
    """The system's and its organisation's maintenance windows within [start, end), merged."""
    windows = MaintenanceWindow.objects.filter(org_id=system.org_id).filter(
        Q(system=system) | Q(system__isnull=True)
    )
    spans: list[Span] = []
    for window in windows:
        spans.extend(window_spans(window, start, end))
    return merge(spans)


def window_spans(window: MaintenanceWindow, start: datetime, end: datetime) -> list[Span]:
    """The occurrences of one window that overlap [start, end), clipped to it."""
    found: list[Span] = []
    if window.starts_at and window.ends_at:
        found.append((window.starts_at, window.ends_at))
    if window.weekdays and window.start_time and window.duration_minutes:
        try:
            tz: tzinfo = zoneinfo.ZoneInfo(window.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = UTC
        try:
            days = parse_weekdays(window.weekdays)
        except ValueError:
            days = frozenset()  # refused when saved; a stored bad one counts for nothing
        length = timedelta(minutes=window.duration_minutes)
        # Start a day early: an occurrence that began the evening before may run into `start`.
        day = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date()
        while day <= last:
            if day.isoweekday() in days:
                begins = datetime.combine(day, window.start_time, tzinfo=tz).astimezone(UTC)
                found.append((begins, begins + length))
            day += timedelta(days=1)
    return [(max(a, start), min(b, end)) for a, b in found if a < end and b > start]


def merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def subtract(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """The parts of `spans` (merged, sorted) outside `holes` (merged, sorted)."""
    result: list[Span] = []
    for a, b in spans:
        cursor = a
        for h0, h1 in holes:
            if h1 <= cursor or h0 >= b:
                continue
            if h0 > cursor:
                result.append((cursor, h0))
            cursor = max(cursor, h1)
            if cursor >= b:
                break
        if cursor < b:
            result.append((cursor, b))
    return result


def _total(spans: Iterable[Span]) -> timedelta:
    return sum((b - a for a, b in spans), ZERO)


# ------------------------------------------------------------ the arithmetic


def measure(
    steps: Sequence[tuple[datetime, str]],
    maintenance: Sequence[Span],
    start: datetime,
    end: datetime,
) -> Measure:
    """Downtime and measured time within [start, end) from a timeline (pure, no queries).

    `end` is where measuring stops (now, for a period not over yet); the last step lasts
    until then.
    """
    by_state: dict[str, list[Span]] = {}
    for i, (at, state) in enumerate(steps):
        until = steps[i + 1][0] if i + 1 < len(steps) else end
        a, b = max(at, start), min(until, end)
        if a < b:
            by_state.setdefault(state, []).append((a, b))
    period = merge(s for spans in by_state.values() for s in spans)
    excluded = merge([*by_state.get(State.MAINTENANCE, []), *maintenance])
    excluded = [(max(a, start), min(b, end)) for a, b in excluded if a < end and b > start]
    excluded = subtract(excluded, subtract([(start, end)], period))  # only while it existed
    down = subtract(merge(by_state.get(State.DOWN, [])), excluded)
    unmeasured = subtract(
        merge([*by_state.get(State.UNKNOWN, []), *by_state.get(State.PAUSED, [])]), excluded
    )
    at_end = next((state for at, state in reversed(steps) if at < end), "")
    outages = [Outage(a, b, ongoing=(b == end and at_end == State.DOWN)) for a, b in down]
    return Measure(
        period=_total(period),
        excluded=_total(excluded),
        downtime=_total(down),
        unmeasured=_total(unmeasured),
        outages=outages,
    )


def measure_system(system: System, start: datetime, end: datetime, now: datetime) -> Measure:
    stop = min(end, now)
    if stop <= start:
        return Measure(ZERO, ZERO, ZERO, ZERO)
    return measure(
        timeline(system, start, stop), maintenance_spans(system, start, stop), start, stop
    )


def incidents_between(system: System, start: datetime, end: datetime) -> list[Incident]:
    """Incidents of the system that were open at some moment of [start, end)."""
    return list(
        Incident.objects.filter(org_id=system.org_id, systems=system, opened_at__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .order_by("opened_at")
    )


def month_report(system: System, month: date, now: datetime) -> MonthReport:
    start, end = month_bounds(month, zone(system.org))
    return MonthReport(
        system=system,
        month=month.replace(day=1),
        start=start,
        end=end,
        complete=now >= end,
        measure=measure_system(system, start, end, now),
        incidents=incidents_between(system, start, end),
    )


def org_report(org: Organisation, month: date, now: datetime) -> list[MonthReport]:
    systems = System.objects.filter(org=org).select_related("org").order_by("name")
    return [month_report(s, month, now) for s in systems]


def daily(system: System, days: int, now: datetime) -> list[Day]:
    """The last `days` calendar days (today last) in the organisation's time zone."""
    tz = zone(system.org)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    start = _local_midnight(first, tz)
    steps = timeline(system, start, now)
    maintenance = maintenance_spans(system, start, now)
    result = []
    for n in range(days):
        day = first + timedelta(days=n)
        a = _local_midnight(day, tz)
        b = min(_local_midnight(day + timedelta(days=1), tz), now)
        existed = bool(steps) and steps[0][0] < b
        result.append(Day(day, measure(steps, maintenance, a, b) if existed and a < b else None))
    return result


def overall(days: Sequence[Day]) -> Decimal | None:
    """Availability over several days together (not the mean of the daily figures)."""
    measured = sum((d.measure.measured for d in days if d.measure), ZERO)
    down = sum((d.measure.downtime for d in days if d.measure), ZERO)
    return Measure(measured, ZERO, down, ZERO).availability


# ---------------------------------------------------------------------- CSV

SUMMARY_COLUMNS = [
    "system",
    "vendor",
    "account_number",
    "month",
    "time_zone",
    "month_complete",
    "measured_minutes",
    "maintenance_minutes",
    "unmeasured_minutes",
    "downtime_minutes",
    "outages",
    "availability_percent",
    "sla_percent",
    "sla_met",
    "incidents",
    "credit_terms",
]

OUTAGE_COLUMNS = ["system", "vendor", "down_from", "down_until", "minutes", "ongoing"]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def summary_csv(reports: Sequence[MonthReport]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SUMMARY_COLUMNS)
    for r in reports:
        m = r.measure
        writer.writerow(
            [
                r.system.name,
                r.system.vendor,
                r.system.account_number,
                r.month.strftime("%Y-%m"),
                r.system.org.time_zone,
                _yes_no(r.complete),
                minutes(m.measured),
                minutes(m.excluded),
                minutes(m.unmeasured),
                minutes(m.downtime),
                len(m.outages),
                "" if r.availability is None else str(r.availability),
                r.sla_text,
                _yes_no(r.sla_met),
                len(r.real_incidents),
                r.system.credit_terms,
            ]
        )
    return out.getvalue()


def outages_csv(reports: Sequence[MonthReport]) -> str:
    """Every stretch of downtime, with local times: the evidence behind the minutes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(OUTAGE_COLUMNS)
    for r in reports:
        tz = zone(r.system.org)
        for o in r.measure.outages:
            writer.writerow(
                [
                    r.system.name,
                    r.system.vendor,
                    o.start.astimezone(tz).isoformat(timespec="seconds"),
                    o.end.astimezone(tz).isoformat(timespec="seconds"),
                    o.minutes,
                    _yes_no(o.ongoing),
                ]
            )
    return out.getvalue()
