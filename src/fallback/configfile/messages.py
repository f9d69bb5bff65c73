"""Pydantic's validation errors in the plain language of docs/CONFIG.md."""

from __future__ import annotations

import datetime
import difflib
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from fallback.configfile.errors import Loc


def show(value: Any) -> str:
    """A value as the person wrote it in YAML, for "(got ...)"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def suggestion(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def known_keys(schema: Any, loc: Loc) -> list[str] | None:
    """The keys the model at `loc` inside `schema` accepts, or None if not a model there."""
    target = _unwrap(schema)
    for part in loc:
        if isinstance(part, int) and get_origin(target) is list:
            target = _unwrap(get_args(target)[0])
        elif isinstance(part, str) and isinstance(target, type) and issubclass(target, BaseModel):
            field = target.model_fields.get(part)
            if field is None:
                return None
            target = _unwrap(field.annotation)
        else:
            return None
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and `| None` to reach the type that holds keys or items."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


def _choices(expected: str) -> str:
    # Pydantic says "'owner', 'manager', 'staff' or 'viewer'"; we say "owner, manager, ...".
    names = re.findall(r"'([^']*)'", expected)
    return ", ".join(names) if names else expected


def _quote_hint(value: Any) -> str:
    if isinstance(value, bool | int | float | datetime.date):
        return "; put it in quotes to mean the text"
    return ""


def describe(error: ErrorDetails, schema: Any) -> str:
    """The message for one error (without its location)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    got = f"(got {show(value)})"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        keys = known_keys(schema, tuple(error["loc"][:-1])) or []
        known = f" (known keys: {', '.join(keys)})" if keys else ""
        return f"unknown key{known}{suggestion(key, keys)}"
    if kind == "string_type":
        return f"must be text {got}{_quote_hint(value)}"
    if kind == "list_type":
        return f"must be a list {got}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"must be a mapping of keys to values {got}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"must be a whole number {got}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"must be true or false {got}"
    if kind in {"enum", "literal_error"}:
        return f"must be one of {_choices(str(ctx.get('expected', '')))} {got}"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"must be at least {ctx.get('min_length')} characters {got}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind in {"value_error", "assertion_error"} and "error" in ctx:
        return str(ctx["error"])
    return f"{error['msg']} {got}"
