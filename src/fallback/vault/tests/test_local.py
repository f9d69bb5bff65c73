"""A local folder destination: written once through a .partial file, read-only afterwards,
with a sidecar that records its SHA-256, size and retain-until; never overwritten."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta

import pytest

from fallback.vault.destinations import DestinationError, ObjectMeta, open_store
from fallback.vault.models import Destination, Kind

NAME = "fallback-box-20260301T100000Z.tar.zst.age"


def meta(data: bytes) -> ObjectMeta:
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    return ObjectMeta(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        taken_at=at,
        retain_until=at + timedelta(days=30),
        installation="box",
        fallback_version="0.1.0",
        db_kind="sqlite",
    )


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "usb"
    path.mkdir()
    return path


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "spool.age"
    path.write_bytes(b"encrypted bytes" * 1000)
    return path


def store_for(path):
    return open_store(Destination(name="usb", kind=Kind.LOCAL, path=str(path)))


def test_a_snapshot_is_written_read_only_with_its_sidecar(folder, source):
    data = source.read_bytes()
    written = store_for(folder).put(source, NAME, meta(data), None)
    target = folder / NAME
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) & 0o222 == 0
    assert not (folder / (NAME + ".partial")).exists()
    side = json.loads((folder / (NAME + ".json")).read_text())
    assert side["sha256"] == hashlib.sha256(data).hexdigest()
    assert written.size == len(data) and not written.locked


def test_it_is_never_overwritten(folder, source):
    store = store_for(folder)
    store.put(source, NAME, meta(source.read_bytes()), None)
    with pytest.raises(DestinationError, match="never overwritten"):
        store.put(source, NAME, meta(source.read_bytes()), None)


def test_a_missing_folder_says_the_disk_may_be_unplugged(tmp_path, source):
    store = store_for(tmp_path / "not-mounted")
    with pytest.raises(DestinationError, match="is the disk plugged in"):
        store.put(source, NAME, meta(source.read_bytes()), None)
    assert "does not exist" in store.problems()[0]


def test_listing_reads_the_sidecar_and_skips_other_files(folder, source):
    store = store_for(folder)
    store.put(source, NAME, meta(source.read_bytes()), None)
    (folder / "notes.txt").write_text("not a snapshot")
    (folder / "fallback-box-20260301T110000Z.tar.zst.age.partial").write_text("half")
    [found] = store.listing()
    assert found.name == NAME
    assert found.retain_until == datetime(2026, 3, 31, 10, tzinfo=UTC)
    assert store.lock_until(NAME) == found.retain_until


def test_a_copy_across_file_systems_is_written_in_pieces_with_progress(folder, source, monkeypatch):
    import os

    def no_link(*args):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    seen = []
    store_for(folder).put(source, NAME, meta(source.read_bytes()), seen.append)
    assert sum(seen) == source.stat().st_size
    assert (folder / NAME).read_bytes() == source.read_bytes()


def test_delete_removes_the_file_and_its_sidecar(folder, source):
    store = store_for(folder)
    store.put(source, NAME, meta(source.read_bytes()), None)
    store.delete(NAME)
    assert list(folder.iterdir()) == []
