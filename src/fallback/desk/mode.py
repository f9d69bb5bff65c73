"""Fallback mode: whether the desk is working without the main system, since when, why, and
how fresh the replica it works from is.

A fallback period opens when an incident is declared for a system the desk covers (or for
any system, if the organisation has chosen none), or when a manager switches fallback mode
on. It stays open while the incident is declared or recovering, and ends when the incident
is resolved or the manager switches it off. Periods are brought in line with the incidents
whenever the desk is looked at, and by a scheduler job once a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.desk.models import DeskSettings, FallbackPeriod
from fallback.incidents.models import Incident, Status
from fallback.monitor.models import System
from fallback.replica.models import Connector
from fallback.runtime import schedulers

LIVE = (Status.DECLARED, Status.RECOVERING)


class ModeError(ValueError):
    """A switch that cannot be made; the message says why."""


def settings_for(org: Organisation) -> DeskSettings:
    desk, _ = DeskSettings.objects.get_or_create(org=org, defaults={"letterhead_name": org.name})
    return desk


def covered_systems(org: Organisation) -> list[System]:
    desk = settings_for(org)
    chosen = list(desk.covered_systems.filter(org=org))
    return chosen or list(System.objects.filter(org=org))


def _new_period(org: Organisation, **fields: Any) -> FallbackPeriod:
    for _ in range(5):  # two devices opening at once: the unique number decides
        try:
            with transaction.atomic():
                last = FallbackPeriod.objects.filter(org=org).aggregate(n=Max("number"))["n"]
                return FallbackPeriod.objects.create(org=org, number=(last or 0) + 1, **fields)
        except IntegrityError:
            existing = fields.get("incident")
            if existing is not None:
                found = FallbackPeriod.objects.filter(org=org, incident=existing).first()
                if found is not None:
                    return found
    raise ModeError("Could not open a fallback period; try again.")


def sync_periods(org: Organisation, now: datetime | None = None) -> None:
    """Open a period for each live incident of a covered system, end those of incidents
    that are resolved. Only reads when nothing is to change (it runs on every desk page and
    every document: a write would queue them all behind SQLite's one writer)."""
    now = now or timezone.now()
    live = list(
        Incident.objects.filter(
            org=org, status__in=LIVE, fallback_period__isnull=True
        ).prefetch_related("systems")
    )
    covered = {s.pk for s in covered_systems(org)} if live else set()
    for incident in live:
        if not covered.intersection(s.pk for s in incident.systems.all()):
            continue
        _new_period(
            org,
            incident=incident,
            started_at=incident.declared_at or now,
            reason=f"Outage declared: {incident.title}",
            is_exercise=incident.is_exercise,
        )
    ended = FallbackPeriod.objects.filter(
        org=org, ended_at__isnull=True, incident__status=Status.RESOLVED
    )
    if ended.exists():
        ended.update(ended_at=now)


def open_periods(org: Organisation) -> list[FallbackPeriod]:
    return list(
        FallbackPeriod.objects.filter(org=org, ended_at__isnull=True)
        .select_related("incident")
        .order_by("started_at")
    )


def switch_on(
    org: Organisation, by: Any, reason: str, now: datetime | None = None
) -> FallbackPeriod:
    """A manager puts the desk in fallback mode by hand (an outage the checks cannot see).
    Idempotent: while a manual period is open, it is returned."""
    reason = reason.strip()
    if not reason:
        raise ModeError("Say why fallback mode is switched on (e.g. 'CRM login broken').")
    existing = FallbackPeriod.objects.filter(
        org=org, ended_at__isnull=True, incident__isnull=True
    ).first()
    if existing is not None:
        return existing
    person = by if getattr(by, "pk", None) else None
    return _new_period(
        org, started_at=now or timezone.now(), started_by=person, reason=reason[:300]
    )


def switch_off(org: Organisation, by: Any, now: datetime | None = None) -> int:
    """End the manual periods (those of incidents end with their incident)."""
    person = by if getattr(by, "pk", None) else None
    return FallbackPeriod.objects.filter(
        org=org, ended_at__isnull=True, incident__isnull=True
    ).update(ended_at=now or timezone.now(), ended_by=person)


def current_period(org: Organisation, now: datetime | None = None) -> FallbackPeriod | None:
    """The period new documents are numbered in (the newest open one), or None when
    fallback mode is off; what making a document needs of `state`, without the banner."""
    sync_periods(org, now)
    return (
        FallbackPeriod.objects.filter(org=org, ended_at__isnull=True)
        .order_by("-started_at", "-pk")
        .first()
    )


@dataclass
class Freshness:
    connector: str
    system: str
    as_of: datetime | None
    before_outage: timedelta | None  # how long before the outage began the replica was synced


@dataclass
class DownSystem:
    name: str
    since: datetime


@dataclass
class ModeState:
    active: bool
    periods: list[FallbackPeriod]
    down: list[DownSystem] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)
    recovering: bool = False  # every live incident is recovering: time for the way back
    is_exercise: bool = False

    @property
    def period(self) -> FallbackPeriod | None:
        """The period new documents are numbered in (the newest open one)."""
        return self.periods[-1] if self.periods else None


def state(org: Organisation, now: datetime | None = None) -> ModeState:
    """Fallback mode as the banner shows it."""
    now = now or timezone.now()
    sync_periods(org, now)
    periods = open_periods(org)
    result = ModeState(active=bool(periods), periods=periods)
    if not periods:
        return result
    incidents = [p.incident for p in periods if p.incident is not None]
    result.is_exercise = all(p.is_exercise for p in periods)
    result.recovering = (
        bool(incidents)
        and len(incidents) == len(periods)
        and all(i.status == Status.RECOVERING for i in incidents)
    )
    outage_start = min(
        [i.opened_at for i in incidents] + [p.started_at for p in periods if p.incident is None]
    )
    seen: set[int] = set()
    for incident in incidents:
        for system in incident.systems.all():
            if system.pk not in seen:
                seen.add(system.pk)
                result.down.append(DownSystem(system.name, incident.opened_at))
    connectors = Connector.objects.filter(org=org, enabled=True).select_related("system")
    for connector in connectors:
        as_of = connector.last_good_at
        before = outage_start - as_of if as_of is not None else None
        result.freshness.append(
            Freshness(
                connector.name,
                connector.system.name if connector.system else "",
                as_of,
                before if before is None or before >= timedelta(0) else timedelta(0),
            )
        )
    return result


@schedulers.register("desk-periods", 60.0)
def sync_all_periods() -> None:
    """Open and end fallback periods as incidents are declared and resolved, so devices that
    are not looking at the desk still see fallback mode on their next page."""
    for org in Organisation.objects.filter(
        Q(pk__in=Incident.objects.filter(status__in=LIVE).values("org_id"))
        | Q(pk__in=FallbackPeriod.objects.filter(ended_at__isnull=True).values("org_id"))
    ):
        sync_periods(org)
