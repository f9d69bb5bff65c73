"""Expected status codes and JSON conditions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from fallback.monitor.kinds.conditions import (
    JsonCondition,
    compile_path,
    status_range,
    status_text,
)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (200, (200, 200)),
        ("204", (204, 204)),
        ("200-299", (200, 299)),
        (" 300 - 302 ", (300, 302)),
        ("4xx", (400, 499)),
        ("5XX", (500, 599)),
    ],
)
def test_status_items_are_codes_ranges_or_classes(
    item: int | str, expected: tuple[int, int]
) -> None:
    assert status_range(item) == expected


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (99, "HTTP status codes run from 100 to 599 (got 99)"),
        ("299-200", "the range runs backwards (got '299-200')"),
        ("6xx", "must be a status code (200)"),
        (True, "must be a status code (200)"),
        ("ok", "must be a status code (200)"),
    ],
)
def test_bad_status_items_say_what_is_wrong(item: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"^" + message.replace("(", r"\(").replace(")", r"\)")):
        status_range(item)


def test_status_text_lists_codes_and_ranges() -> None:
    assert status_text(((200, 200), (300, 399))) == "200, 300-399"


DATA = {
    "status": "ok",
    "count": 3,
    "ratio": 0.5,
    "flag": True,
    "none": None,
    "version": "2.10.1",
    "tags": ["eu", "primary"],
    "meta": {"region": "eu-west"},
    "items": [{"ok": True}, {"ok": False}],
}


def _failure(path: str, op: str, value: Any = ..., data: Any = DATA) -> str | None:
    spec: dict[str, Any] = {"path": path, "op": op}
    if value is not ...:
        spec["value"] = value
    return JsonCondition.model_validate(spec).failure(data)


@pytest.mark.parametrize(
    ("path", "op", "value"),
    [
        ("$.status", "==", "ok"),
        ("$.count", "==", 3.0),
        ("$.none", "==", None),
        ("$.meta", "==", {"region": "eu-west"}),
        ("$.status", "!=", "down"),
        ("$.flag", "!=", 1),  # true is not the number 1
        ("$.count", "<", 4),
        ("$.count", "<=", 3),
        ("$.ratio", ">", 0.25),
        ("$.count", ">=", 3),
        ("$.version", ">=", "2.1"),
        ("$.status", "contains", "o"),
        ("$.tags", "contains", "eu"),
        ("$.meta", "contains", "region"),
        ("$.items[0].ok", "exists", ...),
        ("$.none", "exists", ...),
    ],
)
def test_conditions_that_hold(path: str, op: str, value: Any) -> None:
    assert _failure(path, op, value) is None


@pytest.mark.parametrize(
    ("path", "op", "value", "message"),
    [
        ("$.status", "==", "down", '$.status is "ok", expected "down"'),
        ("$.flag", "==", 1, "$.flag is true, expected 1"),
        ("$.status", "!=", "ok", '$.status is "ok", expected anything else'),
        ("$.count", ">", 5, "$.count is 3, expected > 5"),
        ("$.status", "<", 5, '$.status is "ok", not a number to compare with 5'),
        ("$.count", "<", "5", '$.count is 3, not text to compare with "5"'),
        ("$.tags", "contains", "us", '$.tags is ["eu", "primary"], which does not contain "us"'),
        (
            "$.count",
            "contains",
            "3",
            "$.count is 3, which is not text, a list or an object to look into",
        ),
        ("$.missing", "exists", ..., "nothing found at $.missing"),
        ("$.missing", "==", 1, "nothing found at $.missing"),
        ("$.items[*].ok", "==", True, "$.items[*].ok is false, expected true"),
    ],
)
def test_conditions_that_fail_say_what_was_found(
    path: str, op: str, value: Any, message: str
) -> None:
    assert _failure(path, op, value) == message


def test_long_values_are_shortened_in_messages() -> None:
    message = _failure("$.text", "==", "short", data={"text": "y" * 500})
    assert message is not None and len(message) < 120


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"path": "$.a", "op": "exists", "value": 1}, "'exists' takes no value"),
        ({"path": "$.a", "op": ">"}, "'>' needs a 'value' to compare with"),
        ({"path": "$.a", "op": ">", "value": [1]}, "'>' compares with a number or text"),
        ({"path": "$.a", "op": "contains", "value": {"b": 1}}, "'contains' looks for text"),
        ({"path": "$.a", "op": "~=", "value": 1}, "Input should be"),
        ({"path": "$..[", "value": 1}, "is not a valid JSONPath"),
    ],
)
def test_bad_conditions_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        JsonCondition.model_validate(spec)


def test_a_condition_survives_a_round_trip_through_json() -> None:
    for spec in ({"path": "$.a", "op": "exists"}, {"path": "$.a", "value": None}):
        condition = JsonCondition.model_validate(spec)
        assert JsonCondition.model_validate(condition.model_dump(mode="json")) == condition


def test_the_same_path_is_compiled_once() -> None:
    assert compile_path("$.status.indicator") is compile_path("$.status.indicator")
    first = JsonCondition.model_validate({"path": "$.db.up", "value": True})
    second = JsonCondition.model_validate({"path": "$.db.up", "value": False})
    assert first._compiled is second._compiled
