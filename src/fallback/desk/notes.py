"""The work log: timestamped notes of work done while the main system is down — a call taken,
a promise made, goods sent — linked to a customer or a document, kept like documents are:
saved once per request key, voided (never deleted), reconciled afterwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import record as audit
from fallback.desk import mode
from fallback.desk.documents import REQUEST_KEY_MAX, DocumentProblem, person_label
from fallback.desk.models import Document, NoteKind, Party, WorkNote

TEXT_MAX = 4000


def add(
    org: Organisation,
    text: str,
    request_key: str,
    by: Any,
    *,
    kind: str = NoteKind.OTHER,
    at: datetime | None = None,
    party: str = "",
    party_key: str = "",
    party_name: str = "",
    document_id: int | None = None,
    now: datetime | None = None,
) -> tuple[WorkNote, bool]:
    """Save a note (or find the one this request key saved): (note, created). A note made
    in fallback mode belongs to the open period and goes on its reconciliation list."""
    problems: list[tuple[str, str]] = []
    request_key = request_key.strip()
    if not request_key or len(request_key) > REQUEST_KEY_MAX:
        problems.append(("request_key", f"must be 1 to {REQUEST_KEY_MAX} characters"))
    existing = WorkNote.objects.filter(org=org, request_key=request_key).first()
    if existing is not None:
        return existing, False
    text = text.strip()
    if not text:
        problems.append(("text", "say what was done"))
    elif len(text) > TEXT_MAX:
        problems.append(("text", f"at most {TEXT_MAX} characters"))
    if kind not in NoteKind.values:
        problems.append(("kind", f"{kind!r} is not a kind of note"))
    if party and party not in Party.values:
        problems.append(("party", f"{party!r} is not customer or supplier"))
    now = now or timezone.now()
    if at is not None and at > now:
        problems.append(("at", "is in the future"))
    document = None
    if document_id is not None:
        document = Document.objects.filter(org=org, pk=document_id).first()
        if document is None:
            problems.append(("document", f"no document {document_id} in this organisation"))
    if problems:
        raise DocumentProblem(problems)
    if document is not None and not party_key:
        party, party_key, party_name = document.party, document.party_key, document.party_name
    period = mode.current_period(org, now)
    try:
        with transaction.atomic():
            note = WorkNote.objects.create(
                org=org,
                period=period,
                at=at or now,
                kind=kind,
                text=text,
                party=party,
                party_key=party_key[:200],
                party_name=party_name.strip()[:300],
                document=document,
                request_key=request_key,
                created_at=now,
                created_by=by if getattr(by, "pk", None) else None,
                created_by_label=person_label(by),
            )
            audit(org, "desk.note.added", note, {"kind": [None, kind]})
    except IntegrityError:
        existing = WorkNote.objects.filter(org=org, request_key=request_key).first()
        if existing is None:
            raise
        return existing, False
    return note, True


def void(note: WorkNote, by: Any, reason: str, now: datetime | None = None) -> WorkNote:
    reason = reason.strip()
    if not reason:
        raise DocumentProblem([("reason", "say why it is void")])
    with transaction.atomic():
        updated = WorkNote.objects.filter(pk=note.pk, voided_at__isnull=True).update(
            voided_at=now or timezone.now(),
            voided_by=by if getattr(by, "pk", None) else None,
            void_reason=reason[:300],
        )
        note.refresh_from_db()
        if updated:
            audit(note.org, "desk.note.voided", note, {"void_reason": ["", reason]})
    return note
