"""One sync of a connector: fetch → map → stage → guard → apply (or hold), start to end.

Only one sync of a connector runs at a time: it holds the connector's claim (a lease renewed
as pages come). A sync whose worker died is found by its stale heartbeat and marked failed;
its staging is dropped and the replica was never touched. A held sync waits for a person to
release (apply) or discard it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fallback.replica import apply as applying
from fallback.replica import credentials, guards, staging
from fallback.replica.connectors import registry
from fallback.replica.connectors.base import ConnectorKind, FetchContext, FetchError, Stream
from fallback.replica.mapping import StreamMapping, parse
from fallback.replica.models import Connector, Sync, SyncStatus
from fallback.replica.prefetch import prefetch
from fallback.replica.schema import ENTITIES

log = logging.getLogger("fallback.replica")

LEASE = timedelta(minutes=5)  # a sync renews it with every chunk; a dead one loses it
PROBLEM_SAMPLE = 50


class SyncRefused(Exception):
    """The sync cannot start or the decision cannot be made; the message says why."""


@dataclass
class StreamStats:
    key_path: str
    fetched: int = 0
    missing_key: int = 0
    filled: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "missing_key": self.missing_key,
            "key_path": self.key_path,
            "filled": self.filled,
        }


def uploads_folder(connector: Connector) -> Path:
    return Path(settings.FALLBACK_HOME) / "uploads" / str(connector.org_id) / connector.slug


def fetch_context(connector: Connector, progress: Any = None) -> FetchContext:
    return FetchContext(
        secrets=credentials.secrets_of(connector),
        home=Path(settings.FALLBACK_HOME),
        uploads=uploads_folder(connector),
        progress=progress,
    )


def mappings(
    connector: Connector, kind: ConnectorKind[Any], config: Any
) -> dict[str, StreamMapping]:
    """Each stream's compiled mapping: the kind's default, with the connector's overrides."""
    compiled = {}
    for stream in kind.streams(config):
        compiled[stream.name] = parse(
            effective_mapping(connector, stream), f"mapping.{stream.name}"
        )
    return compiled


def effective_mapping(connector: Connector, stream: Stream) -> dict[str, Any]:
    override = (connector.mapping or {}).get(stream.name) or {}
    merged = {**stream.mapping, **{k: v for k, v in override.items() if k != "fields"}}
    fields = {**stream.mapping.get("fields", {}), **override.get("fields", {})}
    merged["fields"] = {k: v for k, v in fields.items() if v not in (None, "")}
    return merged


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(connector: Connector, now: datetime) -> bool:
    """Take the connector's lease, atomically: False while another sync holds it."""
    taken = Connector.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=connector.pk
    ).update(claimed_until=now + LEASE)
    return taken == 1


def release_claim(connector: Connector) -> None:
    Connector.objects.filter(pk=connector.pk).update(claimed_until=None)
    connector.claimed_until = None


def fail_abandoned(connector: Connector, now: datetime) -> int:
    """Mark syncs whose worker died as failed and drop their staging."""
    stale = list(
        Sync.objects.filter(
            org_id=connector.org_id,
            connector=connector,
            status=SyncStatus.RUNNING,
            heartbeat_at__lt=now - LEASE,
        )
    )
    for sync in stale:
        staging.drop(sync)
        Sync.objects.filter(pk=sync.pk).update(
            status=SyncStatus.FAILED,
            finished_at=now,
            error="The worker running this sync stopped before it finished; nothing was applied.",
        )
    return len(stale)


def run(
    connector: Connector,
    *,
    trigger: str = "schedule",
    full: bool | None = None,
    request_key: str | None = None,
    progress: Any = None,
) -> Sync:
    """Sync `connector` now and return its Sync (applied, held or failed).

    `request_key` makes an on-demand request idempotent: the same key returns the sync it
    started instead of starting another.
    """
    if request_key:
        existing = Sync.objects.filter(org_id=connector.org_id, request_key=request_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    if not claim(connector, now):
        raise SyncRefused(f"{connector.name} is already syncing")
    try:
        connector.refresh_from_db()
        fail_abandoned(connector, now)
        return _run_claimed(connector, trigger, full, request_key, progress)
    finally:
        release_claim(connector)


def _decide_full(
    connector: Connector, kind: ConnectorKind[Any], full: bool | None, now: datetime
) -> bool:
    if full is not None:
        return full or not kind.incremental
    if not kind.incremental or connector.last_full_at is None:
        return True
    return now - connector.last_full_at >= timedelta(hours=connector.full_sweep_hours)


def _cursors(connector: Connector) -> dict[str, str]:
    last = guards.last_good(connector, full=False)
    return dict(last.cursors) if last is not None else {}


def _run_claimed(
    connector: Connector, trigger: str, full: bool | None, request_key: str | None, progress: Any
) -> Sync:
    kind = registry.get(connector.kind)
    config = registry.validate_config(connector.kind, connector.config)
    started = timezone.now()
    sweep = _decide_full(connector, kind, full, started)
    sync = Sync.objects.create(
        org_id=connector.org_id,
        connector=connector,
        trigger=trigger,
        full=sweep,
        started_at=started,
        heartbeat_at=started,
        worker=_worker(),
        request_key=request_key or None,
    )
    if kind.keeps_files:
        from fallback.replica import keeping

        return keeping.run(connector, kind, config, sync)
    try:
        compiled = mappings(connector, kind, config)
    except Exception as exc:
        finish(sync, SyncStatus.FAILED, error=f"the mapping cannot be used: {exc}")
        alert_failed(connector, sync)
        return sync
    ctx = fetch_context(connector, progress)
    cursors = _cursors(connector)
    stats: dict[str, StreamStats] = {}
    problems: list[str] = []
    problem_count = 0
    fetch_error: str | None = None
    clock = time.monotonic()
    for stream in kind.streams(config):
        mapping = compiled[stream.name]
        since = (
            cursors.get(stream.name) if not sweep and kind.supports_since(config, stream) else None
        )
        stat = stats[stream.name] = StreamStats(key_path=str(mapping.key_spec))
        writer = staging.ChunkWriter(sync, stream.name)
        title = ENTITIES[mapping.entity].title
        get_cursor = _cursor_getter(stream)
        filled = [0] * len(mapping.rules)
        try:
            for page in prefetch(kind.fetch(config, ctx, stream, since)):
                for record in page:
                    key, data, found = mapping.apply(record, filled)
                    stat.fetched += 1
                    if found:
                        problem_count += len(found)
                        if len(problems) < PROBLEM_SAMPLE:
                            problems.extend(f"{stream.name} {key}: {p}" for p in found)
                    if key is None:
                        stat.missing_key += 1
                        continue
                    cursor = get_cursor(record) if get_cursor else None
                    if cursor is not None and (stat.cursor is None or str(cursor) > stat.cursor):
                        stat.cursor = str(cursor)
                    name = str(data.get(title) or key) if isinstance(data, dict) else key
                    text, digest = staging.encode(data)
                    if writer.add(key, name, digest, text):
                        _heartbeat(sync, connector)
            writer.flush()
            _count_filled(stat, mapping, filled)
        except FetchError as exc:
            writer.flush()
            _count_filled(stat, mapping, filled)
            if not exc.partial and stat.fetched == 0 and not any(s.fetched for s in stats.values()):
                staging.drop(sync)
                sync.fetch_seconds = time.monotonic() - clock
                finish(sync, SyncStatus.FAILED, error=f"{stream.name}: {exc}", stats=stats)
                alert_failed(connector, sync)
                return sync
            fetch_error = f"{stream.name}: {exc}"
            break
    sync.fetch_seconds = time.monotonic() - clock
    sync.streams = {name: s.as_json() for name, s in stats.items()}
    sync.problems = problems[:PROBLEM_SAMPLE]
    sync.problem_count = problem_count
    sync.fetched = sum(s.fetched for s in stats.values())
    sync.complete = fetch_error is None
    new_cursors = dict(cursors)
    for name, s in stats.items():
        if s.cursor and (name not in new_cursors or s.cursor > new_cursors[name]):
            new_cursors[name] = s.cursor
    sync.cursors = new_cursors
    held = guards.reasons(connector, sync, fetch_error)
    if held:
        sync.hold_reasons = held
        finish(sync, SyncStatus.HELD, error=fetch_error or "")
        _alert_held(connector, sync)
        return sync
    return _apply(connector, sync, compiled)


def _count_filled(stat: StreamStats, mapping: StreamMapping, filled: list[int]) -> None:
    """Fields that had a value, per field (records without a key included: they are few,
    and the guards hold the sync for them anyway)."""
    stat.filled = {rule.name: count for rule, count in zip(mapping.rules, filled, strict=False)}


def _cursor_getter(stream: Stream) -> Any:
    if not stream.cursor:
        return None
    from fallback.replica.mapping import compile_path

    return compile_path(stream.cursor)


def _heartbeat(sync: Sync, connector: Connector) -> None:
    now = timezone.now()
    Sync.objects.filter(pk=sync.pk).update(heartbeat_at=now)
    Connector.objects.filter(pk=connector.pk).update(claimed_until=now + LEASE)


def finish(
    sync: Sync,
    status: str,
    *,
    error: str = "",
    stats: dict[str, StreamStats] | None = None,
    by: Any = None,
) -> Sync:
    sync.status = status
    sync.finished_at = timezone.now()
    if error:
        sync.error = error
    if stats is not None:
        sync.streams = {name: s.as_json() for name, s in stats.items()}
        sync.fetched = sum(s.fetched for s in stats.values())
    if by is not None:
        sync.decided_by = by
        sync.decided_at = sync.finished_at
    sync.save()
    log.info("sync %s of %s: %s %s", sync.pk, sync.connector_id, status, error)
    return sync


def _apply(
    connector: Connector, sync: Sync, compiled: dict[str, StreamMapping], by: Any = None
) -> Sync:
    entities = {name: m.entity for name, m in compiled.items() if name in sync.streams}
    retire = sync.full and sync.complete
    at = sync.started_at
    clock = time.monotonic()
    with transaction.atomic():
        result = applying.apply(sync, entities, retire=retire, at=at)
        sync.apply_seconds = time.monotonic() - clock
        sync.created, sync.changed = result.created, result.changed
        sync.unchanged, sync.retired = result.unchanged, result.retired
        if result.duplicates:
            sync.problems = [*sync.problems, f"{result.duplicates} records were listed twice"]
        finish(sync, SyncStatus.APPLIED, by=by)
        updates: dict[str, Any] = {"last_good_at": sync.started_at}
        if retire:
            updates["last_full_at"] = sync.started_at
        Connector.objects.filter(pk=connector.pk).update(**updates)
        staging.drop(sync)
    for name, value in updates.items():
        setattr(connector, name, value)
    return sync


def _alert_held(connector: Connector, sync: Sync) -> None:
    from fallback.incidents.alerts import queue_notice
    from fallback.incidents.models import AlertEvent

    reasons = "\n".join(f"- {r}" for r in sync.hold_reasons)
    queue_notice(
        connector.org_id,
        AlertEvent.SYNC_HELD,
        f"sync{sync.pk}",
        f"[{connector.org.name}] Replica sync held: {connector.name}",
        f"Fallback fetched {connector.name} but did not apply it, because:\n{reasons}\n\n"
        "The replica still holds the last good copy. Look at the held sync and release it if "
        "the change is real, or discard it.\n"
        f"Replica: /o/{connector.org.slug}/replica/{connector.slug}/",
    )


def alert_failed(connector: Connector, sync: Sync) -> None:
    """One alert per spell of failures: keyed on the last good sync it follows."""
    from fallback.incidents.alerts import queue_notice
    from fallback.incidents.models import AlertEvent

    since = connector.last_good_at.isoformat() if connector.last_good_at else "never"
    as_of = (
        f"The replica still holds the copy as of {connector.last_good_at:%Y-%m-%d %H:%M} UTC."
        if connector.last_good_at
        else "There is no copy yet."
    )
    queue_notice(
        connector.org_id,
        AlertEvent.SYNC_FAILED,
        f"c{connector.pk}:after:{since}",
        f"[{connector.org.name}] Replica sync failing: {connector.name}",
        f"Fallback could not read {connector.name}: {sync.error}\n{as_of} If the service is "
        "down, this is expected and Fallback keeps trying; otherwise check the connector's "
        "address and credentials. You will not be alerted again until a sync succeeds.\n"
        f"Replica: /o/{connector.org.slug}/replica/{connector.slug}/",
    )


def release(sync: Sync, by: Any) -> Sync:
    """Apply a held sync a person has looked at. Refused if a newer sync was applied since."""
    with transaction.atomic():
        sync = Sync.objects.select_for_update().get(pk=sync.pk)
        if sync.status != SyncStatus.HELD:
            raise SyncRefused(f"this sync is {sync.get_status_display().lower()}, not held")
        connector = Connector.objects.get(pk=sync.connector_id)
        newer = Sync.objects.filter(
            org_id=sync.org_id,
            connector_id=sync.connector_id,
            status=SyncStatus.APPLIED,
            started_at__gt=sync.started_at,
        ).exists()
        if newer:
            raise SyncRefused(
                "a newer sync has been applied since this one was fetched: discard this one"
            )
        kind = registry.get(connector.kind)
        config = registry.validate_config(connector.kind, connector.config)
        compiled = mappings(connector, kind, config)
        return _apply(connector, sync, compiled, by=by)


def discard(sync: Sync, by: Any) -> Sync:
    with transaction.atomic():
        sync = Sync.objects.select_for_update().get(pk=sync.pk)
        if sync.status != SyncStatus.HELD:
            raise SyncRefused(f"this sync is {sync.get_status_display().lower()}, not held")
        staging.drop(sync)
        return finish(sync, SyncStatus.DISCARDED, by=by)
