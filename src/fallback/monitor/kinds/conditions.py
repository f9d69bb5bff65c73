"""What a response must look like: expected status codes, and a JSON condition.

Both are parsed once, when the config is validated, so a run only compares.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

import jsonpath
from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr, model_validator

from fallback.configfile.messages import show
from fallback.monitor.kinds.fields import text

# Status codes


_RANGE = re.compile(r"^\s*(\d{3})\s*-\s*(\d{3})\s*$")
_CLASS = re.compile(r"^\s*([1-5])xx\s*$", re.IGNORECASE)

StatusRange = tuple[int, int]


def status_range(item: int | str) -> StatusRange:
    """200 -> (200, 200); "200-299" -> (200, 299); "2xx" -> (200, 299)."""
    if isinstance(item, int) and not isinstance(item, bool):
        low = high = item
    elif isinstance(item, str) and item.strip().isdigit():
        low = high = int(item)
    elif isinstance(item, str) and (m := _RANGE.match(item)):
        low, high = int(m[1]), int(m[2])
    elif isinstance(item, str) and (m := _CLASS.match(item)):
        low, high = int(m[1]) * 100, int(m[1]) * 100 + 99
    else:
        raise ValueError(
            "must be a status code (200), a range ('200-299') or a class ('2xx') "
            f"(got {show(item)})"
        )
    if not (100 <= low <= 599 and 100 <= high <= 599):
        raise ValueError(f"HTTP status codes run from 100 to 599 (got {show(item)})")
    if low > high:
        raise ValueError(f"the range runs backwards (got {show(item)})")
    return low, high


def _status_item(value: Any) -> int | str:
    status_range(value)
    return value  # type: ignore[no-any-return]


def _status_list(value: Any) -> Any:
    # A single code or range may be written without the list.
    if isinstance(value, int | str) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list) and not value:
        raise ValueError("must list at least one status code or range")
    return value


StatusItem = Annotated[int | str, BeforeValidator(_status_item)]
StatusList = Annotated[list[StatusItem], BeforeValidator(_status_list)]


def status_text(ranges: tuple[StatusRange, ...]) -> str:
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


# JSON condition

Op = Literal["==", "!=", "<", "<=", ">", ">=", "contains", "exists"]
_ORDER_OPS = {"<", "<=", ">", ">="}


@lru_cache(maxsize=4096)
def compile_path(path: str) -> jsonpath.JSONPath | jsonpath.CompoundJSONPath:
    """The compiled expression; the same path in many checks is compiled once."""
    return jsonpath.compile(path)


def _jsonpath(raw: Any) -> str:
    value = text(raw).strip()
    if not value.startswith("$"):
        raise ValueError(f"must start with '$', as in '$.status' (got {show(value)})")
    try:
        compile_path(value)
    except jsonpath.JSONPathError as exc:
        where = f" at character {exc.token.index + 1}" if exc.token else ""
        raise ValueError(
            f"is not a valid JSONPath: {exc.message}{where} (got {show(value)})"
        ) from None
    return value


JsonPathText = Annotated[str, BeforeValidator(_jsonpath)]


class JsonCondition(BaseModel):
    """`path` (JSONPath) compared with `value` by `op`; every value found must satisfy it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: JsonPathText
    op: Op = "=="
    value: Any = None

    _compiled: jsonpath.JSONPath | jsonpath.CompoundJSONPath = PrivateAttr()

    @model_validator(mode="after")
    def _value_fits_op(self) -> JsonCondition:
        given = "value" in self.model_fields_set
        # `value: null` with exists is what a dump of the model writes back: accepted.
        if self.op == "exists" and self.value is not None:
            raise ValueError("'exists' takes no value: leave 'value' out")
        if self.op != "exists" and not given:
            raise ValueError(f"'{self.op}' needs a 'value' to compare with")
        if self.op in _ORDER_OPS and not (_is_number(self.value) or isinstance(self.value, str)):
            raise ValueError(f"'{self.op}' compares with a number or text (got {show(self.value)})")
        if self.op == "contains" and isinstance(self.value, dict | list):
            raise ValueError(
                f"'contains' looks for text or a single value (got {show(self.value)})"
            )
        self._compiled = compile_path(self.path)
        return self

    def failure(self, data: Any) -> str | None:
        """None when the condition holds for `data`, else what is wrong, in plain words."""
        found = self._compiled.findall(data)
        if not found:
            return f"nothing found at {self.path}"
        if self.op == "exists":
            return None
        for item in found:
            problem = _compare(self.op, item, self.value)
            if problem is not None:
                return f"{self.path} {problem}"
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _json_text(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 80 else shown[:79] + "…"


def _compare(op: str, found: Any, value: Any) -> str | None:
    shown, wanted = _json_text(found), _json_text(value)
    if op == "==":
        return None if _json_equal(found, value) else f"is {shown}, expected {wanted}"
    if op == "!=":
        return None if not _json_equal(found, value) else f"is {shown}, expected anything else"
    if op == "contains":
        if isinstance(found, str):
            ok = isinstance(value, str) and value in found
        elif isinstance(found, list):
            ok = any(_json_equal(item, value) for item in found)
        elif isinstance(found, dict):
            ok = isinstance(value, str) and value in found
        else:
            return f"is {shown}, which is not text, a list or an object to look into"
        return None if ok else f"is {shown}, which does not contain {wanted}"
    comparable = (_is_number(found) and _is_number(value)) or (
        isinstance(found, str) and isinstance(value, str)
    )
    if not comparable:
        expected = "a number" if _is_number(value) else "text"
        return f"is {shown}, not {expected} to compare with {wanted}"
    holds = {
        "<": found < value,
        "<=": found <= value,
        ">": found > value,
        ">=": found >= value,
    }[op]
    return None if holds else f"is {shown}, expected {op} {wanted}"
