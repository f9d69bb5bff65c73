"""The system page's pictures, drawn on the server as SVG: uptime bars and response times.

No JavaScript and no chart library: the numbers become rectangles and a path here, and the
template writes them out with a text alternative beside each picture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fallback.monitor.availability import Day
from fallback.monitor.models import Check, CheckRollup, Resolution

# Uptime bars: one per day, in a viewBox BAR_STEP wide each.
BAR_STEP = 10
BAR_WIDTH = 8
BAR_HEIGHT = 34

# Response-time chart geometry (viewBox units; the SVG scales to its box).
CHART_WIDTH = 600
CHART_HEIGHT = 120
SLOT = timedelta(minutes=5)  # minute rollups are drawn in 5-minute steps
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Bar:
    x: int
    level: str  # "full", "partial", "poor", "none": the CSS class (and the words below)
    words: str  # the text alternative of this day
    day: str


def _level(availability: Decimal | None) -> str:
    if availability is None:
        return "none"
    if availability >= Decimal("100"):
        return "full"
    if availability >= Decimal("99"):
        return "partial"
    return "poor"


def uptime_bars(days: Sequence[Day]) -> list[Bar]:
    bars = []
    for n, day in enumerate(days):
        label = f"{day.day:%a} {day.day.day} {day.day:%b}"
        if day.measure is None or day.availability is None:
            words = f"{label}: not measured"
        elif day.measure.downtime:
            words = (
                f"{label}: {day.availability}% available, "
                f"{_minutes_text(day.downtime_minutes)} down"
            )
        else:
            words = f"{label}: no downtime"
        bars.append(Bar(x=n * BAR_STEP, level=_level(day.availability), words=words, day=label))
    return bars


def _minutes_text(minutes: float) -> str:
    whole = round(minutes)
    if whole < 1:
        return "under a minute"
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@dataclass(frozen=True)
class Point:
    at: datetime
    average_ms: float
    slowest_ms: float
    timed: int  # how many results had a response time


@dataclass(frozen=True)
class Series:
    """One check's response times over the last 24 hours, ready to draw."""

    check: Check
    points: list[Point]
    paths: list[str]  # SVG path data, one per unbroken stretch
    scale_ms: float  # the value at the top of the chart
    average_ms: float
    slowest_ms: float
    start: datetime
    end: datetime

    @property
    def width(self) -> int:
        return CHART_WIDTH

    @property
    def height(self) -> int:
        return CHART_HEIGHT

    @property
    def middle(self) -> datetime:
        return self.start + (self.end - self.start) / 2


def _nice(value: float) -> float:
    """A round number at or above `value` for the top of the scale: 100, 200, 500, 1000…"""
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if value <= step * factor:
            return step * factor
    return step * 10


def _points(rollups: Sequence[CheckRollup], start: datetime) -> list[Point]:
    """Minute rollups in 5-minute slots where they exist, hour rollups before them."""
    minutes = [r for r in rollups if r.resolution == Resolution.MINUTE and r.timed]
    hours = [r for r in rollups if r.resolution == Resolution.HOUR and r.timed]
    detail_from = min((r.bucket for r in minutes), default=None)
    if detail_from is not None:
        detail_from = detail_from.replace(minute=0, second=0, microsecond=0)
    slots: dict[datetime, list[CheckRollup]] = defaultdict(list)
    for r in hours:
        if r.bucket >= start and (detail_from is None or r.bucket < detail_from):
            slots[r.bucket].append(r)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    for r in minutes:
        slot = r.bucket - (r.bucket - epoch) % SLOT
        if slot >= start:
            slots[slot].append(r)
    points = []
    for at in sorted(slots):
        group = slots[at]
        timed = sum(r.timed for r in group)
        points.append(
            Point(
                at=at,
                average_ms=sum(r.total_ms for r in group) / timed,
                slowest_ms=max(r.max_ms for r in group),
                timed=timed,
            )
        )
    return points


def response_series(checks: Sequence[Check], now: datetime) -> list[Series]:
    """A series for each check that measured response times in the last 24 hours."""
    start = now - WINDOW
    ids = [c.pk for c in checks]
    if not checks:
        return []
    rollups = CheckRollup.objects.filter(
        org_id=checks[0].org_id,
        for_check_id__in=ids,
        resolution__in=[Resolution.MINUTE, Resolution.HOUR],
        bucket__gte=start - timedelta(hours=1),
    ).order_by("bucket")
    by_check: dict[int, list[CheckRollup]] = defaultdict(list)
    for r in rollups:
        by_check[r.for_check_id].append(r)
    result = []
    for check in checks:
        points = _points(by_check.get(check.pk, []), start - timedelta(hours=1))
        points = [p for p in points if p.at >= start - timedelta(hours=1)]
        if not points:
            continue
        result.append(_series(check, points, start, now))
    return result


def _series(check: Check, points: list[Point], start: datetime, end: datetime) -> Series:
    scale = _nice(max(p.average_ms for p in points) * 1.1 or 1.0)
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return max(0.0, min(CHART_WIDTH, (at - start).total_seconds() / span * CHART_WIDTH))

    def y(ms: float) -> float:
        return CHART_HEIGHT - min(ms / scale, 1.0) * CHART_HEIGHT

    # A gap longer than two hours (nothing measured) breaks the line rather than bridging it.
    paths: list[str] = []
    current: list[str] = []
    previous: datetime | None = None
    for p in points:
        if previous is not None and p.at - previous > timedelta(hours=2) and current:
            paths.append(" ".join(current))
            current = []
        command = "M" if not current else "L"
        current.append(f"{command}{x(p.at):.1f},{y(p.average_ms):.1f}")
        previous = p.at
    if current:
        if len(current) == 1:  # a single point: a short dash so that it shows
            current.append("h3")
        paths.append(" ".join(current))
    timed = sum(p.timed for p in points)
    return Series(
        check=check,
        points=points,
        paths=paths,
        scale_ms=scale,
        average_ms=sum(p.average_ms * p.timed for p in points) / timed,
        slowest_ms=max(p.slowest_ms for p in points),
        start=start,
        end=end,
    )
