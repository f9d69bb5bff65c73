"""Small template helpers of the web interface."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta, tzinfo
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()

# URL name -> the main-nav section it belongs to, to mark the current one.
SECTIONS = {
    "dashboard": "dashboard",
    "audit": "audit",
    "audit_event": "audit",
    "org_settings": "settings",
    "members": "settings",
    "member": "settings",
}


@register.simple_tag(takes_context=True)
def nav_section(context: template.Context) -> str:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return SECTIONS.get(getattr(match, "url_name", "") or "", "")


@register.filter
def org_zone(org: Any) -> tzinfo:
    """The organisation's time zone, or the installation's if it has none or a bad one."""
    name = getattr(org, "time_zone", "")
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


@register.filter
def duration(value: Any) -> str:
    """A timedelta in words: "15 minutes", "1 hour 30 minutes"."""
    if not isinstance(value, timedelta):
        return ""
    minutes = max(1, round(value.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


@register.filter
def audit_value(value: Any) -> str:
    """A recorded value as text; nothing at all reads as an em dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


ACRONYMS = {a.lower(): a for a in ["API", "SLA", "RPO", "RTO", "MTPD", "ISO", "SMTP", "CSV", "PDF"]}


@register.filter
def action_label(action: str) -> str:
    """ "member.role_changed" -> "Member role changed"; the code stays on the detail page.

    The app's name is left out where the next word repeats it ("plans.plan.changed" ->
    "Plan changed", not "Plans plan changed")."""
    parts = str(action).split(".")
    if len(parts) >= 3 and parts[0].rstrip("s") == parts[1].split("_")[0].rstrip("s"):
        parts = parts[1:]
    words = " ".join(parts).replace("_", " ").split()
    words = [ACRONYMS.get(w.lower(), w) for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
