"""Canonical values: money and numbers never floats, dates in ISO, flags from many spellings."""

import pytest

from fallback.replica.schema import COERCE, ValueProblem

money, number, flag = COERCE["money"], COERCE["number"], COERCE["flag"]
date, datetime_ = COERCE["date"], COERCE["datetime"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("12.5", "12.50"),
        (12.5, "12.50"),
        (0.1, "0.10"),
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("12,5", "12.50"),
        ("1,234", "1234.00"),
        ("€ 9", "9.00"),
        ("0.0125", "0.0125"),
        (7, "7.00"),
    ],
)
def test_money_is_a_decimal_string_with_cents(given, expected):
    assert money(given) == expected


@pytest.mark.parametrize("given", ["abc", "1.2.3", True, "", "NaN"])
def test_what_is_not_money_is_refused(given):
    with pytest.raises(ValueProblem):
        money(given)


def test_numbers_drop_float_noise():
    assert number(0.1) == "0.1"  # not 0.1000000000000000055511151231257827
    assert number(2.0) == "2"
    assert number("3") == "3"


@pytest.mark.parametrize(
    ("given", "expected"), [("yes", True), ("enabled", True), (0, False), ("archived", False)]
)
def test_flags_from_common_spellings(given, expected):
    assert flag(given) is expected


def test_unclear_flag_is_refused():
    with pytest.raises(ValueProblem, match="expected yes/no"):
        flag("maybe")


def test_dates_and_times_in_iso():
    assert date("2026-03-04T10:00:00+02:00") == "2026-03-04"
    assert datetime_("2026-03-04T10:00:00+02:00") == "2026-03-04T08:00:00Z"
    assert datetime_(1767225600000) == "2026-01-01T00:00:00Z"
    assert datetime_("2026-03-04") == "2026-03-04T00:00:00Z"


def test_unreadable_date_is_refused():
    with pytest.raises(ValueProblem, match="ISO 8601"):
        date("04/03/2026")
