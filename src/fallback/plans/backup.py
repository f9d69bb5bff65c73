"""The plan's "system back up" checklist for a fallback period: the steps of the confirmed
"system lost" scenarios about the systems that went down (the desk's way-back page shows
them; without such a scenario the desk falls back to its own checklist)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fallback.plans.models import Plan, Scenario, ScenarioKind

if TYPE_CHECKING:
    from fallback.desk.models import FallbackPeriod


def back_up_checklist(period: FallbackPeriod) -> list[str]:
    """The steps, in scenario order, each once; [] when the plan has none for this period."""
    incident = period.incident
    if incident is None:
        return []
    plan = Plan.objects.filter(org_id=period.org_id).first()
    if plan is None:
        return []
    down = list(incident.systems.values_list("pk", flat=True))
    if not down:
        return []
    scenarios = (
        Scenario.objects.filter(
            org_id=period.org_id,
            plan=plan,
            kind=ScenarioKind.SYSTEM_LOST,
            suggested=False,
            systems__in=down,
        )
        .distinct()
        .order_by("position", "pk")
        .prefetch_related("back_up_steps")
    )
    steps: dict[str, None] = {}
    for scenario in scenarios:
        for step in scenario.back_up_steps.all():
            steps.setdefault(step.text, None)
    return list(steps)
