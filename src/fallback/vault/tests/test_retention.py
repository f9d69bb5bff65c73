"""Grandfather-father-son: which snapshots each tier keeps, and how long a new snapshot is
locked — known the moment it is taken, because a tier keeps the FIRST of each period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fallback.vault.models import Tier
from fallback.vault.retention import Policy, add_months, keep, lock_until, tier_of

T0 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def hourly(hours: int, start: datetime = T0) -> list[tuple[int, datetime]]:
    return [(n, start + timedelta(hours=n)) for n in range(hours)]


def test_hourly_snapshots_for_three_days_keep_48_hours_and_each_day_and_month():
    snaps = hourly(72)
    kept = keep(snaps, Policy(hourly=48, daily=30, monthly=12))
    last_48 = set(range(24, 72))
    first_of_each_day = {0, 24, 48}
    assert kept == last_48 | first_of_each_day


def test_daily_tier_keeps_the_first_snapshot_of_each_of_the_latest_days():
    snaps = hourly(24 * 40)  # 40 days, every hour
    kept = keep(snaps, Policy(hourly=0, daily=30, monthly=0))
    days = sorted({at.date() for _, at in snaps})[-30:]
    expected = {next(k for k, at in snaps if at.date() == day) for day in days}
    expected.add(snaps[-1][0])  # the newest is always kept
    assert kept == expected


def test_monthly_tier_keeps_the_first_of_each_month():
    snaps = [(m, datetime(2025, m, 15, 3, tzinfo=UTC)) for m in range(1, 13)]
    snaps += [(100 + m, datetime(2025, m, 20, 3, tzinfo=UTC)) for m in range(1, 13)]
    kept = keep(snaps, Policy(hourly=0, daily=0, monthly=3))
    assert kept == {10, 11, 12, 112}  # Oct, Nov, Dec firsts, and the newest


def test_periods_without_snapshots_do_not_count():
    # Snapshots stopped for a week: the 48 hourly ones kept are the last 48 that exist.
    snaps = [*hourly(48), (1000, T0 + timedelta(days=9))]
    kept = keep(snaps, Policy(hourly=48, daily=0, monthly=0))
    assert kept == set(range(1, 48)) | {1000}


def test_the_newest_is_kept_even_with_every_tier_off():
    assert keep(hourly(5), Policy(0, 0, 0)) == {4}
    assert keep([], Policy()) == set()


def test_a_new_snapshot_knows_its_tier_from_the_earlier_ones():
    first_of_month = T0 + timedelta(hours=5)
    assert tier_of(first_of_month, []) == Tier.MONTHLY
    second_day = T0 + timedelta(days=1, hours=2)
    assert tier_of(second_day, [first_of_month]) == Tier.DAILY
    later_hour = T0 + timedelta(hours=7)
    assert tier_of(later_hour, [first_of_month]) == Tier.HOURLY
    same_hour = first_of_month + timedelta(minutes=20)
    assert tier_of(same_hour, [first_of_month]) == Tier.EXTRA
    # Later snapshots never change it: only earlier ones count.
    assert tier_of(first_of_month, [later_hour, second_day]) == Tier.MONTHLY


def test_the_lock_is_the_time_plus_the_longest_tier_it_is_kept_for():
    policy = Policy(hourly=48, daily=30, monthly=12)
    at = datetime(2026, 3, 31, 10, tzinfo=UTC)
    assert lock_until(at, Tier.MONTHLY, policy) == datetime(2027, 3, 31, 10, tzinfo=UTC)
    assert lock_until(at, Tier.DAILY, policy) == at + timedelta(days=30)
    assert lock_until(at, Tier.HOURLY, policy) == at + timedelta(hours=48)
    assert lock_until(at, Tier.EXTRA, policy) == at + timedelta(hours=48)
    # With the hourly tier off, an extra snapshot is still locked for a day.
    assert lock_until(at, Tier.EXTRA, Policy(0, 30, 12)) == at + timedelta(days=1)


def test_what_retention_keeps_stays_locked_until_it_is_pruned():
    """Every snapshot GFS drops has a lock that has expired by then (hourly snapshots)."""
    policy = Policy(hourly=48, daily=30, monthly=12)
    taken: list[tuple[int, datetime]] = []
    locks: dict[int, datetime] = {}
    for n in range(24 * 70):
        at = T0 + timedelta(hours=n)
        locks[n] = lock_until(at, tier_of(at, [t for _, t in taken]), policy)
        taken.append((n, at))
        kept = keep(taken, policy)
        dropped = {k for k, _ in taken} - kept
        assert all(locks[k] <= at for k in dropped), n


def test_months_are_added_on_the_calendar():
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 5, tzinfo=UTC), 14) == datetime(2028, 1, 5, tzinfo=UTC)
