"""Restore tests: fetch a snapshot back from its destination and prove it would restore.

FULL (a private key is at hand: stored sealed on the box with `keygen --keep-on-box`, or
given with `fallback vault verify --identity FILE`): fetch, decrypt, check every member's
SHA-256 against the manifest, open the database (SQLite: quick_check and the key tables'
row counts against those taken with the snapshot; PostgreSQL: `pg_restore --list` finds the
key tables' data).

INTEGRITY (no private key on the box, the safer default): fetch and check the SHA-256 and
size of the whole encrypted file against those recorded when it was written. It proves the
copy is intact, not that it decrypts: docs/VAULT.md weighs the two.

Each result is kept (Verification, and on the copy); a failure is alerted, naming the
snapshot and the destination.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from fallback.vault import alerts, database, keys
from fallback.vault.archive import COPY_BUFFER, ArchiveError, MemberStream, unpack
from fallback.vault.database import DatabaseError
from fallback.vault.destinations import DestinationError, open_store
from fallback.vault.models import (
    CopyStatus,
    Destination,
    Level,
    SnapshotCopy,
    Verification,
)
from fallback.vault.progress import Quiet, Reporter
from fallback.vault.snapshots import spool_folder

log = logging.getLogger("fallback.vault")


class VerifyFailed(Exception):
    """What is wrong with a copy, in words that name no snapshot (the caller adds them)."""


@dataclass(frozen=True)
class Checked:
    level: str
    row_counts: dict[str, int]


def _integrity(copy: SnapshotCopy, reporter: Reporter) -> Checked:
    snapshot = copy.snapshot
    if not snapshot.sha256 or snapshot.size is None:
        raise VerifyFailed(
            "Fallback has no record of its SHA-256 to compare with; verify it with the "
            "private key (--identity FILE)"
        )
    digest = hashlib.sha256()
    size = 0
    reporter.start(f"Checking {snapshot.name} on {copy.destination.name}", snapshot.size)
    with open_store(copy.destination).open(snapshot.name, copy.version_id) as source:
        while chunk := source.read(COPY_BUFFER):
            digest.update(chunk)
            size += len(chunk)
            reporter.advance(len(chunk))
    _compare_object(size, digest.hexdigest(), snapshot.size, snapshot.sha256)
    return Checked(Level.INTEGRITY, {})


def _compare_object(size: int, digest: str, expected_size: int | None, expected: str) -> None:
    if expected_size is not None and size != expected_size:
        cut = " (truncated)" if size < expected_size else ""
        raise VerifyFailed(f"it is {size:,} bytes but {expected_size:,} were written{cut}")
    if expected and digest != expected:
        raise VerifyFailed(
            f"it is damaged: its SHA-256 is {digest[:16]}… but {expected[:16]}… was recorded "
            "when it was written"
        )


def _full(copy: SnapshotCopy, identities: list[Any], reporter: Reporter) -> Checked:
    snapshot = copy.snapshot
    work = Path(tempfile.mkdtemp(prefix="verify-", dir=_work_folder()))
    try:
        db_files: dict[str, Path] = {}

        def keep_database(name: str, stream: MemberStream) -> None:
            if name in (database.SQLITE_MEMBER, database.PGDUMP_MEMBER):
                target = work / Path(name).name
                with target.open("wb") as out:
                    while chunk := stream.read(COPY_BUFFER):
                        out.write(chunk)
                db_files[name] = target

        reporter.start(
            f"Restore test of {snapshot.name} from {copy.destination.name}", snapshot.size or 0
        )
        with open_store(copy.destination).open(snapshot.name, copy.version_id) as source:
            try:
                unpacked = unpack(source, identities, keep_database, progress=reporter.advance)
            except ArchiveError as exc:
                raise VerifyFailed(str(exc)) from exc
        _compare_object(unpacked.size, unpacked.sha256, snapshot.size, snapshot.sha256)
        problems = unpacked.problems()
        if problems:
            raise VerifyFailed("; ".join(problems[:5]))
        expected = {str(k): int(v) for k, v in unpacked.manifest.get("row_counts", {}).items()}
        try:
            if database.SQLITE_MEMBER in db_files:
                counts = database.check_sqlite(db_files[database.SQLITE_MEMBER], expected)
            elif database.PGDUMP_MEMBER in db_files:
                counts = database.check_pgdump(db_files[database.PGDUMP_MEMBER], expected)
            else:
                raise VerifyFailed("it holds no database")
        except DatabaseError as exc:
            raise VerifyFailed(str(exc)) from exc
        return Checked(Level.FULL, counts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _work_folder() -> Path:
    folder = spool_folder().parent / "vault-verify"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def verify_copy(
    copy: SnapshotCopy,
    identities: list[Any] | None = None,
    trigger: str = "manual",
    reporter: Reporter | None = None,
) -> Verification:
    """Test one copy: FULL with `identities` (or the keys kept on the box), else INTEGRITY."""
    reporter = reporter or Quiet()
    chosen = identities if identities is not None else keys.kept_identities()
    level = Level.FULL if chosen else Level.INTEGRITY
    clock = time.monotonic()
    error = ""
    counts: dict[str, int] = {}
    try:
        checked = _full(copy, chosen, reporter) if chosen else _integrity(copy, reporter)
        counts = checked.row_counts
    except (VerifyFailed, DestinationError, OSError) as exc:
        error = f"Snapshot {copy.snapshot.name} on destination '{copy.destination.name}': {exc}"
    except Exception as exc:  # a connection dropped mid-way, …: a failed test all the same
        log.exception("restore test of %s crashed", copy)
        error = (
            f"Snapshot {copy.snapshot.name} on destination '{copy.destination.name}': "
            f"{type(exc).__name__}: {exc}"
        )
    now = timezone.now()
    result = Verification.objects.create(
        copy=copy,
        at=now,
        level=level,
        ok=not error,
        error=error,
        seconds=round(time.monotonic() - clock, 3),
        row_counts=counts,
        trigger=trigger,
    )
    copy.verified_at = now
    copy.verify_level = level
    copy.verify_ok = not error
    copy.verify_error = error
    copy.save(update_fields=["verified_at", "verify_level", "verify_ok", "verify_error"])
    if error:
        log.warning("restore test failed: %s", error)
        alerts.backup_problem(
            f"verify:{copy.pk}",
            f"Restore test failed: {copy.snapshot.name} on {copy.destination.name}",
            f"{error}\nThe other snapshots and destinations are not affected; take a new "
            "snapshot now, and look at the destination.",
        )
    return result


def newest_copies(destination_name: str | None = None) -> list[SnapshotCopy]:
    """The newest stored copy on each enabled destination (or the one named)."""
    destinations = Destination.objects.filter(enabled=True)
    if destination_name:
        destinations = Destination.objects.filter(name=destination_name)
    found = []
    for destination in destinations.order_by("name"):
        copy = (
            SnapshotCopy.objects.filter(destination=destination, status=CopyStatus.STORED)
            .select_related("snapshot", "destination")
            .order_by("-snapshot__taken_at")
            .first()
        )
        if copy is not None:
            found.append(copy)
    return found


def verify_newest(
    identities: list[Any] | None = None,
    trigger: str = "manual",
    destination_name: str | None = None,
    reporter: Reporter | None = None,
) -> list[Verification]:
    return [
        verify_copy(copy, identities, trigger, reporter) for copy in newest_copies(destination_name)
    ]
