"""Money on the desk: Decimal arithmetic for lines and totals, and amounts as the
organisation's locale writes them.

Each line is rounded to the currency's minor unit (half up, as invoices do), and the
document's totals are the sums of its rounded lines, so the printed lines always add up to
the printed total. With tax-inclusive prices the gross is fixed and the net is what is left
after taking the tax out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_precision,
    parse_decimal,
)

HUNDRED = Decimal(100)


class MoneyProblem(ValueError):
    """A quantity, price or rate that is not a usable number; says which and why."""


@lru_cache(maxsize=64)
def _quantum(currency: str) -> Decimal:
    try:
        places = get_currency_precision(currency)
    except Exception:  # an unknown code: cents, like most currencies
        places = 2
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(_quantum(currency), rounding=ROUND_HALF_UP)


def to_decimal(value: object, what: str, *, minimum: Decimal | None = None) -> Decimal:
    """`value` (a number, or its plain text with a decimal point: "1234.5") as a Decimal, or
    a MoneyProblem naming `what` ("quantity on line 2"). Text typed by a person goes through
    `typed_number` first."""
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().replace(" ", "") if value is not None else ""
        if not text:
            raise MoneyProblem(f"{what} is empty")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise MoneyProblem(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise MoneyProblem(f"{what} is not a number: {value!r}")
    if minimum is not None and number < minimum:
        raise MoneyProblem(f"{what} must be at least {minimum}, not {number}")
    return number


_GROUPING_ONLY = frozenset(" \u00a0\u202f'\u2019")


def typed_number(text: str, locale: str) -> str:
    """A number as a person in `locale` types it ("1,5" or "1.234,50" in German, "1,234.50"
    in English) as plain text with a decimal point; text that is not one comes back as it
    was, for to_decimal to refuse. Grouping must be right, or "1,5" in English would be 15:
    a badly grouped number is read only if it is already plain ("1.5")."""
    text = text.strip()
    if not text:
        return text
    # Spaces and apostrophes only ever group digits (French, Swiss); locales disagree on
    # which space, so they are dropped before the locale reads the rest.
    bare = "".join(c for c in text if c not in _GROUPING_ONLY)
    try:
        return str(parse_decimal(bare, locale=_locale(locale), strict=True))
    except NumberFormatError:
        return text


@dataclass(frozen=True, slots=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(
    quantity: Decimal, unit_price: Decimal, tax_rate: Decimal, currency: str, inclusive: bool
) -> LineAmounts:
    """Net, tax and total of one line, each rounded to the currency's minor unit."""
    amount = round_money(quantity * unit_price, currency)
    if inclusive:
        net = round_money(amount * HUNDRED / (HUNDRED + tax_rate), currency)
        return LineAmounts(net, amount - net, amount)
    tax = round_money(amount * tax_rate / HUNDRED, currency)
    return LineAmounts(amount, tax, amount + tax)


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    by_rate: tuple[tuple[Decimal, Decimal, Decimal], ...]  # (rate, net, tax) per tax rate


def totals(lines: list[tuple[Decimal, LineAmounts]], currency: str) -> Totals:
    """Sums of (tax rate, line amounts), with a breakdown per rate as invoices print it."""
    zero = round_money(Decimal(0), currency)
    per_rate: dict[Decimal, list[Decimal]] = {}
    subtotal = tax = zero
    for rate, amounts in lines:
        subtotal += amounts.net
        tax += amounts.tax
        bucket = per_rate.setdefault(rate.normalize(), [zero, zero])
        bucket[0] += amounts.net
        bucket[1] += amounts.tax
    by_rate = tuple((rate, net, t) for rate, (net, t) in sorted(per_rate.items()))
    return Totals(subtotal, tax, subtotal + tax, by_rate)


@lru_cache(maxsize=32)
def _locale(code: str) -> Locale:
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")


def format_money(amount: Decimal | str | None, currency: str, locale: str) -> str:
    """'£1,234.50', '1.234,50 €' … as the locale writes it; '' for None."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(amount), currency, locale=_locale(locale))


def format_number(value: Decimal | str | None, locale: str) -> str:
    """A quantity or rate without trailing zeros: '2', '1.5', '12,5'."""
    if value is None or value == "":
        return ""
    number = Decimal(value)
    number = number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()
    return format_decimal(number, locale=_locale(locale), decimal_quantization=False)
