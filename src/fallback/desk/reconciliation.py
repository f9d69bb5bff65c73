"""The way back: one line per document and note made in a fallback period, ticked with the
number the main system gave it, or waived by a manager with a reason. An incident cannot be
resolved while its period has open lines (lifecycle.RESOLVE_GUARDS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from fallback.audit.trail import record as audit
from fallback.desk.documents import DocumentProblem
from fallback.desk.models import Document, FallbackPeriod, WorkNote
from fallback.incidents.models import Incident

FINAL_MAX = 60
DEFAULT_CHECKLIST = (
    "Confirm the main system is working: log in, open a recent record, save a test change.",
    "Enter every document and note on the reconciliation list below; tick each with the "
    "number the main system gives it.",
    "Check stock levels and open orders in the main system against today's picking lists "
    "and delivery dockets.",
    "Tell staff the main system is back and the desk's provisional numbers are retired.",
    "Send customers the 'resolved' notice.",
)


@dataclass
class Line:
    item: Document | WorkNote
    kind: str  # "document" or "note"

    @property
    def label(self) -> str:
        if isinstance(self.item, Document):
            return f"{self.item.get_kind_display()} {self.item.number}"
        return f"{self.item.get_kind_display()} note"

    @property
    def status(self) -> str:
        if self.item.voided_at is not None:
            return "void"
        if self.item.reconciled_at is not None:
            return "entered"
        if self.item.waived_at is not None:
            return "waived"
        return "open"


def lines(period: FallbackPeriod) -> list[Line]:
    documents = Document.objects.filter(org_id=period.org_id, period=period).order_by(
        "created_at", "pk"
    )
    notes = WorkNote.objects.filter(org_id=period.org_id, period=period).order_by("at", "pk")
    result = [Line(d, "document") for d in documents] + [Line(n, "note") for n in notes]
    result.sort(key=lambda line: line.item.created_at)
    return result


def open_count(period: FallbackPeriod) -> int:
    base = {"org_id": period.org_id, "period": period, "reconciled_at__isnull": True}
    base |= {"waived_at__isnull": True, "voided_at__isnull": True}
    return Document.objects.filter(**base).count() + WorkNote.objects.filter(**base).count()


def checklist(period: FallbackPeriod) -> list[str]:
    from fallback.desk.models import DeskSettings
    from fallback.plans.backup import back_up_checklist

    # The plan's checklist for the systems that went down comes first, when it has one.
    planned = back_up_checklist(period)
    if planned:
        return planned
    desk = DeskSettings.objects.filter(org_id=period.org_id).first()
    custom = [s.strip() for s in (desk.system_back_checklist if desk else "").splitlines()]
    return [s for s in custom if s] or list(DEFAULT_CHECKLIST)


def tick(
    item: Document | WorkNote, final_number: str, by: Any, now: datetime | None = None
) -> None:
    """Record that `item` is in the main system, under `final_number` (required for a
    document; a note may give a reference or nothing)."""
    final_number = final_number.strip()
    if isinstance(item, Document) and not final_number:
        raise DocumentProblem([("final_number", "give the number the main system gave it")])
    if len(final_number) > FINAL_MAX:
        raise DocumentProblem([("final_number", f"at most {FINAL_MAX} characters")])
    if item.voided_at is not None:
        raise DocumentProblem([("", "this is void: there is nothing to enter")])
    if isinstance(item, Document) and final_number:
        clash = (
            Document.objects.filter(org_id=item.org_id, kind=item.kind, final_number=final_number)
            .exclude(pk=item.pk)
            .first()
        )
        if clash is not None:
            raise DocumentProblem(
                [("final_number", f"{final_number} is already given to {clash.number}")]
            )
    with transaction.atomic():
        type(item).objects.filter(pk=item.pk).update(
            final_number=final_number,
            reconciled_at=now or timezone.now(),
            reconciled_by=by if getattr(by, "pk", None) else None,
        )
        item.refresh_from_db()
        audit(item.org, "desk.reconciled", item, {"final_number": ["", final_number]})


def reopen(item: Document | WorkNote, by: Any) -> None:
    """Undo a tick or a waiver made by mistake."""
    with transaction.atomic():
        type(item).objects.filter(pk=item.pk).update(
            final_number="",
            reconciled_at=None,
            reconciled_by=None,
            waived_at=None,
            waived_by=None,
            waive_reason="",
        )
        item.refresh_from_db()
        audit(item.org, "desk.reopened", item, {})


def waive(item: Document | WorkNote, by: Any, reason: str, now: datetime | None = None) -> None:
    """A manager takes a line off the list without entering it; the reason is kept."""
    reason = reason.strip()
    if not reason:
        raise DocumentProblem([("reason", "say why this line need not be entered")])
    with transaction.atomic():
        type(item).objects.filter(pk=item.pk).update(
            waived_at=now or timezone.now(),
            waived_by=by if getattr(by, "pk", None) else None,
            waive_reason=reason[:300],
        )
        item.refresh_from_db()
        audit(item.org, "desk.waived", item, {"waive_reason": ["", reason]})


def resolve_guard(incident: Incident) -> str | None:
    """Why `incident` cannot be resolved yet, or None."""
    period = FallbackPeriod.objects.filter(org_id=incident.org_id, incident=incident).first()
    if period is None:
        return None
    count = open_count(period)
    if not count:
        return None
    things = "document or note" if count == 1 else "documents or notes"
    return (
        f"{count} {things} made at the desk during this outage "
        f"{'is' if count == 1 else 'are'} not yet in the main system. Tick each with its final "
        "number on the reconciliation list, or have a manager waive it."
    )
