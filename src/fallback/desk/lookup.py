"""What the desk's pages read from the replica: a customer with its contacts, open orders,
unpaid invoices and balance; a supplier; a product; and the open orders, urgent first.

The replica keeps what the main system said, in its own words: statuses are free text
("Completed", "cancelled", "PAID"…), so they are compared lower-case against the words that
mean "done", and anything else counts as still open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fallback.accounts.models import Organisation
from fallback.desk.models import Document, Party, WorkNote
from fallback.replica import history
from fallback.replica.models import Record

# Order statuses that mean nothing is left to do; anything else is an open order.
CLOSED_ORDER = frozenset(
    {"completed", "complete", "cancelled", "canceled", "closed", "fulfilled", "paid", "void"}
)
# Invoice statuses that mean nothing is owed.
SETTLED_INVOICE = frozenset({"paid", "void", "voided", "cancelled", "canceled"})
URGENT_DAYS = 1  # in fallback mode, orders due by tomorrow are urgent
PARTY_ITEMS = 20  # desk documents and notes shown on a customer or supplier page


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def amount(value: Any) -> Decimal | None:
    """A replica money value ("12.50") as a Decimal; None when absent or not a number."""
    text = _text(value)
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def is_open_order(data: dict[str, Any]) -> bool:
    return _text(data.get("status")).lower() not in CLOSED_ORDER


def is_unpaid_invoice(data: dict[str, Any]) -> bool:
    if _text(data.get("status")).lower() in SETTLED_INVOICE or data.get("paid") is True:
        return False
    owed = amount(data.get("balance"))
    return owed is None or owed > 0


def still_owed(data: dict[str, Any]) -> Decimal:
    """What an invoice still asks for: its balance if the replica gives one, else its total."""
    owed = amount(data.get("balance"))
    if owed is None:
        owed = amount(data.get("total"))
    return owed or Decimal(0)


@dataclass
class OrderRow:
    """An open order of the replica as the desk lists it."""

    record_id: int
    key: str
    number: str
    customer_key: str
    customer_name: str
    status: str
    due: date | None
    total: Decimal | None
    currency: str
    overdue: bool = False
    urgent: bool = False


def _order_row(record: Record) -> OrderRow:
    data = record.data or {}
    return OrderRow(
        record_id=record.pk,
        key=record.key,
        number=_text(data.get("number")) or record.name or record.key,
        customer_key=_text(data.get("customer")),
        customer_name=_text(data.get("customer_name")),
        status=_text(data.get("status")),
        due=_date(data.get("due_date")),
        total=amount(data.get("total")),
        currency=_text(data.get("currency")),
    )


def open_orders(org: Organisation, customer_key: str = "") -> list[OrderRow]:
    """The replica's open orders (of one customer, if given), soonest due first; orders with
    no due date last."""
    records = history.current(org, "order").only("pk", "key", "name", "data")
    if customer_key:
        records = records.filter(data__customer=customer_key)
    rows = [_order_row(r) for r in records.iterator(chunk_size=2000) if is_open_order(r.data or {})]
    rows.sort(key=lambda r: (r.due is None, r.due or date.max, r.number))
    # Some sources give an order only its customer's key: the name comes from the customer.
    unnamed = {r.customer_key for r in rows if r.customer_key and not r.customer_name}
    if unnamed:
        names: dict[str, str] = {}
        listed = sorted(unnamed)
        for start in range(0, len(listed), 500):
            customers = history.current(org, "customer").filter(key__in=listed[start : start + 500])
            names.update(customers.values_list("key", "name"))
        for row in rows:
            if not row.customer_name:
                row.customer_name = names.get(row.customer_key, "")
    return rows


def urgent_orders(
    org: Organisation, today: date, in_fallback: bool, customer_key: str = ""
) -> list[OrderRow]:
    """Open orders soonest due first, each marked overdue (due before today) and urgent
    (overdue, or — while the desk is in fallback mode — due by tomorrow)."""
    rows = open_orders(org, customer_key)
    horizon = today + timedelta(days=URGENT_DAYS)
    for row in rows:
        row.overdue = row.due is not None and row.due < today
        row.urgent = row.overdue or (in_fallback and row.due is not None and row.due <= horizon)
    return rows


@dataclass
class InvoiceRow:
    record_id: int
    number: str
    status: str
    issued: date | None
    due: date | None
    total: Decimal | None
    owed: Decimal
    currency: str


def unpaid_invoices(org: Organisation, customer_key: str) -> list[InvoiceRow]:
    records = history.current(org, "invoice").filter(data__customer=customer_key)
    rows = []
    for record in records:
        data = record.data or {}
        if not is_unpaid_invoice(data):
            continue
        rows.append(
            InvoiceRow(
                record_id=record.pk,
                number=_text(data.get("number")) or record.name or record.key,
                status=_text(data.get("status")),
                issued=_date(data.get("issue_date")),
                due=_date(data.get("due_date")),
                total=amount(data.get("total")),
                owed=still_owed(data),
                currency=_text(data.get("currency")),
            )
        )
    rows.sort(key=lambda r: (r.due is None, r.due or date.max, r.number))
    return rows


def _current(org: Organisation, entity: str, key: str) -> Record | None:
    return history.current(org, entity).filter(key=key).order_by("-valid_from", "-pk").first()


def _contacts(org: Organisation, party: str, key: str) -> list[Record]:
    lookup = {f"data__{party}": key}
    return list(history.current(org, "contact").filter(**lookup).order_by("name", "pk"))


def _desk_items(org: Organisation, party: str, key: str) -> tuple[list[Document], list[WorkNote]]:
    documents = Document.objects.filter(org=org, party=party, party_key=key)
    notes = WorkNote.objects.filter(org=org, party=party, party_key=key)
    return list(documents[:PARTY_ITEMS]), list(notes[:PARTY_ITEMS])


@dataclass
class CustomerView:
    record: Record
    contacts: list[Record]
    orders: list[OrderRow]
    invoices: list[InvoiceRow]
    balance: Decimal
    balance_from_replica: bool  # the customer's own balance field, not a sum of invoices
    documents: list[Document] = field(default_factory=list)
    notes: list[WorkNote] = field(default_factory=list)


def customer(org: Organisation, key: str, today: date, in_fallback: bool) -> CustomerView | None:
    """A customer of the replica with everything the desk shows about them; None if absent."""
    record = _current(org, "customer", key)
    if record is None:
        return None
    invoices = unpaid_invoices(org, key)
    given = amount((record.data or {}).get("balance"))
    balance = given if given is not None else sum((i.owed for i in invoices), Decimal(0))
    documents, notes = _desk_items(org, Party.CUSTOMER, key)
    return CustomerView(
        record=record,
        contacts=_contacts(org, "customer", key),
        orders=urgent_orders(org, today, in_fallback, customer_key=key),
        invoices=invoices,
        balance=balance,
        balance_from_replica=given is not None,
        documents=documents,
        notes=notes,
    )


@dataclass
class SupplierView:
    record: Record
    contacts: list[Record]
    account_number: str
    documents: list[Document] = field(default_factory=list)
    notes: list[WorkNote] = field(default_factory=list)


def supplier(org: Organisation, key: str) -> SupplierView | None:
    record = _current(org, "supplier", key)
    if record is None:
        return None
    documents, notes = _desk_items(org, Party.SUPPLIER, key)
    return SupplierView(
        record=record,
        contacts=_contacts(org, "supplier", key),
        account_number=_text((record.data or {}).get("account_number")),
        documents=documents,
        notes=notes,
    )


@dataclass
class ProductView:
    record: Record
    price: Decimal | None
    tax_rate: Decimal | None  # None: the desk's default rate applies
    stock: Decimal | None
    prices: list[Record]  # price-list entries for this product


def product(org: Organisation, key: str) -> ProductView | None:
    record = _current(org, "product", key)
    if record is None:
        return None
    data = record.data or {}
    prices = history.current(org, "price_list").filter(data__product=key).order_by("name", "pk")
    return ProductView(
        record=record,
        price=amount(data.get("price")),
        tax_rate=amount(data.get("tax_rate")),
        stock=amount(data.get("stock")),
        prices=list(prices[:50]),
    )


def contact_party(record: Record) -> tuple[str, str]:
    """(party, key) a contact belongs to: ("customer", "C1"), ("supplier", "S3") or ("", "")."""
    data = record.data or {}
    for party in (Party.CUSTOMER, Party.SUPPLIER):
        key = _text(data.get(str(party)))
        if key:
            return str(party), key
    return "", ""
