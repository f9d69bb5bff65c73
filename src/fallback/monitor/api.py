"""API for systems, checks, their state history, the vendor report, and the push endpoint.

Everything sits under /orgs/{slug}/ and starts from the organisation of the token's owner: a
system, check or organisation of someone else answers 404. Bad input answers 422 with
`errors`, each naming the field (a check's config fields as "config.<name>").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.accounts.access import membership_or_404, require
from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.monitor import availability, editing, heartbeats
from fallback.monitor.models import Check, StateChange, System

router = Router(tags=["systems"])
push_router = Router(tags=["heartbeats"])


class FieldProblem(Schema):
    field: str
    message: str


class Problems(Schema):
    detail: str
    errors: list[FieldProblem]


class SystemIn(Schema):
    name: str
    slug: str = ""
    kind: str = "other"
    criticality: str = "high"
    vendor: str = ""
    vendor_contacts: str = ""
    account_number: str = ""
    sla_percent: Decimal | None = None
    credit_terms: str = ""
    credit_tiers: str = ""
    monthly_fee: Decimal | None = None
    status_page_url: str = ""
    notes: str = ""
    trigger_minutes: int = 30
    failures_to_down: int = 3
    successes_to_up: int = 2
    flap_changes: int = 6
    flap_window_minutes: int = 30


class SystemPatch(Schema):
    name: str | None = None
    slug: str | None = None
    kind: str | None = None
    criticality: str | None = None
    vendor: str | None = None
    vendor_contacts: str | None = None
    account_number: str | None = None
    sla_percent: Decimal | None = None
    credit_terms: str | None = None
    credit_tiers: str | None = None
    monthly_fee: Decimal | None = None
    status_page_url: str | None = None
    notes: str | None = None
    trigger_minutes: int | None = None
    failures_to_down: int | None = None
    successes_to_up: int | None = None
    flap_changes: int | None = None
    flap_window_minutes: int | None = None


class SystemOut(Schema):
    slug: str
    name: str
    kind: str
    criticality: str
    vendor: str
    vendor_contacts: str
    account_number: str
    sla_percent: float | None
    credit_terms: str
    credit_tiers: str
    monthly_fee: float | None
    status_page_url: str
    notes: str
    trigger_minutes: int
    failures_to_down: int
    successes_to_up: int
    flap_changes: int
    flap_window_minutes: int
    paused: bool
    state: str
    state_since: datetime
    state_reason: str
    flapping_since: datetime | None


class CheckIn(Schema):
    name: str
    kind: str
    config: dict[str, Any] = {}
    interval_seconds: int = 60
    timeout_seconds: float = 10.0
    retries: int = 2
    retry_delay_seconds: float = 3.0
    enabled: bool = True
    is_canary: bool = False


class CheckPatch(Schema):
    name: str | None = None
    kind: str | None = None
    config: dict[str, Any] | None = None
    interval_seconds: int | None = None
    timeout_seconds: float | None = None
    retries: int | None = None
    retry_delay_seconds: float | None = None
    enabled: bool | None = None
    is_canary: bool | None = None


class CheckOut(Schema):
    id: int
    system: str
    name: str
    kind: str
    config: dict[str, Any]
    interval_seconds: int
    timeout_seconds: float
    retries: int
    retry_delay_seconds: float
    enabled: bool
    is_canary: bool
    push_url: str | None
    status: str
    status_since: datetime
    last_run_at: datetime | None
    last_message: str
    last_response_ms: float | None


class SystemDetail(SystemOut):
    checks: list[CheckOut]


class StateChangeOut(Schema):
    at: datetime
    from_state: str
    to_state: str
    reason: str


class OutageOut(Schema):
    start: datetime
    end: datetime
    minutes: float
    ongoing: bool


class ReportOut(Schema):
    system: str
    name: str
    vendor: str
    month: str
    complete: bool
    measured_minutes: float
    maintenance_minutes: float
    unmeasured_minutes: float
    downtime_minutes: float
    availability_percent: float | None
    sla_percent: float | None
    sla_met: bool | None
    credit_terms: str
    outages: list[OutageOut]
    incidents: list[int]


def _membership(request: HttpRequest, slug: str, capability: Capability) -> Membership:
    m = membership_or_404(request.user, slug)
    try:
        require(m, capability)
    except Exception as exc:
        raise HttpError(403, str(exc)) from exc
    return m


def _system(m: Membership, system_slug: str) -> System:
    return get_for_org_or_404(System.objects.select_related("org"), m.org, slug=system_slug)


def _check(m: Membership, system: System, check_id: int) -> Check:
    return get_for_org_or_404(
        Check.objects.select_related("system", "system__org"), m.org, pk=check_id, system=system
    )


def _problems(exc: editing.SetupInvalid) -> tuple[int, Problems]:
    return 422, Problems(
        detail=str(exc),
        errors=[FieldProblem(field=f or "__all__", message=m) for f, m in exc.errors],
    )


def _system_out(s: System) -> SystemOut:
    values = {f: getattr(s, f) for f in SystemOut.model_fields}
    values["sla_percent"] = float(s.sla_percent) if s.sla_percent is not None else None
    values["monthly_fee"] = float(s.monthly_fee) if s.monthly_fee is not None else None
    return SystemOut(**values)


def _check_out(request: HttpRequest, c: Check, m: Membership) -> CheckOut:
    secrets_visible = m.can(Capability.EDIT_SETUP)
    config = c.config if secrets_visible else editing._audit_config(c.config)
    push_url = None
    if c.push_token and secrets_visible:
        push_url = request.build_absolute_uri(f"/api/push/{c.push_token}")
    return CheckOut(
        id=c.pk,
        system=c.system.slug,
        name=c.name,
        kind=c.kind,
        config=config,
        interval_seconds=c.interval_seconds,
        timeout_seconds=c.timeout_seconds,
        retries=c.retries,
        retry_delay_seconds=c.retry_delay_seconds,
        enabled=c.enabled,
        is_canary=c.is_canary,
        push_url=push_url,
        status=c.status,
        status_since=c.status_since,
        last_run_at=c.last_run_at,
        last_message=c.last_message,
        last_response_ms=c.last_response_ms,
    )


# --------------------------------------------------------------------- systems


@router.get("/orgs/{slug}/systems", response=list[SystemOut])
def list_systems(request: HttpRequest, slug: str) -> list[SystemOut]:
    m = _membership(request, slug, Capability.VIEW)
    return [_system_out(s) for s in System.objects.filter(org=m.org).order_by("name")]


@router.post("/orgs/{slug}/systems", response={201: SystemOut, 422: Problems})
def create_system(request: HttpRequest, slug: str, payload: SystemIn) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    try:
        system = editing.create_system(m.org, **payload.dict())
    except editing.SetupInvalid as exc:
        return _problems(exc)
    return 201, _system_out(system)


@router.get("/orgs/{slug}/systems/{system_slug}", response=SystemDetail)
def get_system(request: HttpRequest, slug: str, system_slug: str) -> SystemDetail:
    m = _membership(request, slug, Capability.VIEW)
    system = _system(m, system_slug)
    checks = [_check_out(request, c, m) for c in system.checks.select_related("system")]
    return SystemDetail(**_system_out(system).dict(), checks=checks)


@router.patch("/orgs/{slug}/systems/{system_slug}", response={200: SystemOut, 422: Problems})
def patch_system(
    request: HttpRequest, slug: str, system_slug: str, payload: SystemPatch
) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    system = _system(m, system_slug)
    try:
        editing.update_system(system, **payload.dict(exclude_unset=True))
    except editing.SetupInvalid as exc:
        return _problems(exc)
    return 200, _system_out(system)


@router.delete("/orgs/{slug}/systems/{system_slug}", response={204: None})
def delete_system(request: HttpRequest, slug: str, system_slug: str) -> tuple[int, None]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    editing.delete_system(_system(m, system_slug))
    return 204, None


@router.post("/orgs/{slug}/systems/{system_slug}/pause", response=SystemOut)
def pause_system(request: HttpRequest, slug: str, system_slug: str) -> SystemOut:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    system = _system(m, system_slug)
    editing.set_paused(system, True)
    return _system_out(system)


@router.post("/orgs/{slug}/systems/{system_slug}/resume", response=SystemOut)
def resume_system(request: HttpRequest, slug: str, system_slug: str) -> SystemOut:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    system = _system(m, system_slug)
    editing.set_paused(system, False)
    return _system_out(system)


@router.get("/orgs/{slug}/systems/{system_slug}/history", response=list[StateChangeOut])
def system_history(
    request: HttpRequest, slug: str, system_slug: str, limit: int = 100
) -> list[StateChangeOut]:
    """State changes, newest first: the evidence behind the vendor report."""
    m = _membership(request, slug, Capability.VIEW)
    system = _system(m, system_slug)
    changes = StateChange.objects.filter(org=m.org, system=system).order_by("-at", "-id")
    return [
        StateChangeOut(at=c.at, from_state=c.from_state, to_state=c.to_state, reason=c.reason)
        for c in changes[: max(1, min(limit, 1000))]
    ]


# ---------------------------------------------------------------------- checks


@router.get("/orgs/{slug}/systems/{system_slug}/checks", response=list[CheckOut], tags=["checks"])
def list_checks(request: HttpRequest, slug: str, system_slug: str) -> list[CheckOut]:
    m = _membership(request, slug, Capability.VIEW)
    system = _system(m, system_slug)
    return [_check_out(request, c, m) for c in system.checks.select_related("system")]


@router.post(
    "/orgs/{slug}/systems/{system_slug}/checks",
    response={201: CheckOut, 422: Problems},
    tags=["checks"],
)
def create_check(
    request: HttpRequest, slug: str, system_slug: str, payload: CheckIn
) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    system = _system(m, system_slug)
    try:
        check = editing.create_check(system, **payload.dict())
    except editing.SetupInvalid as exc:
        return _problems(exc)
    return 201, _check_out(request, check, m)


@router.get(
    "/orgs/{slug}/systems/{system_slug}/checks/{check_id}", response=CheckOut, tags=["checks"]
)
def get_check(request: HttpRequest, slug: str, system_slug: str, check_id: int) -> CheckOut:
    m = _membership(request, slug, Capability.VIEW)
    return _check_out(request, _check(m, _system(m, system_slug), check_id), m)


@router.patch(
    "/orgs/{slug}/systems/{system_slug}/checks/{check_id}",
    response={200: CheckOut, 422: Problems},
    tags=["checks"],
)
def patch_check(
    request: HttpRequest, slug: str, system_slug: str, check_id: int, payload: CheckPatch
) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    check = _check(m, _system(m, system_slug), check_id)
    try:
        editing.update_check(check, **payload.dict(exclude_unset=True))
    except editing.SetupInvalid as exc:
        return _problems(exc)
    return 200, _check_out(request, check, m)


@router.delete(
    "/orgs/{slug}/systems/{system_slug}/checks/{check_id}", response={204: None}, tags=["checks"]
)
def delete_check(
    request: HttpRequest, slug: str, system_slug: str, check_id: int
) -> tuple[int, None]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    editing.delete_check(_check(m, _system(m, system_slug), check_id))
    return 204, None


# --------------------------------------------------------------- vendor report


def _report_out(r: availability.MonthReport) -> ReportOut:
    measure = r.measure
    return ReportOut(
        system=r.system.slug,
        name=r.system.name,
        vendor=r.system.vendor,
        month=r.month.strftime("%Y-%m"),
        complete=r.complete,
        measured_minutes=availability.minutes(measure.measured),
        maintenance_minutes=availability.minutes(measure.excluded),
        unmeasured_minutes=availability.minutes(measure.unmeasured),
        downtime_minutes=availability.minutes(measure.downtime),
        availability_percent=float(r.availability) if r.availability is not None else None,
        sla_percent=float(r.system.sla_percent) if r.system.sla_percent is not None else None,
        sla_met=r.sla_met,
        credit_terms=r.system.credit_terms,
        outages=[
            OutageOut(start=o.start, end=o.end, minutes=o.minutes, ongoing=o.ongoing)
            for o in measure.outages
        ],
        incidents=[i.pk for i in r.incidents],
    )


@router.get("/orgs/{slug}/report", response=list[ReportOut], tags=["vendor report"])
def vendor_report(request: HttpRequest, slug: str, month: str = "") -> list[ReportOut]:
    """Availability of every system in a calendar month (YYYY-MM, default this month) of the
    organisation's time zone; see the report page for how it is measured."""
    m = _membership(request, slug, Capability.VIEW)
    now = timezone.now()
    try:
        which: date = (
            availability.parse_month(month)
            if month
            else now.astimezone(availability.zone(m.org)).date().replace(day=1)
        )
    except ValueError as exc:
        raise HttpError(422, str(exc)) from exc
    return [_report_out(r) for r in availability.org_report(m.org, which, now)]


# ------------------------------------------------------------------ heartbeats


@push_router.api_operation(["GET", "POST"], "/push/{token}", auth=None, url_name="push")
def push(request: HttpRequest, token: str) -> HttpResponse:
    """A heartbeat check's ping. No token needed: the secret address is the credential."""
    check = heartbeats.record_ping(token, timezone.now())
    if check is None:
        return HttpResponse("not found", status=404, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
