"""Printing the desk's documents: printable HTML and PDF from editable templates with the
organisation's letterhead, and blank paper forms for a total blackout.

Templates (an installation overrides any of them with a file of the same name in a
templates folder listed before the app's):

- ``desk/print/base.html`` — the page: head, the toolbar on screen, the running footer;
- ``desk/print/document.html`` — one document (extends base);
- ``desk/print/blank_form.html`` and ``desk/print/work_log.html`` — the paper forms;
- ``desk/print/letterhead.html``, ``party.html``, ``footer.html`` — the pieces;
- ``desk/print/print.css`` — the look. An organisation's ``document_css`` setting is applied
  after it, so it can restyle anything.

The same template gives the printable page (``screen=True``: CSS inline, a Print button) and
the PDF. WeasyPrint is slow on its first call (fontconfig) and would parse the CSS on every
call, so the font configuration and the parsed stylesheets are kept across calls; rendering
is serialised because Pango's font map is not safe to share between threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_currency, format_percent, get_currency_precision
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from fallback.accounts.models import Organisation
from fallback.desk import mode, money, numbering
from fallback.desk.models import (
    DeskSettings,
    Document,
    DocumentKind,
    FallbackPeriod,
    Party,
)
from fallback.front.templatetags.fallback_ui import org_zone

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

log = logging.getLogger("fallback.desk")

CSS_TEMPLATE = "desk/print/print.css"
DOCUMENT_TEMPLATE = "desk/print/document.html"
BLANK_FORM_TEMPLATE = "desk/print/blank_form.html"
WORK_LOG_TEMPLATE = "desk/print/work_log.html"
WORK_LOG = "work_log"
BLANK_FORMS: dict[str, str] = {**dict(DocumentKind.choices), WORK_LOG: "Work log"}
WORK_LOG_ROWS = 13
PAPER_DEVICE = "PAPER"  # never a device code (those are 1 to 3 letters): paper cannot collide

PROVISIONAL_NOTE = "Provisional number issued during a system outage; the final number will follow."


class UnknownForm(ValueError):
    """A blank form that does not exist; names the ones that do."""


@dataclass(frozen=True, slots=True)
class Layout:
    """What one kind of document shows."""

    title: str
    party_label: str
    due_label: str
    reference_label: str = "Your reference"
    priced: bool = True
    ticks: bool = False  # a column to tick each line off (picking)
    signature: bool = False  # a received-by box (delivery)
    blank_rows: int = 12  # empty lines on the paper form, as many as fit on one page


LAYOUTS: dict[str, Layout] = {
    DocumentKind.QUOTE: Layout("Quote", "Quote for", "Valid until"),
    DocumentKind.ORDER: Layout("Sales order", "Customer", "Due"),
    DocumentKind.INVOICE: Layout("Invoice", "Bill to", "Payment due"),
    DocumentKind.PURCHASE_ORDER: Layout(
        "Purchase order", "Supplier", "Deliver by", reference_label="Reference"
    ),
    DocumentKind.PICKING_LIST: Layout(
        "Picking list", "Customer", "Needed by", priced=False, ticks=True, blank_rows=17
    ),
    DocumentKind.DELIVERY_DOCKET: Layout(
        "Delivery docket",
        "Customer",
        "Delivery date",
        priced=False,
        signature=True,
        blank_rows=13,
    ),
}

# Languages whose addresses put the postcode before the town ("10115 Berlin").
_POSTCODE_FIRST = frozenset(
    {"de", "fr", "es", "it", "nl", "pt", "da", "sv", "nb", "nn", "no", "fi", "is", "pl"}
    | {"cs", "sk", "hu", "ro", "hr", "sl", "el", "lt", "lv", "et", "be", "ca"}
)


# ------------------------------------------------------------------ locale and money


@lru_cache(maxsize=32)
def babel_locale(code: str) -> Locale:
    try:
        return Locale.parse((code or "en_GB").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")


def format_day(day: date | None, locale: str) -> str:
    return "" if day is None else format_date(day, "medium", locale=babel_locale(locale))


def format_moment(moment: datetime | None, org: Organisation) -> str:
    """A moment in the organisation's time zone, to the minute: '23 Nov 2026, 10:42'."""
    if moment is None:
        return ""
    locale = babel_locale(org.locale)
    local = moment.astimezone(org_zone(org))
    pattern = get_datetime_format("medium", locale=locale)
    return str(pattern).format(
        format_time(local, "short", locale=locale), format_date(local, "medium", locale=locale)
    )


def format_rate(rate: Decimal | None, locale: str) -> str:
    """A tax rate in percent as the locale writes it: '20%', '7,5 %'."""
    if rate is None:
        return ""
    return format_percent(
        Decimal(rate) / 100, locale=babel_locale(locale), decimal_quantization=False
    )


def format_unit_price(amount: Decimal | None, currency: str, locale: str) -> str:
    """A unit price: like any amount, but with the extra decimals a price may carry
    (0.1234) instead of rounding them away."""
    if amount is None:
        return ""
    try:
        places = get_currency_precision(currency)
    except Exception:  # an unknown code: as money.format_money treats it
        places = 2
    exact = Decimal(amount).normalize()
    if -exact.as_tuple().exponent <= places:  # type: ignore[operator]
        return money.format_money(amount, currency, locale)
    return format_currency(exact, currency, locale=babel_locale(locale), decimal_quantization=False)


# ------------------------------------------------------------------ letterhead and parties


@dataclass(frozen=True, slots=True)
class Letterhead:
    name: str
    address_lines: list[str]
    contact: str
    tax_label: str
    tax_number: str
    footer_lines: list[str]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def letterhead(org: Organisation, desk: DeskSettings) -> Letterhead:
    return Letterhead(
        name=desk.letterhead_name or org.name,
        address_lines=_lines(desk.letterhead_address),
        contact=" · ".join(v for v in (desk.letterhead_phone, desk.letterhead_email) if v),
        tax_label=f"{desk.tax_name} no.",
        tax_number=desk.letterhead_tax_number,
        footer_lines=_lines(desk.footer),
    )


@dataclass(frozen=True, slots=True)
class PartyBlock:
    name: str
    lines: list[str]


def address_lines(details: dict[str, Any], locale: str) -> list[str]:
    """The postal address in `details`, one line each, town and postcode in the order the
    organisation's language writes them."""

    def get(key: str) -> str:
        return str(details.get(key) or "").strip()

    # The replica's `address` is the street part, possibly of several lines.
    lines = [part.strip() for part in get("address").splitlines()]
    town, postcode, region = get("city"), get("postcode"), get("region")
    if babel_locale(locale).language in _POSTCODE_FIRST:
        lines.append(" ".join(v for v in (postcode, town) if v))
        lines.append(region)
    else:
        lines.append(" ".join(v for v in (town, region, postcode) if v))
    lines.append(get("country"))
    return [line for line in lines if line]


def party_block(document: Document, desk: DeskSettings, locale: str) -> PartyBlock:
    details = document.party_details or {}
    lines = []
    if details.get("contact_name"):
        lines.append(f"Attn. {details['contact_name']}")
    lines += address_lines(details, locale)
    lines += [str(details[k]) for k in ("email", "phone") if details.get(k)]
    if details.get("tax_number"):
        lines.append(f"{desk.tax_name} no. {details['tax_number']}")
    if details.get("account_number") and document.party == Party.SUPPLIER:
        lines.append(f"Our account no. {details['account_number']}")
    return PartyBlock(document.party_name, lines)


# ------------------------------------------------------------------ CSS and PDF


def _css_for_page(text: str) -> SafeString:
    # Inside <style> nothing is escaped, so only "</" could end it early: "<\/" is the same
    # CSS and cannot close the element.
    return mark_safe(text.replace("</", "<\\/"))  # noqa: S308


def screen_css() -> SafeString:
    """The print CSS, ready to inline in a printable page's <style> on screen."""
    return _css_for_page(base_css())


def base_css() -> str:
    return render_to_string(CSS_TEMPLATE)


_render_lock = threading.Lock()
_font_config: FontConfiguration | None = None


def _fonts() -> FontConfiguration:
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def _fetcher() -> Any:
    # Documents carry no remote images or fonts: only data: URLs are fetched, so a style
    # setting cannot make the server read its own files or call out to the network.
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, timeout=1)


@lru_cache(maxsize=16)
def _stylesheet(text: str) -> CSS:
    from weasyprint import CSS

    return CSS(string=text, font_config=_fonts(), url_fetcher=_fetcher())


def _layout(html: str, css: Sequence[str]) -> Any:
    """WeasyPrint's laid-out document; call with the render lock held."""
    from weasyprint import HTML

    sheets = [_stylesheet(text) for text in css if text.strip()]
    return HTML(string=html, url_fetcher=_fetcher()).render(
        stylesheets=sheets, font_config=_fonts()
    )


def html_to_pdf(html: str, css: Sequence[str]) -> bytes:
    """The PDF of `html` styled by `css` (in order, each later one overriding the earlier)."""
    with _render_lock:
        return bytes(_layout(html, css).write_pdf())


@contextmanager
def laying_out() -> Iterator[Callable[[str, Sequence[str]], Any]]:
    """Lay out several documents under the one render lock, to join their pages into one
    PDF (the plan's grab binder): yields `layout(html, css)`, which returns WeasyPrint's
    laid-out document; write the joined pages inside the block too."""
    with _render_lock:
        yield _layout


def page_count(html: str, css: Sequence[str]) -> int:
    """How many pages `html` takes when printed."""
    with _render_lock:
        return len(_layout(html, css).pages)


def warm() -> None:
    """Pay WeasyPrint's first-call cost (fontconfig, the CSS parse) now rather than in the
    first person's request."""
    global _warmed
    html_to_pdf("<p>Fallback</p>", [base_css()])
    _warmed = True


_warmed = False
_warming = threading.Lock()  # taken by the first warm-up and never given back: one a process


def warm_in_background(then: Callable[[], object] | None = None) -> None:
    """Warm once per process, in a thread, without making the caller wait; `then` runs
    after it, warmed or not."""
    if _warmed or not _warming.acquire(blocking=False):
        return

    def run() -> None:
        try:
            warm()
        except Exception:  # only a head start: the real render reports any real problem
            log.exception("Warming the PDF renderer failed")
        if then is not None:
            then()

    threading.Thread(target=run, name="print-warm", daemon=True).start()


def _render(template: str, context: dict[str, Any], desk: DeskSettings, screen: bool) -> str:
    context = {**context, "screen": screen, "lang": _lang(context)}
    if screen:
        context["base_css"] = _css_for_page(base_css())
        context["org_css"] = _css_for_page(desk.document_css)
    return render_to_string(template, context)


def _lang(context: dict[str, Any]) -> str:
    org = context.get("org")
    return str(getattr(org, "locale", "") or "en-GB")


def _pdf(html: str, desk: DeskSettings) -> bytes:
    return html_to_pdf(html, [base_css(), desk.document_css])


# ------------------------------------------------------------------ documents


@dataclass(frozen=True, slots=True)
class TaxRow:
    rate: str
    net: str
    tax: str


@dataclass(frozen=True, slots=True)
class PrintedTotals:
    subtotal: str
    total: str
    by_rate: list[TaxRow]


def _totals(document: Document, lines: Iterable[Any], locale: str) -> PrintedTotals:
    # The breakdown per rate from the stored lines; the totals as the document stored them.
    currency = document.currency
    computed = money.totals(
        [(line.tax_rate, money.LineAmounts(line.net, line.tax, line.total)) for line in lines],
        currency,
    )

    def fmt(amount: Decimal) -> str:
        return money.format_money(amount, currency, locale)

    return PrintedTotals(
        subtotal=fmt(document.subtotal),
        total=fmt(document.total),
        by_rate=[
            TaxRow(format_rate(rate, locale), fmt(net), fmt(tax))
            for rate, net, tax in computed.by_rate
        ],
    )


def document_context(document: Document) -> dict[str, Any]:
    org = document.org
    desk = mode.settings_for(org)
    locale = org.locale
    currency = document.currency
    layout = LAYOUTS[document.kind]
    lines = list(document.lines.all())
    printed_lines = [
        {
            "position": line.position,
            "description": line.description,
            "sku": line.sku,
            "quantity": money.format_number(line.quantity, locale),
            "unit": line.unit,
            "unit_price": format_unit_price(line.unit_price, currency, locale),
            "tax_rate": format_rate(line.tax_rate, locale),
            # With tax-inclusive prices the line's amount is what the customer pays for it.
            "amount": money.format_money(
                line.total if document.prices_include_tax else line.net, currency, locale
            ),
        }
        for line in lines
    ]
    source = document.source
    head = letterhead(org, desk)
    deliver_to = None
    if document.delivery_address.strip():
        deliver_to = PartyBlock("", _lines(document.delivery_address))
    elif document.kind == DocumentKind.PURCHASE_ORDER:  # the supplier delivers to us
        deliver_to = PartyBlock(head.name, head.address_lines)
    return {
        "org": org,
        "desk": desk,
        "document": document,
        "layout": layout,
        "title": f"{layout.title} {document.number} — {desk.letterhead_name or org.name}",
        "letterhead": head,
        "party": party_block(document, desk, locale),
        "deliver_to": deliver_to,
        "issued": format_day(document.issued_on, locale),
        "due": format_day(document.due_on, locale),
        "source": f"{source.get_kind_display()} {source.number}" if source else "",
        "lines": printed_lines,
        "totals": _totals(document, lines, locale) if layout.priced else None,
        "tax_name": desk.tax_name,
        "exercise": document.period.is_exercise,
        "void": document.is_void,
        "void_reason": document.void_reason,
    }


def _loaded(document: Document) -> Document:
    """The document with what printing reads, in as few queries as possible."""
    return (
        Document.objects.select_related("org", "period", "source")
        .prefetch_related("lines")
        .get(pk=document.pk)
    )


def document_html(document: Document, *, screen: bool = False, pdf_url: str = "") -> str:
    """The document as HTML: for the PDF, or (screen=True) as a printable page."""
    document = _loaded(document)
    context = document_context(document)
    context["pdf_url"] = pdf_url
    return _render(DOCUMENT_TEMPLATE, context, context["desk"], screen)


def document_pdf(document: Document) -> bytes:
    document = _loaded(document)
    context = document_context(document)
    html = _render(DOCUMENT_TEMPLATE, context, context["desk"], screen=False)
    return _pdf(html, context["desk"])


# ------------------------------------------------------------------ blank forms


def paper_number_example(desk: DeskSettings, kind: str, period: FallbackPeriod | None) -> str:
    """How to number a paper form by hand: prefix, period, PAPER, kind and sheet number,
    e.g. FB3-PAPER-INV001 (the period left as '?' when the form is printed in advance)."""
    code = numbering.KIND_CODES.get(kind, "LOG")
    return f"{desk.number_prefix}{period.number if period else '?'}-{PAPER_DEVICE}-{code}001"


def blank_form_context(org: Organisation, kind: str) -> dict[str, Any]:
    if kind not in BLANK_FORMS:
        raise UnknownForm(f"No blank form {kind!r}; there are: {', '.join(sorted(BLANK_FORMS))}")
    desk = mode.settings_for(org)
    periods = mode.open_periods(org)
    period = periods[-1] if periods else None
    layout = LAYOUTS.get(kind)
    title = layout.title if layout else BLANK_FORMS[kind]
    return {
        "org": org,
        "desk": desk,
        "kind": kind,
        "layout": layout,
        "title": f"{title} — paper form — {desk.letterhead_name or org.name}",
        "form_title": title,
        "letterhead": letterhead(org, desk),
        "tax_name": desk.tax_name,
        "prefix": desk.number_prefix,
        "period": period,
        "example": paper_number_example(desk, kind, period),
        "kind_code": numbering.KIND_CODES.get(kind, "LOG"),
        "paper_device": PAPER_DEVICE,
        "rows": range(layout.blank_rows if layout else WORK_LOG_ROWS),
        "currency": org.currency,
    }


def blank_form_html(org: Organisation, kind: str, *, screen: bool = False) -> str:
    context = blank_form_context(org, kind)
    template = WORK_LOG_TEMPLATE if kind == WORK_LOG else BLANK_FORM_TEMPLATE
    return _render(template, context, context["desk"], screen)


def blank_form_pdf(org: Organisation, kind: str) -> bytes:
    """A paper version of `kind` (a DocumentKind value or "work_log") to fill in by hand."""
    html = blank_form_html(org, kind)
    return _pdf(html, mode.settings_for(org))
