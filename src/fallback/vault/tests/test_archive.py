"""The snapshot file opens with Debian's age, zstd and tar alone, every member's SHA-256
matches the manifest, and Fallback's own reader refuses a damaged, truncated or foreign file
with words that say so."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess

import pyrage
import pytest

from fallback.vault import agefile, archive
from fallback.vault.archive import ArchiveError, Entry


def _entries(folder):
    entries = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            entries.append(
                Entry(f"files/set/{path.relative_to(folder)}", path, st.st_size, st.st_mtime)
            )
    return entries


@pytest.fixture
def packed(tmp_path):
    source = tmp_path / "source"
    (source / "templates").mkdir(parents=True)
    (source / "company.qbw").write_bytes(os.urandom(300_000))
    (source / "templates" / "invoice.txt").write_text("Invoice {{number}}\n" * 5000)
    key = pyrage.x25519.Identity.generate()
    target = tmp_path / "snap.tar.zst.age"
    with target.open("wb") as out:
        result = archive.pack(
            _entries(source), out, [str(key.to_public())], {"snapshot": "test", "warnings": []}
        )
    return target, key, result, source


def test_a_snapshot_opens_with_age_zstd_and_tar_alone_and_matches_its_manifest(packed, tmp_path):
    target, key, _, source = packed
    (tmp_path / "key.txt").write_text(str(key) + "\n")
    out = tmp_path / "opened"
    out.mkdir()
    done = subprocess.run(
        f"/usr/bin/age -d -i {tmp_path / 'key.txt'} {target} | zstd -d | tar -xf - -C {out}",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "MANIFEST.json").read_text())
    members = {m["name"]: m for m in manifest["members"]}
    assert set(members) == {
        "README.txt",
        "files/set/company.qbw",
        "files/set/templates/invoice.txt",
    }
    for name, member in members.items():
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == member["sha256"]
        assert len(data) == member["size"]
    assert (out / "files/set/company.qbw").read_bytes() == (source / "company.qbw").read_bytes()
    assert "age -d -i key.txt" in (out / "README.txt").read_text()


def test_the_hash_recorded_is_the_hash_of_the_file_written(packed):
    target, _, result, _ = packed
    data = target.read_bytes()
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert data.startswith(b"age-encryption.org/v1\n")


def test_readme_comes_first_and_manifest_last(packed, tmp_path):
    target, key, _, _ = packed
    order = []
    archive.unpack(target.open("rb"), [key], lambda name, stream: order.append(name))
    assert order[0] == "README.txt"
    listing = subprocess.run(
        f"/usr/bin/age -d -i /dev/stdin {target} | zstd -d | tar -tf -",
        shell=True,
        input=str(key),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listing[0] == "README.txt" and listing[-1] == "MANIFEST.json"


def test_reading_it_back_checks_every_member(packed):
    target, key, result, _ = packed
    unpacked = archive.unpack(target.open("rb"), [key])
    assert unpacked.problems() == []
    assert unpacked.sha256 == result.sha256
    assert unpacked.manifest["snapshot"] == "test"


def test_one_flipped_byte_is_refused_as_damaged(packed):
    target, key, _, _ = packed
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    with pytest.raises(ArchiveError, match="damaged or truncated"):
        archive.unpack(io.BytesIO(bytes(data)), [key])


def test_a_truncated_file_is_refused(packed):
    target, key, _, _ = packed
    data = target.read_bytes()
    with pytest.raises(ArchiveError, match="damaged or truncated"):
        archive.unpack(io.BytesIO(data[:-1000]), [key])


def test_another_key_cannot_open_it(packed):
    target, _, _, _ = packed
    with pytest.raises(ArchiveError, match="encrypted to other keys"):
        archive.unpack(target.open("rb"), [pyrage.x25519.Identity.generate()])


def test_a_member_changed_after_packing_differs_from_the_manifest(packed):
    target, key, _, _ = packed
    unpacked = archive.unpack(target.open("rb"), [key])
    name = "files/set/company.qbw"
    size, _ = unpacked.members[name]
    unpacked.members[name] = (size, "0" * 64)
    assert any(p.startswith(f"{name} does not match the manifest") for p in unpacked.problems())


def test_a_file_that_shrinks_while_packed_is_padded_and_reported(tmp_path):
    path = tmp_path / "growing.log"
    path.write_bytes(b"x" * 1000)
    key = pyrage.x25519.Identity.generate()
    out = io.BytesIO()
    # Listed at 5,000 bytes, but only 1,000 are there when it is read.
    result = archive.pack(
        [Entry("files/logs/growing.log", path, 5000, 0)], out, [str(key.to_public())], {}
    )
    assert result.warnings == ["files/logs/growing.log: became shorter while being packed"]
    unpacked = archive.unpack(io.BytesIO(out.getvalue()), [key])
    assert unpacked.problems() == []
    assert unpacked.members["files/logs/growing.log"][0] == 5000


class _FullDisk(io.BytesIO):
    """A file on a disk that fills up after `room` bytes."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, data) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_a_disk_filling_up_while_it_is_written_fails_the_snapshot_and_says_so(tmp_path):
    """The encrypted output is written by a thread of its own: its failure reaches the caller
    as the snapshot's error, and packing stops instead of waiting for it for ever."""
    big = tmp_path / "company.qbw"
    big.write_bytes(os.urandom(6 * archive.COPY_BUFFER))
    key = pyrage.x25519.Identity.generate()
    with pytest.raises(ArchiveError, match=r"could not write the snapshot: .*No space left"):
        archive.pack(
            [Entry("files/set/company.qbw", big, big.stat().st_size, 0)],
            _FullDisk(archive.COPY_BUFFER),
            [str(key.to_public())],
            {},
        )


def test_the_entries_may_complete_the_manifest_before_it_is_written(tmp_path):
    """The snapshot packs the database last and only then knows its row counts."""
    path = tmp_path / "fallback.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" * 100)
    key = pyrage.x25519.Identity.generate()
    manifest: dict = {"warnings": []}

    def entries():
        manifest["row_counts"] = {"accounts_organisation": 2}
        yield Entry("database/fallback.sqlite3", path, path.stat().st_size, 0)

    out = io.BytesIO()
    archive.pack(entries(), out, [str(key.to_public())], manifest)
    unpacked = archive.unpack(io.BytesIO(out.getvalue()), [key])
    assert unpacked.manifest["row_counts"] == {"accounts_organisation": 2}
    assert unpacked.problems() == []


def test_no_recipient_is_refused(tmp_path):
    with pytest.raises(ArchiveError, match="at least one key"):
        archive.pack([], io.BytesIO(), [], {})


def test_the_identity_file_from_the_binder_is_read_with_comments():
    key = pyrage.x25519.Identity.generate()
    [found] = archive.parse_identities(f"# created: today\n\n{key}\n")
    public = found.public_key().public_bytes_raw()
    assert public == agefile.recipient_bytes(str(key.to_public()))
    with pytest.raises(ArchiveError, match="line 1"):
        archive.parse_identities("AGE-SECRET-KEY-1NOTAKEY")
