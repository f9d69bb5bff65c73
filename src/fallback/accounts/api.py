"""API for organisations, members and the audit trail."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.accounts import membership as members
from fallback.accounts.access import membership_or_404, require
from fallback.accounts.models import Membership, User
from fallback.accounts.roles import Capability, Role
from fallback.accounts.scoping import get_for_org_or_404
from fallback.audit.models import AuditEvent

router = Router(tags=["organisations"])


class OrgOut(Schema):
    slug: str
    name: str
    time_zone: str
    currency: str
    locale: str
    role: str


class OrgPatch(Schema):
    name: str | None = None
    time_zone: str | None = None
    currency: str | None = None
    locale: str | None = None


class MemberOut(Schema):
    id: int
    email: str
    name: str
    role: str
    joined_at: datetime


class MemberIn(Schema):
    email: str
    role: Role = Role.STAFF
    name: str = ""


class MemberCreated(MemberOut):
    temporary_password: str | None = None


class MemberPatch(Schema):
    role: Role


class AuditOut(Schema):
    id: int
    at: datetime
    actor: str
    via: str
    action: str
    target_type: str
    target_id: str
    target: str
    changes: dict[str, object]


def _org_out(m: Membership) -> OrgOut:
    o = m.org
    return OrgOut(
        slug=o.slug,
        name=o.name,
        time_zone=o.time_zone,
        currency=o.currency,
        locale=o.locale,
        role=m.role,
    )


def _member_out(m: Membership) -> MemberOut:
    return MemberOut(
        id=m.pk,
        email=m.user.email,
        name=m.user.get_full_name(),
        role=m.role,
        joined_at=m.created_at,
    )


def _membership(request: HttpRequest, slug: str, capability: Capability) -> Membership:
    m = membership_or_404(request.user, slug)
    try:
        require(m, capability)
    except Exception as exc:
        raise HttpError(403, str(exc)) from exc
    return m


@router.get("/orgs", response=list[OrgOut], summary="Organisations you belong to")
def list_orgs(request: HttpRequest) -> list[OrgOut]:
    user: User = request.auth  # type: ignore[attr-defined]  # set by TokenAuth
    ms = Membership.objects.filter(user=user).select_related("org")
    return [_org_out(m) for m in ms]


@router.get("/orgs/{slug}", response=OrgOut)
def get_org(request: HttpRequest, slug: str) -> OrgOut:
    return _org_out(_membership(request, slug, Capability.VIEW))


@router.patch("/orgs/{slug}", response=OrgOut)
def patch_org(request: HttpRequest, slug: str, payload: OrgPatch) -> OrgOut:
    m = _membership(request, slug, Capability.MANAGE_ORGANISATION)
    try:
        members.update_organisation(m.org, **payload.dict(exclude_none=True))
    except ValidationError as exc:
        raise HttpError(
            422, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from exc
    m.org.refresh_from_db()
    return _org_out(m)


@router.get("/orgs/{slug}/members", response=list[MemberOut], tags=["members"])
def list_members(request: HttpRequest, slug: str) -> list[MemberOut]:
    org = _membership(request, slug, Capability.VIEW).org
    qs = Membership.objects.filter(org=org).select_related("user").order_by("user__email")
    return [_member_out(m) for m in qs]


@router.get("/orgs/{slug}/members/{member_id}", response=MemberOut, tags=["members"])
def get_member(request: HttpRequest, slug: str, member_id: int) -> MemberOut:
    org = _membership(request, slug, Capability.VIEW).org
    return _member_out(
        get_for_org_or_404(Membership.objects.select_related("user"), org, pk=member_id)
    )


@router.post("/orgs/{slug}/members", response={201: MemberCreated}, tags=["members"])
def add_member(request: HttpRequest, slug: str, payload: MemberIn) -> tuple[int, MemberCreated]:
    me = _membership(request, slug, Capability.MANAGE_MEMBERS)
    try:
        new = members.add_member(me.org, payload.email, payload.role, by=me, name=payload.name)
    except members.MembershipError as exc:
        raise HttpError(409, str(exc)) from exc
    out = _member_out(new.membership)
    return 201, MemberCreated(**out.dict(), temporary_password=new.temporary_password)


@router.patch("/orgs/{slug}/members/{member_id}", response=MemberOut, tags=["members"])
def patch_member(
    request: HttpRequest, slug: str, member_id: int, payload: MemberPatch
) -> MemberOut:
    me = _membership(request, slug, Capability.MANAGE_MEMBERS)
    target = get_for_org_or_404(
        Membership.objects.select_related("user", "org"), me.org, pk=member_id
    )
    try:
        members.change_role(target, payload.role, by=me)
    except members.MembershipError as exc:
        raise HttpError(409, str(exc)) from exc
    return _member_out(target)


@router.delete("/orgs/{slug}/members/{member_id}", response={204: None}, tags=["members"])
def delete_member(request: HttpRequest, slug: str, member_id: int) -> tuple[int, None]:
    me = _membership(request, slug, Capability.MANAGE_MEMBERS)
    target = get_for_org_or_404(
        Membership.objects.select_related("user", "org"), me.org, pk=member_id
    )
    try:
        members.remove_member(target, by=me)
    except members.MembershipError as exc:
        raise HttpError(409, str(exc)) from exc
    return 204, None


@router.get("/orgs/{slug}/audit", response=list[AuditOut], tags=["audit"])
def list_audit(request: HttpRequest, slug: str, limit: int = 100) -> list[AuditOut]:
    org = _membership(request, slug, Capability.VIEW).org
    events = AuditEvent.objects.filter(org=org)[: max(1, min(limit, 1000))]
    return [_audit_out(e) for e in events]


@router.get("/orgs/{slug}/audit/{event_id}", response=AuditOut, tags=["audit"])
def get_audit(request: HttpRequest, slug: str, event_id: int) -> AuditOut:
    org = _membership(request, slug, Capability.VIEW).org
    return _audit_out(get_for_org_or_404(AuditEvent.objects.all(), org, pk=event_id))


def _audit_out(e: AuditEvent) -> AuditOut:
    return AuditOut(
        id=e.pk,
        at=e.at,
        actor=e.actor_label,
        via=e.via,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        target=e.target_label,
        changes=e.changes,
    )
