"""Making desk documents: quotes, sales orders, invoices, purchase orders, picking lists and
delivery dockets, filled from the replica and numbered provisionally.

A document is saved in one transaction with its lines and its number; the same request key
returns the document already saved instead of a second one (a double click, a retry, a
reconnect). Nothing is deleted: `void` keeps the document, with who voided it and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import record as audit
from fallback.desk import mode, money, numbering
from fallback.desk.models import (
    DeskSettings,
    Device,
    Document,
    DocumentKind,
    DocumentLine,
    Party,
)
from fallback.replica import history

MAX_LINES = 500
REQUEST_KEY_MAX = 80
SUPPLIER_KINDS = {DocumentKind.PURCHASE_ORDER}


class DocumentProblem(ValueError):
    """What is wrong with a document, field by field: [("lines[2].quantity", "…")]."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{where}: {what}" if where else what for where, what in problems)
        )


@dataclass
class LineInput:
    description: str
    quantity: Any
    unit_price: Any
    tax_rate: Any = None  # None: the product's rate from the replica, else the desk's default
    product_key: str = ""
    sku: str = ""
    unit: str = ""


@dataclass
class DocumentInput:
    kind: str
    party_name: str
    lines: list[LineInput]
    party: str = ""  # default: supplier for purchase orders, customer for the rest
    party_key: str = ""
    party_details: dict[str, str] = field(default_factory=dict)
    reference: str = ""
    issued_on: date | None = None
    due_on: date | None = None
    delivery_address: str = ""
    notes: str = ""
    source_id: int | None = None


def party_for(kind: str) -> str:
    return Party.SUPPLIER if kind in SUPPLIER_KINDS else Party.CUSTOMER


# The canonical customer and supplier fields printed with the name (replica.schema.ENTITIES).
_DETAIL_FIELDS = (
    "contact_name",
    "email",
    "phone",
    "address",
    "city",
    "region",
    "postcode",
    "country",
    "tax_number",
    "account_number",
)


def party_details(org: Organisation, party: str, key: str) -> tuple[str, dict[str, str]]:
    """(name, printable details) of a customer or supplier in the replica; ('', {}) if absent."""
    found = history.current(org, party).filter(key=key).order_by("-valid_from").first()
    if found is None:
        return "", {}
    data = found.data or {}
    details = {f: str(data[f]) for f in _DETAIL_FIELDS if data.get(f) not in (None, "")}
    return found.name or str(data.get("name") or key), details


def product_line(org: Organisation, key: str, quantity: Any = 1) -> LineInput | None:
    """A line for the product with replica key `key`, priced from the replica."""
    return product_lines(org, [key], quantity).get(key)


def product_lines(org: Organisation, keys: list[str], quantity: Any = 1) -> dict[str, LineInput]:
    """Lines for the products with these replica keys, in one query: {key: line}; keys the
    replica does not have are absent."""
    lines: dict[str, LineInput] = {}
    found = history.current(org, "product").filter(key__in=set(keys)).order_by("-valid_from")
    for record in found:
        if record.key in lines:
            continue  # an older current version from a second connector: the newest wins
        data = record.data or {}
        lines[record.key] = LineInput(
            description=str(data.get("name") or record.name or record.key),
            quantity=quantity,
            unit_price=data.get("price") or "0",
            tax_rate=data.get("tax_rate"),
            product_key=record.key,
            sku=str(data.get("sku") or ""),
            unit=str(data.get("unit") or ""),
        )
    return lines


def _check(desk: DeskSettings, data: DocumentInput) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if data.kind not in DocumentKind.values:
        problems.append(("kind", f"{data.kind!r} is not a document kind"))
    if not data.party_name.strip():
        who = "supplier" if party_for(data.kind) == Party.SUPPLIER else "customer"
        problems.append(("party_name", f"choose a {who} or type a name"))
    if data.party and data.party not in Party.values:
        problems.append(("party", f"{data.party!r} is not customer or supplier"))
    if not data.lines:
        problems.append(("lines", "add at least one line"))
    if len(data.lines) > MAX_LINES:
        problems.append(("lines", f"at most {MAX_LINES} lines"))
    if data.issued_on and data.due_on and data.due_on < data.issued_on:
        problems.append(("due_on", "is before the issue date"))
    return problems


def _lines(
    desk: DeskSettings, data: DocumentInput, currency: str
) -> tuple[list[dict[str, Any]], money.Totals, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    rows: list[dict[str, Any]] = []
    amounts: list[tuple[Decimal, money.LineAmounts]] = []
    for n, line in enumerate(data.lines, start=1):
        where = f"lines[{n}]"
        description = (line.description or "").strip()
        if not description:
            problems.append((f"{where}.description", "is empty"))
        # Each number checked on its own, so the problem names its field ("lines[2].quantity").
        numbers: dict[str, Decimal] = {}
        for name, value, what in (
            ("quantity", line.quantity, "the quantity"),
            ("unit_price", line.unit_price, "the price"),
            ("tax_rate", line.tax_rate, "the tax rate"),
        ):
            if name == "tax_rate" and value in (None, ""):
                numbers[name] = desk.tax_rate
                continue
            try:
                numbers[name] = money.to_decimal(value, what, minimum=Decimal(0))
            except money.MoneyProblem as exc:
                problems.append((f"{where}.{name}", str(exc)))
        if len(numbers) < 3:
            continue
        quantity, price, rate = numbers["quantity"], numbers["unit_price"], numbers["tax_rate"]
        if rate > 100:
            problems.append((f"{where}.tax_rate", f"{rate}% is over 100%"))
            continue
        if quantity.as_tuple().exponent < -3 or price.as_tuple().exponent < -4:  # type: ignore[operator]
            problems.append((where, "at most 3 decimals in a quantity and 4 in a price"))
            continue
        if quantity >= Decimal("1e11") or price >= Decimal("1e10"):
            problems.append((where, "the quantity or price is too large"))
            continue
        line_amounts = money.line_amounts(quantity, price, rate, currency, desk.prices_include_tax)
        amounts.append((rate, line_amounts))
        rows.append(
            {
                "position": n,
                "product_key": line.product_key[:200],
                "sku": line.sku[:100],
                "description": description[:500],
                "quantity": quantity,
                "unit": line.unit[:20],
                "unit_price": price,
                "tax_rate": rate,
                "net": line_amounts.net,
                "tax": line_amounts.tax,
                "total": line_amounts.total,
            }
        )
    return rows, money.totals(amounts, currency), problems


def _unknown_products(org: Organisation, lines: list[LineInput]) -> list[tuple[str, str]]:
    """Lines naming a product the replica does not have (a stale form, a typo in the API)."""
    wanted = {line.product_key for line in lines if line.product_key}
    if not wanted:
        return []
    found = set(
        history.current(org, "product").filter(key__in=wanted).values_list("key", flat=True)
    )
    return [
        (f"lines[{n}].product_key", f"no product {line.product_key!r} in the replica")
        for n, line in enumerate(lines, start=1)
        if line.product_key and line.product_key not in found
    ]


def default_due(desk: DeskSettings, kind: str, issued: date) -> date | None:
    if kind == DocumentKind.INVOICE:
        return issued + timedelta(days=desk.payment_terms_days)
    if kind == DocumentKind.QUOTE:
        return issued + timedelta(days=desk.quote_valid_days)
    return None


def create(
    org: Organisation,
    device: Device,
    data: DocumentInput,
    request_key: str,
    by: Any,
    now: datetime | None = None,
) -> tuple[Document, bool]:
    """Save a document (or find the one this request key already saved): (document, created).

    Raises DocumentProblem, changing nothing, when the input is not a valid document or the
    desk is not in fallback mode.
    """
    request_key = request_key.strip()
    if not request_key or len(request_key) > REQUEST_KEY_MAX:
        raise DocumentProblem([("request_key", f"must be 1 to {REQUEST_KEY_MAX} characters")])
    existing = Document.objects.filter(org=org, request_key=request_key).first()
    if existing is not None:
        return existing, False
    if device.org_id != org.pk:
        raise DocumentProblem([("device", "belongs to another organisation")])
    desk = mode.settings_for(org)
    period = mode.current_period(org, now)
    if period is None:
        raise DocumentProblem([("", "fallback mode is off: documents are made in the main system")])
    problems = _check(desk, data)
    rows, totals, line_problems = _lines(desk, data, org.currency)
    problems += line_problems + _unknown_products(org, data.lines)
    source = None
    if data.source_id is not None:
        source = Document.objects.filter(org=org, pk=data.source_id).first()
        if source is None:
            problems.append(("source", f"no document {data.source_id} in this organisation"))
    if problems:
        raise DocumentProblem(problems)
    now = now or timezone.now()
    issued = data.issued_on or timezone.localdate(now, timezone=_zone(org))
    party = data.party or party_for(data.kind)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                org=org,
                period=period,
                device=device,
                kind=data.kind,
                number=numbering.next_number(desk, period, device, data.kind),
                request_key=request_key,
                party=party,
                party_key=data.party_key[:200],
                party_name=data.party_name.strip()[:300],
                party_details={k: str(v)[:300] for k, v in data.party_details.items()},
                reference=data.reference.strip()[:100],
                issued_on=issued,
                due_on=data.due_on or default_due(desk, data.kind, issued),
                delivery_address=data.delivery_address.strip(),
                notes=data.notes.strip(),
                currency=org.currency,
                prices_include_tax=desk.prices_include_tax,
                subtotal=totals.subtotal,
                tax=totals.tax,
                total=totals.total,
                source=source,
                created_at=now,
                created_by=by if getattr(by, "pk", None) else None,
                created_by_label=person_label(by),
            )
            DocumentLine.objects.bulk_create(
                DocumentLine(org=org, document=document, **row) for row in rows
            )
            audit(org, "desk.document.created", document, {"number": [None, document.number]})
    except IntegrityError:
        # The same request raced in from another tab or a retry: that one won.
        existing = Document.objects.filter(org=org, request_key=request_key).first()
        if existing is None:
            raise
        return existing, False
    return document, True


def _zone(org: Organisation) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(org.time_zone)


def person_label(by: Any) -> str:
    if by is None:
        return ""
    return str(getattr(by, "email", "") or getattr(by, "name", "") or by)[:254]


def derive(source: Document, kind: str) -> DocumentInput:
    """A new document's input made from `source`: a quote into an order, an order into an
    invoice, a picking list or a delivery docket."""
    return DocumentInput(
        kind=kind,
        party=source.party if party_for(kind) == source.party else party_for(kind),
        party_key=source.party_key if party_for(kind) == source.party else "",
        party_name=source.party_name if party_for(kind) == source.party else "",
        party_details=dict(source.party_details) if party_for(kind) == source.party else {},
        reference=source.reference,
        delivery_address=source.delivery_address,
        notes="",
        source_id=source.pk,
        lines=[
            LineInput(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                product_key=line.product_key,
                sku=line.sku,
                unit=line.unit,
            )
            for line in source.lines.all()
        ],
    )


def void(document: Document, by: Any, reason: str, now: datetime | None = None) -> Document:
    """Mark a document void, keeping it (and its number) visible with the reason."""
    reason = reason.strip()
    if not reason:
        raise DocumentProblem([("reason", "say why it is void")])
    if document.voided_at is not None:
        return document
    with transaction.atomic():
        updated = Document.objects.filter(pk=document.pk, voided_at__isnull=True).update(
            voided_at=now or timezone.now(),
            voided_by=by if getattr(by, "pk", None) else None,
            void_reason=reason[:300],
        )
        document.refresh_from_db()
        if updated:
            audit(document.org, "desk.document.voided", document, {"void_reason": ["", reason]})
    return document
