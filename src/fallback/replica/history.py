"""Reading the replica: what is current, and what was true at any past moment ("as of").

A version is valid from `valid_from` (inclusive) until `valid_to` (exclusive; NULL while
current), so at any moment each source record has at most one valid version.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from fallback.accounts.models import Organisation
from fallback.replica.models import Record


def current(org: Organisation, entity: str | None = None) -> QuerySet[Record]:
    records = Record.objects.filter(org=org, valid_to__isnull=True)
    return records.filter(entity=entity) if entity else records


def as_of(org: Organisation, at: datetime, entity: str | None = None) -> QuerySet[Record]:
    """Every record as it was at `at` (retired ones included if they still existed then)."""
    records = Record.objects.filter(org=org, valid_from__lte=at).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=at)
    )
    return records.filter(entity=entity) if entity else records


def versions(org: Organisation, connector_id: int, stream: str, key: str) -> QuerySet[Record]:
    """Every version of one source record, newest first."""
    return Record.objects.filter(
        org=org, connector_id=connector_id, stream=stream, key=key
    ).order_by("-valid_from", "-pk")
