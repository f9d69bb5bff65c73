"""How ready the installation's backups are, in a few facts and plain-words problems.

`readiness()` is what the dashboard card shows every organisation (no secrets, no paths) and
what the plans app's readiness score reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from fallback.vault.models import (
    CopyStatus,
    Destination,
    Recipient,
    Snapshot,
    SnapshotCopy,
    SnapshotStatus,
    VaultSettings,
    Verification,
)

SNAPSHOT_GRACE = timedelta(minutes=30)


@dataclass(frozen=True)
class Readiness:
    last_snapshot_at: datetime | None
    last_verified_at: datetime | None
    verified_ok: bool | None  # None: never verified
    level: str = ""  # of the last verification: "full", "integrity" or "" (none yet)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} hour{'s' if round(hours) != 1 else ''}"
    return f"{hours / 24:.0f} days"


def readiness(now: datetime | None = None) -> Readiness:
    now = now or timezone.now()
    config = VaultSettings.load()
    problems: list[str] = []
    if not Recipient.objects.exists():
        problems.append("Backups are not set up: there is no key to encrypt them to.")
    destinations = list(Destination.objects.filter(enabled=True).order_by("name"))
    if not destinations:
        problems.append("Backups are not set up: there is no destination to keep them in.")
    last = Snapshot.objects.filter(status=SnapshotStatus.DONE).order_by("-taken_at").first()
    if last is None:
        if destinations and Recipient.objects.exists():
            problems.append("No snapshot has been taken yet.")
    elif config.snapshot_every_minutes:
        every = timedelta(minutes=config.snapshot_every_minutes)
        if now - last.taken_at > max(2 * every, every + SNAPSHOT_GRACE):
            problems.append(
                f"The last snapshot is {_hours(now - last.taken_at)} old "
                f"(one is due every {config.snapshot_every_minutes} minutes)."
            )
    newest_failed = (
        Snapshot.objects.exclude(status=SnapshotStatus.RUNNING).order_by("-taken_at").first()
    )
    if newest_failed is not None and newest_failed.status == SnapshotStatus.FAILED:
        problems.append(f"The last snapshot failed: {newest_failed.error}")
    if last is not None and last.warnings:
        more = f" (and {len(last.warnings) - 2} more)" if len(last.warnings) > 2 else ""
        problems.append(
            "The last snapshot left something out: " + "; ".join(last.warnings[:2]) + more
        )
    for destination in destinations:
        newest = (
            SnapshotCopy.objects.filter(destination=destination)
            .exclude(status__in=[CopyStatus.WRITING, CopyStatus.PRUNED])
            .order_by("-snapshot__taken_at")
            .first()
        )
        if newest is not None and newest.status == CopyStatus.FAILED:
            problems.append(f"The last snapshot could not be written to {destination.name}.")
    latest = Verification.objects.order_by("-at", "-pk").first()
    if latest is None:
        if last is not None:
            problems.append("No snapshot has been restore-tested yet.")
    else:
        for destination in destinations:
            newest_test = (
                Verification.objects.filter(copy__destination=destination)
                .order_by("-at", "-pk")
                .first()
            )
            if newest_test is not None and not newest_test.ok:
                problems.append(f"The last restore test failed: {newest_test.error}")
        if config.verify_every_hours:
            every = timedelta(hours=config.verify_every_hours)
            if now - latest.at > 2 * every:
                problems.append(f"The last restore test is {_hours(now - latest.at)} old.")
    return Readiness(
        last_snapshot_at=last.taken_at if last else None,
        last_verified_at=latest.at if latest else None,
        verified_ok=latest.ok if latest else None,
        level=latest.level if latest else "",
        problems=problems,
    )
