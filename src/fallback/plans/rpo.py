"""The plan's RPOs feed the replica's freshness alerts.

An activity's RPO says how old its data may be when work resumes; a connector's rpo_minutes
is when the replica warns that its copy is older than that. The replica's effective target
is the strictest of the two: this module registers the plan as a freshness target source
(`replica.freshness.register_target_source`), so the replica's pages, its API, readiness
and its stale alert all use it.

Computed, never copied onto the connector: the connector belongs to the replica's setup,
which a config file may also declare, and a copied value would be undone by the next
`fallback apply` of that file (and redone by the plan). A plan never loosens the target: an
activity that tolerates older data leaves the connector's own RPO in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import reverse

from fallback.plans import durations
from fallback.plans.models import Plan
from fallback.replica import freshness
from fallback.replica.models import Connector


@dataclass(frozen=True)
class Feed:
    """A connector whose freshness target the plan makes stricter than its own."""

    connector: Connector
    own: int  # minutes: the connector's own rpo_minutes
    needed: int  # minutes: the strictest RPO of the activities that use its system
    activities: tuple[str, ...]

    @property
    def text(self) -> str:
        names = ", ".join(f"“{a}”" for a in self.activities)
        return (
            f"The replica of {self.connector.name} warns when its copy is older than "
            f"{durations.words(self.needed)}, not its own {durations.words(self.own)}: {names} "
            f"need{'s' if len(self.activities) == 1 else ''} data no older than that"
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


def _feeds(plan: Plan, connectors: Sequence[Connector]) -> list[Feed]:
    rpos = rpos_by_system(plan)
    found = []
    for connector in connectors:
        if connector.system_id is None or connector.system_id not in rpos:
            continue
        stricter = [(n, m) for n, m in rpos[connector.system_id] if m < connector.rpo_minutes]
        if stricter:
            needed = min(m for _, m in stricter)
            names = tuple(n for n, m in stricter if m == needed)
            found.append(Feed(connector, connector.rpo_minutes, needed, names))
    return found


def feeds(plan: Plan) -> list[Feed]:
    """The enabled connectors whose target the plan makes stricter, by name."""
    connectors = Connector.objects.filter(org_id=plan.org_id, enabled=True).order_by("name")
    return _feeds(plan, list(connectors))


@freshness.register_target_source
def plan_targets(org_id: int, connectors: Sequence[Connector]) -> dict[int, freshness.Stricter]:
    """The replica's freshness target source: what the plan needs of each connector's copy."""
    if not any(c.system_id for c in connectors):
        return {}  # no connector copies a system: no activity can need anything of it
    plan = Plan.objects.filter(org_id=org_id).select_related("org").first()
    if plan is None:
        return {}
    url = reverse("plans:activities", kwargs={"org_slug": plan.org.slug})
    return {
        f.connector.pk: freshness.Stricter(
            f.needed, "the plan: " + ", ".join(f"“{a}”" for a in f.activities), url
        )
        for f in _feeds(plan, connectors)
    }
