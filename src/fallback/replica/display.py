"""How the replica reads on its pages: freshness in words, values for people, what changed
between two versions of a record, a connector's settings without its secrets.

Nothing here queries more than it is given or changes anything; the views and templates call
it so that they stay thin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from fallback.replica import credentials
from fallback.replica.connectors import registry
from fallback.replica.connectors.base import ConnectorKind
from fallback.replica.freshness import Freshness
from fallback.replica.models import Connector, Record
from fallback.replica.schema import ENTITIES, GENERIC, LINE_FIELDS, Entity, Field

EMPTY = "—"
MASK = "•••"

# The columns of the browse table: the fields people look a record up by. Every field is
# on the record's own page.
BROWSE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("name", "contact_name", "email", "phone", "city", "balance"),
    "contact": ("name", "customer", "role", "email", "phone"),
    "supplier": ("name", "contact_name", "email", "phone", "account_number"),
    "product": ("sku", "name", "price", "stock", "unit", "active"),
    "price_list": ("list", "sku", "name", "price", "currency", "min_quantity"),
    "order": ("number", "customer_name", "status", "order_date", "due_date", "total"),
    "invoice": ("number", "customer_name", "issue_date", "due_date", "total", "balance"),
    "record": ("name",),
}
NUMERIC = frozenset({"money", "number"})


# ------------------------------------------------------------------ freshness


def age_words(age: timedelta | None) -> str:
    """ "12 min", "3 h 5 min", "2 days 4 h": short enough for a table cell."""
    if age is None:
        return ""
    minutes = int(max(age.total_seconds(), 0) // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def moment(at: datetime, zone: tzinfo, now: datetime) -> str:
    """A time as people say it: "10:42" today, "3 Mar 10:42" otherwise."""
    local = at.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return local.strftime("%H:%M")
    return (
        f"{local.day} {local.strftime('%b')}"
        + (f" {local.year}" if local.year != now.astimezone(zone).year else "")
        + local.strftime(" %H:%M")
    )


def freshness_words(f: Freshness, zone: tzinfo, now: datetime) -> str:
    """ "as of 10:42, 12 min old", or "no good copy yet"."""
    if f.as_of is None:
        return "no good copy yet"
    return f"as of {moment(f.as_of, zone, now)}, {age_words(f.age)} old"


def target_words(f: Freshness) -> str:
    return age_words(f.target)


# ---------------------------------------------------------------------- values


def _parse_instant(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def value_text(field: Field | None, value: Any, zone: tzinfo) -> str:
    """One canonical value as a person reads it."""
    if value is None or value == "" or value == []:
        return EMPTY
    kind = field.type if field is not None else ""
    if kind == "flag" or isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "datetime" and isinstance(value, str):
        parsed = _parse_instant(value)
        if parsed is not None:
            return parsed.astimezone(zone).strftime("%-d %b %Y %H:%M")
    if kind == "lines" and isinstance(value, list):
        return f"{len(value)} line{'s' if len(value) != 1 else ''}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass
class Cell:
    text: str
    numeric: bool
    label: str = ""


def row_cells(
    entity: Entity, columns: list[Field], data: dict[str, Any], zone: tzinfo
) -> list[Cell]:
    return [
        Cell(value_text(f, data.get(f.name), zone), f.type in NUMERIC, f.label) for f in columns
    ]


def browse_columns(entity: Entity) -> list[Field]:
    names = (
        BROWSE_COLUMNS.get(entity.key)
        or tuple(f.name for f in entity.fields if f.type != "lines")[:6]
    )
    return [f for name in names if (f := entity.field(name)) is not None]


def record_fields(record: Record) -> list[Field]:
    """The fields to show for a record: its entity's, and for a generic record whatever
    the source had."""
    entity = ENTITIES.get(record.entity) or ENTITIES[GENERIC]
    fields = list(entity.fields)
    if entity.key == GENERIC:
        known = {f.name for f in fields}
        fields += [
            Field(k, "text", k.replace("_", " ").capitalize())
            for k in record.data
            if k not in known
        ]
    return fields


def line_rows(lines: Any, zone: tzinfo) -> list[list[Cell]]:
    if not isinstance(lines, list):
        return []
    return [
        [
            Cell(value_text(f, line.get(f.name), zone), f.type in NUMERIC, f.label)
            for f in LINE_FIELDS
        ]
        for line in lines
        if isinstance(line, dict)
    ]


@dataclass
class Change:
    label: str
    old: str
    new: str


def changes(
    fields: list[Field], older: dict[str, Any] | None, newer: dict[str, Any], zone: tzinfo
) -> list[Change]:
    """What differs from `older` to `newer`, field by field (None: the first version)."""
    if older is None:
        return []
    found = []
    names = [f.name for f in fields]
    extra = [k for k in {**older, **newer} if k not in names]
    for field in [*fields, *(Field(k, "text", k) for k in extra)]:
        before, after = older.get(field.name), newer.get(field.name)
        if before == after or (before in (None, "", []) and after in (None, "", [])):
            continue
        if field.type == "lines":
            found.append(Change(field.label, value_text(field, before, zone), "changed lines"))
            continue
        found.append(
            Change(field.label, value_text(field, before, zone), value_text(field, after, zone))
        )
    return found


# ----------------------------------------------------------------- connectors


def kind_of(connector: Connector) -> ConnectorKind[Any] | None:
    try:
        return registry.get(connector.kind)
    except registry.InvalidConnectorConfig:
        return None


def kind_label(connector: Connector) -> str:
    kind = kind_of(connector)
    return kind.label if kind is not None else connector.kind


def settings_summary(connector: Connector) -> list[tuple[str, str]]:
    """What a connector reads, for its page: never a secret, header values masked."""
    config = connector.config if isinstance(connector.config, dict) else {}
    rows: list[tuple[str, str]] = [("Kind", kind_label(connector))]
    if config.get("base_url"):
        rows.append(("Address", str(config["base_url"])))
    if config.get("realm_id"):
        rows.append(("Company ID", str(config["realm_id"])))
    if config.get("folder"):
        rows.append(("Folder", str(config["folder"])))
    if connector.kind == "kept_files":
        rows.append(("Files kept", ", ".join(str(p) for p in config.get("patterns") or ["*"])))
    streams = config.get("streams")
    if connector.kind == "files" and isinstance(streams, list):
        for s in streams:
            if isinstance(s, dict):
                entity = ENTITIES.get(str(s.get("entity", GENERIC)))
                what = entity.plural.lower() if entity else str(s.get("entity"))
                rows.append(
                    (
                        f"List “{s.get('name')}”",
                        f"newest file matching {s.get('pattern')}, as {what}, "
                        f"identified by the column {s.get('key')}",
                    )
                )
    elif isinstance(streams, list):
        rows.append(("Lists", ", ".join(str(s) for s in streams)))
    elif connector.kind in ("shopify", "hubspot", "quickbooks"):
        rows.append(("Lists", "all"))
    resources = config.get("resources")
    if isinstance(resources, list):
        names = [str(r.get("name")) for r in resources if isinstance(r, dict)]
        rows.append(("Lists", ", ".join(names)))
    auth = config.get("auth")
    if isinstance(auth, dict) and auth.get("type"):
        rows.append(("Authentication", str(auth["type"]).replace("_", " ")))
    headers = config.get("headers")
    if isinstance(headers, dict) and headers:
        rows.append(("Extra headers", ", ".join(f"{k}: {MASK}" for k in headers)))
    kind = kind_of(connector)
    if kind is not None and kind.secrets:
        set_ = set(credentials.which_are_set(connector))
        rows.append(
            (
                "Secrets",
                ", ".join(
                    f"{s.label}: {'set' if s.name in set_ else 'not set'}" for s in kind.secrets
                ),
            )
        )
    if connector.mapping:
        changed = sorted(connector.mapping)
        rows.append(("Mapping changed for", ", ".join(changed)))
    return rows


# --------------------------------------------------------------------- preview


def preview_view(result: Any, zone: tzinfo) -> dict[str, Any]:
    """A fallback.replica.preview.StreamPreview as the form page shows it."""
    entity = next((e for e in ENTITIES.values() if e.label == result.entity), ENTITIES[GENERIC])
    fields = [entity.field(c) or Field(c, "text", c) for c in result.columns]
    source_columns: list[str] = []
    for record in result.source:
        if isinstance(record, dict):
            source_columns += [str(k) for k in record if str(k) not in source_columns]
    shown = [
        {
            "key": key,
            "cells": [
                Cell(value_text(f, data.get(f.name), zone), f.type in NUMERIC) for f in fields
            ]
            if isinstance(data, dict)
            else [],
            "problems": problems,
        }
        for key, data, problems in result.rows
    ]
    return {
        "stream": result.stream,
        "entity": result.entity,
        "error": result.error,
        "columns": [f.label for f in fields],
        "rows": result.rows,
        "shown": shown,
        "source_columns": source_columns[:60],
    }
