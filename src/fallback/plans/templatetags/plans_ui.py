"""Template helpers of the plan's pages and dashboard cards."""

from __future__ import annotations

from typing import Any

from django import template

from fallback.accounts.models import Membership, Organisation
from fallback.plans import durations, readiness, sections, staleness
from fallback.plans.models import Plan

register = template.Library()


@register.filter
def minutes_words(value: Any) -> str:
    """Minutes as words: 90 -> "1 hour 30 minutes"."""
    return durations.words(value) if isinstance(value, int) else ""


@register.inclusion_tag("plans/cards/_readiness_body.html")
def readiness_card(org: Organisation, membership: Membership) -> dict[str, Any]:
    """The dashboard's readiness card: the score, the checks, and the next thing to do."""
    result = readiness.readiness(org)
    return {
        "org": org,
        "membership": membership,
        "readiness": result,
        "next_check": result.next_check,
        "is_admin": membership.user.is_superuser,
    }


@register.inclusion_tag("plans/cards/_plan_body.html")
def plan_card(org: Organisation, membership: Membership) -> dict[str, Any]:
    """The dashboard's plan card: progress, and the parts due for a check with their owner."""
    plan = Plan.objects.filter(org=org).select_related("org", "owner").first()
    if plan is None:
        return {"org": org, "plan": None}
    stale = staleness.stale_parts(plan)
    found = sections.sections(plan, stale)
    return {
        "org": org,
        "plan": plan,
        "stale": stale,
        "progress": sections.progress(found),
        "complete_count": sum(s.complete for s in found),
        "section_count": len(found),
        "user_id": membership.user_id,
    }
