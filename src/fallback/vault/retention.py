"""Grandfather-father-son retention, and how long each snapshot is locked.

A tier keeps the FIRST snapshot of each of its latest N periods (hours, days, months, in
UTC) that have one. Keeping the first, not the last, means a snapshot knows the moment it
is taken which tiers it will be kept for: later snapshots never change which one is first
of its hour, day or month. So its lock (S3 Object Lock retain-until) can be set once, when
it is written: its time plus the longest tier it is kept for.

Pruning deletes only what no tier keeps, never the newest snapshot, and never anything
still under lock.
"""

from __future__ import annotations

import calendar
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from fallback.vault.models import Tier, VaultSettings

K = TypeVar("K", bound=Hashable)
MIN_LOCK = timedelta(days=1)  # even an extra snapshot is safe from deletion for a day


@dataclass(frozen=True)
class Policy:
    hourly: int = 48
    daily: int = 30
    monthly: int = 12

    @classmethod
    def of(cls, settings: VaultSettings) -> Policy:
        return cls(settings.hourly_keep, settings.daily_keep, settings.monthly_keep)


def _period(at: datetime, tier: str) -> tuple[int, ...]:
    at = at.astimezone(UTC)
    if tier == Tier.MONTHLY:
        return (at.year, at.month)
    if tier == Tier.DAILY:
        return (at.year, at.month, at.day)
    return (at.year, at.month, at.day, at.hour)


TIERS = (Tier.MONTHLY, Tier.DAILY, Tier.HOURLY)


def tier_of(at: datetime, earlier: Iterable[datetime]) -> Tier:
    """The longest tier a new snapshot taken `at` is first of its period in."""
    before = [t for t in earlier if t < at]
    for tier in TIERS:
        period = _period(at, tier)
        if not any(_period(t, tier) == period for t in before):
            return tier
    return Tier.EXTRA


def add_months(at: datetime, months: int) -> datetime:
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def lock_until(at: datetime, tier: str, policy: Policy) -> datetime:
    """Its time plus the longest tier it is kept for (a tier keeping 0 keeps nothing)."""
    ends = [at + MIN_LOCK]
    if tier in (Tier.MONTHLY, Tier.DAILY, Tier.HOURLY, Tier.EXTRA):
        ends.append(at + timedelta(hours=policy.hourly))
    if tier in (Tier.MONTHLY, Tier.DAILY):
        ends.append(at + timedelta(days=policy.daily))
    if tier == Tier.MONTHLY:
        ends.append(add_months(at, policy.monthly))
    return max(ends)


def keep(snapshots: Iterable[tuple[K, datetime]], policy: Policy) -> set[K]:
    """The keys of the snapshots that retention keeps: per tier, the first snapshot of each
    of the latest N periods that have one; and always the newest snapshot."""
    ordered = sorted(snapshots, key=lambda s: s[1])
    if not ordered:
        return set()
    kept: set[K] = {ordered[-1][0]}
    for tier, count in (
        (Tier.HOURLY, policy.hourly),
        (Tier.DAILY, policy.daily),
        (Tier.MONTHLY, policy.monthly),
    ):
        if count <= 0:
            continue
        firsts: dict[tuple[int, ...], K] = {}
        for key, at in ordered:
            firsts.setdefault(_period(at, tier), key)
        for period in sorted(firsts)[-count:]:
            kept.add(firsts[period])
    return kept
