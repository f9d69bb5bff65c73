"""API for connectors, their syncs and the replica's records (current or as of a moment).

Everything sits under /orgs/{slug}/ and starts from the token owner's organisation. Secrets
are write-only: they may be given, never read back (`secrets_set` lists which are set). A
"sync now" with an `Idempotency-Key` header starts at most one sync per key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.monitor.api import Problems, _membership, _problems
from fallback.replica import credentials, editing, freshness, history
from fallback.replica import sync as syncing
from fallback.replica.models import Connector, Record, Sync
from fallback.replica.schema import ENTITIES

router = Router(tags=["replica"])

MAX_PAGE = 500


class ConnectorIn(Schema):
    name: str
    slug: str = ""
    kind: str
    config: dict[str, Any] = {}
    mapping: dict[str, Any] = {}
    system: str | None = None
    interval_minutes: int = 15
    full_sweep_hours: int = 24
    rpo_minutes: int = 60
    drop_guard_percent: int = 20
    enabled: bool = True
    secrets: dict[str, str] = {}


class ConnectorPatch(Schema):
    name: str | None = None
    config: dict[str, Any] | None = None
    mapping: dict[str, Any] | None = None
    system: str | None = None
    interval_minutes: int | None = None
    full_sweep_hours: int | None = None
    rpo_minutes: int | None = None
    drop_guard_percent: int | None = None
    enabled: bool | None = None
    secrets: dict[str, str] | None = None


class ConnectorOut(Schema):
    slug: str
    name: str
    kind: str
    config: dict[str, Any]
    mapping: dict[str, Any]
    system: str | None
    interval_minutes: int
    full_sweep_hours: int
    rpo_minutes: int
    drop_guard_percent: int
    enabled: bool
    secrets_set: list[str]
    next_sync_at: datetime
    as_of: datetime | None
    age_minutes: float | None
    stale: bool
    # The effective RPO: the strictest of rpo_minutes and what the plan needs of this copy.
    target_minutes: int
    target_from: str


class SyncOut(Schema):
    id: int
    connector: str
    trigger: str
    full: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    fetched: int
    created: int
    changed: int
    retired: int
    unchanged: int
    complete: bool
    error: str
    hold_reasons: list[str]
    problems: list[str]
    problem_count: int
    streams: dict[str, Any]


class RecordOut(Schema):
    id: int
    connector: str
    stream: str
    entity: str
    key: str
    name: str
    data: dict[str, Any]
    valid_from: datetime
    valid_to: datetime | None
    ended: str


def _connector(m: Membership, connector_slug: str) -> Connector:
    return get_for_org_or_404(
        Connector.objects.select_related("org", "system"), m.org, slug=connector_slug
    )


def _system_slug_to_id(m: Membership, payload: dict[str, Any]) -> None:
    if "system" in payload:
        slug = payload.pop("system")
        if slug:
            from fallback.monitor.models import System

            system = System.objects.filter(org=m.org, slug=slug).first()
            if system is None:
                raise editing.SetupInvalid([("system", f"no system {slug!r}")])
            payload["system"] = system
        else:
            payload["system"] = None


def _out(c: Connector) -> ConnectorOut:
    f = freshness.of(c, timezone.now())
    config = dict(c.config)
    if isinstance(config.get("headers"), dict):
        config["headers"] = dict.fromkeys(config["headers"], "•••")
    return ConnectorOut(
        slug=c.slug,
        name=c.name,
        kind=c.kind,
        config=config,
        mapping=c.mapping,
        system=c.system.slug if c.system else None,
        interval_minutes=c.interval_minutes,
        full_sweep_hours=c.full_sweep_hours,
        rpo_minutes=c.rpo_minutes,
        drop_guard_percent=c.drop_guard_percent,
        enabled=c.enabled,
        secrets_set=credentials.which_are_set(c),
        next_sync_at=c.next_sync_at,
        as_of=f.as_of,
        age_minutes=round(f.age.total_seconds() / 60, 1) if f.age is not None else None,
        stale=f.stale,
        target_minutes=round(f.target.total_seconds() / 60),
        target_from=f.stricter.source if f.stricter else "",
    )


def _sync_out(s: Sync) -> SyncOut:
    return SyncOut(
        id=s.pk,
        connector=s.connector.slug,
        trigger=s.trigger,
        full=s.full,
        status=s.status,
        started_at=s.started_at,
        finished_at=s.finished_at,
        fetched=s.fetched,
        created=s.created,
        changed=s.changed,
        retired=s.retired,
        unchanged=s.unchanged,
        complete=s.complete,
        error=s.error,
        hold_reasons=list(s.hold_reasons),
        problems=list(s.problems),
        problem_count=s.problem_count,
        streams=s.streams,
    )


def _record_out(r: Record) -> RecordOut:
    return RecordOut(
        id=r.pk,
        connector=r.connector.slug,
        stream=r.stream,
        entity=r.entity,
        key=r.key,
        name=r.name,
        data=r.data,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        ended=r.ended,
    )


# ------------------------------------------------------------------ connectors


@router.get("/orgs/{slug}/connectors", response=list[ConnectorOut])
def list_connectors(request: HttpRequest, slug: str) -> list[ConnectorOut]:
    m = _membership(request, slug, Capability.VIEW)
    return [_out(c) for c in Connector.objects.filter(org=m.org).select_related("system")]


@router.post("/orgs/{slug}/connectors", response={201: ConnectorOut, 422: Problems})
def create_connector(request: HttpRequest, slug: str, payload: ConnectorIn) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    values = payload.dict()
    secrets = values.pop("secrets")
    try:
        _system_slug_to_id(m, values)
        connector = editing.create_connector(m.org, secrets=secrets, **values)
    except editing.SetupInvalid as exc:
        return _problems(exc)
    return 201, _out(connector)


@router.get("/orgs/{slug}/connectors/{connector_slug}", response=ConnectorOut)
def get_connector(request: HttpRequest, slug: str, connector_slug: str) -> ConnectorOut:
    m = _membership(request, slug, Capability.VIEW)
    return _out(_connector(m, connector_slug))


@router.patch(
    "/orgs/{slug}/connectors/{connector_slug}", response={200: ConnectorOut, 422: Problems}
)
def patch_connector(
    request: HttpRequest, slug: str, connector_slug: str, payload: ConnectorPatch
) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    connector = _connector(m, connector_slug)
    values = payload.dict(exclude_unset=True)
    secrets = values.pop("secrets", None) or {}
    try:
        _system_slug_to_id(m, values)
        editing.update_connector(connector, secrets=secrets, **values)
    except editing.SetupInvalid as exc:
        return _problems(exc)
    return 200, _out(connector)


@router.post(
    "/orgs/{slug}/connectors/{connector_slug}/sync",
    response={202: dict[str, Any], 409: dict[str, str]},
)
def sync_now(
    request: HttpRequest, slug: str, connector_slug: str, full: bool | None = None
) -> tuple[int, Any]:
    """Queue a sync now (`?full=true` for a full sweep, `false` for changes only). With an
    `Idempotency-Key` header, repeating the request queues nothing more."""
    m = _membership(request, slug, Capability.WORK_DESK)
    connector = _connector(m, connector_slug)
    key = request.headers.get("Idempotency-Key", "").strip()
    request_key = f"api:{m.org_id}:{key}"[:80] if key else ""
    if request_key:
        existing = Sync.objects.filter(org=m.org, request_key=request_key).first()
        if existing is not None:
            return 202, {"queued": False, "sync": existing.pk, "status": existing.status}
    from fallback.replica.tasks import sync_connector

    result = sync_connector.enqueue(connector.pk, "api", full, request_key)
    return 202, {"queued": True, "task": str(result.id)}


@router.get("/orgs/{slug}/connectors/{connector_slug}/syncs", response=list[SyncOut])
def list_syncs(
    request: HttpRequest, slug: str, connector_slug: str, limit: int = 50
) -> list[SyncOut]:
    m = _membership(request, slug, Capability.VIEW)
    connector = _connector(m, connector_slug)
    syncs = Sync.objects.filter(org=m.org, connector=connector).select_related("connector")
    return [_sync_out(s) for s in syncs[: max(1, min(limit, MAX_PAGE))]]


def _sync(m: Membership, sync_id: int) -> Sync:
    return get_for_org_or_404(Sync.objects.select_related("connector"), m.org, pk=sync_id)


@router.get("/orgs/{slug}/syncs/{sync_id}", response=SyncOut)
def get_sync(request: HttpRequest, slug: str, sync_id: int) -> SyncOut:
    m = _membership(request, slug, Capability.VIEW)
    return _sync_out(_sync(m, sync_id))


@router.post("/orgs/{slug}/syncs/{sync_id}/release", response={200: SyncOut, 409: dict[str, str]})
def release_sync(request: HttpRequest, slug: str, sync_id: int) -> tuple[int, Any]:
    """Apply a held sync after looking at it."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    try:
        done = syncing.release(_sync(m, sync_id), by=request.user)
    except syncing.SyncRefused as exc:
        return 409, {"detail": str(exc)}
    return 200, _sync_out(done)


@router.post("/orgs/{slug}/syncs/{sync_id}/discard", response={200: SyncOut, 409: dict[str, str]})
def discard_sync(request: HttpRequest, slug: str, sync_id: int) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    try:
        done = syncing.discard(_sync(m, sync_id), by=request.user)
    except syncing.SyncRefused as exc:
        return 409, {"detail": str(exc)}
    return 200, _sync_out(done)


# --------------------------------------------------------------------- records


@router.get("/orgs/{slug}/records", response=list[RecordOut])
def list_records(
    request: HttpRequest,
    slug: str,
    entity: str,
    as_of: datetime | None = None,
    q: str = "",
    offset: int = 0,
    limit: int = 100,
) -> list[RecordOut]:
    """Records of one kind (customer, product, …), current or as they were at `as_of`."""
    m = _membership(request, slug, Capability.VIEW)
    if entity not in ENTITIES:
        raise HttpError(422, f"unknown entity {entity!r} (known: {', '.join(ENTITIES)})")
    if as_of is not None and timezone.is_naive(as_of):
        raise HttpError(422, "as_of needs a time zone, e.g. 2026-11-22T10:00:00Z")
    records = (
        history.as_of(m.org, as_of, entity) if as_of else history.current(m.org, entity)
    ).select_related("connector")
    if q:
        records = records.filter(name__icontains=q) | records.filter(key=q)
    records = records.order_by("name", "pk")
    start = max(offset, 0)
    return [_record_out(r) for r in records[start : start + max(1, min(limit, MAX_PAGE))]]


@router.get("/orgs/{slug}/records/{record_id}/versions", response=list[RecordOut])
def record_versions(request: HttpRequest, slug: str, record_id: int) -> list[RecordOut]:
    """Every version of the record this version belongs to, newest first."""
    m = _membership(request, slug, Capability.VIEW)
    record = get_for_org_or_404(Record.objects.all(), m.org, pk=record_id)
    versions = history.versions(m.org, record.connector_id, record.stream, record.key)
    return [_record_out(r) for r in versions.select_related("connector")]
