"""Syncing plain files: each file's content is kept as a new version when its SHA-256 changes.

Versions are zstd-compressed rows, so a backup of the database carries them and any machine
sharing a PostgreSQL database can hand them out. A file gone from the folder is retired.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import zstandard
from django.db import transaction

from fallback.replica.connectors.base import ConnectorKind, FetchError
from fallback.replica.models import Connector, Ended, KeptFile, Sync, SyncStatus

READ_BLOCK = 1 << 20


def _read(path: Any, limit: int) -> tuple[str, int, bytes]:
    sha = hashlib.sha256()
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    parts = []
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(READ_BLOCK):
            size += len(block)
            if size > limit:
                raise FetchError(f"{path.name} is larger than {limit // (1 << 20)} MB")
            sha.update(block)
            parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    return sha.hexdigest(), size, b"".join(parts)


def run(connector: Connector, kind: ConnectorKind[Any], config: Any, sync: Sync) -> Sync:
    from fallback.replica.sync import alert_failed, fetch_context, finish

    ctx = fetch_context(connector)
    current = {
        f.path: f
        for f in KeptFile.objects.filter(
            org_id=connector.org_id, connector=connector, valid_to__isnull=True
        ).defer("content")
    }
    at = sync.started_at
    seen: set[str] = set()
    created = changed = unchanged = 0
    try:
        with transaction.atomic():
            for source in kind.kept_files(config, ctx):
                seen.add(source.path)
                sha, size, content = _read(source.local, config.max_size_mb << 20)
                existing = current.get(source.path)
                if existing is not None and existing.sha256 == sha:
                    unchanged += 1
                    continue
                if existing is not None:
                    KeptFile.objects.filter(pk=existing.pk).update(valid_to=at, ended=Ended.CHANGED)
                    changed += 1
                else:
                    created += 1
                modified = datetime.fromtimestamp(source.modified, UTC) if source.modified else None
                KeptFile.objects.create(
                    org_id=connector.org_id,
                    connector=connector,
                    path=source.path,
                    sha256=sha,
                    size=size,
                    content=content,
                    modified_at=modified,
                    valid_from=at,
                    sync=sync,
                )
            gone = [f.pk for path, f in current.items() if path not in seen]
            KeptFile.objects.filter(pk__in=gone).update(valid_to=at, ended=Ended.RETIRED)
    except (FetchError, OSError) as exc:
        finish(sync, SyncStatus.FAILED, error=str(exc))
        alert_failed(connector, sync)
        return sync
    sync.fetched = len(seen)
    sync.created, sync.changed, sync.unchanged, sync.retired = (
        created,
        changed,
        unchanged,
        len(gone),
    )
    sync.complete = True
    sync.streams = {"files": {"fetched": len(seen), "missing_key": 0, "filled": {}}}
    Connector.objects.filter(pk=connector.pk).update(last_good_at=at, last_full_at=at)
    connector.last_good_at = connector.last_full_at = at
    return finish(sync, SyncStatus.APPLIED)


def content_of(kept: KeptFile) -> bytes:
    return zstandard.ZstdDecompressor().decompress(bytes(kept.content), max_output_size=kept.size)
