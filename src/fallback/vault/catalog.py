"""What the destinations really hold, and pruning what retention no longer keeps.

The database's list of snapshots is a catalogue; the destinations are the truth. `refresh`
lists a destination and brings the catalogue in step: a snapshot found there that the
database does not know (a box restored from an older snapshot, another machine of the same
installation) is added; one the database thinks stored but that is gone is marked so.

`prune` deletes, per destination, the copies no retention tier keeps — never the newest,
and never one whose lock has not expired, as the destination itself reports it (S3:
ObjectLockRetainUntilDate; a folder: the retain-until recorded with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from fallback.vault import naming, retention
from fallback.vault.destinations import DestinationError, Store, StoredObject, open_store
from fallback.vault.models import (
    CopyStatus,
    Destination,
    Kind,
    Snapshot,
    SnapshotCopy,
    SnapshotStatus,
    VaultSettings,
)


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def refresh(destination: Destination, store: Store | None = None) -> list[StoredObject]:
    """List `destination` and bring the catalogue in step; returns this installation's
    snapshots found there."""
    store = store or open_store(destination)
    listed_at = timezone.now()
    installation = VaultSettings.load().installation
    ours: dict[str, StoredObject] = {}
    for obj in store.listing():
        parsed = naming.parse(obj.name)
        if parsed is None or parsed[0] != installation:
            continue
        ours[obj.name] = obj  # with several versions of a name, the last listed
    for name, obj in ours.items():
        taken_at = naming.parse(name)[1]  # type: ignore[index]
        snapshot = Snapshot.objects.filter(name=name).first()
        if snapshot is None:
            snapshot = Snapshot.objects.create(
                name=name,
                taken_at=taken_at,
                status=SnapshotStatus.DONE,
                trigger="found",
                size=obj.size,
                sha256=obj.sha256,
                retain_until=obj.retain_until,
                fallback_version=obj.extra.get("fallback-version", "")[:20],
                db_kind=obj.extra.get("db-kind", "")[:16],
                started_at=taken_at,
                heartbeat_at=taken_at,
                finished_at=taken_at,
                found_on_destination=True,
            )
        elif snapshot.status != SnapshotStatus.DONE:
            # E.g. the row a restored database holds of the very snapshot it came from,
            # caught "running" by its own copy of the database.
            snapshot.status = SnapshotStatus.DONE
            snapshot.error = ""
            snapshot.size = snapshot.size or obj.size
            snapshot.sha256 = snapshot.sha256 or obj.sha256
            snapshot.finished_at = snapshot.finished_at or taken_at
            snapshot.save()
        copy, _ = SnapshotCopy.objects.get_or_create(snapshot=snapshot, destination=destination)
        if copy.status != CopyStatus.STORED:
            copy.status = CopyStatus.STORED
            copy.error = ""
            copy.size = obj.size
            copy.version_id = obj.version_id
            copy.retain_until = obj.retain_until or snapshot.retain_until
            copy.locked = destination.kind == Kind.S3 and obj.retain_until is not None
            copy.written_at = copy.written_at or taken_at
            copy.pruned_at = None
            copy.save()
    gone = (
        SnapshotCopy.objects.filter(destination=destination, status=CopyStatus.STORED)
        .exclude(snapshot__name__in=list(ours))
        .filter(written_at__lt=listed_at)
    )
    gone.update(
        status=CopyStatus.PRUNED,
        pruned_at=listed_at,
        error="No longer on the destination (removed outside Fallback, or expired there).",
    )
    return list(ours.values())


@dataclass
class PruneReport:
    deleted: list[SnapshotCopy] = field(default_factory=list)
    locked: list[tuple[SnapshotCopy, datetime]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def prune(now: datetime | None = None, dry_run: bool = False) -> PruneReport:
    """Delete what retention no longer keeps on each enabled destination (or, with
    `dry_run`, only say what would be deleted: `deleted` then lists it untouched)."""
    now = now or timezone.now()
    policy = retention.Policy.of(VaultSettings.load())
    report = PruneReport()
    for destination in Destination.objects.filter(enabled=True).order_by("name"):
        try:
            store = open_store(destination)
            refresh(destination, store)
        except DestinationError as exc:
            report.problems.append(str(exc))
            continue
        stored = list(
            SnapshotCopy.objects.filter(
                destination=destination, status=CopyStatus.STORED
            ).select_related("snapshot", "destination")
        )
        kept = retention.keep([(c.pk, c.snapshot.taken_at) for c in stored], policy)
        for copy in stored:
            if copy.pk in kept:
                continue
            name = copy.snapshot.name
            try:
                reported = store.lock_until(name, copy.version_id)
            except DestinationError as exc:
                report.problems.append(str(exc))
                continue
            locks = [t for t in (reported, copy.retain_until) if t is not None]
            if locks and max(locks) > now:
                report.locked.append((copy, max(locks)))
                continue
            if dry_run:
                report.deleted.append(copy)
                continue
            try:
                store.delete(name, copy.version_id)
            except DestinationError as exc:
                report.problems.append(str(exc))
                continue
            copy.status = CopyStatus.PRUNED
            copy.pruned_at = now
            copy.save(update_fields=["status", "pruned_at"])
            report.deleted.append(copy)
    return report
