"""The plan's RPOs and the replica's freshness alerts.

An activity's RPO says how old its data may be when work resumes; a connector's rpo_minutes
is when the replica warns that its copy is older than that. When an activity needs a
stricter RPO than the connector of one of its systems warns at, the plan shows the mismatch
and offers to tighten the connector (one click, audited as any connector change).

Why not change the connector silently when the activity is saved: the connector belongs to
the replica's setup, which a config file may also declare; changing it behind the owner's
back would make every `fallback apply` of that file undo it (and the plan redo it). Shown
and applied on request, the owner sees what changes and why, and config files get a notice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from fallback.plans import durations
from fallback.plans.models import Plan
from fallback.replica import editing as replica_editing
from fallback.replica.models import Connector


@dataclass(frozen=True)
class Mismatch:
    connector: Connector
    warns_at: int  # minutes: the connector's rpo_minutes when the mismatch was found
    needed: int  # minutes: the strictest RPO of the activities that use its system
    activities: tuple[str, ...]

    @property
    def text(self) -> str:
        names = ", ".join(f"“{a}”" for a in self.activities)
        return (
            f"The replica of {self.connector.name} warns only when its copy is older than "
            f"{durations.words(self.warns_at)}, but {names} "
            f"need{'s' if len(self.activities) == 1 else ''} data no older than "
            f"{durations.words(self.needed)}"
        )


def rpos_by_system(plan: Plan) -> dict[int, list[tuple[str, int]]]:
    """System id -> (activity name, RPO minutes) of the confirmed activities using it."""
    found: dict[int, list[tuple[str, int]]] = {}
    activities = plan.activities.filter(suggested=False, rpo_minutes__isnull=False)
    for activity in activities.prefetch_related("systems"):
        assert activity.rpo_minutes is not None
        for system in activity.systems.all():
            found.setdefault(system.pk, []).append((activity.name, activity.rpo_minutes))
    return found


def needed_by_system(plan: Plan) -> dict[int, int]:
    """System id -> the strictest RPO of the confirmed activities using it (minutes)."""
    return {pk: min(m for _, m in rpos) for pk, rpos in rpos_by_system(plan).items()}


def mismatches(plan: Plan) -> list[Mismatch]:
    rpos = rpos_by_system(plan)
    if not rpos:
        return []
    found = []
    connectors = Connector.objects.filter(
        org_id=plan.org_id, enabled=True, system_id__in=list(rpos)
    ).order_by("name")
    for connector in connectors:
        assert connector.system_id is not None
        stricter = [(n, m) for n, m in rpos[connector.system_id] if m < connector.rpo_minutes]
        if stricter:
            needed = min(m for _, m in stricter)
            names = tuple(n for n, _ in stricter)
            found.append(Mismatch(connector, connector.rpo_minutes, needed, names))
    return found


@transaction.atomic
def tighten(plan: Plan, connector_id: int | None = None) -> list[Mismatch]:
    """Make the connectors warn at the RPO the plan needs (one, or all); returns what was
    changed. Each change is audited by the replica's own editing rules."""
    done = []
    for mismatch in mismatches(plan):
        if connector_id is not None and mismatch.connector.pk != connector_id:
            continue
        replica_editing.update_connector(mismatch.connector, rpo_minutes=mismatch.needed)
        done.append(mismatch)
    return done
