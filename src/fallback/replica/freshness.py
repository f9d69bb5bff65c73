"""Freshness: the replica's age per connector and system, against its RPO target.

The age is the time since the last good sync's fetch began (what the copy is "as of").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fallback.replica.models import Connector


@dataclass
class Freshness:
    connector: Connector
    as_of: datetime | None
    age: timedelta | None
    target: timedelta
    stale: bool


def of(connector: Connector, now: datetime) -> Freshness:
    target = timedelta(minutes=connector.rpo_minutes)
    as_of = connector.last_good_at
    age = now - as_of if as_of else None
    return Freshness(connector, as_of, age, target, age is None or age > target)


def for_org(org_id: int, now: datetime) -> list[Freshness]:
    return [
        of(c, now) for c in Connector.objects.filter(org_id=org_id, enabled=True).order_by("name")
    ]


def alert_stale(now: datetime) -> int:
    """Queue one RPO alert per stale spell of each connector (idempotent on its as-of time)."""
    from fallback.incidents.alerts import queue_notice
    from fallback.incidents.models import AlertEvent
    from fallback.incidents.timeline import duration

    sent = 0
    for connector in Connector.objects.filter(enabled=True).select_related("org"):
        f = of(connector, now)
        if not f.stale or f.as_of is None:
            continue  # never synced: the connector page says so; no alert before a first copy
        assert f.age is not None
        queued = queue_notice(
            connector.org_id,
            AlertEvent.REPLICA_STALE,
            f"c{connector.pk}:{f.as_of.isoformat()}",
            f"[{connector.org.name}] Replica of {connector.name} is {duration(f.age)} old",
            f"The last good copy of {connector.name} is {duration(f.age)} old; the target (RPO) "
            f"is {duration(f.target)}. If the source is down this is expected; otherwise look at "
            "the connector's last syncs.\n"
            f"Replica: /o/{connector.org.slug}/replica/{connector.slug}/",
            now,
        )
        sent += len(queued)
    return sent
