"""Helpers for the desk's tests: replica records put straight into the database, indexed for
the search box as a sync would leave them."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.desk import search_index
from fallback.replica.models import Connector, Record

CONNECTOR_SLUG = "desk-test-files"


def connector_for(org: Organisation) -> Connector:
    """The organisation's test connector (a "files" connector nothing syncs)."""
    connector, _ = Connector.objects.get_or_create(
        org=org,
        slug=CONNECTOR_SLUG,
        defaults={"name": "Test export", "kind": "files", "last_good_at": timezone.now()},
    )
    return connector


def put_records(
    org: Organisation,
    entity: str,
    rows: list[dict[str, Any]],
    at: datetime | None = None,
    connector: Connector | None = None,
) -> list[Record]:
    """Current replica records of `entity`, one per row: `key` is the record's key, the rest
    is its data (the name is `name`, else `number`, else the key). A row whose key is
    already current replaces that version, as a sync would."""
    connector = connector or connector_for(org)
    at = at or timezone.now()
    stream = f"{entity}s"
    made = []
    for row in rows:
        key = str(row["key"])
        data = {k: v for k, v in row.items() if k != "key"}
        Record.objects.filter(
            connector=connector, stream=stream, key=key, valid_to__isnull=True
        ).update(valid_to=at, ended="changed")
        made.append(
            Record.objects.create(
                org=org,
                connector=connector,
                stream=stream,
                entity=entity,
                key=key,
                name=str(data.get("name") or data.get("number") or key),
                data=data,
                digest=hashlib.md5(json.dumps(data, sort_keys=True).encode()).hexdigest(),
                valid_from=at,
            )
        )
    search_index.on_applied(connector.pk, at)
    return made
