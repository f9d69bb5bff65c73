"""Changing connectors: the rules, each change audited, secrets sealed and never echoed.

The web pages, the API and `fallback apply` all come through here. Problems are raised as
SetupInvalid, a list of (field, message) pairs ("config.base_url", "mapping.customers.key",
"secrets.token"…); nothing is saved when anything is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.accounts.scoping import free_slug
from fallback.audit.trail import diff, record
from fallback.monitor.editing import SetupInvalid
from fallback.monitor.models import System
from fallback.replica import credentials
from fallback.replica.connectors import registry
from fallback.replica.connectors.base import ConnectorKind
from fallback.replica.mapping import MappingError, parse
from fallback.replica.models import Connector

CONNECTOR_FIELDS = [
    "name",
    "slug",
    "kind",
    "config",
    "mapping",
    "system",
    "interval_minutes",
    "full_sweep_hours",
    "rpo_minutes",
    "drop_guard_percent",
    "enabled",
]
RESERVED_SLUGS = frozenset({"new", "card", "browse", "record", "held", "kinds"})
MIN_INTERVAL = 1
MAX_INTERVAL = 7 * 24 * 60

__all__ = ["SetupInvalid", "create_connector", "update_connector", "validate"]


def unique_slug(org: Organisation, name: str, exclude: int | None = None) -> str:
    return free_slug(Connector.objects.filter(org=org), name, RESERVED_SLUGS, "connector", exclude)


@dataclass
class Checked:
    kind: ConnectorKind[Any]
    config: Any


def validate(kind_key: str, config: Any, mapping: Any) -> Checked:
    """The kind, its validated config and every stream's mapping; SetupInvalid otherwise."""
    try:
        kind = registry.get(kind_key)
        model = registry.validate_config(kind_key, config)
    except registry.InvalidConnectorConfig as exc:
        raise SetupInvalid(exc.errors) from None
    errors: list[tuple[str, str]] = []
    try:
        streams = {s.name: s for s in kind.streams(model)}
    except ValueError as exc:
        raise SetupInvalid([("config.streams", str(exc))]) from None
    if not isinstance(mapping, dict):
        raise SetupInvalid([("mapping", "expected stream names mapped to mappings")])
    from fallback.replica.sync import effective_mapping

    for name, override in mapping.items():
        where = f"mapping.{name}"
        if name not in streams:
            known = ", ".join(streams)
            errors.append((where, f"this connector has no list {name!r} (lists: {known})"))
            continue
        if not isinstance(override, dict):
            errors.append((where, "expected entity, key and fields"))
    for name, stream in streams.items():
        if name in mapping and not isinstance(mapping[name], dict):
            continue
        probe = Connector(mapping=mapping)
        try:
            parse(effective_mapping(probe, stream), f"mapping.{name}")
        except MappingError as exc:
            errors.extend(exc.problems)
    if errors:
        raise SetupInvalid(errors)
    return Checked(kind, model)


def _check_fields(connector: Connector, secrets: Mapping[str, str | None]) -> None:
    errors: list[tuple[str, str]] = []
    if not connector.name.strip():
        errors.append(("name", "A connector needs a name."))
    if connector.slug in RESERVED_SLUGS:
        errors.append(("slug", f"“{connector.slug}” is a word the pages use; choose another."))
    if not MIN_INTERVAL <= connector.interval_minutes <= MAX_INTERVAL:
        errors.append(("interval_minutes", f"Between {MIN_INTERVAL} and {MAX_INTERVAL} minutes."))
    if connector.rpo_minutes < 1:
        errors.append(("rpo_minutes", "At least 1 minute."))
    if not 1 <= connector.drop_guard_percent <= 100:
        errors.append(("drop_guard_percent", "A percentage from 1 to 100."))
    if connector.system is not None and connector.system.org_id != connector.org_id:
        errors.append(("system", "No such system in this organisation."))
    others = Connector.objects.filter(org_id=connector.org_id, slug=connector.slug)
    if others.exclude(pk=connector.pk).exists():
        errors.append(("slug", f"Another connector already has the short name “{connector.slug}”."))
    try:
        checked = validate(connector.kind, connector.config, connector.mapping or {})
    except SetupInvalid as exc:
        errors.extend(exc.errors)
        checked = None
    if checked is not None:
        known = {s.name for s in checked.kind.secrets}
        for name in secrets:
            if name not in known:
                names = ", ".join(sorted(known)) or "none"
                errors.append((f"secrets.{name}", f"not a secret of this kind (secrets: {names})"))
    if errors:
        raise SetupInvalid(errors)


def _snapshot(connector: Connector) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in CONNECTOR_FIELDS:
        value = getattr(connector, "system_id" if name == "system" else name)
        values[name] = value
    config = values.get("config")
    if isinstance(config, dict) and isinstance(config.get("headers"), dict):
        values["config"] = {**config, "headers": dict.fromkeys(config["headers"], "•••")}
    return values


def _set(connector: Connector, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key not in CONNECTOR_FIELDS:
            raise ValueError(f"unknown field {key!r}")
        if key == "system" and value is not None and not isinstance(value, System):
            value = System.objects.filter(org_id=connector.org_id, pk=value).first()
            if value is None:
                raise SetupInvalid([("system", "No such system in this organisation.")])
        setattr(connector, key, value)


@transaction.atomic
def create_connector(
    org: Organisation, *, secrets: Mapping[str, str | None] | None = None, **fields: Any
) -> Connector:
    connector = Connector(org=org)
    _set(connector, fields)
    if not connector.slug:
        connector.slug = unique_slug(org, connector.name or connector.kind)
    secrets = secrets or {}
    _check_fields(connector, secrets)
    changed = credentials.update_secrets(connector, secrets)
    connector.created_at = connector.next_sync_at = timezone.now()
    connector.save()
    changes: dict[str, list[Any]] = {f: [None, v] for f, v in _snapshot(connector).items()}
    for name in changed:
        changes[f"secrets.{name}"] = [None, "(set)"]
    record(org, "connector.created", connector, changes)
    return connector


@transaction.atomic
def update_connector(
    connector: Connector, *, secrets: Mapping[str, str | None] | None = None, **fields: Any
) -> dict[str, list[Any]]:
    """Change a connector; secrets given as None are kept, "" cleared. Returns the changes."""
    before = _snapshot(connector)
    _set(connector, fields)
    if "slug" in fields and not connector.slug:
        connector.slug = unique_slug(connector.org, connector.name, exclude=connector.pk)
    secrets = secrets or {}
    try:
        _check_fields(connector, secrets)
    except SetupInvalid:
        connector.refresh_from_db()
        raise
    changed = credentials.update_secrets(connector, secrets)
    changes = diff(before, _snapshot(connector))
    for name in changed:
        changes[f"secrets.{name}"] = ["(set)", "(changed)"]
    if changes:
        # Only what a person sets: the scheduler's fields (claim, next sync) are not ours.
        connector.save(update_fields=[*CONNECTOR_FIELDS, "sealed_secrets", "updated_at"])
        record(connector.org, "connector.updated", connector, changes)
    return changes
