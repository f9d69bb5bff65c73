"""API for the fallback desk: fallback mode, look-up, documents, the work log and the way back.

Everything sits under /orgs/{slug}/desk/ and starts from the token owner's organisation; a
document, note or period of another organisation answers 404. Bad input answers 422 with
`errors`, each naming the field (a line's as "lines[2].quantity", counted from 1), and
changes nothing; what fallback mode does not allow (a document while it is off) answers 409.

Making a document or a note is idempotent: the body's `request_key` (or an
`Idempotency-Key` header) saves at most one; repeating it answers 200 with the one saved.
Documents are numbered on a device: the body's `device` (a code from the desk's devices) or,
without one, the organisation's "API" device, registered on first use.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from fallback.accounts.access import membership_or_404, require
from fallback.accounts.models import Membership, Organisation
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.desk import (
    documents,
    exports,
    lookup,
    mode,
    notes,
    numbering,
    reconciliation,
    search,
)
from fallback.desk.documents import DocumentInput, DocumentProblem, LineInput
from fallback.desk.models import (
    Device,
    Document,
    DocumentKind,
    DocumentLine,
    FallbackPeriod,
    NoteKind,
    Party,
    WorkNote,
)
from fallback.desk.search_index import SEARCHED
from fallback.monitor.api import FieldProblem, Problems
from fallback.replica.models import Record

router = Router(tags=["desk"])

# Switching fallback mode by hand and waiving a line are a manager's calls.
MANAGE_DESK = Capability.RUN_FALLBACK
API_DEVICE_CODE = "API"
MAX_PAGE = 500


# ---------------------------------------------------------------------- schemas


class PeriodBrief(Schema):
    number: int
    started_at: datetime
    ended_at: datetime | None
    reason: str
    is_exercise: bool
    incident_id: int | None
    incident_title: str | None
    incident_status: str | None


class DownOut(Schema):
    system: str
    since: datetime


class FreshnessOut(Schema):
    connector: str
    system: str
    as_of: datetime | None
    minutes_before_outage: float | None


class ModeOut(Schema):
    active: bool
    recovering: bool
    is_exercise: bool
    period: int | None  # the number new documents are made in
    periods: list[PeriodBrief]
    down: list[DownOut]
    freshness: list[FreshnessOut]


class ReasonIn(Schema):
    reason: str = ""


class HitOut(Schema):
    record_id: int
    entity: str
    key: str
    title: str
    subtitle: str
    score: float
    fuzzy: bool


class ContactOut(Schema):
    key: str
    name: str
    role: str
    email: str
    phone: str


class OrderOut(Schema):
    key: str
    number: str
    status: str
    due_date: date | None
    total: str | None
    currency: str
    overdue: bool
    urgent: bool  # overdue, or due by tomorrow while in fallback mode


class InvoiceOut(Schema):
    number: str
    status: str
    issue_date: date | None
    due_date: date | None
    total: str | None
    owed: str
    currency: str


class DocumentBrief(Schema):
    id: int
    number: str
    kind: str
    status: str
    issued_on: date
    total: str


class PartyOut(Schema):
    key: str
    name: str
    data: dict[str, Any]
    contacts: list[ContactOut]
    desk_documents: list[DocumentBrief]


class CustomerOut(PartyOut):
    open_orders: list[OrderOut]
    unpaid_invoices: list[InvoiceOut]
    balance: str
    balance_from_replica: bool  # the customer's own balance, not a sum of unpaid invoices


# Numbers come as text or JSON numbers; the desk's own checks say what is wrong with them,
# naming the line and the field, rather than a schema error.
Number = str | int | float | None


class LineIn(Schema):
    product_key: str = ""
    description: str = ""
    quantity: Number = None
    unit_price: Number = None
    tax_rate: Number = None
    sku: str = ""
    unit: str = ""


class DocumentIn(Schema):
    kind: str
    party_key: str = ""
    party_name: str = ""
    party: str = ""
    party_details: dict[str, str] = {}
    reference: str = ""
    issued_on: date | None = None
    due_on: date | None = None
    delivery_address: str = ""
    notes: str = ""
    source: int | None = None  # id of the document this one is made from
    lines: list[LineIn] = []
    request_key: str = ""
    device: str = ""


class LineOut(Schema):
    position: int
    product_key: str
    sku: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    tax_rate: str
    net: str
    tax: str
    total: str


class Reconciled(Schema):
    status: str  # open, entered, waived, void
    request_key: str
    created_at: str
    created_by: str
    voided_at: str | None
    voided_by: str
    void_reason: str
    final_number: str
    reconciled_at: str | None
    reconciled_by: str
    waived_at: str | None
    waived_by: str
    waive_reason: str


class DocumentOut(Reconciled):
    id: int
    number: str
    kind: str
    period: int
    device: str
    party: str
    party_key: str
    party_name: str
    party_details: dict[str, Any]
    reference: str
    issued_on: str | None
    due_on: str | None
    delivery_address: str
    notes: str
    currency: str
    prices_include_tax: bool
    subtotal: str
    tax: str
    total: str
    source: str | None
    lines: list[LineOut]


class NoteIn(Schema):
    text: str = ""
    kind: str = NoteKind.OTHER
    at: datetime | None = None
    party: str = ""
    party_key: str = ""
    party_name: str = ""
    document: int | None = None
    request_key: str = ""


class NoteOut(Reconciled):
    id: int
    period: int | None
    at: str
    kind: str
    text: str
    party: str
    party_key: str
    party_name: str
    document: str | None


class PeriodOut(PeriodBrief):
    documents: int
    notes: int
    open_count: int


class ReconLineOut(Schema):
    type: Literal["document", "note"]
    id: int
    label: str
    kind: str
    number: str
    party_name: str
    total: str | None
    created_at: datetime
    status: str
    final_number: str
    void_reason: str
    waive_reason: str


class ExportOut(Schema):
    shape: str
    label: str
    url: str


class PeriodDetail(PeriodOut):
    checklist: list[str]
    lines: list[ReconLineOut]
    exports: list[ExportOut]


class TickIn(Schema):
    final_number: str = ""


# ---------------------------------------------------------------------- helpers


def _membership(request: HttpRequest, slug: str, capability: Capability) -> Membership:
    m = membership_or_404(request.user, slug)
    try:
        require(m, capability)
    except Exception as exc:
        raise HttpError(403, str(exc)) from exc
    return m


def _problems(items: list[tuple[str, str]]) -> tuple[int, Problems]:
    errors = [FieldProblem(field=f or "__all__", message=m) for f, m in items]
    detail = "; ".join(f"{f}: {m}" if f else m for f, m in items)
    return 422, Problems(detail=detail, errors=errors)


def _refused(exc: DocumentProblem) -> tuple[int, Any]:
    # A problem naming no field is about the desk's state, not the input (fallback mode off).
    if all(not field for field, _ in exc.problems):
        return 409, {"detail": str(exc)}
    return _problems(exc.problems)


def _request_key(request: HttpRequest, given: str) -> str:
    return given.strip() or request.headers.get("Idempotency-Key", "").strip()


def _user(request: HttpRequest) -> Any:
    return request.user


def _brief(p: FallbackPeriod) -> PeriodBrief:
    incident = p.incident
    return PeriodBrief(
        number=p.number,
        started_at=p.started_at,
        ended_at=p.ended_at,
        reason=p.reason,
        is_exercise=p.is_exercise,
        incident_id=incident.pk if incident else None,
        incident_title=incident.title if incident else None,
        incident_status=incident.status if incident else None,
    )


def _mode_out(org: Organisation) -> ModeOut:
    state = mode.state(org)
    return ModeOut(
        active=state.active,
        recovering=state.recovering,
        is_exercise=state.is_exercise,
        period=state.period.number if state.period else None,
        periods=[_brief(p) for p in state.periods],
        down=[DownOut(system=d.name, since=d.since) for d in state.down],
        freshness=[
            FreshnessOut(
                connector=f.connector,
                system=f.system,
                as_of=f.as_of,
                minutes_before_outage=(
                    round(f.before_outage.total_seconds() / 60, 1)
                    if f.before_outage is not None
                    else None
                ),
            )
            for f in state.freshness
        ],
    )


def _documents(org: Organisation) -> QuerySet[Document]:
    return (
        Document.objects.filter(org=org)
        .select_related(
            "period", "device", "source", "created_by", "voided_by", "reconciled_by", "waived_by"
        )
        .prefetch_related(Prefetch("lines", queryset=DocumentLine.objects.order_by("position")))
    )


def _document_out(document: Document) -> DocumentOut:
    return DocumentOut(**exports.document_dict(document))


def _document(m: Membership, document_id: int) -> Document:
    return get_for_org_or_404(_documents(m.org), m.org, pk=document_id)


def _notes(org: Organisation) -> QuerySet[WorkNote]:
    return WorkNote.objects.filter(org=org).select_related(
        "period", "document", "created_by", "voided_by", "reconciled_by", "waived_by"
    )


def _note_out(note: WorkNote) -> NoteOut:
    return NoteOut(**exports.note_dict(note))


def _period(m: Membership, number: int) -> FallbackPeriod:
    return get_for_org_or_404(
        FallbackPeriod.objects.select_related("org", "incident"), m.org, number=number
    )


def api_device(org: Organisation) -> Device:
    """The device documents made through the API are numbered on, registered on first use."""
    found = Device.objects.filter(org=org, code=API_DEVICE_CODE).first()
    if found is not None:
        return found
    try:
        return numbering.register_device(org, "API", code=API_DEVICE_CODE)
    except ValueError:  # another request registered it a moment ago
        return Device.objects.get(org=org, code=API_DEVICE_CODE)


def _page(limit: int, offset: int) -> slice:
    start = max(offset, 0)
    return slice(start, start + max(1, min(limit, MAX_PAGE)))


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


# ------------------------------------------------------------------------- mode


@router.get("/orgs/{slug}/desk/mode", response=ModeOut)
def get_mode(request: HttpRequest, slug: str) -> ModeOut:
    """Fallback mode as the desk's banner shows it: which systems are down since when, the
    open periods, and how fresh the replica was when the outage began."""
    m = _membership(request, slug, Capability.VIEW)
    return _mode_out(m.org)


@router.post("/orgs/{slug}/desk/mode/on", response={200: ModeOut, 422: Problems})
def mode_on(request: HttpRequest, slug: str, payload: ReasonIn) -> tuple[int, Any]:
    """A manager switches fallback mode on for an outage the checks cannot see."""
    m = _membership(request, slug, MANAGE_DESK)
    try:
        mode.switch_on(m.org, _user(request), payload.reason)
    except mode.ModeError as exc:
        return _problems([("reason", str(exc))])
    return 200, _mode_out(m.org)


@router.post("/orgs/{slug}/desk/mode/off", response={200: ModeOut, 409: dict[str, str]})
def mode_off(request: HttpRequest, slug: str) -> tuple[int, Any]:
    """End the fallback period a manager opened (an incident's ends when it is resolved)."""
    m = _membership(request, slug, MANAGE_DESK)
    ended = mode.switch_off(m.org, _user(request))
    state = _mode_out(m.org)
    if not ended and state.active:
        titles = ", ".join(p.incident_title or "" for p in state.periods if p.incident_id)
        return 409, {
            "detail": "Fallback mode follows the open incident "
            f"({titles}); it ends when the incident is resolved."
        }
    return 200, state


# ---------------------------------------------------------------------- look-up


@router.get("/orgs/{slug}/desk/search", response={200: list[HitOut], 422: Problems})
def search_records(request: HttpRequest, slug: str, q: str = "", kinds: str = "") -> Any:
    """Customers, contacts, suppliers, products, price lists, orders and invoices matching
    `q` (prefixes and typos forgiven), best first; `kinds` limits them ("customer,product")."""
    m = _membership(request, slug, Capability.VIEW)
    wanted = tuple(k.strip() for k in kinds.split(",") if k.strip())
    unknown = [k for k in wanted if k not in SEARCHED]
    if unknown:
        return _problems(
            [("kinds", f"unknown: {', '.join(unknown)} (known: {', '.join(SEARCHED)})")]
        )
    hits = search.search(m.org.pk, q, wanted or None)
    return 200, [
        HitOut(
            record_id=h.record_id,
            entity=h.entity,
            key=h.key,
            title=h.title,
            subtitle=h.subtitle,
            score=h.score,
            fuzzy=h.fuzzy,
        )
        for h in hits
    ]


def _contact_out(c: Record) -> ContactOut:
    data = c.data or {}
    return ContactOut(
        key=c.key,
        name=c.name,
        role=_text(data.get("role")),
        email=_text(data.get("email")),
        phone=_text(data.get("phone")),
    )


def _brief_document(d: Document) -> DocumentBrief:
    status = exports.status(d)
    return DocumentBrief(
        id=d.pk,
        number=d.number,
        kind=d.kind,
        status=status,
        issued_on=d.issued_on,
        total=str(d.total),
    )


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@router.get("/orgs/{slug}/desk/customers/{key}", response=CustomerOut)
def get_customer(request: HttpRequest, slug: str, key: str) -> CustomerOut:
    """A customer from the replica: details, contacts, open orders (soonest due first, the
    urgent ones marked), unpaid invoices, the balance, and the desk's latest documents for
    them."""
    m = _membership(request, slug, Capability.VIEW)
    today = timezone.localdate(timezone=ZoneInfo(m.org.time_zone))
    view = lookup.customer(m.org, key, today, mode.state(m.org).active)
    if view is None:
        raise HttpError(404, f"No customer {key!r} in the replica")
    return CustomerOut(
        key=view.record.key,
        name=view.record.name,
        data=view.record.data or {},
        contacts=[_contact_out(c) for c in view.contacts],
        desk_documents=[_brief_document(d) for d in view.documents],
        open_orders=[
            OrderOut(
                key=o.key,
                number=o.number,
                status=o.status,
                due_date=o.due,
                total=_money(o.total),
                currency=o.currency,
                overdue=o.overdue,
                urgent=o.urgent,
            )
            for o in view.orders[:MAX_PAGE]
        ],
        unpaid_invoices=[
            InvoiceOut(
                number=i.number,
                status=i.status,
                issue_date=i.issued,
                due_date=i.due,
                total=_money(i.total),
                owed=str(i.owed),
                currency=i.currency,
            )
            for i in view.invoices[:MAX_PAGE]
        ],
        balance=str(view.balance),
        balance_from_replica=view.balance_from_replica,
    )


@router.get("/orgs/{slug}/desk/suppliers/{key}", response=PartyOut)
def get_supplier(request: HttpRequest, slug: str, key: str) -> PartyOut:
    """A supplier from the replica, with its contacts and the desk's latest documents."""
    m = _membership(request, slug, Capability.VIEW)
    view = lookup.supplier(m.org, key)
    if view is None:
        raise HttpError(404, f"No supplier {key!r} in the replica")
    return PartyOut(
        key=view.record.key,
        name=view.record.name,
        data=view.record.data or {},
        contacts=[_contact_out(c) for c in view.contacts],
        desk_documents=[_brief_document(d) for d in view.documents],
    )


# -------------------------------------------------------------------- documents


def _line_inputs(
    org: Organisation, lines: list[LineIn]
) -> tuple[list[LineInput], list[tuple[str, str]]]:
    """The payload's lines as the desk's inputs, products filled from the replica (what the
    client gives overrides the replica's description, price and tax rate)."""
    made: list[LineInput] = []
    problems: list[tuple[str, str]] = []
    products = documents.product_lines(org, [g.product_key.strip() for g in lines if g.product_key])
    for n, given in enumerate(lines, start=1):
        key = given.product_key.strip()
        if key:
            found = products.get(key)
            if found is None:
                problems.append((f"lines[{n}].product_key", f"no product {key!r} in the replica"))
                continue
            # A copy: two lines may name the same product.
            line = replace(
                found,
                quantity=given.quantity,
                description=given.description.strip() or found.description,
                unit_price=found.unit_price if given.unit_price in (None, "") else given.unit_price,
                tax_rate=found.tax_rate if given.tax_rate in (None, "") else given.tax_rate,
                sku=given.sku.strip() or found.sku,
                unit=given.unit.strip() or found.unit,
            )
        else:
            line = LineInput(
                description=given.description,
                quantity=given.quantity,
                unit_price=given.unit_price,
                tax_rate=given.tax_rate,
                sku=given.sku.strip(),
                unit=given.unit.strip(),
            )
        made.append(line)
    return made, problems


def _document_input(
    org: Organisation, payload: DocumentIn
) -> tuple[DocumentInput, list[tuple[str, str]]]:
    lines, problems = _line_inputs(org, payload.lines)
    party = payload.party or documents.party_for(payload.kind)
    name, details = payload.party_name.strip(), dict(payload.party_details)
    key = payload.party_key.strip()
    if key and party in Party.values:
        found_name, found_details = documents.party_details(org, party, key)
        if not found_name and not name:
            problems.append(("party_key", f"no {party} {key!r} in the replica"))
        name = name or found_name
        details = {**found_details, **details}
    data = DocumentInput(
        kind=payload.kind,
        party=payload.party,
        party_key=key,
        party_name=name,
        party_details=details,
        reference=payload.reference,
        issued_on=payload.issued_on,
        due_on=payload.due_on,
        delivery_address=payload.delivery_address,
        notes=payload.notes,
        source_id=payload.source,
        lines=lines,
    )
    return data, problems


@router.post(
    "/orgs/{slug}/desk/documents",
    response={201: DocumentOut, 200: DocumentOut, 409: dict[str, str], 422: Problems},
)
def create_document(request: HttpRequest, slug: str, payload: DocumentIn) -> tuple[int, Any]:
    """Make a quote, sales order, invoice, purchase order, picking list or delivery docket.

    Lines name a product of the replica (`product_key`: description, price and tax rate
    filled from it) or describe it (`description`, `unit_price`); `quantity` always. 201 with
    the document; 200 with the same document when its request key was used before."""
    m = _membership(request, slug, Capability.WORK_DESK)
    key = _request_key(request, payload.request_key)
    if not key:
        return _problems([("request_key", "give one (or an Idempotency-Key header)")])
    existing = Document.objects.filter(org=m.org, request_key=key).first()
    if existing is not None:
        return 200, _document_out(_document(m, existing.pk))
    problems: list[tuple[str, str]] = []
    if payload.device.strip():
        device = Device.objects.filter(org=m.org, code=payload.device.strip().upper()).first()
        if device is None:
            problems.append(
                ("device", f"no device {payload.device.strip()!r} in this organisation")
            )
    else:
        device = api_device(m.org)
    data, more = _document_input(m.org, payload)
    problems += more
    if problems or device is None:
        return _problems(problems)
    try:
        document, created = documents.create(m.org, device, data, key, _user(request))
    except DocumentProblem as exc:
        return _refused(exc)
    if not created:
        document = _document(m, document.pk)
    # A new document has its period, device and people at hand: only its lines are read.
    return (201 if created else 200), _document_out(document)


@router.get("/orgs/{slug}/desk/documents", response={200: list[DocumentOut], 422: Problems})
def list_documents(
    request: HttpRequest,
    slug: str,
    period: int | None = None,
    kind: str = "",
    limit: int = 100,
    offset: int = 0,
) -> Any:
    """The desk's documents, newest first; `period` (its number) and `kind` narrow them."""
    m = _membership(request, slug, Capability.VIEW)
    found = _documents(m.org)
    if kind:
        if kind not in DocumentKind.values:
            return _problems(
                [("kind", f"unknown: {kind} (known: {', '.join(DocumentKind.values)})")]
            )
        found = found.filter(kind=kind)
    if period is not None:
        found = found.filter(period__number=period)
    found = found.order_by("-created_at", "-pk")
    return 200, [_document_out(d) for d in found[_page(limit, offset)]]


@router.get("/orgs/{slug}/desk/documents/{document_id}", response=DocumentOut)
def get_document(request: HttpRequest, slug: str, document_id: int) -> DocumentOut:
    m = _membership(request, slug, Capability.VIEW)
    return _document_out(_document(m, document_id))


@router.post(
    "/orgs/{slug}/desk/documents/{document_id}/void", response={200: DocumentOut, 422: Problems}
)
def void_document(
    request: HttpRequest, slug: str, document_id: int, payload: ReasonIn
) -> tuple[int, Any]:
    """Void a document made by mistake: it stays, with its number, who voided it and why."""
    m = _membership(request, slug, Capability.WORK_DESK)
    document = _document(m, document_id)
    try:
        documents.void(document, _user(request), payload.reason)
    except DocumentProblem as exc:
        return _problems(exc.problems)
    return 200, _document_out(_document(m, document_id))


# ------------------------------------------------------------------------ notes


@router.post("/orgs/{slug}/desk/notes", response={201: NoteOut, 200: NoteOut, 422: Problems})
def add_note(request: HttpRequest, slug: str, payload: NoteIn) -> tuple[int, Any]:
    """Log work done (a call taken, a promise made, goods sent), linked to a customer or a
    document. Idempotent like documents."""
    m = _membership(request, slug, Capability.WORK_DESK)
    key = _request_key(request, payload.request_key)
    party, name = payload.party, payload.party_name
    if payload.party_key and not name and payload.document is None:
        name = documents.party_details(m.org, party or Party.CUSTOMER, payload.party_key)[0]
        party = party or Party.CUSTOMER
    try:
        note, created = notes.add(
            m.org,
            payload.text,
            key,
            _user(request),
            kind=payload.kind,
            at=payload.at,
            party=party,
            party_key=payload.party_key,
            party_name=name,
            document_id=payload.document,
        )
    except DocumentProblem as exc:
        return _problems(exc.problems)
    return (201 if created else 200), _note_out(_notes(m.org).get(pk=note.pk))


@router.get("/orgs/{slug}/desk/notes", response=list[NoteOut])
def list_notes(
    request: HttpRequest, slug: str, period: int | None = None, limit: int = 100, offset: int = 0
) -> list[NoteOut]:
    """The work log, newest first; `period` (its number) narrows it."""
    m = _membership(request, slug, Capability.VIEW)
    found = _notes(m.org)
    if period is not None:
        found = found.filter(period__number=period)
    return [_note_out(n) for n in found.order_by("-at", "-pk")[_page(limit, offset)]]


@router.post("/orgs/{slug}/desk/notes/{note_id}/void", response={200: NoteOut, 422: Problems})
def void_note(request: HttpRequest, slug: str, note_id: int, payload: ReasonIn) -> tuple[int, Any]:
    m = _membership(request, slug, Capability.WORK_DESK)
    note = get_for_org_or_404(_notes(m.org), m.org, pk=note_id)
    try:
        notes.void(note, _user(request), payload.reason)
    except DocumentProblem as exc:
        return _problems(exc.problems)
    return 200, _note_out(_notes(m.org).get(pk=note_id))


# ---------------------------------------------------------------- the way back


def _period_out(p: FallbackPeriod) -> PeriodOut:
    return PeriodOut(
        **_brief(p).dict(),
        documents=Document.objects.filter(org_id=p.org_id, period=p).count(),
        notes=WorkNote.objects.filter(org_id=p.org_id, period=p).count(),
        open_count=reconciliation.open_count(p),
    )


def _recon_line(line: reconciliation.Line) -> ReconLineOut:
    item = line.item
    is_document = isinstance(item, Document)
    return ReconLineOut(
        type="document" if is_document else "note",
        id=item.pk,
        label=line.label,
        kind=item.kind,
        number=item.number if isinstance(item, Document) else "",
        party_name=item.party_name,
        total=str(item.total) if isinstance(item, Document) else None,
        created_at=item.created_at,
        status=line.status,
        final_number=item.final_number,
        void_reason=item.void_reason,
        waive_reason=item.waive_reason,
    )


@router.get("/orgs/{slug}/desk/periods", response=list[PeriodOut])
def list_periods(request: HttpRequest, slug: str) -> list[PeriodOut]:
    """Every fallback period, newest first, with how many of its lines are still open."""
    m = _membership(request, slug, Capability.VIEW)
    mode.sync_periods(m.org)
    periods = FallbackPeriod.objects.filter(org=m.org).select_related("incident")
    return [_period_out(p) for p in periods.order_by("-number")]


@router.get("/orgs/{slug}/desk/periods/{number}", response=PeriodDetail)
def get_period(request: HttpRequest, slug: str, number: int) -> PeriodDetail:
    """One period's reconciliation list (a line per document and note, with its status),
    the 'system back up' checklist, and the exports for re-entering its documents."""
    m = _membership(request, slug, Capability.VIEW)
    period = _period(m, number)
    return PeriodDetail(
        **_period_out(period).dict(),
        checklist=reconciliation.checklist(period),
        lines=[_recon_line(line) for line in reconciliation.lines(period)],
        exports=[
            ExportOut(
                shape=shape,
                label=label,
                url=reverse(
                    "api:desk-export",
                    kwargs={"slug": m.org.slug, "number": period.number, "shape": shape},
                ),
            )
            for shape, label in exports.SHAPES.items()
        ],
    )


def _line_item(m: Membership, period: FallbackPeriod, type: str, item_id: int) -> Any:
    if type == "document":
        return get_for_org_or_404(Document.objects.all(), m.org, pk=item_id, period=period)
    if type == "note":
        return get_for_org_or_404(WorkNote.objects.all(), m.org, pk=item_id, period=period)
    raise HttpError(404, f"No line type {type!r} (document or note)")


def _line_out(period: FallbackPeriod, item: Document | WorkNote) -> ReconLineOut:
    kind = "document" if isinstance(item, Document) else "note"
    return _recon_line(reconciliation.Line(item, kind))


@router.post(
    "/orgs/{slug}/desk/periods/{number}/lines/{type}/{item_id}/tick",
    response={200: ReconLineOut, 422: Problems},
)
def tick_line(
    request: HttpRequest, slug: str, number: int, type: str, item_id: int, payload: TickIn
) -> tuple[int, Any]:
    """The line is in the main system, under `final_number` (required for a document)."""
    m = _membership(request, slug, Capability.WORK_DESK)
    period = _period(m, number)
    item = _line_item(m, period, type, item_id)
    try:
        reconciliation.tick(item, payload.final_number, _user(request))
    except DocumentProblem as exc:
        return _problems(exc.problems)
    return 200, _line_out(period, item)


@router.post(
    "/orgs/{slug}/desk/periods/{number}/lines/{type}/{item_id}/waive",
    response={200: ReconLineOut, 422: Problems},
)
def waive_line(
    request: HttpRequest, slug: str, number: int, type: str, item_id: int, payload: ReasonIn
) -> tuple[int, Any]:
    """A manager takes the line off the list without entering it, saying why."""
    m = _membership(request, slug, MANAGE_DESK)
    period = _period(m, number)
    item = _line_item(m, period, type, item_id)
    try:
        reconciliation.waive(item, _user(request), payload.reason)
    except DocumentProblem as exc:
        return _problems(exc.problems)
    return 200, _line_out(period, item)


@router.post(
    "/orgs/{slug}/desk/periods/{number}/lines/{type}/{item_id}/reopen", response=ReconLineOut
)
def reopen_line(
    request: HttpRequest, slug: str, number: int, type: str, item_id: int
) -> ReconLineOut:
    """Undo a tick or a waiver made by mistake."""
    m = _membership(request, slug, Capability.WORK_DESK)
    period = _period(m, number)
    item = _line_item(m, period, type, item_id)
    if item.waived_at is not None and not m.can(MANAGE_DESK):
        raise HttpError(403, "Only a manager can take back a waiver.")
    reconciliation.reopen(item, _user(request))
    return _line_out(period, item)


@router.get("/orgs/{slug}/desk/periods/{number}/export/{shape}", url_name="desk-export")
def export_period(request: HttpRequest, slug: str, number: int, shape: str) -> HttpResponse:
    """The period's documents as a file to import into the main system (see SHAPES)."""
    m = _membership(request, slug, Capability.VIEW)
    period = _period(m, number)
    try:
        content, content_type, filename = exports.render(period, shape)
    except exports.UnknownShape as exc:
        raise HttpError(404, str(exc)) from exc
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
