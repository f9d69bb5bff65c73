"""API for an incident's follow-up compensation: the offer, its list of codes, and who got
what (with whether the message carrying it was sent), and marking codes redeemed.

Under /orgs/{slug}/comms/incidents/{incident_id}/; another organisation's incident answers
404. Reading needs the view capability, changing needs send_notices."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.comms import compensation
from fallback.comms.api import _membership, _problems
from fallback.comms.models import Compensation, Offer
from fallback.incidents.models import Incident
from fallback.monitor.api import Problems

router = Router(tags=["follow-up"])
INC = "/orgs/{slug}/comms/incidents/{incident_id}"


class OfferIn(Schema):
    kind: str
    description: str = ""
    prefix: str = ""


class OfferOut(Schema):
    kind: str
    description: str
    prefix: str
    given: int
    sent: int
    redeemed: int
    codes: int
    codes_left: int


class CodesIn(Schema):
    text: str


class CodesOut(Schema):
    added: int
    codes_left: int


class CompensationOut(Schema):
    id: int
    customer_key: str
    customer_name: str
    code: str
    offer: str
    given_at: datetime
    notice: int | None
    message: str
    sent_at: datetime | None
    redeemed_at: datetime | None
    is_exercise: bool


class RedeemIn(Schema):
    redeemed: bool = True


def _incident(m: Membership, incident_id: int) -> Incident:
    return get_for_org_or_404(Incident.objects.select_related("org"), m.org, pk=incident_id)


def _offer_out(m: Membership, incident: Incident, offer: Offer) -> OfferOut:
    s = compensation.summary(m.org, incident, offer)
    return OfferOut(
        kind=offer.kind, description=offer.description, prefix=offer.prefix, **asdict(s)
    )


@router.get(INC + "/offer", response=OfferOut)
def get_offer(request: HttpRequest, slug: str, incident_id: int) -> OfferOut:
    m = _membership(request, slug, Capability.VIEW)
    incident = _incident(m, incident_id)
    offer = compensation.offer_for(incident)
    if offer is None:
        raise HttpError(404, "This incident has no offer yet.")
    return _offer_out(m, incident, offer)


@router.put(INC + "/offer", response={200: OfferOut, 422: Problems})
def put_offer(
    request: HttpRequest, slug: str, incident_id: int, payload: OfferIn
) -> tuple[int, Any]:
    """Choose or change the offer: kind list, generated, free_shipping or text."""
    m = _membership(request, slug, Capability.SEND_NOTICES)
    incident = _incident(m, incident_id)
    try:
        offer = compensation.save_offer(
            incident, payload.kind, payload.description, payload.prefix, by=request.user
        )
    except compensation.CompensationError as exc:
        return _problems(exc.errors)
    return 200, _offer_out(m, incident, offer)


@router.post(INC + "/offer/codes", response={201: CodesOut, 404: Problems, 422: Problems})
def add_codes(
    request: HttpRequest, slug: str, incident_id: int, payload: CodesIn
) -> tuple[int, Any]:
    """Add codes (one per line, or CSV with a "code" column); any problem names its line
    and nothing is added."""
    m = _membership(request, slug, Capability.SEND_NOTICES)
    incident = _incident(m, incident_id)
    offer = compensation.offer_for(incident)
    if offer is None:
        return 404, Problems(detail="Choose the offer first.", errors=[])
    try:
        added = compensation.add_codes(offer, payload.text, by=request.user)
    except compensation.CompensationError as exc:
        return _problems(exc.errors)
    return 201, CodesOut(added=added, codes_left=compensation.free_codes(offer).count())


@router.get(INC + "/compensation", response=list[CompensationOut])
def list_compensation(request: HttpRequest, slug: str, incident_id: int) -> list[CompensationOut]:
    m = _membership(request, slug, Capability.VIEW)
    incident = _incident(m, incident_id)
    return [
        CompensationOut(
            id=r.given.pk,
            customer_key=r.given.customer_key,
            customer_name=r.given.customer_name,
            code=r.given.code_text,
            offer=r.given.offer.description,
            given_at=r.given.given_at,
            notice=r.given.notice_id,
            message=r.message,
            sent_at=r.sent_at,
            redeemed_at=r.given.redeemed_at,
            is_exercise=r.given.is_exercise,
        )
        for r in compensation.rows(m.org, incident)
    ]


@router.post(INC + "/compensation/{compensation_id}/redeem", response={200: dict})
def redeem(
    request: HttpRequest, slug: str, incident_id: int, compensation_id: int, payload: RedeemIn
) -> tuple[int, dict[str, Any]]:
    m = _membership(request, slug, Capability.SEND_NOTICES)
    incident = _incident(m, incident_id)
    given = get_for_org_or_404(
        Compensation.objects.select_related("org"), m.org, pk=compensation_id, incident=incident
    )
    changed = compensation.redeem(given, payload.redeemed, by=request.user)
    return 200, {"redeemed": given.redeemed_at is not None, "changed": changed}
