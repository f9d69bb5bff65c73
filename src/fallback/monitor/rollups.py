"""Per-minute, per-hour and per-day aggregates of check results, and their pruning by age.

Results are added up in memory per batch, then written with one upsert per bucket that
increments the stored counts (the same SQL on SQLite and PostgreSQL). Old buckets are pruned
by a scheduler job, so the table holds at most a fixed number of buckets per check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from fallback.monitor.models import Resolution, State
from fallback.runtime import schedulers

log = logging.getLogger("fallback.monitor")

RETENTION: dict[str, timedelta] = {
    Resolution.MINUTE: timedelta(hours=6),
    Resolution.HOUR: timedelta(days=14),
    Resolution.DAY: timedelta(days=730),
}
PRUNE_EVERY = 60.0  # seconds: old buckets go about as fast as new ones come (a flat database)
PRUNE_CHUNK = 5000  # rows per delete, so a big prune never holds SQLite's write lock for long

_SPANS = ((Resolution.MINUTE, 60), (Resolution.HOUR, 3600), (Resolution.DAY, 86400))
_RESOLUTIONS = tuple(str(resolution) for resolution, _ in _SPANS)
# Where each outcome is counted in a bucket's list: [org_id, up, degraded, down, unknown,
# timed, total_ms, max_ms]; anything else counts as unknown.
_COLUMN = {State.UP.value: 1, State.DEGRADED.value: 2, State.DOWN.value: 3}


def datetime_adapter() -> Callable[[datetime], Any]:
    """`connection.ops.adapt_datetimefield_value` for aware datetimes, minus its per-call
    settings look-ups (on the hot path it cost a third of the time to write a result)."""
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value
    tz = connection.timezone  # what Django stores SQLite datetimes in (UTC)

    def adapt(value: datetime) -> str:
        if value.tzinfo is not tz:  # the engine's times are UTC already
            value = value.astimezone(tz)
        return str(value.replace(tzinfo=None))

    return adapt


def bucket_starts(at: datetime) -> list[tuple[str, datetime]]:
    """The minute, hour and day (UTC) that `at` falls in."""
    ts = int(at.timestamp())
    return [(res, datetime.fromtimestamp(ts - ts % span, UTC)) for res, span in _SPANS]


ALL = _RESOLUTIONS
MINUTE_ONLY = (str(Resolution.MINUTE),)
COARSE = (str(Resolution.HOUR), str(Resolution.DAY))


class RollupBatch:
    """Results added up per (check, resolution, bucket), for the resolutions given."""

    def __init__(self, resolutions: tuple[str, ...] = _RESOLUTIONS) -> None:
        self.resolutions = resolutions
        self.buckets: dict[tuple[int, str, datetime], list[Any]] = {}
        self._starts: dict[int, tuple[datetime, ...]] = {}  # per minute: its three buckets

    def add(
        self, org_id: int, check_id: int, at: datetime, status: str, response_ms: float | None
    ) -> None:
        minute = int(at.timestamp()) // 60
        starts = self._starts.get(minute)
        if starts is None:
            starts = self._starts[minute] = tuple(start for _, start in bucket_starts(at))
        column = _COLUMN.get(status, 4)
        for resolution, start in zip(_RESOLUTIONS, starts, strict=True):
            if resolution not in self.resolutions:
                continue
            key = (check_id, resolution, start)
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = [org_id, 0, 0, 0, 0, 0, 0.0, 0.0]
            bucket[column] += 1
            if response_ms is not None:
                bucket[5] += 1
                bucket[6] += response_ms
                if response_ms > bucket[7]:
                    bucket[7] = response_ms

    def __len__(self) -> int:
        return len(self.buckets)

    def clear(self) -> None:
        self.buckets.clear()
        self._starts.clear()


_UPSERT = """
INSERT INTO monitor_checkrollup
    (org_id, check_id, resolution, bucket, up, degraded, down, unknown, timed, total_ms, max_ms)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (check_id, resolution, bucket) DO UPDATE SET
    up = monitor_checkrollup.up + excluded.up,
    degraded = monitor_checkrollup.degraded + excluded.degraded,
    down = monitor_checkrollup.down + excluded.down,
    unknown = monitor_checkrollup.unknown + excluded.unknown,
    timed = monitor_checkrollup.timed + excluded.timed,
    total_ms = monitor_checkrollup.total_ms + excluded.total_ms,
    max_ms = CASE WHEN excluded.max_ms > monitor_checkrollup.max_ms
                  THEN excluded.max_ms ELSE monitor_checkrollup.max_ms END
"""


def upsert(cursor: Any, batch: RollupBatch) -> int:
    """Add the batch into the stored buckets (inside the caller's transaction)."""
    if not batch.buckets:
        return 0
    adapt = datetime_adapter()
    starts = {start: adapt(start) for start in {key[2] for key in batch.buckets}}
    # Sorted, so concurrent PostgreSQL writers lock rows in the same order (no deadlock).
    rows = [
        (b[0], check_id, resolution, starts[start], *b[1:])
        for (check_id, resolution, start), b in sorted(batch.buckets.items())
    ]
    cursor.executemany(_UPSERT, rows)
    return len(rows)


def write(batch: RollupBatch) -> int:
    """Write an accumulated batch in its own transaction and empty it."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        written = upsert(cursor, batch)
    batch.clear()
    return written


def prune(now: datetime | None = None, chunk: int = PRUNE_CHUNK) -> dict[str, int]:
    """Delete buckets older than their resolution's retention; rows deleted per resolution."""
    now = now or timezone.now()
    adapt = datetime_adapter()
    deleted: dict[str, int] = {}
    for resolution, keep in RETENTION.items():
        cutoff = adapt(now - keep)
        total = 0
        while True:
            # Autocommit per chunk: the engine's writes interleave with a long prune.
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM monitor_checkrollup WHERE id IN ("
                    " SELECT id FROM monitor_checkrollup"
                    " WHERE resolution = %s AND bucket < %s LIMIT %s)",
                    [resolution, cutoff, chunk],
                )
                count = cursor.rowcount
            total += count
            if count < chunk:
                break
        deleted[str(resolution)] = total
    if any(deleted.values()):
        log.info("pruned check rollups: %s", deleted)
    return deleted


@schedulers.register("monitor.rollups_prune", every=PRUNE_EVERY)
def prune_job() -> None:
    prune()
