"""Looking back: the post-incident review of a real outage, and the management review.

A post-incident review starts filled in with what Fallback recorded of the outage — its
times from the incident's timeline, each system's downtime as the monitor measured it, the
documents the desk made while it was down, who was told (notices sent, calls made, when the
comms app is installed) — so the people reviewing spend their time on what went well and
badly and on the lessons, each of which becomes a corrective action on the plan. Completing
a review makes the whole plan due for a review (fallback.plans.staleness), as a drill does.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from fallback.accounts.models import User
from fallback.audit.trail import record as audit
from fallback.desk.models import Document, FallbackPeriod, WorkNote
from fallback.incidents.models import EntryKind, Incident, Status
from fallback.monitor import availability
from fallback.monitor.models import SlaClaim, State, StateChange
from fallback.plans.editing import PlanInvalid
from fallback.plans.models import Plan, PostIncidentReview

TEXT_MAX = 20_000
TIMELINE_SHOWN = 60
COMMS = "fallback.comms"
_KEY_ENTRIES = (
    EntryKind.OPENED,
    EntryKind.DECLARED,
    EntryKind.CONFIRMED,
    EntryKind.RECOVERING,
    EntryKind.REOPENED,
    EntryKind.RESOLVED,
    EntryKind.NOTE,
)


class ReviewError(Exception):
    """A review that cannot be started or changed; says why."""


def _person(by: Any) -> User | None:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60))


def _comms() -> tuple[Any, Any] | None:
    """(models, audiences) of the comms app when it is installed."""
    if not apps.is_installed(COMMS):
        return None
    try:
        return (
            importlib.import_module(f"{COMMS}.models"),
            importlib.import_module(f"{COMMS}.audiences"),
        )
    except ImportError:
        return None


def _told(incident: Incident) -> dict[str, Any]:
    found = _comms()
    if found is None:
        return {"available": False, "notices": [], "customers": 0, "messages": 0, "calls": 0}
    models, audiences = found
    labels = {k.key: (k.label, k.wording) for k in audiences.registered()}
    notices = []
    customers: set[str] = set()
    messages = 0
    for notice in models.Notice.objects.filter(org_id=incident.org_id, incident=incident).order_by(
        "created_at", "pk"
    ):
        sent = notice.items.filter(state=models.ItemState.SENT)
        delivered = sent.count()
        failed = notice.items.filter(
            state__in=[models.ItemState.FAILED, models.ItemState.BOUNCED]
        ).count()
        label, wording = labels.get(notice.audience, (notice.audience, ""))
        if wording != "staff":
            customers.update(
                k or a for k, a in sent.values_list("recipient_key", "address").distinct()
            )
        messages += delivered
        notices.append(
            {
                "audience": label,
                "phase": notice.get_phase_display(),
                "status": notice.get_status_display(),
                "sent_at": _iso(notice.sent_at),
                "delivered": delivered,
                "failed": failed,
            }
        )
    calls = models.CallRecord.objects.filter(org_id=incident.org_id, notice__incident=incident)
    spoke = calls.filter(outcome=models.CallOutcome.SPOKE)
    customers.update(f"customer:{k}" for k in spoke.values_list("customer_key", flat=True))
    return {
        "available": True,
        "notices": notices,
        "customers": len(customers),
        "messages": messages,
        "calls": calls.count(),
    }


def _made_good(incident: Incident) -> dict[str, Any]:
    """After the outage: the compensation customers were given, the SLA credit claimed."""
    claims = [
        {
            "reference": c.reference,
            "system": c.system.name,
            "status": c.get_status_display(),
            "credited_amount": None if c.credited_amount is None else str(c.credited_amount),
        }
        for c in SlaClaim.objects.filter(org_id=incident.org_id, incident=incident)
        .select_related("system")
        .order_by("pk")
    ]
    found = _comms()
    given = redeemed = 0
    offer = ""
    if found is not None:
        models, _ = found
        compensations = models.Compensation.objects.filter(
            org_id=incident.org_id, incident=incident, is_exercise=False
        )
        counts = compensations.aggregate(
            given=Count("pk"), redeemed=Count("pk", filter=Q(redeemed_at__isnull=False))
        )
        given, redeemed = counts["given"], counts["redeemed"]
        first = models.Offer.objects.filter(org_id=incident.org_id, incident=incident).first()
        offer = first.description if first is not None else ""
    return {
        "sla_claims": claims,
        "compensation": {"offer": offer, "given": given, "redeemed": redeemed},
    }


def facts(incident: Incident, now: datetime | None = None) -> dict[str, Any]:
    """What Fallback recorded of the outage, JSON-ready."""
    now = now or timezone.now()
    began = incident.declared_at or incident.opened_at
    back = incident.recovered_at or incident.resolved_at
    end = incident.resolved_at or now
    systems: list[dict[str, Any]] = []
    for system in incident.systems.order_by("name"):
        # From the start of the down spell it was in when the incident opened, if it was.
        before = (
            StateChange.objects.filter(system=system, at__lt=incident.opened_at)
            .order_by("-at", "-id")
            .first()
        )
        start = before.at if before is not None and before.to_state == State.DOWN else None
        measure = availability.measure_system(system, start or incident.opened_at, end, now)
        systems.append(
            {
                "name": system.name,
                "downtime_minutes": round(availability.minutes(measure.downtime)),
                "outages": len(measure.outages),
                "first_down": _iso(measure.outages[0].start) if measure.outages else None,
            }
        )
    period = FallbackPeriod.objects.filter(org_id=incident.org_id, incident=incident).first()
    documents: dict[str, int] = {}
    total = notes = 0
    if period is not None:
        made = Document.objects.filter(org_id=incident.org_id, period=period)
        for row in made.values("kind").annotate(n=Count("pk")).order_by("kind"):
            label = dict(Document._meta.get_field("kind").choices or []).get(row["kind"], "")
            documents[str(label or row["kind"])] = row["n"]
            total += row["n"]
        notes = WorkNote.objects.filter(org_id=incident.org_id, period=period).count()
    entries = [
        {"at": e.at.isoformat(), "kind": e.get_kind_display(), "text": e.text}
        for e in incident.timeline.filter(kind__in=_KEY_ENTRIES).order_by("at", "pk")[
            :TIMELINE_SHOWN
        ]
    ]
    return {
        "title": incident.title,
        "opened_at": _iso(incident.opened_at),
        "declared_at": _iso(incident.declared_at),
        "recovered_at": _iso(incident.recovered_at),
        "resolved_at": _iso(incident.resolved_at),
        "declared_minutes": _minutes(began, back),
        "until_resolved_minutes": _minutes(incident.opened_at, incident.resolved_at),
        "monitor_downtime_minutes": max(
            (int(s["downtime_minutes"]) for s in systems), default=None
        ),
        "systems": systems,
        "documents": documents,
        "documents_total": total,
        "work_notes": notes,
        "told": _told(incident),
        **_made_good(incident),
        "timeline": entries,
        "made_at": now.isoformat(),
    }


def reviewable(plan: Plan) -> list[Incident]:
    """Real outages, declared and resolved, with no completed review yet: newest first."""
    return list(
        Incident.objects.filter(
            org_id=plan.org_id,
            is_exercise=False,
            status=Status.RESOLVED,
            declared_at__isnull=False,
        )
        .exclude(review__completed_at__isnull=False)
        .order_by("-resolved_at")
    )


def start(
    plan: Plan, incident: Incident, by: Any = None, now: datetime | None = None
) -> PostIncidentReview:
    """The review of `incident`, started filled in with its facts (the existing one if it
    was started before)."""
    if incident.org_id != plan.org_id:
        raise ReviewError("That incident is not one of this organisation's.")
    existing = PostIncidentReview.objects.filter(plan=plan, incident=incident).first()
    if existing is not None:
        return existing
    if incident.is_exercise:
        raise ReviewError("A drill is reviewed on its own page, with its report.")
    if incident.status != Status.RESOLVED:
        raise ReviewError("Resolve the incident first: the review looks back once it is over.")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            review = PostIncidentReview.objects.create(
                org_id=plan.org_id,
                plan=plan,
                incident=incident,
                started_at=now,
                started_by=_person(by),
                facts=facts(incident, now),
            )
            audit(plan.org, "plans.review.started", review, {"incident": [None, incident.title]})
    except IntegrityError:  # started by someone else a moment ago
        return PostIncidentReview.objects.get(plan=plan, incident=incident)
    return review


def refresh_facts(review: PostIncidentReview, now: datetime | None = None) -> None:
    if review.completed_at is not None:
        raise ReviewError("The review is completed: its facts are kept as they were.")
    review.facts = facts(review.incident, now)
    review.save(update_fields=["facts"])


@transaction.atomic
def save(
    review: PostIncidentReview, *, went_well: str, went_badly: str, lessons: str
) -> dict[str, list[Any]]:
    wanted = {"went_well": went_well.strip(), "went_badly": went_badly.strip()}
    wanted["lessons"] = lessons.strip()
    errors = [
        (f, f"at most {TEXT_MAX} characters (got {len(v)})")
        for f, v in wanted.items()
        if len(v) > TEXT_MAX
    ]
    if errors:
        raise PlanInvalid(errors)
    changes = {f: [getattr(review, f), v] for f, v in wanted.items() if getattr(review, f) != v}
    if changes:
        for f, v in wanted.items():
            setattr(review, f, v)
        review.save(update_fields=list(wanted))
        audit(
            review.plan.org,
            "plans.review.changed",
            review,
            {f: [a[:200], b[:200]] for f, (a, b) in changes.items()},
        )
    return changes


def complete(review: PostIncidentReview, by: Any = None, now: datetime | None = None) -> bool:
    """The review is done (False if it already was); the whole plan becomes due for a
    review so its lessons reach it."""
    if not (review.went_well or review.went_badly or review.lessons):
        raise PlanInvalid(
            [("lessons", "write what went well or badly, or the lessons, before completing")]
        )
    now = now or timezone.now()
    with transaction.atomic():
        done = PostIncidentReview.objects.filter(pk=review.pk, completed_at__isnull=True).update(
            completed_at=now, completed_by=_person(by)
        )
        review.refresh_from_db()
        if done:
            audit(
                review.plan.org,
                "plans.review.completed",
                review,
                {"completed_at": [None, now.isoformat()]},
            )
    return bool(done)
