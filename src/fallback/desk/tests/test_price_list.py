"""The price list: every current product (and price-list entry) of the organisation's
replica, sorted by name, net and gross prices, how fresh the copy is, as CSV and PDF."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from fallback.desk import mode, price_list, printing
from fallback.desk.tests.conftest import put_records
from fallback.replica.models import Connector, Record
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db

SYNCED = datetime(2026, 3, 5, 9, 42, tzinfo=UTC)


@pytest.fixture
def org():
    org = make_org("Harbour Plumbing")
    put_records(
        org,
        "product",
        [
            {"key": "P2", "name": "Washer", "sku": "W-1", "unit": "box", "price": "4.00"},
            {"key": "P1", "name": "Boiler", "sku": "B-9", "price": "1000", "tax_rate": "5"},
            {"key": "P3", "name": "Copper pipe", "sku": "CP-15", "price": "8.45"},
        ],
        at=SYNCED - timedelta(days=1),
    )
    return org


def read(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    text = content.decode("utf-8-sig")
    assert text.count("\r\n") == text.count("\n"), "every line ends CRLF"
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == price_list.CSV_COLUMNS
    return list(reader)


def test_csv_lists_every_current_product_by_name_with_net_and_gross(org):
    rows = read(price_list.price_list_csv(org))
    assert rows == [
        {
            "sku": "B-9",
            "name": "Boiler",
            "unit": "",
            "price_excl_tax": "1000.00",
            "tax_rate": "5",  # the product's own rate
            "price_incl_tax": "1050.00",
            "currency": "GBP",
            "price_list": "",
            "from_quantity": "",
        },
        {
            "sku": "CP-15",
            "name": "Copper pipe",
            "unit": "",
            "price_excl_tax": "8.45",
            "tax_rate": "20",  # the desk's default rate
            "price_incl_tax": "10.14",
            "currency": "GBP",
            "price_list": "",
            "from_quantity": "",
        },
        {
            "sku": "W-1",
            "name": "Washer",
            "unit": "box",
            "price_excl_tax": "4.00",
            "tax_rate": "20",
            "price_incl_tax": "4.80",
            "currency": "GBP",
            "price_list": "",
            "from_quantity": "",
        },
    ]


def test_tax_inclusive_prices_give_the_net_price_computed(org):
    settings = mode.settings_for(org)
    settings.prices_include_tax = True
    settings.save()
    rows = {r["sku"]: r for r in read(price_list.price_list_csv(org))}
    assert (rows["CP-15"]["price_excl_tax"], rows["CP-15"]["price_incl_tax"]) == ("7.04", "8.45")
    assert (rows["B-9"]["price_excl_tax"], rows["B-9"]["price_incl_tax"]) == ("952.38", "1000.00")


def test_price_list_entries_follow_the_products_with_their_list_and_quantity(org):
    put_records(
        org,
        "price_list",
        [
            {"key": "T2", "list": "Trade", "product": "P2", "price": "3.50", "min_quantity": "10"},
            {"key": "T1", "list": "Trade", "product": "P1", "price": "900", "name": "Boiler"},
        ],
    )
    rows = read(price_list.price_list_csv(org))
    assert [(r["price_list"], r["name"]) for r in rows] == [
        ("", "Boiler"),
        ("", "Copper pipe"),
        ("", "Washer"),
        ("Trade", "Boiler"),
        ("Trade", "Washer"),  # named after its product
    ]
    washer = rows[-1]
    assert washer["sku"] == "W-1" and washer["unit"] == "box"  # from its product
    assert (washer["price_excl_tax"], washer["price_incl_tax"]) == ("3.50", "4.20")
    assert washer["from_quantity"] == "10"
    assert rows[-2]["tax_rate"] == "5"  # the boiler's own rate


def test_only_current_versions_of_this_organisations_products_are_listed(org):
    put_records(org, "product", [{"key": "P3", "name": "Copper pipe", "price": "9.00"}], at=SYNCED)
    assert Record.objects.filter(org=org, key="P3").count() == 2  # the old version is kept
    put_records(make_org("Bravo"), "product", [{"key": "X", "name": "Bravo secret", "price": "1"}])
    rows = read(price_list.price_list_csv(org))
    assert [r["name"] for r in rows] == ["Boiler", "Copper pipe", "Washer"]
    assert rows[1]["price_excl_tax"] == "9.00"


def test_a_text_that_looks_like_a_formula_is_defused(org):
    put_records(org, "product", [{"key": "E", "name": "=HYPERLINK(1)", "price": "1"}])
    rows = read(price_list.price_list_csv(org))
    assert rows[0]["name"] == "'=HYPERLINK(1)"


def test_a_price_that_is_not_a_number_leaves_the_prices_empty(org):
    put_records(org, "product", [{"key": "Z", "name": "Zinc tape", "price": "call us"}])
    row = read(price_list.price_list_csv(org))[-1]
    assert (row["name"], row["price_excl_tax"], row["price_incl_tax"]) == ("Zinc tape", "", "")


def test_as_of_is_the_last_good_sync_else_the_newest_change(org):
    Connector.objects.filter(org=org).update(last_good_at=SYNCED)
    assert price_list.as_of(org) == SYNCED
    Connector.objects.filter(org=org).update(last_good_at=None)
    assert price_list.as_of(org) == SYNCED - timedelta(days=1)


def test_the_pdf_prints_how_fresh_the_prices_are(org):
    Connector.objects.filter(org=org).update(last_good_at=SYNCED)
    html = price_list.price_list_html(org)
    assert "Prices as of 5 Mar 2026, 09:42 (Europe/London)" in html
    assert "3 rows" in html
    assert html.index("Boiler") < html.index("Copper pipe") < html.index("Washer")
    assert "£1,050.00" in html and "5%" in html
    pdf = price_list.price_list_pdf(org)
    assert pdf.startswith(b"%PDF-")


def test_an_empty_replica_says_so():
    html = price_list.price_list_html(make_org("Empty"))
    assert "The replica holds no products yet" in html
    assert read(price_list.price_list_csv(make_org("Empty too"))) == []


def test_the_filename_has_the_organisation_and_the_date(org):
    assert price_list.filename(org, "csv", date(2026, 3, 5)) == (
        "harbour-plumbing-price-list-2026-03-05.csv"
    )


def test_pdf_pages_are_cut_to_fit_so_no_page_spills_over(org):
    products = [
        {"key": f"K{n:03d}", "name": f"Fitting {n:03d}", "price": "1.50"} for n in range(200)
    ]
    put_records(org, "product", products)
    put_records(
        org,
        "price_list",
        [
            {"key": f"T{n}", "list": "Trade", "product": f"K{n:03d}", "price": "1"}
            for n in range(60)
        ],
    )
    pages, total = price_list.printed_pages(org)
    assert total == 263
    # 203 products: 49 on the first page under the title, then 58 a page; 60 trade prices:
    # 55 a page under the list's heading.
    assert [(p.heading, p.rows) for p in pages] == [
        ("", 49),
        ("", 58),
        ("", 58),
        ("", 38),
        ("Trade", 55),
        ("Trade", 5),
    ]
    html = price_list.price_list_html(org)
    # Had any page's lines not fit, WeasyPrint would have carried them onto an extra page.
    assert printing.page_count(html, [printing.base_css()]) == len(pages)


def test_a_value_with_a_line_break_keeps_to_its_own_line(org):
    put_records(org, "product", [{"key": "N", "name": "Two\nlines", "sku": "", "price": "1"}])
    pages, _ = price_list.printed_pages(org)
    columns = pages[0].columns
    assert columns["name"].split("\n") == ["Boiler", "Copper pipe", "Two lines", "Washer"]
    assert columns["sku"].split("\n") == ["B-9", "CP-15", "\u00a0", "W-1"]


def test_a_limited_pdf_says_how_many_rows_it_leaves_out(org):
    html = price_list.price_list_html(org, limit=2)
    assert "The first 2 of 3 rows: the whole list is in the CSV" in html
    assert "Boiler" in html and "Copper pipe" in html and "Washer" not in html


def test_a_price_list_alone_on_the_first_page_leaves_room_for_its_heading():
    org = make_org("Lists only")
    put_records(
        org,
        "price_list",
        [{"key": f"T{n:03d}", "list": "Trade", "price": "1"} for n in range(100)],
    )
    pages, _ = price_list.printed_pages(org)
    assert [(p.heading, p.rows) for p in pages] == [("Trade", 46), ("Trade", 54)]
    html = price_list.price_list_html(org)
    assert printing.page_count(html, [printing.base_css()]) == 2
