"""The registry of check kinds, and validation of a check's definition against its kind."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from fallback.configfile.errors import format_loc
from fallback.configfile.messages import describe, show, suggestion
from fallback.monitor.kinds.base import CheckKind, InvalidCheckConfig

_KINDS: dict[str, CheckKind[Any]] = {}


class UnknownCheckKind(KeyError):
    """get() of a key no kind is registered under."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)

    def __str__(self) -> str:
        return _unknown_message(self.key)


def _unknown_message(key: object) -> str:
    known = list(_KINDS)
    hint = suggestion(key, known) if isinstance(key, str) else ""
    return f"unknown check kind {show(key)}{hint} (known kinds: {', '.join(known)})"


def register(kind: CheckKind[Any]) -> CheckKind[Any]:
    """Add a kind. Registering another kind under a taken key is a programming error."""
    existing = _KINDS.get(kind.key)
    if existing is not None and type(existing) is not type(kind):
        raise ValueError(f"check kind {kind.key!r} is already registered by {existing!r}")
    _KINDS[kind.key] = kind
    return kind


def get(key: str) -> CheckKind[Any]:
    try:
        return _KINDS[key]
    except KeyError:
        raise UnknownCheckKind(key) from None


def all_kinds() -> list[CheckKind[Any]]:
    """Every kind, in the order they were registered (the order the UI offers them)."""
    return list(_KINDS.values())


def validate_config(key: str, data: dict[str, Any]) -> BaseModel:
    """The kind's Config model for `data`, or InvalidCheckConfig listing every problem."""
    kind = _KINDS.get(key) if isinstance(key, str) else None
    if kind is None:
        raise InvalidCheckConfig([("kind", _unknown_message(key))], [("kind",)])
    if not isinstance(data, dict):
        message = f"must be a mapping of keys to values (got {show(data)})"
        raise InvalidCheckConfig([("config", message)], [("config",)])
    try:
        model: BaseModel = kind.Config.model_validate(data)
        return model
    except ValidationError as exc:
        errors: list[tuple[str, str]] = []
        locs: list[tuple[str | int, ...]] = []
        for error in exc.errors():
            loc = ("config", *error["loc"])
            errors.append((format_loc(loc), describe(error, kind.Config)))
            locs.append(loc)
        raise InvalidCheckConfig(errors, locs) from None
