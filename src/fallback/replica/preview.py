"""A preview of what a connector would bring: its first records, fetched and mapped, before
anything is saved. Nothing is written; the fetch stops after the first page."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from fallback.replica.connectors.base import FetchError
from fallback.replica.editing import validate
from fallback.replica.mapping import parse
from fallback.replica.models import Connector
from fallback.replica.schema import ENTITIES

PREVIEW_RECORDS = 10


@dataclass
class StreamPreview:
    stream: str
    entity: str
    columns: list[str]
    rows: list[tuple[str | None, dict[str, Any], list[str]]] = field(default_factory=list)
    source: list[dict[str, Any]] = field(default_factory=list)  # the raw records, for reference
    error: str = ""


def preview(connector: Connector, limit: int = PREVIEW_RECORDS) -> list[StreamPreview]:
    """The first `limit` records of every stream of an unsaved (or saved) connector.

    `connector` carries kind, config, mapping and its sealed secrets, as a form builds it.
    Raises SetupInvalid for a config or mapping that cannot be used.
    """
    from fallback.replica.sync import effective_mapping, fetch_context

    checked = validate(connector.kind, connector.config, connector.mapping or {})
    ctx = fetch_context(connector)
    out = []
    for stream in checked.kind.streams(checked.config):
        mapping = parse(effective_mapping(connector, stream), f"mapping.{stream.name}")
        entity = ENTITIES[mapping.entity]
        columns = [r.name for r in mapping.rules] or ["(whole record)"]
        result = StreamPreview(stream.name, entity.label, columns)
        if checked.kind.keeps_files:
            result.error = "Plain files are kept as they are: nothing to map."
            out.append(result)
            continue
        try:
            pages = checked.kind.fetch(checked.config, ctx, stream, None)
            first = next(iter(pages), [])
            close = getattr(pages, "close", None)
            if close is not None:
                close()
        except FetchError as exc:
            result.error = str(exc)
            out.append(result)
            continue
        for record in islice(first, limit):
            result.rows.append(mapping.apply(record))
            result.source.append(record)
        out.append(result)
    return out
