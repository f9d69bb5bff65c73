"""Printing desk documents and blank forms: what each kind shows, money and dates in the
organisation's locale, the void and exercise marks, the organisation's own CSS, and PDFs
that are real PDFs of the expected number of pages."""

from __future__ import annotations

import html as html_lib
import re
import threading
import zlib
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fallback.desk import documents, mode, numbering, printing
from fallback.desk.documents import DocumentInput, LineInput
from fallback.desk.models import Document, DocumentKind, FallbackPeriod
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db

ISSUED = date(2026, 3, 5)
NOTE = "Provisional number issued during a system outage; the final number will follow."


@pytest.fixture
def desk():
    ann = make_user("ann@harbour.test")
    org = make_org("Harbour Plumbing", owner=ann)
    settings = mode.settings_for(org)
    settings.letterhead_name = "Harbour Plumbing Supplies Ltd"
    settings.letterhead_address = "Unit 4, Quay Street\nBristol BS1 4DJ"
    settings.letterhead_phone = "0117 496 0123"
    settings.letterhead_tax_number = "GB 123 4567 89"
    settings.footer = "Registered in England No. 01234567"
    settings.save()
    period = mode.switch_on(org, ann, "CRM down")
    device = numbering.register_device(org, "Front desk")
    return {"org": org, "ann": ann, "period": period, "device": device}


def make(desk, kind: str = DocumentKind.INVOICE, lines=None, key: str = "", **fields) -> Document:
    data = DocumentInput(
        kind=kind,
        party_name=fields.pop("party_name", "Smith Heating"),
        lines=lines or [pipe(), elbow()],
        issued_on=ISSUED,
        **fields,
    )
    document, created = documents.create(
        desk["org"], desk["device"], data, key or f"{kind}-{Document.objects.count()}", desk["ann"]
    )
    assert created
    return document


def pipe(**fields) -> LineInput:
    return LineInput(
        description="Copper pipe 15mm",
        quantity="12",
        unit_price="8.45",
        sku="CP-15",
        unit="length",
        **fields,
    )


def elbow(**fields) -> LineInput:
    return LineInput(
        description="Compression elbow", quantity="40", unit_price="1.1250", sku="CE-15", **fields
    )


def visible(html: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces joined."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    # Only ASCII white space is joined: the no-break spaces money is written with stay.
    return re.sub(r"[ \t\r\n]+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def scripts(html: str) -> list[str]:
    """The script elements a browser would run, by src ("" when inline)."""
    found: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "script":
                found.append(dict(attrs).get("src") or "")

    Parser().feed(html)
    return found


def pdf_streams(pdf: bytes) -> bytes:
    """Every compressed stream of a PDF, inflated: where its metadata and objects live."""
    found = []
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            found.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(found)


def in_pdf_metadata(pdf: bytes, text: str) -> bool:
    inflated = pdf_streams(pdf)
    return text.encode() in inflated or text.encode("utf-16-be").hex().encode() in inflated.lower()


# ------------------------------------------------------------------ documents


def test_invoice_pdf_is_a_one_page_pdf_titled_with_its_number(desk):
    invoice = make(desk)
    pdf = printing.document_pdf(invoice)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert in_pdf_metadata(pdf, invoice.number)
    html = printing.document_html(invoice)
    assert printing.page_count(html, [printing.base_css()]) == 1


def test_invoice_shows_letterhead_party_lines_totals_and_the_provisional_note(desk):
    invoice = make(
        desk,
        party_details={
            "contact_name": "Jane Smith",
            "address": "Old Mill\n12 Mill Lane",
            "city": "Bath",
            "postcode": "BA1 1AA",
            "email": "jane@smith.test",
            "tax_number": "GB 987",
        },
        reference="PO-7",
        notes="Pay by bank transfer.",
    )
    text = visible(printing.document_html(invoice))
    for expected in [
        "Harbour Plumbing Supplies Ltd",
        "Unit 4, Quay Street",
        "0117 496 0123",
        "VAT no. GB 123 4567 89",
        "Invoice",
        invoice.number,
        "5 Mar 2026",
        "Payment due 4 Apr 2026",  # 30 days' terms
        "Your reference PO-7",
        "Bill to Smith Heating Attn. Jane Smith Old Mill 12 Mill Lane Bath BA1 1AA jane@smith.test",
        "VAT no. GB 987",
        "Copper pipe 15mm CP-15 12 length £8.45 20% £101.40",
        "Compression elbow CE-15 40 £1.125 20% £45.00",
        "Subtotal £146.40",
        "VAT 20% on £146.40 £29.28",
        "Total GBP £175.68",
        "Pay by bank transfer.",
        NOTE,
        "Registered in England No. 01234567",
    ]:
        assert expected in text, expected


def test_totals_for_a_german_organisation_in_euros_follow_its_locale(desk):
    org = desk["org"]
    org.locale, org.currency = "de-DE", "EUR"
    org.save()
    invoice = make(
        desk,
        lines=[
            LineInput(description="Kessel", quantity="1", unit_price="1234.50", tax_rate="0"),
            LineInput(description="Ventil", quantity="2", unit_price="10", tax_rate="7.5"),
        ],
    )
    text = visible(printing.document_html(invoice))
    assert "1.234,50\xa0€" in text  # "1.234,50 €", never broken between number and sign
    assert "Total EUR 1.256,00\xa0€" in text
    assert "VAT 7,5\xa0% on 20,00\xa0€ 1,50\xa0€" in text
    assert "VAT 0\xa0% on 1.234,50\xa0€ 0,00\xa0€" in text
    assert "05.03.2026" in text


def test_tax_inclusive_prices_print_gross_line_amounts_and_say_so(desk):
    settings = mode.settings_for(desk["org"])
    settings.prices_include_tax = True
    settings.save()
    invoice = make(desk, lines=[pipe(tax_rate="20")])
    text = visible(printing.document_html(invoice))
    assert "£8.45 20% £101.40" in text  # 12 x 8.45 gross
    assert "Net £84.50" in text
    assert "VAT 20% on £84.50 £16.90" in text
    assert "Total GBP £101.40" in text
    assert "Prices include VAT." in text


def test_a_voided_document_carries_a_void_stamp_with_the_reason(desk):
    invoice = make(desk)
    documents.void(invoice, desk["ann"], "Typed the wrong customer")
    html = printing.document_html(invoice)
    assert 'class="void-stamp"' in html
    assert "VOID Typed the wrong customer" in visible(html)
    assert printing.document_pdf(invoice).startswith(b"%PDF-")
    assert 'class="void-stamp"' not in printing.document_html(make(desk))


def test_a_document_made_in_a_drill_is_marked_exercise(desk):
    FallbackPeriod.objects.filter(pk=desk["period"].pk).update(is_exercise=True)
    quote = make(desk, DocumentKind.QUOTE)
    text = visible(printing.document_html(quote))
    assert "EXERCISE — made during a drill, not a real quote" in text
    FallbackPeriod.objects.filter(pk=desk["period"].pk).update(is_exercise=False)
    assert "EXERCISE" not in visible(printing.document_html(quote))


def test_a_reconciled_document_prints_its_final_number(desk):
    invoice = make(desk)
    Document.objects.filter(pk=invoice.pk).update(final_number="INV-1042")
    text = visible(printing.document_html(invoice))
    assert "Final number INV-1042" in text
    assert "the final number is INV-1042." in text
    assert NOTE not in text


def test_picking_list_shows_quantities_and_a_tick_column_but_no_prices(desk):
    picking = make(desk, DocumentKind.PICKING_LIST, delivery_address="Site office\nBath")
    html = printing.document_html(picking)
    text = visible(html)
    assert "Picking list" in text
    assert "Copper pipe 15mm CP-15 12 length" in text
    assert "Picked" in text and 'class="box"' in html
    assert "Deliver to Site office Bath" in text
    assert "£" not in text and "Unit price" not in text and "Total" not in text


def test_delivery_docket_has_a_received_by_box_and_no_prices(desk):
    docket = make(desk, DocumentKind.DELIVERY_DOCKET)
    text = visible(printing.document_html(docket))
    assert "Received by (name)" in text and "Signature" in text
    assert "Compression elbow CE-15 40" in text
    assert "£" not in text and "Unit price" not in text


def test_purchase_order_is_addressed_to_the_supplier_and_delivered_to_us(desk):
    order = make(
        desk,
        DocumentKind.PURCHASE_ORDER,
        party_name="Pipes Wholesale",
        party_details={"account_number": "ACME-77"},
    )
    text = visible(printing.document_html(order))
    assert "Supplier Pipes Wholesale Our account no. ACME-77" in text
    assert "Deliver to Harbour Plumbing Supplies Ltd Unit 4, Quay Street Bristol BS1 4DJ" in text
    assert "Total GBP" in text


def test_the_printable_page_has_a_print_button_and_the_organisation_css_last(desk):
    settings = mode.settings_for(desk["org"])
    settings.document_css = ".letterhead .org-name { color: navy } </style><script>x()</script>"
    settings.save()
    page = printing.document_html(make(desk), screen=True, pdf_url="/the.pdf")
    assert "data-print" in page and 'href="/the.pdf"' in page
    assert page.index("@page") < page.index("color: navy")  # the organisation's comes after
    assert scripts(page) == ["/static/fallback/print/print.js"]  # its CSS cannot end <style>
    pdf_html = printing.document_html(make(desk))
    assert "data-print" not in pdf_html and "@page" not in pdf_html  # CSS goes in separately


def test_the_organisation_css_cannot_make_the_server_fetch_anything(desk):
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        settings = mode.settings_for(desk["org"])
        settings.document_css = (
            f'@import url("http://127.0.0.1:{port}/import.css");'
            f" body {{ background: url(http://127.0.0.1:{port}/logo.png) }}"
            " h1 { background: url(file:///etc/hostname) }"
        )
        settings.save()
        assert printing.document_pdf(make(desk)).startswith(b"%PDF-")
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []


def test_unit_prices_keep_their_extra_decimals_and_amounts_are_rounded():
    assert printing.format_unit_price(Decimal("1.1250"), "GBP", "en-GB") == "£1.125"
    assert printing.format_unit_price(Decimal("8.4500"), "GBP", "en-GB") == "£8.45"
    assert printing.format_unit_price(Decimal("1500"), "EUR", "de-DE") == "1.500,00\xa0€"


def test_addresses_put_town_and_postcode_in_the_organisations_order():
    details = {"address": "Hauptstr. 1", "city": "Berlin", "postcode": "10115"}
    assert printing.address_lines(details, "de-DE") == ["Hauptstr. 1", "10115 Berlin"]
    details = {"address": "1 Main St", "city": "Springfield", "region": "IL",
               "postcode": "62701", "country": "USA"}  # fmt: skip
    assert printing.address_lines(details, "en-US") == [
        "1 Main St",
        "Springfield IL 62701",
        "USA",
    ]


# ------------------------------------------------------------------ blank forms


@pytest.mark.parametrize("kind", list(printing.BLANK_FORMS))
def test_every_blank_form_renders_on_one_page(desk, kind):
    pdf = printing.blank_form_pdf(desk["org"], kind)
    assert pdf.startswith(b"%PDF-")
    html = printing.blank_form_html(desk["org"], kind)
    assert printing.page_count(html, [printing.base_css()]) == 1
    assert "Harbour Plumbing Supplies Ltd" in visible(html)


def test_a_blank_invoice_has_ruled_lines_totals_boxes_and_says_how_to_number_it(desk):
    text = visible(printing.blank_form_html(desk["org"], DocumentKind.INVOICE))
    assert "Number (write it in)" in text
    assert "e.g. FB1-PAPER-INV001" in text  # printed while fallback period 1 is open
    assert "This outage is fallback period 1." in text
    assert "Subtotal" in text and "Total GBP" in text
    assert " 12 " in text and " 13 " not in text  # twelve numbered empty lines
    assert "Unit price" in text


def test_a_blank_form_printed_in_advance_leaves_the_period_to_be_written_in(desk):
    mode.switch_off(desk["org"], desk["ann"])
    text = visible(printing.blank_form_html(desk["org"], DocumentKind.QUOTE))
    assert "e.g. FB?-PAPER-Q001" in text
    assert "Ask the person in charge for the period number" in text


def test_blank_picking_list_and_docket_have_no_prices(desk):
    picking = visible(printing.blank_form_html(desk["org"], DocumentKind.PICKING_LIST))
    docket = visible(printing.blank_form_html(desk["org"], DocumentKind.DELIVERY_DOCKET))
    assert "Picked" in picking and "Unit price" not in picking and "Total" not in picking
    assert "Received by (name)" in docket and "Unit price" not in docket


def test_the_work_log_sheet_has_a_column_for_each_thing_to_log(desk):
    text = visible(printing.blank_form_html(desk["org"], printing.WORK_LOG))
    assert (
        "Date and time Who Customer What was done Promised / sent Entered in main system ✓" in text
    )
    assert "e.g. FB1-PAPER-LOG001" in text


def test_an_unknown_blank_form_is_refused_naming_the_real_ones(desk):
    with pytest.raises(printing.UnknownForm, match=r"'receipt'.*invoice.*work_log"):
        printing.blank_form_pdf(desk["org"], "receipt")
