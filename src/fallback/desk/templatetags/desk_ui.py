"""Template helpers of the desk: the fallback-mode banner on every page of an organisation,
and money as the organisation's locale writes it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

from fallback.desk import mode, money
from fallback.desk.models import FallbackPeriod
from fallback.incidents.models import Incident

register = template.Library()


def _banner_state(context: template.Context) -> mode.ModeState | None:
    """Fallback mode for the banner, or None when it is off. Two indexed EXISTS queries
    when nothing is happening; the full state only while something is."""
    state = context.get("mode_state")
    if isinstance(state, mode.ModeState):
        return state if state.active else None
    org = context.get("org")
    if org is None or not getattr(org, "pk", None):
        return None
    live = (
        FallbackPeriod.objects.filter(org=org, ended_at__isnull=True).exists()
        or Incident.objects.filter(org=org, status__in=mode.LIVE).exists()
    )
    if not live:
        return None
    state = mode.state(org)
    return state if state.active else None


@register.inclusion_tag("desk/_banner_compact.html", takes_context=True)
def desk_banner(context: template.Context) -> dict[str, Any]:
    """The one-line fallback-mode banner every page of the organisation shows while the
    desk works without the main system (the desk home shows the full one instead)."""
    if context.get("desk_full_banner"):
        return {"state": None}
    return {"state": _banner_state(context), "org": context.get("org")}


@register.simple_tag(takes_context=True)
def money_text(context: template.Context, amount: Any, currency: str = "") -> str:
    """An amount as the organisation writes it: "£1,234.50"; "" for nothing, the text
    itself for something that is not a number."""
    org = context.get("org")
    if amount is None or amount == "":
        return ""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    code = currency or getattr(org, "currency", "") or "GBP"
    return money.format_money(value, code, getattr(org, "locale", "") or "en-GB")


@register.simple_tag(takes_context=True)
def number_text(context: template.Context, value: Any) -> str:
    """A quantity or rate without trailing zeros, as the organisation writes it."""
    org = context.get("org")
    if value is None or value == "":
        return ""
    try:
        return money.format_number(Decimal(str(value)), getattr(org, "locale", "") or "en-GB")
    except InvalidOperation:
        return str(value)


DETAIL_LABELS = {
    "contact_name": "Contact",
    "email": "Email",
    "phone": "Phone",
    "address": "Address",
    "city": "City",
    "region": "Region",
    "postcode": "Postcode",
    "country": "Country",
    "tax_number": "Tax number",
    "account_number": "Account number",
}


@register.filter
def detail_label(name: str) -> str:
    """A party detail's field name as a label: "tax_number" -> "Tax number"."""
    return DETAIL_LABELS.get(name, str(name).replace("_", " ").capitalize())


@register.filter
def at_time(moment: Any) -> str:
    """A moment in the page's time zone: "10:42" today, "Mon 3 Mar, 10:42" another day."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


@register.simple_tag
def freshness_text(fresh: mode.Freshness) -> str:
    """ "as of 10:42, 37 minutes before the outage" for one connector of the replica."""
    if fresh.as_of is None:
        return "never copied yet"
    text = f"as of {at_time(fresh.as_of)}"
    before = fresh.before_outage
    if before is not None and before.total_seconds() >= 60:
        minutes = round(before.total_seconds() / 60)
        if minutes < 120:
            text += f", {minutes} min before the outage"
        elif minutes < 48 * 60:
            text += f", {round(minutes / 60)} hours before the outage"
        else:
            text += f", {round(minutes / 1440)} days before the outage"
    elif before is not None and before.total_seconds() > 0:
        text += ", just before the outage"
    return text
