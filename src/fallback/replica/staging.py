"""Staging: a sync's mapped records, written in compressed chunks before anything is applied.

Chunks are rows of StagedChunk, each committed on its own, so a worker killed mid-fetch
leaves only staging behind (the replica itself is untouched) and memory stays flat however
large the source. A staged row is [key, name, digest, data, cursor].
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import zstandard

from fallback.replica.models import StagedChunk, Sync

CHUNK_ROWS = 20_000
_LEVEL = 1  # staging lives minutes: speed over size

StagedRow = tuple[str, str, str, str]  # key, name, digest, the record as JSON text


def encode(data: dict[str, Any]) -> tuple[str, str]:
    """The record as JSON text, and its digest. Keys come in the mapping's order, which is
    fixed for a mapping, so equal records give equal text without sorting. (orjson: a sync
    encodes every record it fetches, and it is several times quicker than json.)"""
    raw = orjson.dumps(data)
    return raw.decode(), hashlib.blake2b(raw, digest_size=16).hexdigest()


class ChunkWriter:
    """Collects rows of one stream and writes a chunk every CHUNK_ROWS."""

    def __init__(self, sync: Sync, stream: str) -> None:
        self.sync = sync
        self.stream = stream
        self.rows: list[str] = []
        self.seq = 0
        self.written = 0
        self._compressor = zstandard.ZstdCompressor(level=_LEVEL)

    def add(self, key: str, name: str, digest: str, text: str) -> bool:
        """Add a row; True when a chunk was written."""
        head = orjson.dumps([key, name, digest]).decode()
        self.rows.append(f"{head}\t{text}")
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        if not self.rows:
            return
        payload = "\n".join(self.rows).encode()
        StagedChunk.objects.create(
            org_id=self.sync.org_id,
            sync=self.sync,
            stream=self.stream,
            seq=self.seq,
            count=len(self.rows),
            payload=self._compressor.compress(payload),
        )
        self.seq += 1
        self.written += len(self.rows)
        self.rows = []


def read(sync: Sync, stream: str) -> Iterator[StagedRow]:
    """The stream's staged rows, in the order they were fetched, one chunk in memory at a time."""
    decompressor = zstandard.ZstdDecompressor()
    ids = list(
        StagedChunk.objects.filter(org_id=sync.org_id, sync=sync, stream=stream)
        .order_by("seq")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        payload = StagedChunk.objects.filter(pk=pk).values_list("payload", flat=True).get()
        for line in decompressor.decompress(bytes(payload)).decode().split("\n"):
            head, _, text = line.partition("\t")
            key, name, digest = orjson.loads(head)
            yield key, name, digest, text


def streams(sync: Sync) -> list[str]:
    return sorted(
        set(
            StagedChunk.objects.filter(org_id=sync.org_id, sync=sync).values_list(
                "stream", flat=True
            )
        )
    )


def drop(sync: Sync) -> None:
    StagedChunk.objects.filter(org_id=sync.org_id, sync=sync).delete()
