"""The way back: a fallback period's documents and notes as files the main system imports.

`render(period, shape)` gives (content, content type, filename); `SHAPES` names the shapes:

- `quickbooks_invoices` — QuickBooks Online's invoice import CSV, one row per line, with the
  columns InvoiceNo, Customer, InvoiceDate, DueDate, Terms, Memo, Item(Product/Service),
  ItemDescription, ItemQuantity, ItemRate, ItemAmount, ItemTaxCode, ItemTaxAmount, Currency.
  Dates are written as QuickBooks reads them for the company's region: MM/DD/YYYY when the
  organisation's locale is a US one (en-US…), DD/MM/YYYY otherwise. InvoiceNo is the
  provisional number (so the imported invoice can be found by it); ItemRate times ItemQuantity
  is ItemAmount, which is the net amount — or the gross one when the organisation's prices
  include tax (choose "Amounts are: inclusive of tax" when importing). ItemTaxCode is the
  rate and the tax's name ("20% VAT"); map it to the company's own tax codes on import.
- `orders_csv` — a generic orders CSV, one row per line, sales orders only.
- `documents_csv` — every document of every kind, one row per line, with kind and status.
- `json` — everything: every document with its lines and every work note, with status,
  final numbers, void and waive fields. Lossless: Decimals as strings exactly as stored,
  times in ISO 8601 UTC.

The import shapes (QuickBooks, orders) hold only what is still to be entered somewhere:
voided documents are left out, and so are lines a manager waived (nothing to enter). The
documents CSV and the JSON leave nothing out.

CSV files are UTF-8 with a byte-order mark and CRLF line ends (what spreadsheet imports
expect), numbers are plain decimals with a '.', and a text value starting with =, +, -, @,
a tab or a carriage return gets a leading ' so a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from fallback.desk.models import (
    DeskSettings,
    Document,
    DocumentKind,
    DocumentLine,
    FallbackPeriod,
    WorkNote,
)

SHAPES: dict[str, str] = {
    "quickbooks_invoices": "Invoices for QuickBooks Online (CSV)",
    "orders_csv": "Sales orders, generic (CSV)",
    "documents_csv": "Every document, one row per line (CSV)",
    "json": "Everything, lossless (JSON)",
}
FORMAT = "fallback-desk-period"
FORMAT_VERSION = 1
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json"


class UnknownShape(ValueError):
    """A shape that is not one of SHAPES."""


# --------------------------------------------------------------------------- values


def safe_text(value: Any) -> str:
    """Text for a CSV cell, defused against formula injection."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def plain(number: Decimal | None, places: int = 0) -> str:
    """A Decimal as a plain decimal with '.', no exponent, trailing zeros dropped down to
    `places` decimals: plain(Decimal("2.000")) == "2", plain(Decimal("12.5000"), 2) == "12.50"."""
    if number is None:
        return ""
    text = format(number.normalize(), "f") if number else "0"
    if "." in text:
        whole, frac = text.split(".")
    else:
        whole, frac = text, ""
    frac = frac.ljust(places, "0")
    return f"{whole}.{frac}" if frac else whole


def utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def is_us(locale: str) -> bool:
    parts = locale.replace("_", "-").split("-")
    return len(parts) > 1 and parts[1].upper() == "US"


def quickbooks_date(day: date | None, locale: str) -> str:
    if day is None:
        return ""
    return day.strftime("%m/%d/%Y" if is_us(locale) else "%d/%m/%Y")


def status(item: Document | WorkNote) -> str:
    """open, entered (in the main system), waived or void — as the reconciliation list says."""
    if item.voided_at is not None:
        return "void"
    if item.reconciled_at is not None:
        return "entered"
    if item.waived_at is not None:
        return "waived"
    return "open"


def _who(user: Any) -> str:
    return str(getattr(user, "email", "") or "") if user is not None else ""


# -------------------------------------------------------------------------- queries


def _documents(period: FallbackPeriod, kind: str | None = None) -> QuerySet[Document]:
    documents = Document.objects.filter(org_id=period.org_id, period=period)
    if kind is not None:
        documents = documents.filter(kind=kind)
    return (
        documents.select_related(
            "device", "source", "created_by", "voided_by", "reconciled_by", "waived_by"
        )
        .prefetch_related(Prefetch("lines", queryset=DocumentLine.objects.order_by("position")))
        .order_by("created_at", "pk")
    )


def _to_enter(documents: QuerySet[Document]) -> QuerySet[Document]:
    return documents.filter(voided_at__isnull=True, waived_at__isnull=True)


# ---------------------------------------------------------------------------- CSV


def _csv(header: list[str], rows: Iterable[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


QUICKBOOKS_COLUMNS = [
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "ItemTaxAmount",
    "Currency",
]


def _terms(document: Document) -> str:
    if document.due_on is None:
        return ""
    days = (document.due_on - document.issued_on).days
    return "Due on receipt" if days <= 0 else f"Net {days}"


def _memo(document: Document) -> str:
    parts = []
    if document.reference:
        parts.append(f"Ref {document.reference}")
    if document.notes:
        parts.append(document.notes)
    return " · ".join(parts)


def quickbooks_invoices(period: FallbackPeriod) -> bytes:
    org = period.org
    desk = DeskSettings.objects.filter(org=org).first()
    tax_name = desk.tax_name if desk else "VAT"
    rows = []
    for document in _to_enter(_documents(period, DocumentKind.INVOICE)):
        for line in document.lines.all():
            amount = line.total if document.prices_include_tax else line.net
            rows.append(
                [
                    safe_text(document.number),
                    safe_text(document.party_name),
                    quickbooks_date(document.issued_on, org.locale),
                    quickbooks_date(document.due_on, org.locale),
                    _terms(document),
                    safe_text(_memo(document)),
                    safe_text(line.sku or line.product_key),
                    safe_text(line.description),
                    plain(line.quantity),
                    plain(line.unit_price, 2),
                    plain(amount, 2),
                    safe_text(f"{plain(line.tax_rate)}% {tax_name}"),
                    plain(line.tax, 2),
                    document.currency,
                ]
            )
    return _csv(QUICKBOOKS_COLUMNS, rows)


ORDER_COLUMNS = [
    "order_number",
    "order_date",
    "customer_key",
    "customer_name",
    "reference",
    "due_date",
    "line_no",
    "sku",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "tax_rate",
    "net",
    "tax",
    "total",
    "currency",
    "notes",
]


def _line_cells(line: DocumentLine) -> list[str]:
    return [
        str(line.position),
        safe_text(line.sku),
        safe_text(line.description),
        plain(line.quantity),
        safe_text(line.unit),
        plain(line.unit_price, 2),
        plain(line.tax_rate),
        plain(line.net, 2),
        plain(line.tax, 2),
        plain(line.total, 2),
    ]


def orders_csv(period: FallbackPeriod) -> bytes:
    rows = []
    for document in _to_enter(_documents(period, DocumentKind.ORDER)):
        for line in document.lines.all():
            rows.append(
                [
                    safe_text(document.number),
                    _iso(document.issued_on),
                    safe_text(document.party_key),
                    safe_text(document.party_name),
                    safe_text(document.reference),
                    _iso(document.due_on),
                    *_line_cells(line),
                    document.currency,
                    safe_text(document.notes),
                ]
            )
    return _csv(ORDER_COLUMNS, rows)


DOCUMENT_COLUMNS = [
    "number",
    "kind",
    "status",
    "final_number",
    "issued_on",
    "due_on",
    "party",
    "party_key",
    "party_name",
    "reference",
    "line_no",
    "sku",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "tax_rate",
    "net",
    "tax",
    "total",
    "document_subtotal",
    "document_tax",
    "document_total",
    "currency",
    "notes",
    "device",
    "created_at",
    "created_by",
    "void_reason",
    "waive_reason",
]


def documents_csv(period: FallbackPeriod) -> bytes:
    rows = []
    for document in _documents(period):
        for line in document.lines.all():
            rows.append(
                [
                    safe_text(document.number),
                    document.kind,
                    status(document),
                    safe_text(document.final_number),
                    _iso(document.issued_on),
                    _iso(document.due_on),
                    document.party,
                    safe_text(document.party_key),
                    safe_text(document.party_name),
                    safe_text(document.reference),
                    *_line_cells(line),
                    plain(document.subtotal, 2),
                    plain(document.tax, 2),
                    plain(document.total, 2),
                    document.currency,
                    safe_text(document.notes),
                    document.device.code,
                    utc(document.created_at) or "",
                    safe_text(document.created_by_label),
                    safe_text(document.void_reason),
                    safe_text(document.waive_reason),
                ]
            )
    return _csv(DOCUMENT_COLUMNS, rows)


# --------------------------------------------------------------------------- JSON


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _reconciled(item: Document | WorkNote) -> dict[str, Any]:
    return {
        "status": status(item),
        "request_key": item.request_key,
        "created_at": utc(item.created_at),
        "created_by": item.created_by_label or _who(item.created_by),
        "voided_at": utc(item.voided_at),
        "voided_by": _who(item.voided_by),
        "void_reason": item.void_reason,
        "final_number": item.final_number,
        "reconciled_at": utc(item.reconciled_at),
        "reconciled_by": _who(item.reconciled_by),
        "waived_at": utc(item.waived_at),
        "waived_by": _who(item.waived_by),
        "waive_reason": item.waive_reason,
    }


def document_dict(document: Document) -> dict[str, Any]:
    """One document and its lines, every field (the JSON export's and the API's shape)."""
    return {
        "id": document.pk,
        "number": document.number,
        "kind": document.kind,
        "period": document.period.number,
        "device": document.device.code,
        "party": document.party,
        "party_key": document.party_key,
        "party_name": document.party_name,
        "party_details": dict(document.party_details),
        "reference": document.reference,
        "issued_on": _iso(document.issued_on) or None,
        "due_on": _iso(document.due_on) or None,
        "delivery_address": document.delivery_address,
        "notes": document.notes,
        "currency": document.currency,
        "prices_include_tax": document.prices_include_tax,
        "subtotal": _decimal(document.subtotal),
        "tax": _decimal(document.tax),
        "total": _decimal(document.total),
        "source": document.source.number if document.source_id and document.source else None,
        **_reconciled(document),
        "lines": [
            {
                "position": line.position,
                "product_key": line.product_key,
                "sku": line.sku,
                "description": line.description,
                "quantity": _decimal(line.quantity),
                "unit": line.unit,
                "unit_price": _decimal(line.unit_price),
                "tax_rate": _decimal(line.tax_rate),
                "net": _decimal(line.net),
                "tax": _decimal(line.tax),
                "total": _decimal(line.total),
            }
            for line in document.lines.all()
        ],
    }


def note_dict(note: WorkNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "period": note.period.number if note.period_id and note.period else None,
        "at": utc(note.at),
        "kind": note.kind,
        "text": note.text,
        "party": note.party,
        "party_key": note.party_key,
        "party_name": note.party_name,
        "document": note.document.number if note.document_id and note.document else None,
        **_reconciled(note),
    }


def period_json(period: FallbackPeriod) -> bytes:
    org = period.org
    notes = (
        WorkNote.objects.filter(org_id=period.org_id, period=period)
        .select_related("period", "document", "created_by", "voided_by", "reconciled_by")
        .select_related("waived_by")
        .order_by("at", "pk")
    )
    incident = period.incident
    content = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": utc(timezone.now()),
        "organisation": {
            "slug": org.slug,
            "name": org.name,
            "currency": org.currency,
            "locale": org.locale,
            "time_zone": org.time_zone,
        },
        "period": {
            "number": period.number,
            "started_at": utc(period.started_at),
            "ended_at": utc(period.ended_at),
            "reason": period.reason,
            "is_exercise": period.is_exercise,
            "incident": {"id": incident.pk, "title": incident.title} if incident else None,
        },
        "documents": [document_dict(d) for d in _documents(period).select_related("period")],
        "notes": [note_dict(n) for n in notes],
    }
    return json.dumps(content, ensure_ascii=False, indent=2).encode("utf-8")


# ------------------------------------------------------------------------- render

_RENDER: dict[str, tuple[Callable[[FallbackPeriod], bytes], str, str]] = {
    "quickbooks_invoices": (quickbooks_invoices, CSV_TYPE, "quickbooks-invoices.csv"),
    "orders_csv": (orders_csv, CSV_TYPE, "orders.csv"),
    "documents_csv": (documents_csv, CSV_TYPE, "documents.csv"),
    "json": (period_json, JSON_TYPE, "everything.json"),
}


def render(period: FallbackPeriod, shape: str) -> tuple[bytes, str, str]:
    """(content, content type, filename) of `period` in `shape` (a key of SHAPES)."""
    if shape not in _RENDER:
        raise UnknownShape(f"no export shape {shape!r} (known: {', '.join(SHAPES)})")
    make, content_type, suffix = _RENDER[shape]
    filename = f"{period.org.slug}-fallback-{period.number}-{suffix}"
    return make(period), content_type, filename
