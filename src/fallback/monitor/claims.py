"""Claiming due checks: the database is the queue.

A worker claims a batch of due checks (enabled, system not paused, next_run_at <= now) by
moving their next_run_at forward by one interval in the same transaction that selects them.
On PostgreSQL the select is FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint
batches; on SQLite the transaction is IMMEDIATE (settings), so it holds the only write lock.
No lease: a worker killed after claiming simply leaves the checks to become due again at
their next run time, when any worker takes them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from pydantic import BaseModel

from fallback.monitor import kinds, rollups


@dataclass(slots=True)
class Claim:
    """What the engine needs to run one claimed check."""

    id: int
    org_id: int
    system_id: int
    kind: str
    config: BaseModel | None  # None when the stored definition is not valid: see `error`
    error: str
    interval: float
    timeout: float
    retries: int
    retry_delay: float
    is_canary: bool
    last_ping_at: datetime | None
    due_at: datetime
    created_at: datetime


class ConfigCache:
    """Validated configs by check id, revalidated only when the stored config changes.

    Validation (pydantic, URL parsing, JSONPath compilation) costs more than an HTTP request
    to a fast target, and would otherwise run on every claim of every check. Bounded (a
    validated config is a few kB): once full, new checks are validated on each claim. Not
    least-recently-used: checks come round in a cycle, which would make LRU miss every time
    once there are more checks than room. The engine clears it now and then, which drops
    deleted checks and lets others in.
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._items: dict[int, tuple[str, str, BaseModel]] = {}

    def get(self, check_id: int, kind: str, text: str) -> BaseModel:
        """The validated config of `kind` from its stored JSON `text`."""
        hit = self._items.get(check_id)
        if hit is not None and hit[0] == kind and hit[1] == text:
            return hit[2]
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise kinds.InvalidCheckConfig([("config", f"is not valid JSON: {exc}")], []) from None
        model = kinds.validate_config(kind, data)
        if hit is not None or len(self._items) < self.size:
            self._items[check_id] = (kind, text, model)
        return model

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _select(where: str) -> str:
    """The columns a Claim is made of, as each database gives them cheaply: the config as
    JSON text (compared with the cached one, not decoded), datetimes as ISO text on SQLite
    (parsed by datetime.fromisoformat rather than Django's converters)."""
    if connection.vendor == "postgresql":
        config, times = "c.config::text", "c.last_ping_at, c.next_run_at, c.created_at"
    else:
        config = "c.config"
        times = "c.last_ping_at || '', c.next_run_at || '', c.created_at || ''"
    # Only ever given constant SQL from this package (parameters go through `params`).
    return (
        f"SELECT c.id, c.org_id, c.system_id, c.kind, {config}, c.interval_seconds,"  # noqa: S608
        f" c.timeout_seconds, c.retries, c.retry_delay_seconds, c.is_canary, {times}"
        f" FROM monitor_check c INNER JOIN monitor_system s ON s.id = c.system_id WHERE {where}"
    )


def select_claims(where: str, params: list[Any], configs: ConfigCache) -> list[Claim]:
    """Claims for the checks matching `where` (SQL after WHERE, over `c`, the check, and `s`,
    its system) without claiming them: what the canaries use."""
    with connection.cursor() as cursor:
        cursor.execute(_select(where), params)
        return [to_claim(row, configs)[0] for row in cursor.fetchall()]


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite: UTC without an offset, as Django stores it
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def next_run(previous: datetime, interval: float, now: datetime) -> datetime:
    """When a check claimed now (due at `previous`) runs next.

    On the check's cadence, previous + interval; when this run is late by more than half an
    interval, the missed runs are skipped but the cadence is kept (previous + k intervals, at
    least half an interval from now). So two runs are never closer than half an interval,
    and a backlog (after a restart) does not bunch every check into the same moment.
    """
    step = timedelta(seconds=interval)
    following = previous + step
    if following - now >= step / 2:
        return following
    return previous + math.ceil((now - previous) / step + 0.5) * step


def _passive_next_run(
    kind: kinds.CheckKind[Any],
    config: BaseModel,
    last_ping_at: datetime | None,
    interval: float,
    now: datetime,
) -> datetime:
    """A passive check is next worth evaluating when it becomes overdue, or every interval
    while it is overdue (so consecutive failures accumulate)."""
    due = kind.next_due(config, last_ping_at, now)
    if due is not None and due > now:
        return due
    return now + timedelta(seconds=interval)


def definition_error(exc: Exception) -> str:
    """A plain message for a stored check definition the kinds registry rejects."""
    # Both carry a plain message: "config.url: …", "unknown check kind 'htp' (did you mean…)".
    return f"the check's definition is not valid: {exc}"[:500]


def to_claim(
    row: tuple[Any, ...], configs: ConfigCache
) -> tuple[Claim, kinds.CheckKind[Any] | None]:
    """A Claim (and its kind) from a row of `_select`; an invalid definition gives `error`."""
    (
        check_id,
        org_id,
        system_id,
        kind_key,
        text,
        interval,
        timeout,
        retries,
        retry_delay,
        is_canary,
        last_ping_at,
        due_at,
        created_at,
    ) = row
    kind: kinds.CheckKind[Any] | None = None
    config: BaseModel | None = None
    error = ""
    try:
        kind = kinds.get(kind_key)
        config = configs.get(check_id, kind_key, text)
    except (KeyError, kinds.InvalidCheckConfig) as exc:
        kind, error = None, definition_error(exc)
    claim = Claim(
        id=check_id,
        org_id=org_id,
        system_id=system_id,
        kind=kind_key,
        config=config,
        error=error,
        interval=max(float(interval), 1.0),
        timeout=float(timeout),
        retries=int(retries),
        retry_delay=float(retry_delay),
        is_canary=bool(is_canary),
        last_ping_at=None if last_ping_at is None else _aware(last_ping_at),
        due_at=_aware(due_at),
        created_at=_aware(created_at),
    )
    return claim, kind


def claim_due(
    worker_id: str,
    now: datetime,
    limit: int,
    configs: ConfigCache | None = None,
    until: datetime | None = None,
) -> list[Claim]:
    """Claim up to `limit` checks due by `until` (default: now) for `worker_id`, oldest first.

    `until` a little after `now` lets the engine claim what falls due before its next poll
    and start each on time.
    """
    if limit <= 0:
        return []
    configs = configs if configs is not None else ConfigCache()
    claims: list[Claim] = []
    updates: list[tuple[Any, str, int]] = []
    adapt = rollups.datetime_adapter()
    lock = " FOR UPDATE OF c SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _select("c.enabled = %s AND s.paused = %s AND c.next_run_at <= %s")
            + " ORDER BY c.next_run_at LIMIT %s"
            + lock,
            [True, False, adapt(until or now), limit],
        )
        for row in cursor.fetchall():
            claim, kind = to_claim(row, configs)
            if kind is not None and claim.config is not None and kind.passive:
                following = _passive_next_run(
                    kind, claim.config, claim.last_ping_at, claim.interval, now
                )
            else:
                following = next_run(claim.due_at, claim.interval, now)
            claims.append(claim)
            updates.append((adapt(following), worker_id[:64], claim.id))
        if updates:
            cursor.executemany(
                "UPDATE monitor_check SET next_run_at = %s, claimed_by = %s WHERE id = %s",
                updates,
            )
    return claims
