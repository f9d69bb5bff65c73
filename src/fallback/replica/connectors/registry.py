"""The registry of connector kinds, and validation of a connector's config against its kind."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from fallback.configfile.errors import format_loc
from fallback.configfile.messages import describe, show, suggestion
from fallback.replica.connectors.base import ConnectorKind

_KINDS: dict[str, ConnectorKind[Any]] = {}


class InvalidConnectorConfig(ValueError):
    """A connector definition that cannot be used: (field path, message) for each problem."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


def register(kind: ConnectorKind[Any]) -> ConnectorKind[Any]:
    existing = _KINDS.get(kind.key)
    if existing is not None and type(existing) is not type(kind):
        raise ValueError(f"connector kind {kind.key!r} is already registered by {existing!r}")
    _KINDS[kind.key] = kind
    return kind


def _unknown(key: object) -> str:
    known = list(_KINDS)
    hint = suggestion(key, known) if isinstance(key, str) else ""
    return f"unknown connector kind {show(key)}{hint} (known kinds: {', '.join(known)})"


def get(key: str) -> ConnectorKind[Any]:
    try:
        return _KINDS[key]
    except KeyError:
        raise InvalidConnectorConfig([("kind", _unknown(key))]) from None


def all_kinds() -> list[ConnectorKind[Any]]:
    return list(_KINDS.values())


def validate_config(key: str, data: Any) -> BaseModel:
    """The kind's Config for `data`, or InvalidConnectorConfig listing every problem."""
    kind = _KINDS.get(key) if isinstance(key, str) else None
    if kind is None:
        raise InvalidConnectorConfig([("kind", _unknown(key))])
    if not isinstance(data, dict):
        raise InvalidConnectorConfig([("config", f"must be a mapping (got {show(data)})")])
    try:
        model: BaseModel = kind.Config.model_validate(data)
        return model
    except ValidationError as exc:
        errors = [
            (format_loc(("config", *e["loc"])), describe(e, kind.Config)) for e in exc.errors()
        ]
        raise InvalidConnectorConfig(errors) from None
