"""The price list every employee keeps during an outage: each current product in the replica
(and each entry of the replica's price lists), as CSV for a spreadsheet and as a PDF to
print, with how fresh the copy is printed where nobody can miss it.

Rows are read from the replica in chunks (`.iterator()`), so 50,000 products never sit in
memory as model instances. Products come first, sorted by name; then each named price list
(trade, wholesale…) sorted by name within the list.

Prices in the replica are net or gross as the organisation's desk settings say
(`prices_include_tax`); both are given, the other computed with the product's own tax rate,
or the desk's when the replica has none, and rounded to the currency's minor unit.

The CSV is UTF-8 with a byte-order mark and CRLF line ends (so a spreadsheet opens it
right), numbers are plain decimals with a '.', and its columns are CSV_COLUMNS, always in
that order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import islice
from typing import Any

from django.db.models import Max, Min
from django.template.loader import render_to_string
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.desk import mode, money, printing
from fallback.desk.exports import plain, safe_text
from fallback.desk.models import DeskSettings
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.replica import history
from fallback.replica.models import Connector

CSV_COLUMNS = (
    "sku",
    "name",
    "unit",
    "price_excl_tax",
    "tax_rate",
    "price_incl_tax",
    "currency",
    "price_list",
    "from_quantity",
)
TEMPLATE = "desk/print/price_list.html"
CHUNK = 2000
FORMATS = ("pdf", "csv")
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class PriceRow:
    price_list: str  # "" for the products' own prices
    sku: str
    name: str
    unit: str
    from_quantity: Decimal | None
    net: Decimal | None
    tax_rate: Decimal
    gross: Decimal | None
    currency: str


def _decimal(value: Any) -> Decimal | None:
    """A replica number (a decimal string) as a Decimal; None when absent or not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


class _Pricing:
    """Net and gross of a replica price, as the desk settings say prices are kept."""

    def __init__(self, desk: DeskSettings, currency: str) -> None:
        self.inclusive = desk.prices_include_tax
        self.default_rate = desk.tax_rate
        self.currency = currency

    def row(
        self,
        price_list: str,
        data: dict[str, Any],
        product: dict[str, Any],
        name: str,
        from_quantity: Decimal | None = None,
    ) -> PriceRow:
        rate = _decimal(data.get("tax_rate", product.get("tax_rate")))
        rate = self.default_rate if rate is None or rate < 0 else rate
        currency = _text(data.get("currency") or product.get("currency")) or self.currency
        price = _decimal(data.get("price"))
        net = gross = price
        if price is not None and self.inclusive:
            net = money.round_money(price * HUNDRED / (HUNDRED + rate), currency)
        elif price is not None:
            gross = money.round_money(price * (HUNDRED + rate) / HUNDRED, currency)
        return PriceRow(
            price_list=price_list,
            sku=_text(data.get("sku") or product.get("sku")),
            name=name,
            unit=_text(data.get("unit") or product.get("unit")),
            from_quantity=from_quantity,
            net=net,
            tax_rate=rate,
            gross=gross,
            currency=currency,
        )


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    while batch := list(islice(rows, size)):
        yield batch


def rows(org: Organisation) -> Iterator[PriceRow]:
    """Every price-list row of the organisation's replica, products first (by name), then
    each named price list's entries (by list, then name)."""
    pricing = _Pricing(mode.settings_for(org), org.currency)
    products = (
        history.current(org, "product").order_by("name", "key").values_list("key", "name", "data")
    )
    for key, name, data in products.iterator(chunk_size=CHUNK):
        data = data if isinstance(data, dict) else {}
        yield pricing.row("", data, {}, name or _text(data.get("name")) or key)
    entries = (
        history.current(org, "price_list")
        .order_by("data__list", "name", "key")
        .values_list("key", "name", "data")
    )
    for batch in _chunks(entries.iterator(chunk_size=CHUNK), CHUNK):
        # The entry's product gives what the entry leaves out (unit, tax rate): one query a
        # chunk, not one a row.
        refs = {_text(d.get("product")) for _, _, d in batch if isinstance(d, dict)} - {""}
        found = {
            key: (name, data if isinstance(data, dict) else {})
            for key, name, data in history.current(org, "product")
            .filter(key__in=refs)
            .values_list("key", "name", "data")
        }
        for key, name, data in batch:
            data = data if isinstance(data, dict) else {}
            product_name, product = found.get(_text(data.get("product")), ("", {}))
            # An entry rarely has a name of its own: its record's name is then only its key.
            title = _text(data.get("name")) or product_name or name or key
            yield pricing.row(
                _text(data.get("list")) or "Price list",
                data,
                product,
                title,
                _decimal(data.get("min_quantity")),
            )


def as_of(org: Organisation) -> datetime | None:
    """How fresh the prices are: the last good sync of the connectors that brought them (the
    oldest, if several), else the newest change among the records themselves."""
    current = history.current(org).filter(entity__in=("product", "price_list"))
    synced = Connector.objects.filter(
        org=org, pk__in=current.values("connector_id").distinct()
    ).aggregate(oldest=Min("last_good_at"))["oldest"]
    if synced is not None:
        return synced  # type: ignore[no-any-return]
    return current.aggregate(newest=Max("valid_from"))["newest"]  # type: ignore[no-any-return]


def filename(org: Organisation, fmt: str, today: date | None = None) -> str:
    today = today or timezone.localdate(timezone.now(), timezone=org_zone(org))
    return f"{org.slug}-price-list-{today.isoformat()}.{fmt}"


# ------------------------------------------------------------------ CSV


def price_list_csv(org: Organisation) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows(org):
        writer.writerow(
            [
                safe_text(row.sku),
                safe_text(row.name),
                safe_text(row.unit),
                plain(row.net, 2) if row.net is not None else "",
                plain(row.tax_rate),
                plain(row.gross, 2) if row.gross is not None else "",
                row.currency,
                safe_text(row.price_list),
                plain(row.from_quantity) if row.from_quantity is not None else "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


# ------------------------------------------------------------------ PDF
#
# WeasyPrint spends its time and memory per box: a table cell per value made 5,000 products
# take over a minute and 700 MB. So each printed page is one table row whose cells hold a
# whole column of that page, one value per line (white-space: pre), and the pages are cut
# here, a fixed number of lines each: a third of the time and memory. print.css gives the
# lines their fixed height; the numbers below fit it with two lines to spare.

ROWS_PER_PAGE = 58
ROWS_FIRST_PAGE = 49  # under the title and the "as of" box
HEADING_ROWS = 3  # what a named price list's heading takes
WEB_PDF_LIMIT = 5_000  # rows a request may print (about 90 pages); the CLI prints all
_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " ", "\t": " ", "\v": " ", "\f": " "})
_EMPTY = "\u00a0"  # an empty value still takes its line, or the columns would slip


@dataclass
class PrintedPage:
    heading: str  # the named price list, "" for the products' own prices
    columns: dict[str, str]  # column -> its values on this page, one per line
    rows: int


def _line(value: str) -> str:
    return value.translate(_LINE_BREAKS).strip() or _EMPTY


class _Pager:
    """Cuts rows into printed pages; each named price list starts a page of its own."""

    def __init__(self) -> None:
        self.pages: list[PrintedPage] = []
        self._heading = ""
        self._rows: list[dict[str, str]] = []

    def _room(self) -> int:
        room = ROWS_PER_PAGE if self.pages else ROWS_FIRST_PAGE
        return room - (HEADING_ROWS if self._heading else 0)

    def add(self, heading: str, row: dict[str, str]) -> None:
        if heading != self._heading:
            self._flush()
            self._heading = heading
        elif len(self._rows) >= self._room():
            self._flush()
        self._rows.append(row)

    def _flush(self) -> None:
        if self._rows:
            columns = {key: "\n".join(r[key] for r in self._rows) for key in self._rows[0]}
            self.pages.append(PrintedPage(self._heading, columns, len(self._rows)))
            self._rows = []

    def done(self) -> list[PrintedPage]:
        self._flush()
        return self.pages


def printed_pages(org: Organisation, limit: int | None = None) -> tuple[list[PrintedPage], int]:
    """The price list cut into printed pages (at most `limit` rows), and how many rows
    there are in all."""
    locale = org.locale

    @lru_cache(maxsize=4096)  # a price list repeats the same few thousand prices
    def price(amount: Decimal | None, currency: str) -> str:
        return printing.format_unit_price(amount, currency, locale)

    @lru_cache(maxsize=256)
    def number(value: Decimal | None) -> str:
        return money.format_number(value, locale)

    @lru_cache(maxsize=64)
    def rate(value: Decimal) -> str:
        return printing.format_rate(value, locale)

    pager = _Pager()
    total = 0
    for row in rows(org):
        total += 1
        if limit is not None and total > limit:
            continue  # counted, not printed
        pager.add(
            row.price_list,
            {
                "sku": _line(row.sku),
                "name": _line(row.name),
                "unit": _line(row.unit),
                "from": _line(number(row.from_quantity)),
                "net": _line(price(row.net, row.currency)),
                "rate": _line(rate(row.tax_rate)),
                "gross": _line(price(row.gross, row.currency)),
            },
        )
    return pager.done(), total


def price_list_html(org: Organisation, limit: int | None = None) -> str:
    desk = mode.settings_for(org)
    fresh = as_of(org)
    pages, total = printed_pages(org, limit)
    return render_to_string(
        TEMPLATE,
        {
            "org": org,
            "screen": False,
            "lang": org.locale,
            "title": f"Price list — {desk.letterhead_name or org.name}",
            "letterhead": printing.letterhead(org, desk),
            "as_of": printing.format_moment(fresh, org),
            "zone": str(org_zone(org)),
            "printed": printing.format_moment(timezone.now(), org),
            "inclusive": desk.prices_include_tax,
            "tax_name": desk.tax_name,
            "pages": pages,
            "count": total,
            "shown": sum(p.rows for p in pages),
        },
    )


def price_list_pdf(org: Organisation, limit: int | None = None) -> bytes:
    """The price list as a PDF; with a `limit`, only that many rows, and it says so."""
    return printing.html_to_pdf(
        price_list_html(org, limit), [printing.base_css(), mode.settings_for(org).document_css]
    )
