"""Freshness: the replica's age per connector and system, against its RPO target.

The age is the time since the last good sync's fetch began (what the copy is "as of").

The target is the strictest of the connector's own RPO and what other apps need of its copy
(the continuity plan: the RPO of each activity that depends on the connector's system).
Those register a `TargetSource`; the target is computed each time, never copied onto the
connector, so a config file that sets the connector's own RPO cannot undo it and nothing
the owner typed is overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fallback.replica.models import Connector


@dataclass(frozen=True)
class Stricter:
    """A stricter RPO than the connector's own, and who needs it."""

    minutes: int
    source: str  # in words: "the plan: “Taking orders”"
    url: str = ""


# (org id, its connectors) -> connector id -> the strictest RPO this source needs of it.
TargetSource = Callable[[int, Sequence[Connector]], dict[int, Stricter]]
_SOURCES: list[TargetSource] = []


def register_target_source(source: TargetSource) -> TargetSource:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def stricter_targets(org_id: int, connectors: Sequence[Connector]) -> dict[int, Stricter]:
    """Connector id -> the strictest registered RPO below the connector's own."""
    found: dict[int, Stricter] = {}
    own = {c.pk: c.rpo_minutes for c in connectors}
    for source in _SOURCES:
        for pk, stricter in source(org_id, connectors).items():
            best = found.get(pk)
            if stricter.minutes < own.get(pk, 0) and (
                best is None or stricter.minutes < best.minutes
            ):
                found[pk] = stricter
    return found


@dataclass
class Freshness:
    connector: Connector
    as_of: datetime | None
    age: timedelta | None
    target: timedelta  # the effective target: the strictest of its own and `stricter`
    stale: bool
    stricter: Stricter | None = None  # where a target stricter than the connector's comes from

    @property
    def own_target(self) -> timedelta:
        return timedelta(minutes=self.connector.rpo_minutes)


def of(
    connector: Connector, now: datetime, targets: dict[int, Stricter] | None = None
) -> Freshness:
    """`targets` from stricter_targets() when several connectors are looked at at once."""
    if targets is None:
        targets = stricter_targets(connector.org_id, [connector])
    stricter = targets.get(connector.pk)
    target = timedelta(minutes=stricter.minutes if stricter else connector.rpo_minutes)
    as_of = connector.last_good_at
    age = now - as_of if as_of else None
    return Freshness(connector, as_of, age, target, age is None or age > target, stricter)


def of_each(org_id: int, connectors: Sequence[Connector], now: datetime) -> list[Freshness]:
    targets = stricter_targets(org_id, connectors)
    return [of(c, now, targets) for c in connectors]


def for_org(org_id: int, now: datetime) -> list[Freshness]:
    connectors = list(Connector.objects.filter(org_id=org_id, enabled=True).order_by("name"))
    return of_each(org_id, connectors, now)


def alert_stale(now: datetime) -> int:
    """Queue one RPO alert per stale spell of each connector (idempotent on its as-of time)."""
    from fallback.incidents.alerts import queue_notice
    from fallback.incidents.models import AlertEvent
    from fallback.incidents.timeline import duration

    sent = 0
    by_org: dict[int, list[Connector]] = {}
    for connector in Connector.objects.filter(enabled=True).select_related("org"):
        by_org.setdefault(connector.org_id, []).append(connector)
    found = [f for org_id, cs in by_org.items() for f in of_each(org_id, cs, now)]
    for f in found:
        connector = f.connector
        if not f.stale or f.as_of is None:
            continue  # never synced: the connector page says so; no alert before a first copy
        assert f.age is not None
        queued = queue_notice(
            connector.org_id,
            AlertEvent.REPLICA_STALE,
            f"c{connector.pk}:{f.as_of.isoformat()}",
            f"[{connector.org.name}] Replica of {connector.name} is {duration(f.age)} old",
            f"The last good copy of {connector.name} is {duration(f.age)} old; the target (RPO) "
            f"is {duration(f.target)}"
            + (f", set by {f.stricter.source}" if f.stricter else "")
            + ". If the source is down this is expected; otherwise look at "
            "the connector's last syncs.\n"
            f"Replica: /o/{connector.org.slug}/replica/{connector.slug}/",
            now,
        )
        sent += len(queued)
    return sent
