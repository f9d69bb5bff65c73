"""Decimal lines and totals, rounding, tax-inclusive prices and locale formats."""

from decimal import Decimal as D

import pytest

from fallback.desk import money


def test_line_tax_is_rounded_half_up_per_line():
    line = money.line_amounts(D("3"), D("0.35"), D("20"), "GBP", inclusive=False)
    assert (line.net, line.tax, line.total) == (D("1.05"), D("0.21"), D("1.26"))
    half = money.line_amounts(D("1"), D("0.125"), D("0"), "GBP", inclusive=False)
    assert half.net == D("0.13")


def test_inclusive_price_keeps_the_gross_and_takes_the_tax_out():
    line = money.line_amounts(D("1"), D("12.00"), D("20"), "GBP", inclusive=True)
    assert (line.net, line.tax, line.total) == (D("10.00"), D("2.00"), D("12.00"))
    odd = money.line_amounts(D("1"), D("9.99"), D("20"), "GBP", inclusive=True)
    assert odd.net + odd.tax == D("9.99")


def test_totals_add_the_rounded_lines_and_break_down_by_rate():
    lines = [
        (D("20"), money.line_amounts(D("1"), D("10"), D("20"), "GBP", False)),
        (D("5"), money.line_amounts(D("2"), D("3.33"), D("5"), "GBP", False)),
        (D("20.000"), money.line_amounts(D("1"), D("0.99"), D("20"), "GBP", False)),
    ]
    totals = money.totals(lines, "GBP")
    assert totals.subtotal == D("17.65")
    assert totals.tax == D("2.00") + D("0.33") + D("0.20")
    assert totals.total == totals.subtotal + totals.tax
    assert [rate for rate, _, _ in totals.by_rate] == [D("5"), D("20")]


def test_currency_without_minor_units_rounds_to_whole_amounts():
    line = money.line_amounts(D("3"), D("333.5"), D("10"), "JPY", inclusive=False)
    assert (line.net, line.tax) == (D("1001"), D("100"))


def test_money_is_written_as_the_locale_writes_it():
    assert money.format_money(D("1234.5"), "EUR", "de-DE") == "1.234,50\xa0€"
    assert money.format_money(D("1234.5"), "GBP", "en-GB") == "£1,234.50"
    assert money.format_money(None, "GBP", "en-GB") == ""
    assert money.format_number(D("2.000"), "en-GB") == "2"
    assert money.format_number(D("12.50"), "de-DE") == "12,5"


@pytest.mark.parametrize("value", ["", "abc", "NaN", "Infinity", None])
def test_not_a_number_is_refused_naming_what(value):
    with pytest.raises(money.MoneyProblem, match="the quantity"):
        money.to_decimal(value, "the quantity")


def test_below_the_minimum_is_refused():
    with pytest.raises(money.MoneyProblem, match="at least 0"):
        money.to_decimal("-1", "the price", minimum=D(0))
    assert money.to_decimal(" 1234.5", "the price") == D("1234.5")


@pytest.mark.parametrize(
    ("typed", "locale", "plain"),
    [
        ("1,5", "de-DE", "1.5"),
        ("1.234,50", "de-DE", "1234.50"),
        ("1.5", "de-DE", "1.5"),  # badly grouped for German: read only as already plain
        ("1,234.50", "en-GB", "1234.50"),
        ("1 234,5", "fr-FR", "1234.5"),
        ("1'234.50", "de-CH", "1234.50"),
    ],
)
def test_numbers_are_read_as_the_locale_writes_them(typed, locale, plain):
    assert money.typed_number(typed, locale) == plain


def test_a_comma_that_is_not_the_locales_is_refused_not_guessed():
    # "1,5" in English is neither 1.5 nor 15: it is refused.
    assert money.typed_number("1,5", "en-GB") == "1,5"
    with pytest.raises(money.MoneyProblem, match="not a number"):
        money.to_decimal("1,5", "the quantity")
