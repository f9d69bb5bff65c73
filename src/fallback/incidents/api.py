"""API for incidents: list, read, declare, confirm, resolve, add notes.

Each action is one of fallback.incidents.lifecycle's; what the incident's state does not
allow (resolving a resolved incident, say) answers 409 with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.accounts.access import membership_or_404, require
from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.incidents import lifecycle
from fallback.incidents.models import Incident, Status
from fallback.monitor.models import System

router = Router(tags=["incidents"])


class TimelineOut(Schema):
    at: datetime
    kind: str
    actor: str
    text: str


class IncidentOut(Schema):
    id: int
    title: str
    status: str
    is_exercise: bool
    declared_manually: bool
    summary: str
    systems: list[str]
    opened_at: datetime
    declared_at: datetime | None
    recovered_at: datetime | None
    resolved_at: datetime | None


class IncidentDetail(IncidentOut):
    timeline: list[TimelineOut]


class DeclareIn(Schema):
    title: str
    systems: list[str] = []  # slugs
    is_exercise: bool = False
    summary: str = ""


class ResolveIn(Schema):
    note: str = ""


class NoteIn(Schema):
    text: str


def _membership(request: HttpRequest, slug: str, capability: Capability) -> Membership:
    m = membership_or_404(request.user, slug)
    try:
        require(m, capability)
    except Exception as exc:
        raise HttpError(403, str(exc)) from exc
    return m


def _incident(m: Membership, incident_id: int) -> Incident:
    return get_for_org_or_404(Incident.objects.select_related("org"), m.org, pk=incident_id)


def _out(i: Incident) -> IncidentOut:
    return IncidentOut(
        id=i.pk,
        title=i.title,
        status=i.status,
        is_exercise=i.is_exercise,
        declared_manually=i.declared_manually,
        summary=i.summary,
        systems=[s.slug for s in i.systems.order_by("slug")],
        opened_at=i.opened_at,
        declared_at=i.declared_at,
        recovered_at=i.recovered_at,
        resolved_at=i.resolved_at,
    )


def _detail(i: Incident) -> IncidentDetail:
    timeline = [
        TimelineOut(at=e.at, kind=e.kind, actor=e.actor_label, text=e.text)
        for e in i.timeline.order_by("at", "id")
    ]
    return IncidentDetail(**_out(i).dict(), timeline=timeline)


@router.get("/orgs/{slug}/incidents", response=list[IncidentOut])
def list_incidents(
    request: HttpRequest,
    slug: str,
    status: Literal["open", "resolved", "all"] = "all",
    limit: int = 100,
) -> list[IncidentOut]:
    """Open incidents first, then the rest, newest first within each."""
    m = _membership(request, slug, Capability.VIEW)
    qs = Incident.objects.filter(org=m.org).prefetch_related("systems")
    if status == "open":
        qs = qs.exclude(status=Status.RESOLVED)
    elif status == "resolved":
        qs = qs.filter(status=Status.RESOLVED)
    incidents = sorted(qs.order_by("-opened_at", "-pk"), key=lambda i: not i.is_open)
    return [_out(i) for i in incidents[: max(1, min(limit, 1000))]]


@router.get("/orgs/{slug}/incidents/{incident_id}", response=IncidentDetail)
def get_incident(request: HttpRequest, slug: str, incident_id: int) -> IncidentDetail:
    m = _membership(request, slug, Capability.VIEW)
    return _detail(_incident(m, incident_id))


@router.post("/orgs/{slug}/incidents", response={201: IncidentDetail})
def declare(request: HttpRequest, slug: str, payload: DeclareIn) -> tuple[int, Any]:
    """Declare an outage (or a drill, `is_exercise`) the checks cannot see."""
    m = _membership(request, slug, Capability.DECLARE_OUTAGE)
    systems = list(System.objects.filter(org=m.org, slug__in=payload.systems))
    unknown = sorted(set(payload.systems) - {s.slug for s in systems})
    if unknown:
        raise HttpError(422, f"systems: no such system here: {', '.join(unknown)}")
    try:
        incident = lifecycle.declare_manually(
            m.org,
            systems,
            payload.title,
            request.user,
            is_exercise=payload.is_exercise,
            summary=payload.summary,
        )
    except lifecycle.IncidentError as exc:
        raise HttpError(409, str(exc)) from exc
    return 201, _detail(incident)


@router.post("/orgs/{slug}/incidents/{incident_id}/confirm", response=IncidentDetail)
def confirm(request: HttpRequest, slug: str, incident_id: int) -> IncidentDetail:
    """A person says it really is down: declared now (suspected → declared)."""
    m = _membership(request, slug, Capability.DECLARE_OUTAGE)
    incident = _incident(m, incident_id)
    try:
        lifecycle.confirm(incident, request.user)
    except lifecycle.IncidentError as exc:
        raise HttpError(409, str(exc)) from exc
    return _detail(incident)


@router.post("/orgs/{slug}/incidents/{incident_id}/resolve", response=IncidentDetail)
def resolve(
    request: HttpRequest, slug: str, incident_id: int, payload: ResolveIn
) -> IncidentDetail:
    m = _membership(request, slug, Capability.DECLARE_OUTAGE)
    incident = _incident(m, incident_id)
    try:
        lifecycle.resolve(incident, request.user, note=payload.note)
    except lifecycle.IncidentError as exc:
        raise HttpError(409, str(exc)) from exc
    return _detail(incident)


@router.post("/orgs/{slug}/incidents/{incident_id}/notes", response={201: TimelineOut})
def add_note(
    request: HttpRequest, slug: str, incident_id: int, payload: NoteIn
) -> tuple[int, TimelineOut]:
    m = _membership(request, slug, Capability.DECLARE_OUTAGE)
    incident = _incident(m, incident_id)
    try:
        entry = lifecycle.add_note(incident, request.user, payload.text)
    except lifecycle.IncidentError as exc:
        raise HttpError(422, f"text: {exc}") from exc
    return 201, TimelineOut(at=entry.at, kind=entry.kind, actor=entry.actor_label, text=entry.text)
