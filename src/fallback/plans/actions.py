"""Corrective actions: what a drill or a review found, and what is done about it — each with
an owner and a due date, open until someone marks it done. The management review looks at
the open ones, by owner, overdue first.

Problems are raised as editing.PlanInvalid (field, message) pairs; nothing is saved when
anything is wrong. A retried request with the same request_key returns the action it made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from fallback.accounts.models import User
from fallback.audit.trail import record as audit
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.plans.editing import PlanInvalid, is_member
from fallback.plans.models import (
    ActionStatus,
    CorrectiveAction,
    Drill,
    ManagementReview,
    Plan,
    PlanPart,
    PostIncidentReview,
)

FINDING_MAX = 2000
NOTE_MAX = 5000
ATTENDEES_MAX = 2000
DECISIONS_MAX = 10_000


def today(plan: Plan, now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now(), org_zone(plan.org))


def _email(user: User | None) -> str | None:
    return str(user.email) if user is not None else None


def add(
    plan: Plan,
    *,
    finding: str,
    action: str = "",
    plan_part: str = PlanPart.OTHER,
    owner: User | None = None,
    due_on: date | None = None,
    drill: Drill | None = None,
    review: PostIncidentReview | None = None,
    by: User | None = None,
    request_key: str = "",
    now: datetime | None = None,
) -> CorrectiveAction:
    """A finding and its corrective action, from a drill, a review or the management review."""
    if request_key:
        found = CorrectiveAction.objects.filter(org_id=plan.org_id, request_key=request_key).first()
        if found is not None:
            return found
    finding, action = finding.strip(), action.strip()
    errors: list[tuple[str, str]] = []
    if not finding:
        errors.append(("finding", "say what was found"))
    elif len(finding) > FINDING_MAX:
        errors.append(("finding", f"at most {FINDING_MAX} characters (got {len(finding)})"))
    if len(action) > FINDING_MAX:
        errors.append(("action", f"at most {FINDING_MAX} characters (got {len(action)})"))
    if plan_part not in PlanPart.values:
        errors.append(("plan_part", f"choose one of: {', '.join(PlanPart.values)}"))
    if not is_member(plan.org, owner):
        errors.append(("owner", f"{owner} is not a member of {plan.org.name}"))
    if drill is not None and drill.plan_id != plan.pk:
        errors.append(("drill", "choose a drill of this plan"))
    if review is not None and review.plan_id != plan.pk:
        errors.append(("review", "choose a review of this plan"))
    if errors:
        raise PlanInvalid(errors)
    person = by if by is not None and getattr(by, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            item = CorrectiveAction.objects.create(
                org_id=plan.org_id,
                plan=plan,
                finding=finding,
                action=action,
                plan_part=plan_part,
                owner=owner,
                due_on=due_on,
                drill=drill,
                review=review,
                created_at=now or timezone.now(),
                created_by=person,
                request_key=request_key[:80],
            )
            audit(
                plan.org,
                "plans.action.created",
                item,
                {
                    "finding": [None, finding[:200]],
                    "owner": [None, _email(owner)],
                    "due_on": [None, due_on.isoformat() if due_on else None],
                },
            )
    except IntegrityError:
        found = CorrectiveAction.objects.filter(org_id=plan.org_id, request_key=request_key).first()
        if not request_key or found is None:
            raise
        return found
    return item


@transaction.atomic
def mark_done(
    item: CorrectiveAction, by: User | None, note: str = "", now: datetime | None = None
) -> bool:
    """The action is done; False when it already was (a second click changes nothing)."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise PlanInvalid([("note", f"at most {NOTE_MAX} characters (got {len(note)})")])
    now = now or timezone.now()
    person = by if by is not None and getattr(by, "is_authenticated", False) else None
    changed = CorrectiveAction.objects.filter(pk=item.pk, status=ActionStatus.OPEN).update(
        status=ActionStatus.DONE, done_at=now, done_by=person, done_note=note
    )
    if not changed:
        return False
    item.refresh_from_db()
    audit(item.plan.org, "plans.action.done", item, {"status": ["open", "done"]})
    return True


@transaction.atomic
def reopen(item: CorrectiveAction) -> bool:
    changed = CorrectiveAction.objects.filter(pk=item.pk, status=ActionStatus.DONE).update(
        status=ActionStatus.OPEN, done_at=None, done_by=None
    )
    if not changed:
        return False
    item.refresh_from_db()
    audit(item.plan.org, "plans.action.reopened", item, {"status": ["done", "open"]})
    return True


def is_overdue(item: CorrectiveAction, on: date) -> bool:
    return item.status == ActionStatus.OPEN and item.due_on is not None and item.due_on < on


@dataclass
class OwnerGroup:
    owner: User | None
    actions: list[CorrectiveAction] = field(default_factory=list)
    overdue: int = 0


def open_by_owner(plan: Plan, on: date) -> list[OwnerGroup]:
    """The open actions grouped by owner (nobody's last), each group by due date, the
    groups with overdue actions first."""
    groups: dict[int | None, OwnerGroup] = {}
    items = (
        CorrectiveAction.objects.filter(plan=plan, status=ActionStatus.OPEN)
        .select_related("owner", "drill", "review__incident")
        .order_by("due_on", "pk")
    )
    for item in items:
        group = groups.setdefault(item.owner_id, OwnerGroup(item.owner))
        group.actions.append(item)
        group.overdue += is_overdue(item, on)
    # Undated actions after the dated ones, within each owner.
    for group in groups.values():
        group.actions.sort(key=lambda a: (a.due_on is None, a.due_on or on, a.pk))
    return sorted(
        groups.values(),
        key=lambda g: (g.owner is None, -g.overdue, str(g.owner.email if g.owner else "")),
    )


def counts(plan: Plan, on: date) -> tuple[int, int]:
    """(open, overdue) actions."""
    items = CorrectiveAction.objects.filter(plan=plan, status=ActionStatus.OPEN)
    return items.count(), items.filter(due_on__lt=on).count()


def record_management_review(
    plan: Plan,
    *,
    held_on: date | None,
    attendees: str,
    decisions: str,
    by: User | None,
    now: datetime | None = None,
) -> ManagementReview:
    """The people in charge reviewed the open actions (and the plan) and decided."""
    attendees, decisions = attendees.strip(), decisions.strip()
    errors: list[tuple[str, str]] = []
    on = today(plan, now)
    if held_on is None:
        errors.append(("held_on", "give the date it was held"))
    elif held_on > on:
        errors.append(("held_on", f"cannot be in the future (today is {on.isoformat()})"))
    if not attendees:
        errors.append(("attendees", "say who took part"))
    elif len(attendees) > ATTENDEES_MAX:
        errors.append(("attendees", f"at most {ATTENDEES_MAX} characters"))
    if not decisions:
        errors.append(("decisions", "say what was decided (even “carry on as planned”)"))
    elif len(decisions) > DECISIONS_MAX:
        errors.append(("decisions", f"at most {DECISIONS_MAX} characters"))
    if errors:
        raise PlanInvalid(errors)
    assert held_on is not None
    open_count, overdue = counts(plan, on)
    person = by if by is not None and getattr(by, "is_authenticated", False) else None
    with transaction.atomic():
        review = ManagementReview.objects.create(
            org_id=plan.org_id,
            plan=plan,
            held_on=held_on,
            attendees=attendees,
            decisions=decisions,
            open_actions=open_count,
            overdue_actions=overdue,
            recorded_at=now or timezone.now(),
            recorded_by=person,
        )
        audit(
            plan.org,
            "plans.management_review.recorded",
            review,
            {"held_on": [None, held_on.isoformat()], "open_actions": [None, open_count]},
        )
    return review
