"""Pages of the fallback desk: the desk home with the fallback-mode banner, the search box,
customers, suppliers and products from the replica, urgent orders, documents, the work log,
the way back (reconciliation) and the desk's settings.

Thin: the rules are in documents, notes, reconciliation and mode; the reading of the replica
in lookup; the words of a problem come from those modules and are shown where they belong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.audit.trail import record as audit
from fallback.desk import devices, documents, lookup, mode, notes, reconciliation, search
from fallback.desk.documents import DocumentProblem
from fallback.desk.forms import (
    DeskSettingsForm,
    DeviceForm,
    DeviceRenameForm,
    DocumentForm,
    LineRow,
    NoteForm,
    ReasonForm,
    SwitchOnForm,
    TickForm,
    attach_problems,
    line_uid,
    new_request_key,
    preview_totals,
    read_lines,
    row_from_input,
)
from fallback.desk.models import (
    DeskSettings,
    Device,
    Document,
    DocumentKind,
    FallbackPeriod,
    NoteKind,
    Party,
    WorkNote,
)
from fallback.front.http import OrgRequest
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.incidents.models import Status
from fallback.replica import display
from fallback.replica.models import Record
from fallback.replica.schema import ENTITIES

RUN = Capability.RUN_FALLBACK  # switch fallback mode, waive way-back lines (managers)
SETUP = Capability.EDIT_SETUP  # the desk's settings and devices (managers)
RECENT = 10
LOG_PAGE = 50
DOCUMENTS_PAGE = 50
URGENT_ON_HOME = 8
NOTE_DOCUMENTS = 200  # documents offered in the work log's "about a document" list
# Which documents can be made from which ("Make an invoice from this").
DERIVED: dict[str, tuple[str, ...]] = {
    DocumentKind.QUOTE: (DocumentKind.ORDER, DocumentKind.INVOICE),
    DocumentKind.ORDER: (
        DocumentKind.INVOICE,
        DocumentKind.PICKING_LIST,
        DocumentKind.DELIVERY_DOCKET,
    ),
    DocumentKind.INVOICE: (DocumentKind.PICKING_LIST, DocumentKind.DELIVERY_DOCKET),
    DocumentKind.PICKING_LIST: (DocumentKind.DELIVERY_DOCKET,),
    DocumentKind.DELIVERY_DOCKET: (DocumentKind.INVOICE,),
    DocumentKind.PURCHASE_ORDER: (),
}


# ------------------------------------------------------------------ helpers


def _can(request: OrgRequest, capability: Capability) -> bool:
    return request.membership.can(capability)


def _need(request: OrgRequest, capability: Capability) -> None:
    if not _can(request, capability):
        role = request.membership.get_role_display()
        raise PermissionDenied(f"Your role ({role}) does not allow this.")


def _state(request: OrgRequest) -> mode.ModeState:
    """Fallback mode, worked out once per request (the banner reuses it)."""
    cached = request.__dict__.get("_desk_state")
    if not isinstance(cached, mode.ModeState):
        cached = mode.state(request.org)
        request.__dict__["_desk_state"] = cached
    return cached


def _today(request: OrgRequest) -> date:
    return timezone.localdate(timezone.now(), org_zone(request.org))


def _context(request: OrgRequest, **extra: Any) -> dict[str, Any]:
    state = _state(request)
    context = {
        "mode_state": state,
        "period": state.period,
        "can_work": _can(request, Capability.WORK_DESK),
        "can_run": _can(request, RUN),
        "can_setup": _can(request, SETUP),
        "device": devices.current(request, request.org),
        "zone": org_zone(request.org),
        "kinds": DocumentKind.choices,
        "desk_page": True,  # the search shortcut "/" and the desk's scripts
    }
    context.update(extra)
    return context


def _period(request: OrgRequest, number: int) -> FallbackPeriod:
    return get_for_org_or_404(
        FallbackPeriod.objects.select_related("incident"), request.org, number=number
    )


def _document(request: OrgRequest, pk: int) -> Document:
    return get_for_org_or_404(
        Document.objects.select_related("period", "device", "source"), request.org, pk=pk
    )


def _kind_or_404(kind: str) -> str:
    if kind not in DocumentKind.values:
        raise Http404("No such kind of document")
    return kind


def _next_url(request: OrgRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _home(request: OrgRequest) -> HttpResponseRedirect:
    return redirect("desk:home", org_slug=request.org.slug)


def _problem_text(problems: list[tuple[str, str]]) -> str:
    return "; ".join(what for _, what in problems)


# --------------------------------------------------------------------- home


@org_view()
@require_GET
def home(request: OrgRequest) -> HttpResponse:
    state = _state(request)
    period = state.period
    org = request.org
    recent_documents: list[Document] = []
    recent_notes: list[WorkNote] = []
    open_lines = 0
    if period is not None:
        recent_documents = list(Document.objects.filter(org=org, period=period)[:RECENT])
        recent_notes = list(WorkNote.objects.filter(org=org, period=period)[:RECENT])
        open_lines = reconciliation.open_count(period)
    urgent = [o for o in lookup.urgent_orders(org, _today(request), state.active) if o.urgent]
    last_period = FallbackPeriod.objects.filter(org=org).order_by("-number").first()
    desk = mode.settings_for(org)
    context = _context(
        request,
        desk_full_banner=True,
        urgent=urgent[:URGENT_ON_HOME],
        urgent_count=len(urgent),
        recent_documents=recent_documents,
        recent_notes=recent_notes,
        open_lines=open_lines,
        last_period=last_period,
        switch_form=SwitchOnForm(),
        device_form=DeviceForm(),
        manual_on=any(p.incident_id is None for p in state.periods),
        blank_kinds=[*DocumentKind.choices, ("work_log", "Work log")],
        number_start=f"{desk.number_prefix}{period.number}-" if period else "",
    )
    return render(request, "desk/home.html", context)


@org_view(RUN)
@require_POST
def switch(request: OrgRequest) -> HttpResponse:
    """A manager switches fallback mode on (with a reason) or off."""
    if request.POST.get("action") == "off":
        ended = mode.switch_off(request.org, request.user)
        if ended:
            audit(request.org, "desk.fallback_mode.off", None, {"fallback_mode": ["on", "off"]})
            messages.success(request, "Fallback mode is off (periods of open outages stay on).")
        else:
            messages.info(request, "Fallback mode was not switched on by hand.")
        return _home(request)
    form = SwitchOnForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Fallback mode stays off: say why it is switched on.")
        return _home(request)
    try:
        period = mode.switch_on(request.org, request.user, form.cleaned_data["reason"])
    except mode.ModeError as exc:
        messages.error(request, str(exc))
        return _home(request)
    audit(request.org, "desk.fallback_mode.on", period, {"reason": [None, period.reason]})
    messages.success(
        request, f"Fallback mode is on: documents are numbered in period {period.number}."
    )
    return _home(request)


# ------------------------------------------------------------------ devices


@org_view(Capability.WORK_DESK)
@require_http_methods(["GET", "POST"])
def device(request: OrgRequest) -> HttpResponse:
    """Name this browser as a desk device, once; the cookie remembers it."""
    current = devices.current(request, request.org)
    back = _next_url(request, reverse("desk:home", kwargs={"org_slug": request.org.slug}))
    form = DeviceForm(request.POST or None, initial={"name": current.name if current else ""})
    if request.method == "POST" and form.is_valid():
        made = devices.register(request, request.org, form.cleaned_data["name"])
        response = redirect(back)
        devices.remember(response, made)
        if current is None:
            audit(request.org, "desk.device.registered", made, {"name": [None, made.name]})
            messages.success(request, f"This computer is “{made.name}” (code {made.code}).")
        else:
            messages.success(request, f"Renamed: “{made.name}”.")
        return response
    return render(request, "desk/device.html", _context(request, form=form, next=back))


@org_view(SETUP)
@require_POST
def device_rename(request: OrgRequest, pk: int) -> HttpResponse:
    found = get_for_org_or_404(Device.objects.all(), request.org, pk=pk)
    form = DeviceRenameForm(request.POST, instance=found)
    if form.is_valid():
        before = Device.objects.get(pk=found.pk).name
        form.save()
        audit(request.org, "desk.device.renamed", found, {"name": [before, found.name]})
        messages.success(request, f"Device {found.code} is now “{found.name}”.")
    else:
        messages.error(request, "Not renamed: give the device a name.")
    return redirect("desk:settings", org_slug=request.org.slug)


# ------------------------------------------------------------------- search


@dataclass
class Group:
    entity: str
    label: str
    hits: list[dict[str, Any]] = field(default_factory=list)


def _hit_url(org_slug: str, hit: search.Hit) -> str:
    kwargs: dict[str, Any] = {"org_slug": org_slug}
    if hit.entity in ("customer", "supplier", "product"):
        return reverse(f"desk:{hit.entity}", kwargs={**kwargs, "key": hit.key})
    if hit.entity in ("order", "invoice"):
        return reverse("replica:record", kwargs={**kwargs, "record_id": hit.record_id})
    return reverse("desk:open", kwargs={**kwargs, "record_id": hit.record_id})


def _groups(org_slug: str, hits: list[search.Hit]) -> list[Group]:
    """Hits grouped by kind, the groups in the order of their best hit."""
    groups: dict[str, Group] = {}
    for n, hit in enumerate(hits):
        entity = ENTITIES.get(hit.entity)
        group = groups.setdefault(
            hit.entity, Group(hit.entity, entity.plural if entity else hit.entity)
        )
        group.hits.append({"hit": hit, "url": _hit_url(org_slug, hit), "n": n})
    return list(groups.values())


PICKS: dict[str, tuple[str, ...]] = {
    "customer": ("customer",),
    "supplier": ("supplier",),
    "party": ("customer", "supplier"),
    "product": ("product",),
}


@org_view()
@require_GET
def search_view(request: OrgRequest) -> HttpResponse:
    """The search box's results: a page of its own, or (htmx) the list under the box. With
    `pick`, the results are buttons that choose a party or add a product line."""
    q = request.GET.get("q", "").strip()[:200]
    pick = request.GET.get("pick", "")
    entities = PICKS.get(pick)
    hits = search.search(request.org.pk, q, entities) if q else []
    context = {
        "q": q,
        "pick": pick if entities else "",
        "groups": _groups(request.org.slug, hits),
        "count": len(hits),
        "box": request.GET.get("box", "desk") or "desk",
        "purpose": request.GET.get("for", ""),
    }
    if request.htmx:
        return render(request, "desk/_results.html", context)
    return render(request, "desk/search.html", _context(request, **context))


@org_view()
@require_GET
def open_record(request: OrgRequest, record_id: int) -> HttpResponse:
    """A search hit that has no desk page of its own: a contact opens its customer or
    supplier, a price-list entry its product, anything else the replica's record page."""
    found = get_for_org_or_404(Record.objects.all(), request.org, pk=record_id)
    slug = request.org.slug
    if found.entity == "contact":
        party, key = lookup.contact_party(found)
        if party:
            return redirect(f"desk:{party}", org_slug=slug, key=key)
    if found.entity == "price_list":
        product = str((found.data or {}).get("product") or "")
        if product:
            return redirect("desk:product", org_slug=slug, key=product)
    if found.entity in ("customer", "supplier", "product"):
        return redirect(f"desk:{found.entity}", org_slug=slug, key=found.key)
    return redirect("replica:record", org_slug=slug, record_id=found.pk)


# ------------------------------------------------------ customers, suppliers

_NOT_DETAILS = {"name", "balance", "active", "updated_at", "customer", "supplier"}


def _details(request: OrgRequest, record: Record) -> list[dict[str, str]]:
    """A record's fields that have a value, as a person reads them."""
    zone = org_zone(request.org)
    data = record.data or {}
    rows = []
    for f in display.record_fields(record):
        if f.name in _NOT_DETAILS or f.type == "lines" or data.get(f.name) in (None, ""):
            continue
        rows.append(
            {"name": f.name, "label": f.label, "text": display.value_text(f, data[f.name], zone)}
        )
    return rows


@org_view()
@require_GET
def customer(request: OrgRequest, key: str) -> HttpResponse:
    state = _state(request)
    view = lookup.customer(request.org, key, _today(request), state.active)
    if view is None:
        raise Http404("No such customer in the replica")
    context = _context(request, view=view, key=key, details=_details(request, view.record))
    return render(request, "desk/customer.html", context)


@org_view()
@require_GET
def supplier(request: OrgRequest, key: str) -> HttpResponse:
    view = lookup.supplier(request.org, key)
    if view is None:
        raise Http404("No such supplier in the replica")
    context = _context(request, view=view, key=key, details=_details(request, view.record))
    return render(request, "desk/supplier.html", context)


@org_view()
@require_GET
def product(request: OrgRequest, key: str) -> HttpResponse:
    view = lookup.product(request.org, key)
    if view is None:
        raise Http404("No such product in the replica")
    desk = mode.settings_for(request.org)
    context = _context(
        request, view=view, key=key, desk=desk, details=_details(request, view.record)
    )
    return render(request, "desk/product.html", context)


@org_view()
@require_GET
def orders(request: OrgRequest) -> HttpResponse:
    state = _state(request)
    chosen = request.GET.get("customer", "").strip()[:200]
    rows = lookup.urgent_orders(request.org, _today(request), state.active)
    customers = sorted(
        {(r.customer_key, r.customer_name or r.customer_key) for r in rows if r.customer_key},
        key=lambda c: c[1].lower(),
    )
    if chosen:
        rows = [r for r in rows if r.customer_key == chosen]
    context = _context(
        request,
        rows=rows,
        customers=customers,
        chosen=chosen,
        urgent_count=sum(1 for r in rows if r.urgent),
    )
    return render(request, "desk/orders.html", context)


# ---------------------------------------------------------------- documents


@org_view()
@require_GET
def document_list(request: OrgRequest) -> HttpResponse:
    state = _state(request)
    kind = request.GET.get("kind", "")
    if kind not in DocumentKind.values:
        kind = ""
    periods = list(FallbackPeriod.objects.filter(org=request.org).order_by("-number"))
    number_text = request.GET.get("period", "")
    chosen: FallbackPeriod | None = None
    if number_text == "all":
        chosen = None
    elif number_text.isdigit():
        chosen = next((p for p in periods if p.number == int(number_text)), None)
    else:
        chosen = state.period or (periods[0] if periods else None)
    found = Document.objects.filter(org=request.org).select_related("device", "period")
    if chosen is not None:
        found = found.filter(period=chosen)
    if kind:
        found = found.filter(kind=kind)
    page = Paginator(found, DOCUMENTS_PAGE).get_page(request.GET.get("page"))
    keep = {"kind": kind, "period": str(chosen.number) if chosen else "all"}
    context = _context(
        request,
        page=page,
        kind=kind,
        periods=periods,
        chosen=chosen,
        query=urlencode({k: v for k, v in keep.items() if v}),
    )
    return render(request, "desk/documents.html", context)


@org_view(Capability.WORK_DESK)
@require_GET
def document_choose(request: OrgRequest) -> HttpResponse:
    return render(request, "desk/document_choose.html", _context(request))


def _document_input(
    request: OrgRequest, kind: str, form: DocumentForm, rows: list[LineRow]
) -> documents.DocumentInput:
    data = form.cleaned_data
    party = documents.party_for(kind)
    key = data.get("party_key") or ""
    details: dict[str, str] = {}
    source = (
        Document.objects.filter(org=request.org, pk=data["source"]).first()
        if data.get("source")
        else None
    )
    if source is not None and source.party == party and source.party_key == key:
        details = dict(source.party_details)
    elif key:
        _, details = documents.party_details(request.org, party, key)
    return documents.DocumentInput(
        kind=kind,
        party=party,
        party_key=key,
        party_name=data.get("party_name") or "",
        party_details=details,
        reference=data.get("reference") or "",
        issued_on=data.get("issued_on"),
        due_on=data.get("due_on"),
        delivery_address=data.get("delivery_address") or "",
        notes=data.get("notes") or "",
        source_id=data.get("source"),
        lines=[r.to_input(request.org.locale) for r in rows],
    )


def _due_help(desk: DeskSettings, kind: str) -> str:
    if kind == DocumentKind.INVOICE:
        return f"Empty: in {desk.payment_terms_days} days (the payment terms)"
    if kind == DocumentKind.QUOTE:
        return f"Empty: valid for {desk.quote_valid_days} days"
    return "Optional"


def _start(request: OrgRequest, kind: str) -> tuple[dict[str, Any], list[LineRow]]:
    """What a new document form starts with: made from another document, for a customer or
    supplier, with a product."""
    initial: dict[str, Any] = {"request_key": new_request_key()}
    rows: list[LineRow] = []
    party = documents.party_for(kind)
    source_id = request.GET.get("from", "")
    if source_id.isdigit():
        source = Document.objects.filter(org=request.org, pk=int(source_id)).first()
        if source is not None:
            data = documents.derive(source, kind)
            initial.update(
                party_key=data.party_key,
                party_name=data.party_name,
                reference=data.reference,
                delivery_address=data.delivery_address,
                source=source.pk,
            )
            rows = [row_from_input(line) for line in data.lines]
    key = request.GET.get("party_key", "").strip()
    if key:
        name, _ = documents.party_details(request.org, party, key)
        if name:
            initial.update(party_key=key, party_name=name)
    product_key = request.GET.get("product", "").strip()
    if product_key:
        line = documents.product_line(request.org, product_key)
        if line is not None:
            rows.append(row_from_input(line))
    return initial, rows


@org_view(Capability.WORK_DESK)
@require_http_methods(["GET", "POST"])
def document_new(request: OrgRequest, kind: str) -> HttpResponse:
    kind = _kind_or_404(kind)
    here = request.get_full_path()
    current = devices.current(request, request.org)
    if current is None:
        return redirect(
            reverse("desk:device", kwargs={"org_slug": request.org.slug})
            + "?"
            + urlencode({"next": here})
        )
    desk = mode.settings_for(request.org)
    party = documents.party_for(kind)
    about_lines: list[str] = []
    if request.method == "POST":
        form = DocumentForm(request.POST, party=party, due_help=_due_help(desk, kind))
        rows = read_lines(request.POST)
        action = request.POST.get("action", "save")
        if action == "add_line":
            rows.append(LineRow(uid=line_uid()))
        elif action == "save" and form.is_valid():
            try:
                document, created = documents.create(
                    request.org,
                    current,
                    _document_input(request, kind, form, rows),
                    form.cleaned_data["request_key"],
                    request.user,
                )
            except DocumentProblem as exc:
                about_lines = attach_problems(exc.problems, form, rows)
            else:
                if created:
                    messages.success(request, f"Saved: {document}.")
                else:
                    messages.info(request, f"Already saved: {document} (nothing new made).")
                return redirect("desk:document", org_slug=request.org.slug, pk=document.pk)
    else:
        initial, rows = _start(request, kind)
        form = DocumentForm(initial=initial, party=party, due_help=_due_help(desk, kind))
    party_key = form["party_key"].value() or ""
    _, details = documents.party_details(request.org, party, party_key) if party_key else ("", {})
    source_pk = form["source"].value()
    source = (
        Document.objects.filter(org=request.org, pk=source_pk).first()
        if str(source_pk or "").isdigit()
        else None
    )
    context = _context(
        request,
        kind=kind,
        kind_label=DocumentKind(kind).label,
        party=party,
        party_label=Party(party).label,
        form=form,
        rows=rows,
        about_lines=about_lines,
        preview=preview_totals(desk, request.org.currency, request.org.locale, rows),
        party_details=details,
        source=source,
        desk=desk,
    )
    return render(request, "desk/document_form.html", context)


@org_view(Capability.WORK_DESK)
@require_GET
def document_line(request: OrgRequest) -> HttpResponse:
    """One line row for the document form: priced from the replica's product, or blank."""
    key = request.GET.get("product", "").strip()
    row = LineRow(uid=line_uid())
    if key:
        line = documents.product_line(request.org, key)
        if line is None:
            raise Http404("No such product in the replica")
        row = row_from_input(line)
    desk = mode.settings_for(request.org)
    return render(request, "desk/_line.html", {"row": row, "desk": desk, "new": True})


@org_view(Capability.WORK_DESK)
@require_GET
def document_party(request: OrgRequest) -> HttpResponse:
    """The chosen customer or supplier, filled from the replica, for a form's party fields."""
    party = request.GET.get("party", "")
    key = request.GET.get("key", "").strip()
    if party not in Party.values:
        raise Http404("No such kind of party")
    name, details = documents.party_details(request.org, party, key) if key else ("", {})
    if key and not name:
        raise Http404("No such customer or supplier in the replica")
    context = {
        "party": party,
        "party_key": key,
        "party_name": name,
        "party_details": details,
        "purpose": request.GET.get("for", "document"),
    }
    return render(request, "desk/_party.html", context)


@org_view(Capability.WORK_DESK)
@require_POST
def document_totals(request: OrgRequest) -> HttpResponse:
    """The live totals of the document form's lines, as they would be saved."""
    desk = mode.settings_for(request.org)
    rows = read_lines(request.POST)
    preview = preview_totals(desk, request.org.currency, request.org.locale, rows)
    return render(request, "desk/_totals.html", {"preview": preview, "rows": rows, "oob": True})


@org_view()
@require_GET
def document_detail(request: OrgRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    made_from_this = list(Document.objects.filter(org=request.org, source=document))
    derived = [(k, DocumentKind(k).label) for k in DERIVED.get(document.kind, ())]
    by_rate: dict[Decimal, list[Decimal]] = {}
    for line in document.lines.all():
        bucket = by_rate.setdefault(line.tax_rate.normalize(), [Decimal(0), Decimal(0)])
        bucket[0] += line.net
        bucket[1] += line.tax
    context = _context(
        request,
        document=document,
        lines=list(document.lines.all()),
        by_rate=sorted((rate, net, tax) for rate, (net, tax) in by_rate.items()),
        line=reconciliation.Line(document, "document"),
        notes_about=list(WorkNote.objects.filter(org=request.org, document=document)),
        made_from_this=made_from_this,
        derived=derived,
        void_form=ReasonForm(),
        desk=mode.settings_for(request.org),
    )
    return render(request, "desk/document.html", context)


@org_view(Capability.WORK_DESK)
@require_POST
def document_void(request: OrgRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        documents.void(document, request.user, reason)
    except DocumentProblem as exc:
        messages.error(request, f"Not voided: {_problem_text(exc.problems)}.")
    else:
        messages.success(request, f"{document} is void. It stays listed, with the reason.")
    return redirect("desk:document", org_slug=request.org.slug, pk=document.pk)


# ----------------------------------------------------------------- work log


def _note_documents(request: OrgRequest) -> list[tuple[int, str]]:
    found = Document.objects.filter(org=request.org).only("pk", "kind", "number", "party_name")
    return [(d.pk, f"{d.number} · {d.party_name}") for d in found[:NOTE_DOCUMENTS]]


def _note_start(request: OrgRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"request_key": new_request_key(), "kind": NoteKind.CALL}
    party = request.GET.get("party", "")
    key = request.GET.get("party_key", "").strip()
    if party in Party.values and key:
        name, _ = documents.party_details(request.org, party, key)
        if name:
            initial.update(party=party, party_key=key, party_name=name)
    document_id = request.GET.get("document", "")
    if document_id.isdigit():
        initial["document"] = int(document_id)
    return initial


@org_view()
@require_http_methods(["GET", "POST"])
def log(request: OrgRequest) -> HttpResponse:
    zone = org_zone(request.org)
    choices = _note_documents(request)
    form: NoteForm
    if request.method == "POST":
        _need(request, Capability.WORK_DESK)
        form = NoteForm(request.POST, zone=zone, documents=choices)
        if form.is_valid():
            data = form.cleaned_data
            party = data.get("party") or ""
            try:
                note, created = notes.add(
                    request.org,
                    data["text"],
                    data["request_key"],
                    request.user,
                    kind=data["kind"],
                    at=data.get("at"),
                    party=party if data.get("party_key") else "",
                    party_key=data.get("party_key") or "",
                    party_name=data.get("party_name") or "",
                    document_id=data.get("document"),
                )
            except DocumentProblem as exc:
                for where, what in exc.problems:
                    if where in ("text", "kind", "at", "document"):
                        form.add_error(where, what)  # shown as "When: is in the future"
                    else:
                        form.add_error(None, what[:1].upper() + what[1:] + ".")
            else:
                if created:
                    messages.success(request, f"Logged: {note.get_kind_display().lower()}.")
                else:
                    messages.info(request, "Already logged (nothing new made).")
                return redirect("desk:log", org_slug=request.org.slug)
    else:
        form = NoteForm(initial=_note_start(request), zone=zone, documents=choices)
    found = WorkNote.objects.filter(org=request.org).select_related("document", "period")
    page = Paginator(found, LOG_PAGE).get_page(request.GET.get("page"))
    context = _context(request, form=form, page=page, void_form=ReasonForm())
    return render(request, "desk/log.html", context)


@org_view(Capability.WORK_DESK)
@require_POST
def note_void(request: OrgRequest, pk: int) -> HttpResponse:
    note = get_for_org_or_404(WorkNote.objects.all(), request.org, pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        notes.void(note, request.user, reason)
    except DocumentProblem as exc:
        messages.error(request, f"Not voided: {_problem_text(exc.problems)}.")
    else:
        messages.success(request, "The note is void. It stays listed, struck through.")
    return redirect(_next_url(request, reverse("desk:log", kwargs={"org_slug": request.org.slug})))


# ------------------------------------------------------------- the way back


@org_view()
@require_GET
def period_list(request: OrgRequest) -> HttpResponse:
    periods = list(
        FallbackPeriod.objects.filter(org=request.org)
        .select_related("incident")
        .order_by("-number")
    )
    rows = [{"period": p, "open": reconciliation.open_count(p)} for p in periods]
    return render(request, "desk/periods.html", _context(request, rows=rows))


def _exports() -> dict[str, str]:
    try:
        from fallback.desk import exports
    except ImportError:  # the export helper's module is not there: no export links
        return {}
    return dict(exports.SHAPES)


def _period_context(request: OrgRequest, period: FallbackPeriod) -> dict[str, Any]:
    lines = reconciliation.lines(period)
    open_count = sum(1 for line in lines if line.status == "open")
    incident = period.incident
    return _context(
        request,
        shown_period=period,
        checklist=reconciliation.checklist(period),
        lines=lines,
        open_count=open_count,
        incident=incident,
        can_resolve=incident is not None and incident.status != Status.RESOLVED,
        shapes=_exports(),
        tick_form=TickForm(),
    )


@org_view()
@require_GET
def period_detail(request: OrgRequest, number: int) -> HttpResponse:
    period = _period(request, number)
    return render(request, "desk/period.html", _period_context(request, period))


LINE_ACTIONS = ("tick", "reopen", "waive")


def _line_item(
    request: OrgRequest, period: FallbackPeriod, what: str, pk: int
) -> Document | WorkNote:
    if what == "document":
        return get_for_org_or_404(Document.objects.all(), request.org, pk=pk, period=period)
    if what == "note":
        return get_for_org_or_404(WorkNote.objects.all(), request.org, pk=pk, period=period)
    raise Http404("No such line")


@org_view(Capability.WORK_DESK)
@require_POST
def line_action(request: OrgRequest, number: int, what: str, pk: int, action: str) -> HttpResponse:
    """Tick a reconciliation line with its final number, reopen it, or (managers) waive it."""
    if action not in LINE_ACTIONS:
        raise Http404("No such action")
    period = _period(request, number)
    item = _line_item(request, period, what, pk)
    error = ""
    done = ""
    try:
        if action == "tick":
            form = TickForm(request.POST)
            if not form.is_valid():
                raise DocumentProblem(
                    [("final_number", f"at most {reconciliation.FINAL_MAX} characters")]
                )
            final = form.cleaned_data["final_number"]
            reconciliation.tick(item, final, request.user)
            done = "Ticked: entered in the main system" + (f" as {final}." if final else ".")
        elif action == "reopen":
            if item.waived_at is not None:
                _need(request, RUN)  # undoing a manager's waiver is a manager's call
            reconciliation.reopen(item, request.user)
            done = "Reopened."
        else:
            _need(request, RUN)
            reason_form = ReasonForm(request.POST)
            reason = reason_form.cleaned_data["reason"] if reason_form.is_valid() else ""
            reconciliation.waive(item, request.user, reason)
            done = "Waived: it need not be entered."
    except DocumentProblem as exc:
        error = _problem_text(exc.problems)
        error = error[:1].upper() + error[1:] + "."
    if request.htmx:
        line = reconciliation.Line(item, what)
        context = _context(
            request,
            shown_period=period,
            line=line,
            error=error,
            done=done,
            open_count=reconciliation.open_count(period),
            incident=period.incident,
            can_resolve=period.incident is not None and period.incident.status != Status.RESOLVED,
            oob=True,
        )
        return render(request, "desk/_line_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("desk:period", org_slug=request.org.slug, number=period.number)


@org_view()
@require_GET
def export(request: OrgRequest, number: int, shape: str) -> HttpResponse:
    """A period's documents and notes as a file for the main system (fallback.desk.exports)."""
    period = _period(request, number)
    try:
        from fallback.desk import exports
    except ImportError:
        raise Http404("Exports are not available") from None
    if shape not in exports.SHAPES:
        raise Http404("No such export")
    content, content_type, filename = exports.render(period, shape)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


# ----------------------------------------------------------------- settings


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def settings_view(request: OrgRequest) -> HttpResponse:
    desk = mode.settings_for(request.org)
    if request.method == "POST":
        plain = [f for f in DeskSettingsForm.Meta.fields if f != "covered_systems"]
        before = {f: getattr(desk, f) for f in plain}
        covered_before = sorted(desk.covered_systems.values_list("name", flat=True))
        form = DeskSettingsForm(request.POST, instance=desk, org=request.org)
        if form.is_valid():
            saved = form.save()
            changes: dict[str, list[Any]] = {
                f: [str(v), str(getattr(saved, f))]
                for f, v in before.items()
                if getattr(saved, f) != v
            }
            covered = sorted(saved.covered_systems.values_list("name", flat=True))
            if covered != covered_before:
                changes["covered_systems"] = [covered_before, covered]
            audit(request.org, "desk.settings.changed", saved, changes)
            messages.success(request, "Saved." if changes else "Nothing to change.")
            return redirect("desk:settings", org_slug=request.org.slug)
    else:
        form = DeskSettingsForm(instance=desk, org=request.org)
    found = list(Device.objects.filter(org=request.org))
    rows = [{"device": d, "form": DeviceRenameForm(instance=d, prefix=f"d{d.pk}")} for d in found]
    return render(request, "desk/settings.html", _context(request, form=form, device_rows=rows))


# -------------------------------------------------------------- dashboard


@org_view()
@require_GET
def card(request: OrgRequest) -> HttpResponse:
    """The dashboard's desk card body (htmx): fallback mode, open lines, where to go."""
    state = _state(request)
    open_lines = reconciliation.open_count(state.period) if state.period else 0
    context = _context(request, open_lines=open_lines)
    return render(request, "desk/_card_body.html", context)
