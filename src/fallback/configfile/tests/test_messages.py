import datetime
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, ValidationError

from fallback.configfile.messages import describe, known_keys, show, suggestion


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: StrictStr
    count: int = 0
    size: Annotated[StrictStr, Field(min_length=1, max_length=3)] | None = None


class Box(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item]
    mode: int = 0


def problems(data, schema=Box):
    try:
        TypeAdapter(schema).validate_python(data)
    except ValidationError as exc:
        return [(tuple(e["loc"]), describe(e, schema)) for e in exc.errors()]
    return []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "nothing"),
        (True, "true"),
        ({"a": 1}, "a mapping"),
        ([1], "a list"),
        ("boss", "'boss'"),
        (12, "12"),
        (datetime.date(2025, 1, 2), "2025-01-02"),
    ],
)
def test_values_are_shown_as_written_in_yaml(value, shown):
    assert show(value) == shown


def test_close_words_are_suggested():
    assert suggestion("nmae", ["name", "slug"]) == "; did you mean 'name'?"
    assert suggestion("zzz", ["name", "slug"]) == ""


def test_known_keys_follow_lists_models_and_optionals():
    assert known_keys(Box, ()) == ["items", "mode"]
    assert known_keys(Box, ("items", 0)) == ["label", "count", "size"]
    assert known_keys(list[Box] | None, (1, "items", 2)) == ["label", "count", "size"]
    assert known_keys(Box, ("mode",)) is None
    assert known_keys(Box, ("nope",)) is None


def test_missing_key_is_required():
    assert problems({"items": [{}]}) == [(("items", 0, "label"), "is required")]


def test_unknown_key_names_the_known_ones_and_suggests():
    assert problems({"items": [{"label": "a", "cuont": 1}]}) == [
        (
            ("items", 0, "cuont"),
            "unknown key (known keys: label, count, size); did you mean 'count'?",
        )
    ]


def test_text_where_a_list_is_expected():
    assert problems({"items": "abc"}) == [(("items",), "must be a list (got 'abc')")]


def test_number_where_text_is_expected_suggests_quotes():
    assert problems({"items": [{"label": 12}]}) == [
        (("items", 0, "label"), "must be text (got 12); put it in quotes to mean the text")
    ]


def test_mapping_expected():
    assert problems({"items": ["x"]}) == [
        (("items", 0), "must be a mapping of keys to values (got 'x')")
    ]


def test_whole_number_expected():
    assert problems({"items": [], "mode": "fast"}) == [
        (("mode",), "must be a whole number (got 'fast')")
    ]


def test_lengths_are_explained():
    assert problems({"items": [{"label": "a", "size": ""}]}) == [
        (("items", 0, "size"), "must not be empty")
    ]
    assert problems({"items": [{"label": "a", "size": "abcd"}]}) == [
        (("items", 0, "size"), "must be at most 3 characters long")
    ]


def test_validator_message_is_used_as_is():
    def positive(value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative (got -1)")
        return value

    from pydantic import AfterValidator

    schema = Annotated[int, AfterValidator(positive)]
    assert problems(-1, schema) == [((), "must not be negative (got -1)")]
