"""API for notices: compose, edit, check, acknowledge and send; the outbox's progress; opt-outs
and key accounts. Everything sits under /orgs/{slug}/comms/.

Creating a notice takes a `request_key` (or an `Idempotency-Key` header): the same key
answers 200 with the notice made the first time. Sending is idempotent too: a notice is
sent once, and each recipient gets one message whatever is repeated. Bad input answers 422
with `errors` naming the field; what the notice's state does not allow answers 409; a
notice the checker stops answers 409 with its `findings`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.accounts.access import membership_or_404, require
from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.comms import (
    audiences,
    call_list,
    checker,
    notices,
    outbox,
    preferences,
    publishing,
    statuspage,
)
from fallback.comms.models import KeyAccount, Notice, OptOut, StatusUpdate
from fallback.incidents.models import Incident
from fallback.monitor.api import FieldProblem, Problems

router = Router(tags=["comms"])
SEND = Capability.SEND_NOTICES


class FindingOut(Schema):
    key: str
    code: str
    part: str
    message: str
    must_fix: bool
    acknowledged: bool


class ProgressOut(Schema):
    total: int
    queued: int
    in_flight: int
    sent: int
    failed: int
    bounced: int
    unknown: int
    cancelled: int
    per_minute: int
    percent: int
    last_sent_at: datetime | None


class NoticeOut(Schema):
    id: int
    incident_id: int
    audience: str
    phase: str
    channels: list[str]
    status: str
    is_exercise: bool
    subject: str
    notify: str
    explain: str
    solve: str
    predict: str
    apologise: str
    expected_return: str
    next_update_by: str
    findings: list[FindingOut]
    blocked: bool
    counts: dict[str, Any]
    progress: ProgressOut | None
    created_at: datetime
    sent_at: datetime | None


class NoticeIn(Schema):
    incident: int
    audience: str
    phase: str = "first_notice"
    channels: list[str] = ["email"]
    request_key: str = ""


class NoticeEdit(Schema):
    subject: str | None = None
    notify: str | None = None
    explain: str | None = None
    solve: str | None = None
    predict: str | None = None
    apologise: str | None = None
    expected_return: str | None = None
    next_update_by: str | None = None
    channels: list[str] | None = None


class CheckOut(Schema):
    findings: list[FindingOut]
    blocked: bool
    subject: str
    body: str
    audience: dict[str, Any]


class AcknowledgeIn(Schema):
    findings: list[str]


class SendIn(Schema):
    send_key: str = ""


class SentOut(Schema):
    notice: NoticeOut
    queued: int
    withheld_for_drill: int
    repeated: bool


class BlockedOut(Schema):
    detail: str
    findings: list[FindingOut]


class OptOutIn(Schema):
    address: str
    channel: str = ""
    reason: str = ""


class OptOutOut(Schema):
    id: int
    address: str
    channel: str
    reason: str
    created_at: datetime


class KeyAccountIn(Schema):
    customer_key: str
    name: str | None = None
    call_dont_email: bool | None = None
    phone: str | None = None
    contact_name: str | None = None
    note: str | None = None


class KeyAccountOut(Schema):
    id: int
    customer_key: str
    name: str
    call_dont_email: bool
    phone: str
    contact_name: str
    note: str


class CallIn(Schema):
    customer_key: str
    outcome: str
    spoke_to: str = ""
    notes: str = ""
    request_key: str = ""


class CallOut(Schema):
    customer_key: str
    name: str
    contact: str
    phone: str
    last_outcome: str | None
    last_at: datetime | None


def _membership(request: HttpRequest, slug: str, capability: Capability) -> Membership:
    m = membership_or_404(request.user, slug)
    try:
        require(m, capability)
    except Exception as exc:
        raise HttpError(403, str(exc)) from exc
    return m


def _problems(items: list[tuple[str, str]]) -> tuple[int, Problems]:
    errors = [FieldProblem(field=f or "__all__", message=m) for f, m in items]
    return 422, Problems(detail="; ".join(f"{f}: {m}" for f, m in items), errors=errors)


def _notice(m: Membership, notice_id: int) -> Notice:
    return get_for_org_or_404(Notice.objects.select_related("incident", "org"), m.org, pk=notice_id)


def _findings(notice: Notice) -> tuple[list[FindingOut], bool]:
    found = notices.findings(notice)
    open_keys = {f.key for f in checker.blocking(found, notice.acknowledged)}
    rows = [
        FindingOut(
            key=f.key,
            code=f.code,
            part=f.part,
            message=f.message,
            must_fix=f.must_fix,
            acknowledged=f.key not in open_keys,
        )
        for f in found
    ]
    return rows, bool(open_keys)


def _progress(notice: Notice) -> ProgressOut | None:
    if notice.status == "draft":
        return None
    return ProgressOut(**outbox.progress(notice=notice).as_dict())


def _out(notice: Notice) -> NoticeOut:
    findings, blocked = _findings(notice)
    return NoticeOut(
        id=notice.pk,
        incident_id=notice.incident_id,
        audience=notice.audience,
        phase=notice.phase,
        channels=list(notice.channels),
        status=notice.status,
        is_exercise=notice.is_exercise,
        subject=notice.subject,
        notify=notice.notify,
        explain=notice.explain,
        solve=notice.solve,
        predict=notice.predict,
        apologise=notice.apologise,
        expected_return=notice.expected_return,
        next_update_by=notice.next_update_by,
        findings=findings,
        blocked=blocked,
        counts=notice.counts,
        progress=_progress(notice),
        created_at=notice.created_at,
        sent_at=notice.sent_at,
    )


@router.get("/orgs/{slug}/comms/notices", response=list[NoticeOut])
def list_notices(request: HttpRequest, slug: str, incident: int | None = None) -> list[NoticeOut]:
    m = _membership(request, slug, Capability.VIEW)
    found = Notice.objects.filter(org=m.org).select_related("incident", "org")
    if incident is not None:
        found = found.filter(incident_id=incident)
    return [_out(n) for n in found.order_by("-created_at", "-pk")[:100]]


@router.post("/orgs/{slug}/comms/notices", response={201: NoticeOut, 200: NoticeOut, 422: Problems})
def create_notice(request: HttpRequest, slug: str, payload: NoticeIn) -> tuple[int, Any]:
    """Compose a draft notice for an incident from the organisation's template."""
    m = _membership(request, slug, SEND)
    key = payload.request_key.strip() or request.headers.get("Idempotency-Key", "").strip()
    incident = Incident.objects.filter(org=m.org, pk=payload.incident).first()
    if incident is None:
        return _problems([("incident", f"no incident {payload.incident} in this organisation")])
    try:
        audiences.composable(payload.audience)
    except ValueError as exc:
        return _problems([("audience", str(exc))])
    try:
        notice, created = notices.create(
            incident,
            payload.audience,
            payload.phase,
            payload.channels,
            by=request.user,
            request_key=key or None,
        )
    except notices.NoticeError as exc:
        field = "phase" if "phase" in str(exc) else "channels"
        return _problems([(field, str(exc))])
    return (201 if created else 200), _out(notice)


@router.get("/orgs/{slug}/comms/notices/{notice_id}", response=NoticeOut)
def get_notice(request: HttpRequest, slug: str, notice_id: int) -> NoticeOut:
    return _out(_notice(_membership(request, slug, Capability.VIEW), notice_id))


@router.patch(
    "/orgs/{slug}/comms/notices/{notice_id}",
    response={200: NoticeOut, 409: dict[str, str], 422: Problems},
)
def edit_notice(
    request: HttpRequest, slug: str, notice_id: int, payload: NoticeEdit
) -> tuple[int, Any]:
    """Change a draft's words (subject and the five parts), its facts or its channels."""
    notice = _notice(_membership(request, slug, SEND), notice_id)
    if notice.status != "draft":
        return 409, {"detail": "This notice was sent already; compose a new one (an update)."}
    try:
        notices.edit(notice, by=request.user, **payload.dict(exclude_none=True))
    except notices.NoticeError as exc:
        return _problems([("channels", str(exc))])
    return 200, _out(notice)


@router.post("/orgs/{slug}/comms/notices/{notice_id}/check", response=CheckOut)
def check_notice(request: HttpRequest, slug: str, notice_id: int) -> CheckOut:
    """The checker's findings, one message as it will arrive, and who will get it."""
    notice = _notice(_membership(request, slug, Capability.VIEW), notice_id)
    findings, blocked = _findings(notice)
    preview = notices.preview(notice)
    return CheckOut(
        findings=findings,
        blocked=blocked,
        subject=preview.subject,
        body=preview.body,
        audience=notices.selection(notice).summary(),
    )


@router.post(
    "/orgs/{slug}/comms/notices/{notice_id}/acknowledge",
    response={200: NoticeOut, 409: dict[str, str]},
)
def acknowledge_notice(
    request: HttpRequest, slug: str, notice_id: int, payload: AcknowledgeIn
) -> tuple[int, Any]:
    """Send anyway despite these findings (by their keys); who decided is recorded."""
    notice = _notice(_membership(request, slug, SEND), notice_id)
    try:
        notices.acknowledge(notice, payload.findings, request.user)
    except notices.NoticeError as exc:
        return 409, {"detail": str(exc)}
    return 200, _out(notice)


@router.post(
    "/orgs/{slug}/comms/notices/{notice_id}/send",
    response={202: SentOut, 200: SentOut, 409: BlockedOut},
)
def send_notice(
    request: HttpRequest, slug: str, notice_id: int, payload: SendIn | None = None
) -> tuple[int, Any]:
    """Put one message per recipient in the outbox (202); a notice sent already answers 200
    and sends nothing more."""
    notice = _notice(_membership(request, slug, SEND), notice_id)
    key = (payload.send_key if payload else "").strip() or request.headers.get(
        "Idempotency-Key", ""
    ).strip()
    try:
        sent = notices.send(notice, request.user, send_key=key)
    except notices.NoticeBlocked as exc:
        findings, _ = _findings(notice)
        return 409, BlockedOut(detail=str(exc), findings=findings)
    except notices.NoticeError as exc:
        return 409, BlockedOut(detail=str(exc), findings=[])
    notice.refresh_from_db()
    out = SentOut(
        notice=_out(notice),
        queued=sent.enqueued.created,
        withheld_for_drill=sent.enqueued.withheld,
        repeated=sent.repeated,
    )
    return (200 if sent.repeated else 202), out


@router.get("/orgs/{slug}/comms/notices/{notice_id}/progress", response=ProgressOut)
def notice_progress(request: HttpRequest, slug: str, notice_id: int) -> ProgressOut:
    notice = _notice(_membership(request, slug, Capability.VIEW), notice_id)
    return ProgressOut(**outbox.progress(notice=notice).as_dict())


@router.post(
    "/orgs/{slug}/comms/notices/{notice_id}/stop", response={200: ProgressOut, 409: dict[str, str]}
)
def stop_notice(request: HttpRequest, slug: str, notice_id: int) -> tuple[int, Any]:
    notice = _notice(_membership(request, slug, SEND), notice_id)
    try:
        notices.stop(notice, request.user)
    except notices.NoticeError as exc:
        return 409, {"detail": str(exc)}
    return 200, ProgressOut(**outbox.progress(notice=notice).as_dict())


@router.get("/orgs/{slug}/comms/notices/{notice_id}/calls", response=list[CallOut])
def notice_calls(request: HttpRequest, slug: str, notice_id: int) -> list[CallOut]:
    notice = _notice(_membership(request, slug, Capability.VIEW), notice_id)
    return [
        CallOut(
            customer_key=r.call.customer_key,
            name=r.call.name,
            contact=r.call.contact,
            phone=r.call.phone,
            last_outcome=r.last.outcome if r.last else None,
            last_at=r.last.at if r.last else None,
        )
        for r in call_list.rows(notice)
    ]


@router.post("/orgs/{slug}/comms/notices/{notice_id}/calls", response={201: CallOut, 422: Problems})
def record_call(
    request: HttpRequest, slug: str, notice_id: int, payload: CallIn
) -> tuple[int, Any]:
    notice = _notice(_membership(request, slug, Capability.WORK_DESK), notice_id)
    try:
        call = call_list.record_call(
            notice,
            payload.customer_key,
            payload.outcome,
            spoke_to=payload.spoke_to,
            notes=payload.notes,
            by=request.user,
            request_key=payload.request_key or request.headers.get("Idempotency-Key", ""),
        )
    except call_list.CallProblem as exc:
        return _problems([(exc.field, str(exc))])
    row = next(r for r in call_list.rows(notice) if r.call.customer_key == call.customer_key)
    return 201, CallOut(
        customer_key=row.call.customer_key,
        name=row.call.name,
        contact=row.call.contact,
        phone=row.call.phone,
        last_outcome=call.outcome,
        last_at=call.at,
    )


@router.get("/orgs/{slug}/comms/outbox", response=ProgressOut)
def outbox_progress(request: HttpRequest, slug: str) -> ProgressOut:
    """Everything the organisation's outbox holds, by state."""
    m = _membership(request, slug, Capability.VIEW)
    return ProgressOut(**outbox.progress(m.org).as_dict())


# ------------------------------------------------------------------ opt-outs


def _opt_out(o: OptOut) -> OptOutOut:
    return OptOutOut(
        id=o.pk, address=o.address, channel=o.channel, reason=o.reason, created_at=o.created_at
    )


@router.get("/orgs/{slug}/comms/opt-outs", response=list[OptOutOut])
def list_opt_outs(request: HttpRequest, slug: str) -> list[OptOutOut]:
    m = _membership(request, slug, Capability.VIEW)
    return [_opt_out(o) for o in OptOut.objects.filter(org=m.org)]


@router.post("/orgs/{slug}/comms/opt-outs", response={201: OptOutOut, 422: Problems})
def add_opt_out(request: HttpRequest, slug: str, payload: OptOutIn) -> tuple[int, Any]:
    """Record an opt-out (the same address twice is one)."""
    m = _membership(request, slug, SEND)
    try:
        found = preferences.add_opt_out(
            m.org, payload.address, payload.channel, payload.reason, request.user
        )
    except preferences.SetupProblem as exc:
        return _problems(exc.errors)
    return 201, _opt_out(found)


@router.delete("/orgs/{slug}/comms/opt-outs/{opt_out_id}", response={204: None})
def remove_opt_out(request: HttpRequest, slug: str, opt_out_id: int) -> tuple[int, None]:
    m = _membership(request, slug, SEND)
    preferences.remove_opt_out(
        get_for_org_or_404(OptOut.objects.select_related("org"), m.org, pk=opt_out_id)
    )
    return 204, None


# ------------------------------------------------------------------ key accounts


def _key_account(a: KeyAccount) -> KeyAccountOut:
    return KeyAccountOut(
        id=a.pk,
        customer_key=a.customer_key,
        name=a.name,
        call_dont_email=a.call_dont_email,
        phone=a.phone,
        contact_name=a.contact_name,
        note=a.note,
    )


@router.get("/orgs/{slug}/comms/key-accounts", response=list[KeyAccountOut])
def list_key_accounts(request: HttpRequest, slug: str) -> list[KeyAccountOut]:
    m = _membership(request, slug, Capability.VIEW)
    return [_key_account(a) for a in KeyAccount.objects.filter(org=m.org)]


@router.put("/orgs/{slug}/comms/key-accounts", response={200: KeyAccountOut, 422: Problems})
def save_key_account(request: HttpRequest, slug: str, payload: KeyAccountIn) -> tuple[int, Any]:
    """Create or update the key account of a customer (by its replica key)."""
    m = _membership(request, slug, SEND)
    fields = payload.dict(exclude_none=True)
    key = fields.pop("customer_key")
    try:
        account = preferences.save_key_account(m.org, key, **fields)
    except preferences.SetupProblem as exc:
        return _problems(exc.errors)
    return 200, _key_account(account)


@router.delete("/orgs/{slug}/comms/key-accounts/{account_id}", response={204: None})
def remove_key_account(request: HttpRequest, slug: str, account_id: int) -> tuple[int, None]:
    m = _membership(request, slug, SEND)
    preferences.remove_key_account(
        get_for_org_or_404(KeyAccount.objects.select_related("org"), m.org, pk=account_id)
    )
    return 204, None


# ------------------------------------------------------------------ the status page


class StatusUpdateIn(Schema):
    status: str
    body: str
    request_key: str = ""


class StatusUpdateOut(Schema):
    id: int
    incident_id: int
    status: str
    body: str
    is_exercise: bool
    emails_queued: int
    created_at: datetime


class PublishedOut(Schema):
    ok: bool
    places: list[str]
    errors: list[str]


def _status_update(u: StatusUpdate) -> StatusUpdateOut:
    return StatusUpdateOut(
        id=u.pk,
        incident_id=u.incident_id,
        status=u.status,
        body=u.body,
        is_exercise=u.is_exercise,
        emails_queued=int(u.notice.counts.get("queued", 0)) if u.notice else 0,
        created_at=u.created_at,
    )


@router.get("/orgs/{slug}/comms/status-page/summary.json", response=dict[str, Any])
def status_summary(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The public page as Statuspage's v2 summary.json (never a drill)."""
    m = _membership(request, slug, Capability.VIEW)
    return statuspage.summary(m.org)


@router.post(
    "/orgs/{slug}/comms/status-page/publish", response={200: PublishedOut, 502: PublishedOut}
)
def publish_status_page(request: HttpRequest, slug: str) -> tuple[int, PublishedOut]:
    """Publish now; 502 names what failed (recorded on the page, and alerted)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    done = publishing.publish(m.org)
    return (200 if done.ok else 502), PublishedOut(
        ok=done.ok, places=done.places, errors=done.errors
    )


@router.get(
    "/orgs/{slug}/comms/incidents/{incident_id}/status-updates", response=list[StatusUpdateOut]
)
def list_status_updates(request: HttpRequest, slug: str, incident_id: int) -> list[StatusUpdateOut]:
    m = _membership(request, slug, Capability.VIEW)
    incident = get_for_org_or_404(Incident.objects.all(), m.org, pk=incident_id)
    found = StatusUpdate.objects.filter(incident=incident).select_related("notice")
    return [_status_update(u) for u in found]


@router.post(
    "/orgs/{slug}/comms/incidents/{incident_id}/status-updates",
    response={201: StatusUpdateOut, 200: StatusUpdateOut, 422: Problems},
)
def post_status_update(
    request: HttpRequest, slug: str, incident_id: int, payload: StatusUpdateIn
) -> tuple[int, Any]:
    """Post an update to the status page: recorded on the incident, emailed to the
    subscribers of its systems, published. The same `request_key` (or Idempotency-Key)
    answers 200 with the update made the first time."""
    m = _membership(request, slug, SEND)
    incident = get_for_org_or_404(Incident.objects.select_related("org"), m.org, pk=incident_id)
    key = payload.request_key.strip() or request.headers.get("Idempotency-Key", "").strip()
    try:
        update, created = statuspage.post_update(
            incident, payload.status, payload.body, request.user, request_key=key
        )
    except statuspage.StatusPageProblem as exc:
        return _problems(exc.errors)
    return (201 if created else 200), _status_update(update)
