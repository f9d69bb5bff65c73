"""Template helpers of the replica pages (and of the lines other pages show about it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from fallback.front.templatetags.fallback_ui import org_zone
from fallback.replica import display, freshness
from fallback.replica.freshness import Freshness

register = template.Library()

SYNC_STATES = {
    "applied": "up",
    "held": "degraded",
    "failed": "down",
    "running": "maintenance",
    "discarded": "paused",
}


@register.simple_tag(takes_context=True)
def fresh_words(context: template.Context, f: Freshness) -> str:
    """ "as of 10:42, 12 min old" in the organisation's time zone."""
    now = context.get("now") or timezone.now()
    return display.freshness_words(f, org_zone(context.get("org")), now)


@register.filter
def age(value: Any) -> str:
    return display.age_words(value) if isinstance(value, timedelta) else ""


@register.filter
def seconds(value: Any) -> str:
    """A sync's duration: "0.4 s", "12 s", "3 min 5 s"."""
    if value is None:
        return "—"
    total = float(value)
    if total < 10:
        return f"{total:.1f} s"
    if total < 60:
        return f"{total:.0f} s"
    minutes, rest = divmod(round(total), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


@register.filter
def sync_state(status: str) -> str:
    """The badge style of a sync's status (the same shapes as a system's states)."""
    return SYNC_STATES.get(status, "unknown")


@register.inclusion_tag("replica/_system_line.html", takes_context=True)
def replica_line(context: template.Context, system: Any) -> dict[str, Any]:
    """ "Replica as of 10:42 (12 min old)" for each connector copying `system`."""
    now = timezone.now()
    connectors = list(system.connectors.filter(enabled=True).order_by("name"))
    return {
        "org": context.get("org"),
        "now": now,
        "rows": freshness.of_each(system.org_id, connectors, now),
    }
