"""Plan history: after every change the whole plan is kept as JSON (a PlanVersion), with who
made the change and what changed in words, so that any past plan can be read and printed
exactly as it was — from its JSON alone, whatever has changed since.

The JSON is the `plan` config section's shape (fallback.plans.spec) plus `meta`: the review
dates and the names of the people it mentions, as they were then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from pydantic import TypeAdapter

from fallback.accounts.models import Membership
from fallback.audit.context import current_actor
from fallback.monitor.models import System
from fallback.plans import durations
from fallback.plans.models import Plan, PlanVersion
from fallback.plans.spec import PlanSpec, export_plan

FORMAT = 1
_ADAPTER: TypeAdapter[PlanSpec] = TypeAdapter(PlanSpec)
MAX_SHOWN = 60  # characters of a changed value shown in the history

# Collection -> (what one item is called, the fields that identify it).
COLLECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "activities": ("Activity", ("name",)),
    "risks": ("Risk", ("title",)),
    "scenarios": ("Scenario", ("title",)),
    "roles": ("Role", ("name",)),
    "contacts": ("Contact", ("kind", "name")),
}
PLURALS = {"activities": "Activities", "risks": "Risks", "scenarios": "Scenarios"}
PLURALS |= {"roles": "Roles", "contacts": "Contacts"}
PLAN_FIELDS = {
    "owner": "Plan owner",
    "contacts_owner": "Contacts owner",
    "price_list_owner": "Price list owner",
    "scope": "Scope",
    "policy": "Policy",
}
META_EVENTS = {
    "reviewed_at": "Whole plan reviewed",
    "price_list_reviewed_at": "Price list checked",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def take(plan: Plan) -> dict[str, Any]:
    """The whole plan as JSON-ready data."""
    spec = export_plan(plan)
    data = _ADAPTER.dump_python(spec, mode="json", exclude_none=True)
    people = {
        m.user.email: m.user.get_full_name() or m.user.email
        for m in Membership.objects.filter(org_id=plan.org_id).select_related("user")
    }
    org = plan.org
    return {
        "format": FORMAT,
        "plan": data,
        "meta": {
            "organisation": org.name,
            "currency": org.currency,
            "time_zone": org.time_zone,
            "started_at": _iso(plan.started_at),
            "reviewed_at": _iso(plan.reviewed_at),
            "price_list_reviewed_at": _iso(plan.price_list_reviewed_at),
            "people": people,
            "systems": dict(System.objects.filter(org_id=plan.org_id).values_list("slug", "name")),
        },
    }


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return "changed"
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _key(item: dict[str, Any], fields: tuple[str, ...]) -> str:
    return " / ".join(str(item.get(f, "")) for f in fields)


def _label(item: dict[str, Any], fields: tuple[str, ...]) -> str:
    return str(item.get(fields[-1], ""))


def describe(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What changed from `old` to `new` (snapshots), in words, one line per change."""
    if old is None:
        return ["Plan started"]
    before, after = old.get("plan", {}), new.get("plan", {})
    lines: list[str] = []
    for field, label in PLAN_FIELDS.items():
        if before.get(field) != after.get(field):
            lines.append(f"{label}: {_shown(before.get(field))} → {_shown(after.get(field))}")
    for collection, (noun, fields) in COLLECTIONS.items():
        old_items = {_key(i, fields): i for i in before.get(collection) or []}
        new_items = {_key(i, fields): i for i in after.get(collection) or []}
        for key, item in new_items.items():
            if key not in old_items:
                lines.append(f"{noun} added: {_label(item, fields)}")
                continue
            was = old_items[key]
            changed = [
                f"{name} {_shown(was.get(name))} → {_shown(item.get(name))}"
                if not isinstance(item.get(name, was.get(name)), list | dict)
                else f"{name} changed"
                for name in dict.fromkeys([*was, *item])
                if was.get(name) != item.get(name)
            ]
            if changed:
                lines.append(f"{noun} {_label(item, fields)!r}: {'; '.join(changed)}")
        for key, item in old_items.items():
            if key not in new_items:
                lines.append(f"{noun} removed: {_label(item, fields)}")
        if [k for k in old_items if k in new_items] != [k for k in new_items if k in old_items]:
            lines.append(f"{PLURALS[collection]}: order changed")
    old_meta, new_meta = old.get("meta", {}), new.get("meta", {})
    for field, label in META_EVENTS.items():
        if new_meta.get(field) and new_meta.get(field) != old_meta.get(field):
            lines.append(label)
    return lines


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    meta = data.get("meta", {})
    return {
        "plan": data.get("plan"),
        "reviews": [meta.get(f) for f in META_EVENTS],
    }


def record_version(plan: Plan, summary: str, now: datetime | None = None) -> PlanVersion | None:
    """Keep the plan as it is now, if it differs from the last version; returns the new
    version (None when nothing changed). Call it in the transaction of the change."""
    with transaction.atomic():
        # One version number at a time: two saves at once wait for each other here.
        Plan.objects.select_for_update().filter(pk=plan.pk).first()
        last = PlanVersion.objects.filter(plan=plan).order_by("-number").first()
        data = take(plan)
        if last is not None and _comparable(last.data) == _comparable(data):
            return None
        actor = current_actor()
        user = actor.user if getattr(actor.user, "is_authenticated", False) else None
        return PlanVersion.objects.create(
            org_id=plan.org_id,
            plan=plan,
            number=(last.number + 1) if last else 1,
            created_at=now or timezone.now(),
            created_by=user,
            created_by_label=actor.label,
            via=actor.via,
            summary=summary[:300],
            changes=describe(last.data if last else None, data),
            data=data,
        )


def version_of(plan: Plan, number: int) -> PlanVersion | None:
    return PlanVersion.objects.filter(plan=plan, number=number).first()


def duration_words(text: str | None) -> str:
    """A snapshot's duration ("1d 12h") in words ("1 day 12 hours")."""
    if not text:
        return ""
    try:
        return durations.words(durations.parse(text))
    except durations.BadDuration:
        return text
