"""Writing check results in batches: the engine's hot path.

Per result: the check row (status through the state machine's debounce, counters, last run),
the raw result into ring slot `seq % RESULT_RING` (an upsert, so raw results stay bounded),
and the minute/hour/day rollups. One transaction and a handful of executemany statements per
batch, never one ORM save per row. Systems whose checks changed status are refreshed after
the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from fallback.monitor import rollups
from fallback.monitor.models import RESULT_RING
from fallback.monitor.system_state import refresh_system
from fallback.monitor.transitions import next_check_status

log = logging.getLogger("fallback.monitor")

MESSAGE_MAX = 500  # CheckResult.message and Check.last_message
_IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


@dataclass(slots=True)
class Result:
    """One finished run of one check (after its re-tests and the canary verdict)."""

    check_id: int
    org_id: int
    at: datetime
    status: str
    response_ms: float | None
    message: str


@dataclass(slots=True)
class StatusChange:
    check_id: int
    system_id: int
    before: str
    after: str
    at: datetime


class _Row:
    """A check's state while a batch is applied to it."""

    __slots__ = (
        "changed_at",
        "failures",
        "last",
        "last_at",
        "seq",
        "status",
        "successes",
        "system_id",
        "to_down",
        "to_up",
    )

    def __init__(self, row: tuple[Any, ...]) -> None:
        (
            _,
            self.status,
            self.failures,
            self.successes,
            self.seq,
            self.system_id,
            self.to_down,
            self.to_up,
        ) = row
        self.changed_at: str | None = None  # as a query parameter
        self.last: Result | None = None
        self.last_at: str | None = None


_LOAD = (
    "SELECT c.id, c.status, c.consecutive_failures, c.consecutive_successes, c.result_seq,"
    " c.system_id, s.failures_to_down, s.successes_to_up"
    " FROM monitor_check c INNER JOIN monitor_system s ON s.id = c.system_id"
    " WHERE c.id IN ({}) ORDER BY c.id"
)

_UPDATE_CHECK = (
    "UPDATE monitor_check SET status = %s, consecutive_failures = %s,"
    " consecutive_successes = %s, result_seq = %s, last_run_at = %s, last_message = %s,"
    " last_response_ms = %s, status_since = COALESCE(%s, status_since) WHERE id = %s"
)

_UPSERT_RING = """
INSERT INTO monitor_checkresult (org_id, check_id, slot, seq, at, status, response_ms, message)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (check_id, slot) DO UPDATE SET
    seq = excluded.seq, at = excluded.at, status = excluded.status,
    response_ms = excluded.response_ms, message = excluded.message
"""


def _load(cursor: Any, ids: list[int]) -> dict[int, _Row]:
    # Locked on PostgreSQL: a push (heartbeats.record_ping) may write the same check meanwhile.
    lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
    rows: dict[int, _Row] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i : i + _IN_CHUNK]
        cursor.execute(_LOAD.format(", ".join(["%s"] * len(chunk))) + lock, chunk)
        for row in cursor.fetchall():
            rows[row[0]] = _Row(row)
    return rows


def write_results(
    results: Sequence[Result], coarse: rollups.RollupBatch | None = None
) -> list[StatusChange]:
    """Store a batch of results in one transaction; returns the checks whose status changed.

    Results of a check that has been deleted meanwhile are dropped. With `coarse`, the hour
    and day buckets are added there instead of written now: the engine writes them every
    COARSE_EVERY seconds, so a result costs one rollup statement, not three.
    """
    if not results:
        return []
    adapt = rollups.datetime_adapter()
    changes: list[StatusChange] = []
    ring: list[tuple[Any, ...]] = []
    batch = rollups.RollupBatch(rollups.MINUTE_ONLY if coarse is not None else rollups.ALL)
    with transaction.atomic(), connection.cursor() as cursor:
        state = _load(cursor, sorted({r.check_id for r in results}))
        for r in results:
            row = state.get(r.check_id)
            if row is None:
                continue
            message = r.message[:MESSAGE_MAX]
            at = adapt(r.at)
            status, row.failures, row.successes = next_check_status(
                row.status, row.failures, row.successes, r.status, row.to_down, row.to_up
            )
            if status != row.status:
                changes.append(StatusChange(r.check_id, row.system_id, row.status, status, r.at))
                row.status = status
                row.changed_at = at
            row.seq += 1
            row.last = r
            row.last_at = at
            ring.append(
                (
                    r.org_id,
                    r.check_id,
                    row.seq % RESULT_RING,
                    row.seq,
                    at,
                    r.status,
                    r.response_ms,
                    message,
                )
            )
            batch.add(r.org_id, r.check_id, r.at, r.status, r.response_ms)
            if coarse is not None:
                coarse.add(r.org_id, r.check_id, r.at, r.status, r.response_ms)
        updates = [
            (
                row.status,
                row.failures,
                row.successes,
                row.seq,
                row.last_at,
                row.last.message[:MESSAGE_MAX],
                row.last.response_ms,
                row.changed_at,
                check_id,
            )
            for check_id, row in sorted(state.items())
            if row.last is not None
        ]
        if updates:
            cursor.executemany(_UPDATE_CHECK, updates)
            ring.sort(key=lambda item: (item[1], item[2]))
            cursor.executemany(_UPSERT_RING, ring)
            rollups.upsert(cursor, batch)
    return changes


def refresh_systems(changes: Iterable[StatusChange]) -> None:
    """Recompute the state of each system whose checks changed (after the batch committed).

    One failing system must not keep the others stale, so failures are logged, not raised.
    """
    latest: dict[int, datetime] = {}
    for change in changes:
        if change.system_id not in latest or change.at > latest[change.system_id]:
            latest[change.system_id] = change.at
    for system_id, at in sorted(latest.items()):
        try:
            refresh_system(system_id, at)
        except Exception:
            log.exception("could not refresh the state of system %s", system_id)


def record(results: Sequence[Result]) -> list[StatusChange]:
    """Write a batch, then refresh the systems it changed."""
    changes = write_results(results)
    if changes:
        refresh_systems(changes)
    return changes
