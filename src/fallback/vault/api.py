"""API of the vault, for installation administrators (superusers): how ready the backups
are, the snapshots on each destination, and starting a snapshot or a restore test.

Under /vault/…: anyone who is not a superuser gets 404, as if it did not exist. Starting a
snapshot is idempotent on the body's `request_key` (or an Idempotency-Key header).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.audit.trail import record
from fallback.vault.models import CopyStatus, Destination, Snapshot
from fallback.vault.snapshots import not_ready
from fallback.vault.status import readiness
from fallback.vault.tasks import snapshot_task, verify_task

router = Router(tags=["vault"])
MAX_PAGE = 500


def _superuser(request: HttpRequest) -> None:
    if not getattr(request.user, "is_superuser", False):
        raise HttpError(404, "Not Found")


class ReadinessOut(Schema):
    last_snapshot_at: datetime | None
    last_verified_at: datetime | None
    verified_ok: bool | None
    level: str
    problems: list[str]


class CopyOut(Schema):
    destination: str
    status: str
    size: int | None
    retain_until: datetime | None
    locked: bool
    error: str
    verified_at: datetime | None
    verify_level: str
    verify_ok: bool | None
    verify_error: str


class SnapshotOut(Schema):
    name: str
    taken_at: datetime
    status: str
    trigger: str
    db_kind: str
    size: int | None
    sha256: str
    data_size: int | None
    members: int
    tier: str
    retain_until: datetime | None
    row_counts: dict[str, int]
    warnings: list[str]
    error: str
    copies: list[CopyOut]


class DestinationOut(Schema):
    name: str
    kind: str
    location: str
    enabled: bool
    last_ok_at: datetime | None
    last_error: str
    last_error_at: datetime | None


class SnapshotIn(Schema):
    request_key: str = ""


class Started(Schema):
    started: str
    request_key: str = ""


def _snapshot_out(snapshot: Snapshot) -> SnapshotOut:
    return SnapshotOut(
        name=snapshot.name,
        taken_at=snapshot.taken_at,
        status=snapshot.status,
        trigger=snapshot.trigger,
        db_kind=snapshot.db_kind,
        size=snapshot.size,
        sha256=snapshot.sha256,
        data_size=snapshot.data_size,
        members=snapshot.members,
        tier=snapshot.tier,
        retain_until=snapshot.retain_until,
        row_counts=snapshot.row_counts,
        warnings=snapshot.warnings,
        error=snapshot.error,
        copies=[
            CopyOut(
                destination=c.destination.name,
                status=c.status,
                size=c.size,
                retain_until=c.retain_until,
                locked=c.locked,
                error=c.error,
                verified_at=c.verified_at,
                verify_level=c.verify_level,
                verify_ok=c.verify_ok,
                verify_error=c.verify_error,
            )
            for c in snapshot.copies.all()
        ],
    )


@router.get("/vault/status", response=ReadinessOut)
def status(request: HttpRequest) -> ReadinessOut:
    """How ready the installation's backups are (what the readiness score reads)."""
    _superuser(request)
    ready = readiness()
    return ReadinessOut(
        last_snapshot_at=ready.last_snapshot_at,
        last_verified_at=ready.last_verified_at,
        verified_ok=ready.verified_ok,
        level=ready.level,
        problems=ready.problems,
    )


@router.get("/vault/destinations", response=list[DestinationOut])
def destinations(request: HttpRequest) -> list[DestinationOut]:
    """Where snapshots go (credentials are never stored, so never shown)."""
    _superuser(request)
    return [
        DestinationOut(
            name=d.name,
            kind=d.kind,
            location=d.location,
            enabled=d.enabled,
            last_ok_at=d.last_ok_at,
            last_error=d.last_error,
            last_error_at=d.last_error_at,
        )
        for d in Destination.objects.order_by("name")
    ]


@router.get("/vault/snapshots", response=list[SnapshotOut])
def snapshots(
    request: HttpRequest, destination: str = "", offset: int = 0, limit: int = 100
) -> list[SnapshotOut]:
    """Snapshots, newest first, each with its copy on every destination; `destination`
    keeps those with a copy there (pruned copies are left out)."""
    _superuser(request)
    found = Snapshot.objects.order_by("-taken_at").prefetch_related("copies__destination")
    if destination:
        if not Destination.objects.filter(name=destination).exists():
            raise HttpError(404, f"No destination {destination}")
        found = found.filter(copies__destination__name=destination).exclude(
            copies__status=CopyStatus.PRUNED, copies__destination__name=destination
        )
    start = max(offset, 0)
    return [_snapshot_out(s) for s in found[start : start + max(1, min(limit, MAX_PAGE))]]


@router.post("/vault/snapshots", response={202: Started, 409: dict[str, str]})
def start_snapshot(request: HttpRequest, body: SnapshotIn) -> tuple[int, object]:
    """Take a snapshot now (in the background); poll GET /vault/snapshots for it."""
    _superuser(request)
    problem = not_ready()
    if problem:
        return 409, {"detail": problem}
    key = (body.request_key or request.headers.get("Idempotency-Key", "") or "")[:70]
    key = key or secrets.token_urlsafe(12)
    if not Snapshot.objects.filter(request_key=f"api:{key}").exists():
        snapshot_task.enqueue("api", f"api:{key}")
        record(None, "vault.snapshot.requested", None, {"request_key": [None, key]})
    return 202, Started(started="snapshot", request_key=key)


@router.post("/vault/verify", response={202: Started})
def start_verify(request: HttpRequest) -> tuple[int, Started]:
    """Restore-test the newest snapshot on each destination now (in the background)."""
    _superuser(request)
    verify_task.enqueue("api")
    return 202, Started(started="verify")
