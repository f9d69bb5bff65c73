"""Staleness: a plan is only worth something while it is right, so each part has a cadence.

- Supplier contacts: checked monthly (30 days) — suppliers change staff and numbers often.
- Key customer, vendor support and staff contacts: quarterly (91 days).
- The price list every employee keeps: after every change of the replica's products or
  price lists (a record version newer than the last check).
- The whole plan: yearly, and after every incident or drill resolved, drill finished or
  post-incident review completed since the last review.
- The printed grab binder, once one was printed: after every change of what is in it.

The dashboard lists the stale parts with their owner and a link. A periodic job reminds
each part's owner through the organisation's staff alert channels and, when the
installation has outgoing mail, by email to the owner's own address (reminder_mail), at
most once per part and period (a Reminder row per part and period makes it idempotent,
whichever worker runs the job): once per cadence window for contacts, once per day of
changes for the price list, once per incident and once a year for the whole plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.models import User
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.incidents.models import Incident, Status
from fallback.plans import reminder_mail
from fallback.plans.models import Contact, ContactKind, MailStatus, Plan, Reminder
from fallback.replica.models import Record
from fallback.runtime import schedulers

# Contact kind -> days between checks, and how the cadence is said.
CONTACT_CADENCE: dict[str, tuple[int, str]] = {
    ContactKind.SUPPLIER: (30, "monthly"),
    ContactKind.KEY_CUSTOMER: (91, "quarterly"),
    ContactKind.VENDOR_SUPPORT: (91, "quarterly"),
    ContactKind.STAFF: (91, "quarterly"),
}
PLAN_CADENCE_DAYS = 365
PRICE_ENTITIES = ("product", "price_list")
REMIND_EVERY = 3600.0  # seconds between looks for stale parts
SHOWN_ITEMS = 5


@dataclass
class Part:
    key: str
    title: str
    cadence: str
    owner: User | None
    stale: bool
    why: str
    url: str
    period: str = ""  # which stale spell: a reminder goes once per part and period
    items: list[str] = field(default_factory=list)
    section: str = ""


def day_text(moment: date) -> str:
    """3 May 2026 (strftime's %-d is not portable)."""
    return f"{moment.day} {moment:%b %Y}"


def _today(plan: Plan, now: datetime) -> date:
    return timezone.localdate(now, org_zone(plan.org))


def _contact_parts(plan: Plan, now: datetime) -> list[Part]:
    today = _today(plan, now)
    url = reverse("plans:contacts", kwargs={"org_slug": plan.org.slug})
    owner = plan.contacts_owner or plan.owner
    by_kind: dict[str, list[Contact]] = {}
    for contact in plan.contacts.all():
        by_kind.setdefault(contact.kind, []).append(contact)
    parts = []
    for kind, (days, cadence) in CONTACT_CADENCE.items():
        contacts = by_kind.get(kind)
        if not contacts:
            continue
        label = ContactKind(kind).label.lower()
        due = [
            c
            for c in contacts
            if c.last_verified_on is None or (today - c.last_verified_on).days > days
        ]
        never = sum(c.last_verified_on is None for c in due)
        if not due:
            why = f"all checked within {days} days"
        elif never == len(due):
            why = f"{len(due)} never checked"
        else:
            why = f"{len(due)} not checked for over {days} days"
        parts.append(
            Part(
                key=f"contacts.{kind}",
                title=f"{label.capitalize()} contacts",
                cadence=f"{cadence} (every {days} days)",
                owner=owner,
                stale=bool(due),
                why=why,
                url=f"{url}#{kind}",
                period=str(today.toordinal() // days),
                items=[c.name for c in due],
                section="contacts",
            )
        )
    return parts


def price_changes_since(plan: Plan, since: datetime | None) -> datetime | None:
    """When the replica's products or price lists last changed after `since` (any change
    when `since` is None), or None when they did not."""
    records = Record.objects.filter(org_id=plan.org_id, entity__in=PRICE_ENTITIES)
    if since is not None:
        records = records.filter(Q(valid_from__gt=since) | Q(valid_to__gt=since))
    newest = records.aggregate(started=Max("valid_from"), ended=Max("valid_to"))
    moments = [m for m in (newest["started"], newest["ended"]) if m is not None]
    return max(moments) if moments else None


def _price_list_part(plan: Plan, now: datetime) -> Part | None:
    since = plan.price_list_reviewed_at
    changed = price_changes_since(plan, since)
    if changed is None and since is None:
        return None  # no products in the replica: no price list to keep
    stale = changed is not None
    if not stale:
        why = "checked since the last change of prices"
    elif since is None:
        why = "never checked since the replica has products"
    else:
        local = timezone.localtime(changed, org_zone(plan.org))
        why = f"prices changed on {day_text(local)} since the last check"
    return Part(
        key="price_list",
        title="Printed price list",
        cadence="after every change of prices",
        owner=plan.price_list_owner or plan.owner,
        stale=stale,
        why=why,
        url=reverse("plans:home", kwargs={"org_slug": plan.org.slug}) + "#price-list",
        period=_today(plan, changed).isoformat() if changed else "",
        section="plan",
    )


def incidents_since(plan: Plan) -> list[Incident]:
    """Incidents and drills resolved since the whole plan was last reviewed (or started)."""
    since = plan.reviewed_at or plan.started_at
    return list(
        Incident.objects.filter(
            org_id=plan.org_id, status=Status.RESOLVED, resolved_at__gt=since
        ).order_by("resolved_at")
    )


@dataclass(frozen=True)
class Event:
    """Something that should reach the plan: an outage or a drill over, a review done."""

    at: datetime
    what: str  # "outage", "drill", "review of the outage"
    title: str
    key: str  # the reminder's period


def events_since(plan: Plan) -> list[Event]:
    """What happened since the whole plan was last reviewed (or started), oldest first:
    incidents and drills resolved, drills finished (their exercise incident may still be
    open), post-incident reviews completed."""
    from fallback.plans.models import Drill, PostIncidentReview

    since = plan.reviewed_at or plan.started_at
    found = [
        Event(
            i.resolved_at or since,
            "drill" if i.is_exercise else "outage",
            i.title,
            f"incident:{i.pk}",
        )
        for i in incidents_since(plan)
    ]
    counted = {e.key for e in found}
    drills = Drill.objects.filter(plan=plan, finished_at__gt=since).order_by("finished_at")
    for d in drills:
        if d.incident_id is not None and f"incident:{d.incident_id}" in counted:
            continue  # the same drill, seen through its exercise incident
        found.append(Event(d.finished_at or since, "drill", d.scenario_title, f"drill:{d.pk}"))
    reviews = PostIncidentReview.objects.filter(plan=plan, completed_at__gt=since).select_related(
        "incident"
    )
    for r in reviews:
        found.append(
            Event(
                r.completed_at or since, "review of the outage", r.incident.title, f"review:{r.pk}"
            )
        )
    return sorted(found, key=lambda e: e.at)


def _plan_part(plan: Plan, now: datetime) -> Part:
    since = plan.reviewed_at or plan.started_at
    due_at = since + timedelta(days=PLAN_CADENCE_DAYS)
    after = events_since(plan)
    url = reverse("plans:home", kwargs={"org_slug": plan.org.slug}) + "#review"
    if after:
        last = after[-1]
        why = f"not reviewed since the {last.what} “{last.title}”"
        if len(after) > 1:
            why += f" and {len(after) - 1} more"
        period = last.key
    elif now >= due_at:
        why = (
            "not reviewed for over a year"
            if plan.reviewed_at
            else "not reviewed since it was started, over a year ago"
        )
        period = f"year:{_today(plan, due_at).isoformat()}"
    else:
        why = f"next review by {day_text(timezone.localtime(due_at, org_zone(plan.org)))}"
        period = ""
    return Part(
        key="plan",
        title="The whole plan",
        cadence="yearly, and after every incident, drill or review",
        owner=plan.owner,
        stale=bool(period),
        why=why,
        url=url,
        period=period,
        items=[e.title for e in after],
        section="plan",
    )


def _binder_part(plan: Plan) -> Part | None:
    """The printed grab binder, once one was taken: due when it is no longer what Fallback
    would print now."""
    from fallback.plans import binder

    found = binder.status(plan)
    if found.last_copy is None:
        return None  # nothing on paper to go out of date (the binder page asks to print it)
    stale = not found.up_to_date
    return Part(
        key="binder",
        title="The printed grab binder",
        cadence="after every change of what is in it",
        owner=plan.owner,
        stale=stale,
        why=found.why,
        url=reverse("plans:binder", kwargs={"org_slug": plan.org.slug}),
        period=found.current.fingerprint[:16] if stale else "",
        items=found.changed,
        section="plan",
    )


def parts(plan: Plan, now: datetime | None = None) -> list[Part]:
    """Every part of the plan that has a cadence, stale or not."""
    now = now or timezone.now()
    found = [_plan_part(plan, now)]
    price_list = _price_list_part(plan, now)
    if price_list is not None:
        found.append(price_list)
    printed = _binder_part(plan)
    if printed is not None:
        found.append(printed)
    return found + _contact_parts(plan, now)


def stale_parts(plan: Plan, now: datetime | None = None) -> list[Part]:
    return [p for p in parts(plan, now) if p.stale]


# ---------------------------------------------------------------- reminders


def _reminder_text(plan: Plan, part: Part) -> tuple[str, str]:
    org = plan.org
    who = part.owner.get_full_name() or part.owner.email if part.owner else "the plan's owner"
    title = f"[{org.name}] Plan: {part.title.lower()} due for a check ({who})"
    items = ""
    if part.items:
        shown = ", ".join(part.items[:SHOWN_ITEMS])
        more = len(part.items) - SHOWN_ITEMS
        items = f"\nWhich: {shown}{f' and {more} more' if more > 0 else ''}."
    body = (
        f"For {who}: {part.title} of the continuity plan is due for a check — {part.why}.{items}\n"
        f"It is checked {part.cadence}. A plan is only worth something while it is right: "
        "open it, check, and mark it checked.\n"
        f"Plan: {reminder_mail.link(part.url)}"
    )
    return title, body


def remind(now: datetime | None = None) -> int:
    """Remind the owners of stale parts (once per part and period): through the alert
    channels and, when the installation has outgoing mail, by email to the owner's own
    address; returns how many reminders were made."""
    from fallback.incidents.alerts import queue_notice
    from fallback.incidents.models import AlertEvent

    now = now or timezone.now()
    sent = 0
    mail = reminder_mail.configured()
    plans = Plan.objects.select_related("org", "owner", "contacts_owner", "price_list_owner")
    for plan in plans:
        for part in stale_parts(plan, now):
            with transaction.atomic():
                title, body = _reminder_text(plan, part)
                email_to = part.owner.email if mail and part.owner and part.owner.email else ""
                _, new = Reminder.objects.get_or_create(
                    plan=plan,
                    part=part.key,
                    period=part.period[:80],
                    defaults={
                        "org_id": plan.org_id,
                        "sent_at": now,
                        "owner": part.owner,
                        "title": title[:250],
                        "body": body,
                        "email_to": email_to,
                        "email_status": MailStatus.PENDING if email_to else MailStatus.NONE,
                        "email_next_at": now if email_to else None,
                    },
                )
                if not new:
                    continue
                queue_notice(
                    plan.org_id,
                    AlertEvent.PLAN_STALE,
                    f"p{plan.pk}:{part.key}:{part.period}",
                    title,
                    body,
                    now,
                )
                sent += 1
    reminder_mail.send_due(now)
    return sent


@schedulers.register("plans.reminders", every=REMIND_EVERY)
def remind_due() -> int:
    return remind()
