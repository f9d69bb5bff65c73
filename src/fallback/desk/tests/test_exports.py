"""The way-back exports: each shape read back with csv/json and checked value by value."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest

from fallback.accounts.models import Organisation
from fallback.desk import documents, exports, mode, notes, numbering, reconciliation
from fallback.desk.documents import DocumentInput, LineInput
from fallback.desk.models import Document, FallbackPeriod
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db

ISSUED = date(2026, 3, 5)


@pytest.fixture
def desk():
    ann = make_user("ann@acme.test")
    org = make_org("Acme", owner=ann)
    period = mode.switch_on(org, ann, "CRM down")
    device = numbering.register_device(org, "Front desk")
    return {"org": org, "ann": ann, "period": period, "device": device}


def make(desk, kind: str, key: str, lines: list[LineInput], **fields) -> Document:
    data = DocumentInput(
        kind=kind, party_name=fields.pop("party_name", "Smith Plumbing"), lines=lines, **fields
    )
    data.issued_on = data.issued_on or ISSUED
    document, created = documents.create(desk["org"], desk["device"], data, key, desk["ann"])
    assert created
    return document


def pipe(quantity: str = "2", price: str = "12.50", **fields) -> LineInput:
    return LineInput(
        description="Copper pipe 15mm", quantity=quantity, unit_price=price, sku="CP-15", **fields
    )


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    text = content.decode("utf-8-sig")
    assert text.count("\r\n") == text.count("\n"), "every line ends CRLF"
    return list(csv.DictReader(io.StringIO(text, newline="")))


def render(desk, shape: str) -> tuple[bytes, str, str]:
    period = FallbackPeriod.objects.get(pk=desk["period"].pk)
    return exports.render(period, shape)


def test_quickbooks_invoices_one_row_per_line_with_half_up_rounding(desk):
    invoice = make(
        desk,
        "invoice",
        "k1",
        [pipe(), LineInput(description="Washer", quantity="1", unit_price="0.125")],
        party_key="C42",
        reference="PO-7",
        notes="Leave at the back door",
    )
    content, content_type, filename = render(desk, "quickbooks_invoices")
    assert content_type == "text/csv; charset=utf-8"
    assert filename == f"acme-fallback-{desk['period'].number}-quickbooks-invoices.csv"
    rows = read_csv(content)
    assert list(rows[0]) == exports.QUICKBOOKS_COLUMNS
    assert rows == [
        {
            "InvoiceNo": invoice.number,
            "Customer": "Smith Plumbing",
            "InvoiceDate": "05/03/2026",  # en-GB: DD/MM/YYYY
            "DueDate": "04/04/2026",
            "Terms": "Net 30",
            "Memo": "Ref PO-7 · Leave at the back door",
            "Item(Product/Service)": "CP-15",
            "ItemDescription": "Copper pipe 15mm",
            "ItemQuantity": "2",
            "ItemRate": "12.50",
            "ItemAmount": "25.00",
            "ItemTaxCode": "20% VAT",
            "ItemTaxAmount": "5.00",
            "Currency": "GBP",
        },
        {
            "InvoiceNo": invoice.number,
            "Customer": "Smith Plumbing",
            "InvoiceDate": "05/03/2026",
            "DueDate": "04/04/2026",
            "Terms": "Net 30",
            "Memo": "Ref PO-7 · Leave at the back door",
            "Item(Product/Service)": "",
            "ItemDescription": "Washer",
            "ItemQuantity": "1",
            "ItemRate": "0.125",
            # 0.125 rounds half up to 0.13 (not to the even 0.12), and its 20% tax 0.026 to 0.03
            "ItemAmount": "0.13",
            "ItemTaxCode": "20% VAT",
            "ItemTaxAmount": "0.03",
            "Currency": "GBP",
        },
    ]


def test_quickbooks_leaves_out_voided_and_waived_invoices_and_other_kinds(desk):
    kept = make(desk, "invoice", "k1", [pipe()])
    voided = make(desk, "invoice", "k2", [pipe()])
    waived = make(desk, "invoice", "k3", [pipe()])
    make(desk, "order", "k4", [pipe()])
    make(desk, "quote", "k5", [pipe()])
    documents.void(voided, desk["ann"], "typed twice")
    reconciliation.waive(waived, desk["ann"], "entered by phone already")
    rows = read_csv(render(desk, "quickbooks_invoices")[0])
    assert [r["InvoiceNo"] for r in rows] == [kept.number]


def test_quickbooks_dates_are_month_first_for_a_us_organisation(desk):
    Organisation.objects.filter(pk=desk["org"].pk).update(locale="en-US", currency="USD")
    desk["org"].refresh_from_db()
    make(desk, "invoice", "k1", [pipe()])
    (row,) = read_csv(render(desk, "quickbooks_invoices")[0])
    assert (row["InvoiceDate"], row["DueDate"], row["Currency"]) == (
        "03/05/2026",
        "04/04/2026",
        "USD",
    )


def test_orders_csv_has_sales_orders_only(desk):
    order = make(
        desk,
        "order",
        "k1",
        [pipe(quantity="1.5", price="2.345", unit="m", tax_rate="5")],
        party_key="C42",
        due_on=date(2026, 3, 9),
    )
    voided = make(desk, "order", "k2", [pipe()])
    documents.void(voided, desk["ann"], "wrong customer")
    make(desk, "invoice", "k3", [pipe()])
    content, _, filename = render(desk, "orders_csv")
    assert filename.endswith("-orders.csv")
    rows = read_csv(content)
    assert rows == [
        {
            "order_number": order.number,
            "order_date": "2026-03-05",
            "customer_key": "C42",
            "customer_name": "Smith Plumbing",
            "reference": "",
            "due_date": "2026-03-09",
            "line_no": "1",
            "sku": "CP-15",
            "description": "Copper pipe 15mm",
            "quantity": "1.5",
            "unit": "m",
            "unit_price": "2.345",
            "tax_rate": "5",
            # 1.5 x 2.345 = 3.5175 → 3.52; 5% of it 0.176 → 0.18
            "net": "3.52",
            "tax": "0.18",
            "total": "3.70",
            "currency": "GBP",
            "notes": "",
        }
    ]


def test_text_that_a_spreadsheet_would_run_is_defused(desk):
    make(
        desk,
        "order",
        "k1",
        [LineInput(description="-5% trade discount", quantity="1", unit_price="1")],
        party_name='=HYPERLINK("http://x.test")',
        reference="+44 20 7946 0000",
        notes="@SUM(A1)",
    )
    (row,) = read_csv(render(desk, "orders_csv")[0])
    assert row["customer_name"] == '\'=HYPERLINK("http://x.test")'
    assert row["reference"] == "'+44 20 7946 0000"
    assert row["description"] == "'-5% trade discount"
    assert row["notes"] == "'@SUM(A1)"
    assert row["quantity"] == "1"


def test_documents_csv_lists_every_kind_with_its_status(desk):
    quote = make(desk, "quote", "k1", [pipe(), pipe(quantity="3")])
    voided = make(desk, "invoice", "k2", [pipe()])
    entered = make(desk, "purchase_order", "k3", [pipe()], party_name="Pipes Ltd")
    documents.void(voided, desk["ann"], "typed twice")
    reconciliation.tick(entered, "PO-9001", desk["ann"])
    rows = read_csv(render(desk, "documents_csv")[0])
    assert [(r["number"], r["kind"], r["status"], r["line_no"]) for r in rows] == [
        (quote.number, "quote", "open", "1"),
        (quote.number, "quote", "open", "2"),
        (voided.number, "invoice", "void", "1"),
        (entered.number, "purchase_order", "entered", "1"),
    ]
    assert rows[1]["total"] == "45.00" and rows[1]["document_total"] == "75.00"
    assert rows[2]["void_reason"] == "typed twice"
    assert (rows[3]["final_number"], rows[3]["party"]) == ("PO-9001", "supplier")
    assert rows[0]["device"] == desk["device"].code
    assert rows[0]["created_at"].endswith("Z")


def test_json_export_is_lossless(desk):
    invoice = make(
        desk,
        "invoice",
        "k1",
        [pipe(quantity="1.25", price="0.0125", tax_rate="17.5")],
        party_key="C42",
        party_details={"email": "jo@smith.test"},
    )
    derived = documents.derive(invoice, "delivery_docket")
    derived.issued_on = ISSUED
    docket, _ = documents.create(desk["org"], desk["device"], derived, "k2", desk["ann"])
    reconciliation.tick(invoice, "INV-5001", desk["ann"])
    reconciliation.waive(docket, desk["ann"], "not kept in the main system")
    note, _ = notes.add(
        desk["org"],
        "Promised delivery by Friday",
        "n1",
        desk["ann"],
        kind="promise",
        document_id=invoice.pk,
    )
    content, content_type, filename = render(desk, "json")
    assert content_type == "application/json"
    assert filename.endswith("-everything.json")
    data = json.loads(content)
    assert (data["format"], data["version"]) == ("fallback-desk-period", 1)
    assert data["organisation"]["slug"] == "acme"
    assert data["period"]["number"] == desk["period"].number
    assert data["period"]["reason"] == "CRM down"
    first, second = data["documents"]
    assert first["number"] == invoice.number
    assert (first["status"], first["final_number"]) == ("entered", "INV-5001")
    assert first["reconciled_by"] == "ann@acme.test"
    assert first["party_details"] == {"email": "jo@smith.test"}
    assert first["issued_on"] == "2026-03-05" and first["due_on"] == "2026-04-04"
    assert first["request_key"] == "k1"
    (line,) = first["lines"]
    # Decimals exactly as stored, as strings: nothing rounded away by a float.
    assert line["quantity"] == "1.250"
    assert line["unit_price"] == "0.0125"
    assert line["tax_rate"] == "17.500"
    assert (line["net"], line["tax"], line["total"]) == ("0.02", "0.00", "0.02")
    assert (first["subtotal"], first["tax"], first["total"]) == ("0.02", "0.00", "0.02")
    assert Decimal(first["total"]) == invoice.total
    assert first["created_at"].endswith("Z")
    assert (second["kind"], second["source"], second["status"]) == (
        "delivery_docket",
        invoice.number,
        "waived",
    )
    assert second["waive_reason"] == "not kept in the main system"
    (logged,) = data["notes"]
    assert logged["id"] == note.pk
    assert (logged["kind"], logged["text"], logged["document"]) == (
        "promise",
        "Promised delivery by Friday",
        invoice.number,
    )
    assert (logged["status"], logged["party_name"]) == ("open", "Smith Plumbing")
    assert logged["at"].endswith("Z")


def test_json_export_keeps_voided_documents_with_their_reason(desk):
    voided = make(desk, "quote", "k1", [pipe()])
    documents.void(voided, desk["ann"], "customer changed their mind")
    (only,) = json.loads(render(desk, "json")[0])["documents"]
    assert (only["status"], only["void_reason"], only["voided_by"]) == (
        "void",
        "customer changed their mind",
        "ann@acme.test",
    )
    assert only["voided_at"].endswith("Z")


def test_an_unknown_shape_is_refused_naming_the_known_ones(desk):
    with pytest.raises(exports.UnknownShape, match="quickbooks_invoices"):
        render(desk, "sage")


def test_plain_numbers_have_no_exponent_and_a_dot():
    assert exports.plain(Decimal("100.000")) == "100"
    assert exports.plain(Decimal("0.00"), 2) == "0.00"
    assert exports.plain(Decimal("12.5000"), 2) == "12.50"
    assert exports.plain(Decimal("1E+3"), 2) == "1000.00"
