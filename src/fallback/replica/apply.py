"""Applying a staged sync to the replica: new versions in, old ones closed, in one transaction.

Per stream: a new key gets its first version; a key whose digest changed has its current
version closed and a new one added; an unchanged one is left alone. Only a complete full
sweep retires (closes without successor) the keys it did not see. Either all of a sync is
applied or none of it: a crash mid-way leaves the replica as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from fallback.replica import staging
from fallback.replica.models import Ended, Record, Sync
from fallback.replica.signals import records_applied

INSERT_BATCH = 2000
SQLITE_CACHE_KIB = 32 * 1024
UPDATE_BATCH = 500


@dataclass
class Applied:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    retired: int = 0
    duplicates: int = 0


def apply(sync: Sync, entities: dict[str, str], *, retire: bool, at: datetime) -> Applied:
    """Apply every staged stream of `sync`; `entities` maps stream → canonical entity."""
    result = Applied()
    if connection.vendor == "sqlite":
        # A big sync touches every page of the record table's indexes; SQLite's default
        # 2 MB page cache would write and re-read them many times over.
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    with transaction.atomic():
        for stream, entity in entities.items():
            _apply_stream(sync, stream, entity, retire=retire, at=at, result=result)
        records_applied.send(sender=Sync, sync=sync, at=at)
    return result


def _close(pks: list[int], at: datetime, ended: str) -> None:
    for start in range(0, len(pks), UPDATE_BATCH):
        Record.objects.filter(pk__in=pks[start : start + UPDATE_BATCH]).update(
            valid_to=at, ended=ended
        )


def _apply_stream(
    sync: Sync, stream: str, entity: str, *, retire: bool, at: datetime, result: Applied
) -> None:
    current: dict[str, tuple[str, int]] = {
        key: (digest, pk)
        for key, digest, pk in Record.objects.filter(
            org_id=sync.org_id, connector_id=sync.connector_id, stream=stream, valid_to__isnull=True
        ).values_list("key", "digest", "pk")
    }
    seen: set[str] = set()
    to_close: list[int] = []
    to_insert: list[tuple[Any, ...]] = []
    insert = _insert_sql()
    valid_from = connection.ops.adapt_datetimefield_value(at)

    def flush() -> None:
        # Close before inserting: one current version per key, always.
        _close(to_close, at, Ended.CHANGED)
        to_close.clear()
        if to_insert:
            with connection.cursor() as cursor:
                cursor.executemany(insert, to_insert)
        to_insert.clear()

    for key, name, digest, data in staging.read(sync, stream):
        if key in seen:
            result.duplicates += 1  # the source listed it twice: the first one counts
            continue
        seen.add(key)
        existing = current.get(key)
        if existing is not None and existing[0] == digest:
            result.unchanged += 1
            continue
        if existing is not None:
            to_close.append(existing[1])
            result.changed += 1
        else:
            result.created += 1
        # `data` is the canonical record as JSON text, written as it was staged.
        to_insert.append(
            (
                sync.org_id,
                sync.connector_id,
                stream,
                entity,
                key,
                name[:300],
                data,
                digest,
                valid_from,
                sync.pk,
            )
        )
        if len(to_insert) >= INSERT_BATCH:
            flush()
    flush()
    if retire:
        gone = [pk for key, (_, pk) in current.items() if key not in seen]
        _close(gone, at, Ended.RETIRED)
        result.retired += len(gone)


def _insert_sql() -> str:
    """One INSERT of a version with its JSON given as text (no decode and re-encode)."""
    table = connection.ops.quote_name(Record._meta.db_table)
    data = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    # Names come from the model, values are parameters.
    columns = (
        "org_id, connector_id, stream, entity, key, name, data, digest,"
        " valid_from, valid_to, ended, sync_id"
    )
    values = f"%s, %s, %s, %s, %s, %s, {data}, %s, %s, NULL, '', %s"
    return f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
