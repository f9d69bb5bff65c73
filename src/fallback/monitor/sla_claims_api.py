"""API for SLA-credit claims: list, make (idempotent), read with the letter's figures, change
the letter's words, mark sent, record the vendor's answer, and the letter as a PDF.

Under /orgs/{slug}/sla-claims; another organisation's claim answers 404. Reading needs the
view capability; changing needs edit_setup (as the vendor's contract does)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import file_response
from fallback.incidents.models import Incident
from fallback.monitor import availability, sla_claims
from fallback.monitor.api import FieldProblem, Problems, _membership
from fallback.monitor.models import SlaClaim, System

router = Router(tags=["SLA claims"])


class ClaimIn(Schema):
    system: str
    month: str = ""
    incident: int | None = None
    request_key: str = ""


class ClaimPatch(Schema):
    opening: str | None = None
    closing: str | None = None


class AnswerIn(Schema):
    status: str
    credited_amount: Decimal | str | None = None
    note: str = ""


class ClaimOut(Schema):
    id: int
    reference: str
    system: str
    incident: int | None
    month: str
    status: str
    opening: str
    closing: str
    created_at: datetime
    sent_at: datetime | None
    credited_amount: Decimal | None
    answered_at: datetime | None
    answer_note: str
    figures: dict[str, Any]


def _claim(m: Membership, pk: int) -> SlaClaim:
    return get_for_org_or_404(
        SlaClaim.objects.select_related("org", "system", "system__org", "incident"), m.org, pk=pk
    )


def _out(claim: SlaClaim) -> ClaimOut:
    return ClaimOut(
        id=claim.pk,
        reference=claim.reference,
        system=claim.system.slug,
        incident=claim.incident_id,
        month=claim.month.strftime("%Y-%m"),
        status=claim.status,
        opening=claim.opening,
        closing=claim.closing,
        created_at=claim.created_at,
        sent_at=claim.sent_at,
        credited_amount=claim.credited_amount,
        answered_at=claim.answered_at,
        answer_note=claim.answer_note,
        figures=sla_claims.current_figures(claim),
    )


def _problems(exc: sla_claims.ClaimError) -> tuple[int, Problems]:
    return 422, Problems(
        detail=str(exc),
        errors=[FieldProblem(field=f or "__all__", message=m or str(exc)) for f, m in exc.errors],
    )


@router.get("/orgs/{slug}/sla-claims", response=list[ClaimOut])
def list_claims(request: HttpRequest, slug: str) -> list[ClaimOut]:
    m = _membership(request, slug, Capability.VIEW)
    claims = SlaClaim.objects.filter(org=m.org).select_related("org", "system", "incident")
    return [_out(c) for c in claims]


@router.post("/orgs/{slug}/sla-claims", response={200: ClaimOut, 201: ClaimOut, 422: Problems})
def create_claim(request: HttpRequest, slug: str, payload: ClaimIn) -> tuple[int, Any]:
    """A draft claim for a system's month, or one incident's outages in it. The same
    `request_key` (or the same system, month and incident) answers 200 with the claim
    made before."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    system = System.objects.filter(org=m.org, slug=payload.system).select_related("org").first()
    if system is None:
        return 422, Problems(
            detail="No such system.",
            errors=[FieldProblem(field="system", message=f"no system {payload.system!r} here")],
        )
    incident = None
    if payload.incident is not None:
        incident = Incident.objects.filter(org=m.org, pk=payload.incident).first()
        if incident is None:
            return 422, Problems(
                detail="No such incident.",
                errors=[FieldProblem(field="incident", message="no such incident here")],
            )
    try:
        if payload.month:
            month = availability.parse_month(payload.month)
        elif incident is not None:
            month = incident.opened_at.astimezone(availability.zone(m.org)).date()
        else:
            raise ValueError("give the month, YYYY-MM, or an incident")
    except ValueError as exc:
        return 422, Problems(
            detail=str(exc), errors=[FieldProblem(field="month", message=str(exc))]
        )
    try:
        claim, created = sla_claims.create(
            system, month, incident, by=request.user, request_key=payload.request_key
        )
    except sla_claims.ClaimError as exc:
        return _problems(exc)
    return (201 if created else 200), _out(claim)


@router.get("/orgs/{slug}/sla-claims/{claim_id}", response=ClaimOut)
def get_claim(request: HttpRequest, slug: str, claim_id: int) -> ClaimOut:
    m = _membership(request, slug, Capability.VIEW)
    return _out(_claim(m, claim_id))


@router.patch("/orgs/{slug}/sla-claims/{claim_id}", response={200: ClaimOut, 422: Problems})
def edit_claim(
    request: HttpRequest, slug: str, claim_id: int, payload: ClaimPatch
) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.EDIT_SETUP)
    claim = _claim(m, claim_id)
    try:
        sla_claims.edit(
            claim,
            opening=claim.opening if payload.opening is None else payload.opening,
            closing=claim.closing if payload.closing is None else payload.closing,
        )
    except sla_claims.ClaimError as exc:
        return _problems(exc)
    return 200, _out(claim)


@router.post("/orgs/{slug}/sla-claims/{claim_id}/sent", response=ClaimOut)
def mark_sent(request: HttpRequest, slug: str, claim_id: int) -> ClaimOut:
    """The letter went to the vendor: its figures are kept as they are now (again: no-op)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    claim = _claim(m, claim_id)
    sla_claims.mark_sent(claim)
    return _out(claim)


@router.post("/orgs/{slug}/sla-claims/{claim_id}/answer", response={200: ClaimOut, 422: Problems})
def answer(request: HttpRequest, slug: str, claim_id: int, payload: AnswerIn) -> tuple[int, Any]:
    """The vendor's answer: `credited` with `credited_amount`, or `refused`."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    claim = _claim(m, claim_id)
    try:
        sla_claims.answer(claim, payload.status, amount=payload.credited_amount, note=payload.note)
    except sla_claims.ClaimError as exc:
        return _problems(exc)
    return 200, _out(claim)


@router.get("/orgs/{slug}/sla-claims/{claim_id}/pdf")
def claim_pdf(request: HttpRequest, slug: str, claim_id: int) -> HttpResponse:
    m = _membership(request, slug, Capability.VIEW)
    claim = _claim(m, claim_id)
    return file_response(sla_claims.letter_pdf(claim), f"sla-claim-{claim.reference}.pdf")
