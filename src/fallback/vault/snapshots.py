"""Taking a snapshot: copy the database, pack it with the data folder's keys and the file sets
into one encrypted file in the spool (in the data folder), then write that file to every
destination, each on its own: one failing is recorded on its copy and alerted, and does not
stop the others. The snapshot is DONE when at least one destination has it.

One snapshot runs at a time in the whole installation: `take` holds a lease on the settings
row, taken in a conditional UPDATE and renewed while it works.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, cast

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from fallback import __version__
from fallback.vault import alerts, archive, database, filesets, keys, retention
from fallback.vault.archive import ArchiveError, Entry
from fallback.vault.database import DatabaseError
from fallback.vault.destinations import DestinationError, ObjectMeta, open_store
from fallback.vault.models import (
    CopyStatus,
    Destination,
    FileSet,
    Snapshot,
    SnapshotCopy,
    SnapshotStatus,
    VaultSettings,
)
from fallback.vault.naming import snapshot_name
from fallback.vault.progress import Quiet, Reporter
from fallback.vault.writeback import WrittenBack

log = logging.getLogger("fallback.vault")

LEASE = timedelta(minutes=10)  # a snapshot that stops renewing for this long is dead
BEAT_EVERY = 30.0  # seconds between renewals of the lease


class VaultNotReady(Exception):
    """Snapshots cannot be taken yet (no key, no destination); the message says what to do."""


class SnapshotRunning(Exception):
    """Another snapshot is being taken right now."""


def spool_folder() -> Path:
    return Path(settings.FALLBACK_HOME) / "vault-spool"


def not_ready() -> str:
    """Why snapshots cannot be taken yet, or '' when they can."""
    if not keys.public_keys():
        return (
            "There is no key to encrypt snapshots to: run `fallback vault keygen` on the box, "
            "or add the public key (age1…) of a key you keep elsewhere."
        )
    if not Destination.objects.filter(enabled=True).exists():
        return "There is no destination: add a local folder (USB disk, NAS) or an S3 bucket."
    return ""


def _take_lease(now: datetime) -> bool:
    config = VaultSettings.load()
    return bool(
        VaultSettings.objects.filter(pk=config.pk)
        .filter(Q(snapshot_lease_until__isnull=True) | Q(snapshot_lease_until__lt=now))
        .update(snapshot_lease_until=now + LEASE)
    )


def _release_lease() -> None:
    VaultSettings.objects.filter(pk=VaultSettings.load().pk).update(snapshot_lease_until=None)


class _Heartbeat(threading.Thread):
    """Renews the lease, and the snapshot's heartbeat, every BEAT_EVERY seconds for as long
    as a snapshot is being taken, whatever it is doing (a long pg_dump reports no progress)."""

    def __init__(self, settings_id: int) -> None:
        super().__init__(name="fallback-vault-heartbeat", daemon=True)
        self.settings_id = settings_id
        self.snapshot_id: int | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(BEAT_EVERY):
                now = timezone.now()
                VaultSettings.objects.filter(pk=self.settings_id).update(
                    snapshot_lease_until=now + LEASE
                )
                if self.snapshot_id is not None:
                    Snapshot.objects.filter(pk=self.snapshot_id).update(heartbeat_at=now)
        except Exception:
            log.exception("the vault's heartbeat stopped")
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def _free_name(installation: str, at: datetime) -> tuple[str, datetime]:
    name = snapshot_name(installation, at)
    while Snapshot.objects.filter(name=name).exists():  # two within one second
        at += timedelta(seconds=1)
        name = snapshot_name(installation, at)
    return name, at


def _tier(at: datetime, config: VaultSettings) -> tuple[str, datetime]:
    month_start = at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    earlier = Snapshot.objects.filter(
        status=SnapshotStatus.DONE, taken_at__gte=month_start, taken_at__lt=at
    ).values_list("taken_at", flat=True)
    tier = retention.tier_of(at, earlier)
    return tier, retention.lock_until(at, tier, retention.Policy.of(config))


def _clear_spool(folder: Path) -> None:
    """Leftovers of a snapshot that died (only called while holding the lease)."""
    if not folder.is_dir():
        return
    for path in folder.rglob("*"):
        if path.is_file():
            # Unlinked, never chmod-ed: the file may be a hard link to a destination's
            # read-only copy.
            with contextlib.suppress(OSError):
                path.unlink()


def _entries() -> tuple[list[Entry], list[str], list[dict[str, object]]]:
    """The data folder's files and the file sets (the database comes after them)."""
    home = filesets.home_entries(Path(settings.FALLBACK_HOME))
    entries = list(home.entries)
    warnings = list(home.warnings)
    sets = []
    for file_set in FileSet.objects.filter(enabled=True).order_by("name"):
        listing = filesets.set_entries(file_set)
        entries += listing.entries
        warnings += listing.warnings
        sets.append(
            {
                "name": file_set.name,
                "paths": list(file_set.paths),
                "excludes": list(file_set.excludes),
                "files": len(listing.entries),
                "bytes": listing.size,
            }
        )
    return entries, warnings, sets


def take(
    trigger: str = "manual",
    *,
    now: datetime | None = None,
    reporter: Reporter | None = None,
    request_key: str | None = None,
) -> Snapshot:
    """Take a snapshot and write it to every enabled destination. Returns it DONE (at least
    one destination has it) or FAILED (with the reason); raises VaultNotReady when there is
    no key or destination, SnapshotRunning when another is being taken."""
    if request_key:
        earlier = Snapshot.objects.filter(request_key=request_key).first()
        if earlier is not None:
            return earlier
    problem = not_ready()
    if problem:
        raise VaultNotReady(problem)
    reporter = reporter or Quiet()
    started = (now or timezone.now()).replace(microsecond=0)
    if not _take_lease(started):
        raise SnapshotRunning("another snapshot is being taken right now; try again when it ends")
    spool = spool_folder()
    heartbeat = _Heartbeat(VaultSettings.load().pk)
    heartbeat.start()
    try:
        # Holding the lease: any snapshot still "running" died without finishing.
        SnapshotCopy.objects.filter(
            status=CopyStatus.WRITING, snapshot__status=SnapshotStatus.RUNNING
        ).update(status=CopyStatus.FAILED, error="Interrupted while it was being written.")
        Snapshot.objects.filter(status=SnapshotStatus.RUNNING).update(
            status=SnapshotStatus.FAILED,
            error="Interrupted: the process taking it stopped before it finished.",
            finished_at=started,
        )
        _clear_spool(spool)
        config = VaultSettings.load()
        name, taken_at = _free_name(config.installation, started)
        tier, retain_until = _tier(taken_at, config)
        recipients = keys.public_keys()
        snapshot = Snapshot.objects.create(
            name=name,
            taken_at=taken_at,
            trigger=trigger,
            recipients=recipients,
            tier=tier,
            retain_until=retain_until,
            fallback_version=__version__,
            request_key=request_key or None,
            db_kind=database.kind(),
            started_at=timezone.now(),
        )
        heartbeat.snapshot_id = snapshot.pk
        beat = reporter.advance
        packed_file = spool / (name + ".partial")
        try:
            _pack(snapshot, config, spool, packed_file, recipients, beat, reporter)
        except (ArchiveError, DatabaseError, OSError) as exc:
            return _failed(snapshot, f"Could not pack the snapshot: {exc}")
        except Exception as exc:
            log.exception("snapshot %s failed", name)
            return _failed(snapshot, f"Could not pack the snapshot: {type(exc).__name__}: {exc}")
        _write_everywhere(snapshot, packed_file, config, beat, reporter)
        return snapshot
    finally:
        heartbeat.stop()
        with contextlib.suppress(OSError):
            _clear_spool(spool)
        _release_lease()


def _pack(
    snapshot: Snapshot,
    config: VaultSettings,
    spool: Path,
    target: Path,
    recipients: list[str],
    beat: Callable[[int], None],
    reporter: Reporter,
) -> archive.Packed:
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries, warnings, sets = _entries()
    manifest: dict[str, object] = {
        "snapshot": snapshot.name,
        "installation": config.installation,
        "taken_at": snapshot.taken_at.isoformat(),
        "fallback_version": __version__,
        "file_sets": sets,
        "recipients": recipients,
        "warnings": warnings,
    }
    reporter.start("Packing", sum(e.size for e in entries) + database.size_hint())
    # The database is copied (one consistent moment, as ever) while the files are packed,
    # and packed after them: the copy and the packing each leave a core half idle.
    with database.copying(spool / "database") as copying:

        def files_then_database() -> Iterator[Entry]:
            yield from entries
            dump = copying.result()
            manifest.update(db_kind=dump.kind, row_counts=dump.row_counts)
            stat = dump.path.stat()
            yield Entry(dump.member, dump.path, stat.st_size, stat.st_mtime, 0o600)

        with target.open("wb") as out:
            # Not synced here: a local destination syncs its copy (often this very file,
            # hard-linked), and an upload reads it back from the page cache. Its pages are
            # sent to disk as it is written, so that fsync has little left to wait for.
            packed = archive.pack(
                files_then_database(),
                cast(IO[bytes], WrittenBack(out)),
                recipients,
                manifest,
                progress=beat,
            )
    dump = copying.result()  # packed last: the copy is done
    snapshot.size = packed.size
    snapshot.sha256 = packed.sha256
    snapshot.data_size = packed.data_size
    snapshot.members = len(packed.members)
    snapshot.row_counts = dump.row_counts
    snapshot.warnings = packed.warnings
    snapshot.db_kind = dump.kind
    snapshot.heartbeat_at = timezone.now()
    snapshot.save()
    return packed


def _failed(snapshot: Snapshot, error: str) -> Snapshot:
    snapshot.status = SnapshotStatus.FAILED
    snapshot.error = error
    snapshot.finished_at = timezone.now()
    snapshot.save(update_fields=["status", "error", "finished_at"])
    alerts.backup_problem(
        f"snapshot:{snapshot.name}",
        f"Snapshot failed: {snapshot.name}",
        f"{error}\nThe earlier snapshots are still where they were.",
    )
    return snapshot


def _write_everywhere(
    snapshot: Snapshot,
    packed_file: Path,
    config: VaultSettings,
    beat: Callable[[int], None],
    reporter: Reporter,
) -> None:
    assert snapshot.size is not None and snapshot.retain_until is not None
    stored = 0
    for destination in Destination.objects.filter(enabled=True).order_by("name"):
        copy = SnapshotCopy.objects.create(snapshot=snapshot, destination=destination)
        until = max(
            snapshot.retain_until,
            snapshot.taken_at + timedelta(days=destination.min_lock_days),
        )
        meta = ObjectMeta(
            sha256=snapshot.sha256,
            size=snapshot.size,
            taken_at=snapshot.taken_at,
            retain_until=until,
            installation=config.installation,
            fallback_version=__version__,
            db_kind=snapshot.db_kind,
        )
        reporter.start(f"Writing to {destination.name}", snapshot.size)
        try:
            written = open_store(destination).put(packed_file, snapshot.name, meta, beat)
        except Exception as exc:  # any failure of one destination must not stop the others
            error = (
                str(exc) if isinstance(exc, DestinationError) else f"{type(exc).__name__}: {exc}"
            )
            log.warning("snapshot %s not written to %s: %s", snapshot.name, destination, error)
            copy.status = CopyStatus.FAILED
            copy.error = error
            copy.save(update_fields=["status", "error"])
            Destination.objects.filter(pk=destination.pk).update(
                last_error=error, last_error_at=timezone.now()
            )
            alerts.backup_problem(
                f"copy:{snapshot.name}:{destination.name}",
                f"Snapshot not written to {destination.name}",
                f"Snapshot {snapshot.name} could not be written to destination "
                f"'{destination.name}' ({destination.location}): {error}",
            )
            continue
        stored += 1
        now = timezone.now()
        copy.status = CopyStatus.STORED
        copy.version_id = written.version_id
        copy.size = written.size
        copy.retain_until = written.retain_until
        copy.locked = written.locked
        copy.written_at = now
        copy.save()
        Destination.objects.filter(pk=destination.pk).update(last_ok_at=now, last_error="")
    snapshot.finished_at = timezone.now()
    if stored:
        snapshot.status = SnapshotStatus.DONE
        snapshot.save(update_fields=["status", "finished_at"])
    else:
        _failed(snapshot, "No destination could take it (see each destination's error).")
