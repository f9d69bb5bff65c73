from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from fallback.monitor import rollups
from fallback.monitor.models import CheckRollup, State
from fallback.monitor.tests.engine_helpers import make_check, make_system
from fallback.runtime import schedulers
from fallback.testing.factories import make_org

URL = {"url": "http://127.0.0.1:9/health"}
T0 = datetime(2025, 3, 14, 10, 20, 30, tzinfo=UTC)


@pytest.fixture
def check(db):
    return make_check(make_system(make_org("Acme")), config=URL)


def write(batch):
    with transaction.atomic(), connection.cursor() as cursor:
        return rollups.upsert(cursor, batch)


def test_buckets_are_the_utc_minute_hour_and_day():
    assert rollups.bucket_starts(T0) == [
        ("minute", datetime(2025, 3, 14, 10, 20, tzinfo=UTC)),
        ("hour", datetime(2025, 3, 14, 10, 0, tzinfo=UTC)),
        ("day", datetime(2025, 3, 14, tzinfo=UTC)),
    ]


def test_a_batch_is_added_up_in_memory_per_bucket(check):
    batch = rollups.RollupBatch()
    for status, ms in [
        (State.UP, 10.0),
        (State.UP, 30.0),
        (State.DEGRADED, 2500.0),
        (State.DOWN, None),
        (State.UNKNOWN, None),
    ]:
        batch.add(check.org_id, check.pk, T0, status, ms)
    batch.add(check.org_id, check.pk, T0 + timedelta(minutes=1), State.UP, 20.0)
    assert len(batch) == 4  # two minutes, one hour, one day
    assert write(batch) == 4
    first = CheckRollup.objects.get(resolution="minute", bucket=T0.replace(second=0))
    assert (first.up, first.degraded, first.down, first.unknown) == (2, 1, 1, 1)
    assert (first.timed, first.total_ms, first.max_ms) == (3, 2540.0, 2500.0)
    hour = CheckRollup.objects.get(resolution="hour")
    assert (hour.up, hour.timed, hour.total_ms) == (3, 4, 2560.0)
    assert hour.org_id == check.org_id


def test_a_second_batch_increments_the_stored_counts(check):
    for status, ms in [(State.UP, 50.0), (State.DOWN, None), (State.UP, 80.0)]:
        batch = rollups.RollupBatch()
        batch.add(check.org_id, check.pk, T0, status, ms)
        write(batch)
    for resolution in ("minute", "hour", "day"):
        row = CheckRollup.objects.get(for_check=check, resolution=resolution)
        assert (row.up, row.down, row.timed, row.total_ms, row.max_ms) == (2, 1, 2, 130.0, 80.0)


def _rollup(check, resolution, bucket):
    return CheckRollup.objects.create(
        org=check.org, for_check=check, resolution=resolution, bucket=bucket, up=1
    )


def test_prune_removes_each_resolution_after_its_retention(check):
    now = T0
    keep = [
        _rollup(check, "minute", now - timedelta(hours=5, minutes=59)),
        _rollup(check, "hour", now - timedelta(days=13, hours=23)),
        _rollup(check, "day", now - timedelta(days=729)),
    ]
    _rollup(check, "minute", now - timedelta(hours=6, minutes=1))
    _rollup(check, "hour", now - timedelta(days=14, hours=1))
    _rollup(check, "day", now - timedelta(days=731))
    with time_machine.travel(now, tick=False):
        deleted = rollups.prune()
    assert deleted == {"minute": 1, "hour": 1, "day": 1}
    assert set(CheckRollup.objects.values_list("pk", flat=True)) == {r.pk for r in keep}


def test_the_database_does_not_grow_with_time(check):
    """Results every minute for a day: the minute buckets stay at six hours' worth."""
    start = T0
    for minute in range(24 * 60):
        at = start + timedelta(minutes=minute)
        batch = rollups.RollupBatch()
        batch.add(check.org_id, check.pk, at, State.UP, 10.0)
        write(batch)
        if minute % 30 == 0:
            with time_machine.travel(at, tick=False):
                rollups.prune()
    with time_machine.travel(start + timedelta(days=1), tick=False):
        rollups.prune()
    minutes = CheckRollup.objects.filter(resolution="minute").count()
    assert 6 * 60 - 1 <= minutes <= 6 * 60 + 1
    assert CheckRollup.objects.filter(resolution="hour").count() == 25  # 10:00 to 10:00
    assert CheckRollup.objects.filter(resolution="day").count() == 2


def test_prune_works_through_more_rows_than_one_chunk(check):
    old = T0 - timedelta(days=1)
    CheckRollup.objects.bulk_create(
        CheckRollup(
            org=check.org,
            for_check=check,
            resolution="minute",
            bucket=old + timedelta(minutes=i),
        )
        for i in range(25)
    )
    assert rollups.prune(now=T0, chunk=10) == {"minute": 25, "hour": 0, "day": 0}
    assert not CheckRollup.objects.exists()


def test_pruning_is_a_scheduled_job():
    job = {j.name: j for j in schedulers.registered()}["monitor.rollups_prune"]
    assert job.every <= 600


def test_fast_datetime_parameters_match_djangos(db):
    adapt = rollups.datetime_adapter()
    for value in (T0, T0.replace(microsecond=123456), T0.astimezone(ZoneInfo("Europe/Paris"))):
        assert adapt(value) == connection.ops.adapt_datetimefield_value(value)
