"""The snapshot file: tar, compressed with zstd, encrypted with age. Streamed both ways.

Writing: each member is read from disk in pieces into one reused buffer, hashed, and written
as a tar stream into a multi-threaded zstd stream writer, whose output is queued to the sealer
thread: agefile.Encryptor, chunk by chunk, hashed on its way to the output file. zstd's
workers and the sealer run beside the calling thread; a bounded queue and zstd's own jobs
keep memory small, the whole snapshot is never in memory.

Reading is the same in reverse, in one thread: agefile.Decryptor, zstd's stream reader,
tarfile's "r|". Every member is hashed as it passes and checked against MANIFEST.json, the
last member. A damaged or truncated file fails age's authentication; the error says so.

Layout, so that `age -d -i KEY FILE | zstd -d | tar x` needs no Fallback:
    README.txt                  first: how to open it by hand
    home/secret_key, home/sealing.key, home/uploads/…   from the data folder
    files/<set name>/<path>     the configured file sets
    database/fallback.sqlite3   or database/fallback.pgdump (pg_dump --format=custom), last
                                but one: it is copied while the files are packed
    MANIFEST.json               last: every member's size and SHA-256, and what was packed
"""

from __future__ import annotations

import hashlib
import json
import queue
import tarfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import zstandard
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fallback.vault import agefile

README_NAME = "README.txt"
MANIFEST_NAME = "MANIFEST.json"
FORMAT = 1
COPY_BUFFER = 1 << 20
ZSTD_LEVEL = 3  # zstd's own default, as the command-line tool uses
ZSTD_JOB = 1 << 20
SEALER_QUEUE = 16  # pieces of zstd's output (up to COPY_BUFFER each) waiting to be sealed

Progress = Callable[[int], None]

README = """\
This is a Fallback snapshot: a tar archive, compressed with zstd, encrypted with age.
It opens with the standard tools alone; Fallback is not needed.

You need: the private key (AGE-SECRET-KEY-1…) printed in the binder, and the programs
age, zstd and tar (Debian/Ubuntu: apt install age zstd; macOS: brew install age zstd;
Windows: https://github.com/FiloSottile/age/releases and https://github.com/facebook/zstd/releases).

1. Type the private key into a file, e.g. key.txt, on a line of its own.
2. Open the snapshot into the current folder:

       age -d -i key.txt SNAPSHOT.tar.zst.age | zstd -d | tar -xvf -

3. What you get:
   database/fallback.sqlite3  the whole database (SQLite; open with sqlite3 or DB Browser)
   database/fallback.pgdump   or, for PostgreSQL, a dump: pg_restore -d DATABASE it
   home/                      the data folder's keys (secret_key, sealing.key) and uploads
   files/<set>/               the files kept with it (company file, templates, ...)
   MANIFEST.json              every file's SHA-256: check with sha256sum

4. To run Fallback from it again: `fallback vault restore --at TIME --to DIR` does all of
   this and checks every file; or copy database/fallback.sqlite3 and home/* into an empty
   data folder and run `fallback --home DIR serve`.

Keep the key away from the snapshots: whoever has both can read everything.
"""


class ArchiveError(Exception):
    """A snapshot could not be written or read; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One file to pack, under `name` in the tar."""

    name: str
    path: Path
    size: int
    mtime: float
    mode: int = 0o600


@dataclass
class Packed:
    size: int  # encrypted bytes
    sha256: str  # of the encrypted bytes
    data_size: int  # bytes of the members before compression
    members: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


class _HashingSink:
    """Where age writes: the output file, hashed and counted on the way."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.hash.update(data)
        self.size += len(data)
        self.raw.write(data)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()


class _Sealer(threading.Thread):
    """zstd's output, encrypted, hashed and written to the file in a thread of its own.

    Why a thread: done inside zstd's write calls, this work kept the packing thread from
    handing zstd its next input, and zstd's workers waited (measured: ~0.4 s of 3 s on two
    cores). Encryption holds the GIL only briefly; hashing and writing release it.
    """

    def __init__(self, out: IO[bytes], recipients: list[str]) -> None:
        super().__init__(name="fallback-vault-sealer", daemon=True)
        self.sink = _HashingSink(out)
        self.encryptor = agefile.Encryptor(self.sink, recipients)
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=SEALER_QUEUE)
        self.error: BaseException | None = None

    def write(self, data: bytes | memoryview) -> int:
        """zstd's stream writer writes here (from the packing thread)."""
        if self.error is not None:
            raise self.error
        # zstd hands over a new bytes object each time; anything else is copied, since the
        # caller may reuse its buffer once this returns.
        self.queue.put(data if isinstance(data, bytes) else bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush early: what is queued is written in order by finish()."""

    def run(self) -> None:
        try:
            while (data := self.queue.get()) is not None:
                self.encryptor.write(data)
            self.encryptor.close()
        except BaseException as exc:  # handed to the packing thread by write()/finish()
            self.error = exc
            while self.queue.get() is not None:  # so the packing thread never blocks
                pass

    def finish(self) -> None:
        """Wait until all is written; raise what went wrong in the thread, if anything."""
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """The end of zstd's output (or packing failed): the thread ends when it is written."""
        self.queue.put(None)
        self.join()


class _TarWriter:
    """A tar stream (POSIX pax format, as tarfile writes it) written straight to `out`:
    headers from tarfile.TarInfo, file data read into one reused buffer and hashed on the way
    — tarfile's own stream mode copies every byte several times more."""

    def __init__(self, out: Any, progress: Progress | None) -> None:
        self.out = out
        self.progress = progress
        self.written = 0
        self.buffer = bytearray(COPY_BUFFER)

    def _write(self, data: bytes | memoryview) -> None:
        self.out.write(data)
        self.written += len(data)

    def _pad(self, size: int) -> None:
        remainder = size % tarfile.BLOCKSIZE
        if remainder:
            self._write(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> dict[str, Any]:
        self._write(_header(name, len(data), 0, mode))
        self._write(data)
        self._pad(len(data))
        return {
            "name": name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "mtime": 0,
        }

    def add_file(self, entry: Entry, fh: IO[bytes]) -> tuple[dict[str, Any], bool]:
        """Exactly entry.size bytes of `fh`: a file that shrank while being read is padded
        with zeros (and reported: the second value) so the archive stays well-formed."""
        self._write(_header(entry.name, entry.size, entry.mtime, entry.mode))
        digest = hashlib.sha256()
        view = memoryview(self.buffer)
        left = entry.size
        short = False
        while left > 0:
            want = min(left, len(self.buffer))
            got = fh.readinto(view[:want])  # type: ignore[attr-defined]
            if not got:
                short = True
                view[:want] = bytes(want)
                got = want
            chunk = view[:got]
            digest.update(chunk)
            self._write(chunk)
            left -= got
            if self.progress:
                self.progress(got)
        self._pad(entry.size)
        member = {
            "name": entry.name,
            "size": entry.size,
            "sha256": digest.hexdigest(),
            "mtime": int(entry.mtime),
        }
        return member, short

    def close(self) -> None:
        """The end-of-archive marker, padded to a whole record as tar writes it."""
        self._write(tarfile.NUL * (tarfile.BLOCKSIZE * 2))
        remainder = self.written % tarfile.RECORDSIZE
        if remainder:
            self._write(tarfile.NUL * (tarfile.RECORDSIZE - remainder))


def _header(name: str, size: int, mtime: float, mode: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def pack(
    entries: Iterable[Entry],
    out: IO[bytes],
    recipients: Iterable[str],
    manifest: dict[str, Any],
    progress: Progress | None = None,
    level: int = ZSTD_LEVEL,
    threads: int = -1,
) -> Packed:
    """Write the snapshot of `entries` to `out`; `manifest` gets the members added.

    `manifest` is read only once every entry is packed: the entries' iterator may still add
    to it (the database is copied while the files are packed; its row counts come last).
    """
    keys = list(recipients)
    if not keys:
        raise ArchiveError("no recipients: a snapshot must be encrypted to at least one key")
    members: list[dict[str, Any]] = []
    warnings: list[str] = []
    data_size = 0
    try:
        sealer = _Sealer(out, keys)
        # Small jobs keep zstd's workers and this thread in step (measured: less waiting,
        # less CPU, the same ratio as zstd's default job size of several MiB).
        parameters = zstandard.ZstdCompressionParameters.from_level(
            level, threads=threads, job_size=ZSTD_JOB if threads else 0, write_checksum=True
        )
        compressor = zstandard.ZstdCompressor(compression_params=parameters)
        sealer.start()
        try:
            with compressor.stream_writer(
                cast(IO[bytes], sealer), closefd=False, write_size=COPY_BUFFER
            ) as packed:
                tar = _TarWriter(packed, progress)
                members.append(tar.add_bytes(README_NAME, README.encode()))
                for entry in entries:
                    try:
                        fh = entry.path.open("rb", buffering=0)
                    except OSError as exc:
                        warnings.append(f"{entry.name}: not packed, could not be read ({exc})")
                        continue
                    with fh:
                        member, short = tar.add_file(entry, fh)
                    if short:
                        warnings.append(f"{entry.name}: became shorter while being packed")
                    members.append(member)
                    data_size += entry.size
                manifest = {
                    **manifest,
                    "format": FORMAT,
                    "members": members,
                    "warnings": [*manifest.get("warnings", []), *warnings],
                }
                text = json.dumps(manifest, indent=1, sort_keys=True).encode()
                tar.add_bytes(MANIFEST_NAME, text)
                tar.close()
        except BaseException:
            sealer.stop()
            raise
        sealer.finish()
    except agefile.AgeError as exc:
        raise ArchiveError(str(exc)) from exc
    except (OSError, zstandard.ZstdError) as exc:
        raise ArchiveError(f"could not write the snapshot: {exc}") from exc
    out.flush()
    return Packed(
        size=sealer.sink.size,
        sha256=sealer.sink.hash.hexdigest(),
        data_size=data_size,
        members=members,
        warnings=list(manifest["warnings"]),
    )


# ---------------------------------------------------------------------- reading


class _HashingSource:
    """The encrypted bytes as they are read, hashed and counted (an integrity check for free)."""

    def __init__(self, raw: BinaryIO, progress: Progress | None) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0
        self.progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        if self.progress and data:
            self.progress(len(data))
        return data


class MemberStream:
    """A member's bytes as a handler reads them, hashed on the way."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(COPY_BUFFER):
            pass


# A handler gets each member (name, its stream); what it does not read is read for it.
Handler = Callable[[str, MemberStream], None]


@dataclass
class Unpacked:
    manifest: dict[str, Any]
    size: int  # encrypted bytes read
    sha256: str  # of the encrypted bytes
    members: dict[str, tuple[int, str]]  # name -> (size, sha256) as found

    def problems(self) -> list[str]:
        """Members that differ from the manifest, are missing from it, or are extra."""
        listed = {m["name"]: (m["size"], m["sha256"]) for m in self.manifest.get("members", [])}
        problems = []
        for name, (size, digest) in listed.items():
            found = self.members.get(name)
            if found is None:
                problems.append(f"{name} is in the manifest but not in the snapshot")
            elif found != (size, digest):
                problems.append(
                    f"{name} does not match the manifest "
                    f"({found[0]:,} bytes, SHA-256 {found[1][:12]}… instead of "
                    f"{size:,} bytes, {digest[:12]}…)"
                )
        for name in self.members:
            if name not in listed and name != MANIFEST_NAME:
                problems.append(f"{name} is in the snapshot but not in the manifest")
        return problems


def parse_identities(text: str) -> list[Any]:
    """age identities from the text of an identity file (AGE-SECRET-KEY-1… lines)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append(agefile.identity_key(line))
        except agefile.AgeError as exc:
            raise ArchiveError(
                f"line {number} of the identity file is not an age private key (AGE-SECRET-KEY-1…)"
            ) from exc
    if not found:
        raise ArchiveError("the identity file holds no private key (AGE-SECRET-KEY-1…)")
    return found


def _private_keys(identities: list[Any]) -> list[X25519PrivateKey]:
    """Keys as agefile takes them (pyrage identities are accepted too, by their text)."""
    return [
        i if isinstance(i, X25519PrivateKey) else agefile.identity_key(str(i)) for i in identities
    ]


def unpack(
    source: BinaryIO,
    identities: list[Any],
    handle: Handler | None = None,
    progress: Progress | None = None,
) -> Unpacked:
    """Decrypt and read a snapshot, member by member, without holding it in memory.

    Raises ArchiveError when it cannot be decrypted (wrong key, damaged or truncated) or is
    not a well-formed archive; differences from the manifest are left to `problems()`.
    """
    counted = _HashingSource(source, progress)
    manifest: dict[str, Any] | None = None
    found: dict[str, tuple[int, str]] = {}
    try:
        decrypted = agefile.Decryptor(counted, _private_keys(identities))
        decompressor = zstandard.ZstdDecompressor()
        with (
            decompressor.stream_reader(
                cast(IO[bytes], decrypted), read_size=COPY_BUFFER, closefd=False
            ) as plain,
            tarfile.open(fileobj=cast(IO[bytes], plain), mode="r|", bufsize=COPY_BUFFER) as tar,
        ):
            for info in tar:
                if not info.isfile():
                    raise ArchiveError(f"{info.name} is not a regular file")
                raw = tar.extractfile(info)
                assert raw is not None
                stream = MemberStream(raw)
                if info.name == MANIFEST_NAME:
                    try:
                        manifest = json.loads(stream.read())
                    except ValueError as exc:
                        raise ArchiveError("MANIFEST.json is not valid JSON") from exc
                elif handle is not None:
                    handle(info.name, stream)
                stream.drain()
                if info.name in found:
                    raise ArchiveError(f"{info.name} is in the snapshot twice")
                found[info.name] = (stream.size, stream.hash.hexdigest())
            while plain.read(COPY_BUFFER):  # the rest, so age checks the very end too
                pass
        while decrypted.read(COPY_BUFFER):
            pass
    except agefile.AgeError as exc:
        raise ArchiveError(str(exc)) from exc
    except (tarfile.TarError, zstandard.ZstdError, EOFError) as exc:
        raise ArchiveError(f"the snapshot is not a complete archive: {exc}") from exc
    if manifest is None:
        raise ArchiveError("the snapshot has no MANIFEST.json: it is incomplete")
    return Unpacked(
        manifest=manifest, size=counted.size, sha256=counted.hash.hexdigest(), members=found
    )
