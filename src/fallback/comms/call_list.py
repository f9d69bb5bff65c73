"""The call list: the key accounts of a notice's audience to phone rather than email, each
with the number, the person to ask for, the script (the notice's five parts, condensed)
and boxes to write down the call — printable, as a PDF, and recorded on the web.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from fallback.audit.trail import record
from fallback.comms import audiences, compensation, rendering
from fallback.comms.audiences import Call
from fallback.comms.models import CallOutcome, CallRecord, KeyAccount, Notice
from fallback.comms.preferences import settings_for
from fallback.desk import mode as desk_mode
from fallback.desk import printing
from fallback.front.templatetags.fallback_ui import org_zone

TEMPLATE = "comms/print/call_list.html"
NOTES_MAX = 5000

# How each law is said on the phone (short: the person reads it out).
SCRIPT_LABELS = {
    "notify": "Tell them",
    "explain": "Explain",
    "solve": "What they can do now",
    "predict": "What happens next",
    "apologise": "Apologise (once)",
}


class CallProblem(ValueError):
    """A call that cannot be recorded; names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass
class Row:
    call: Call
    last: CallRecord | None
    code: str = ""  # their compensation's code, for a follow-up


def script(notice: Notice, contact: str = "") -> list[tuple[str, str]]:
    """(label, words) for each law, filled in, without the letter's greeting."""
    settings = settings_for(notice.org)
    given = rendering.incident_values(notice, settings)
    given["customer_name"] = contact or "there"
    if compensation.uses_compensation(notice):
        given.update(compensation.phone_values(notice))
    lines = []
    for part in rendering.PARTS:
        text = rendering.render(getattr(notice, part), given).text.strip()
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        if part == "notify" and len(paragraphs) > 1 and len(paragraphs[0].split()) <= 4:
            paragraphs = paragraphs[1:]  # "Dear Sam," is for letters
        words = " ".join(" ".join(paragraphs).split())
        if words:
            lines.append((SCRIPT_LABELS[part], words))
    return lines


def rows(notice: Notice) -> list[Row]:
    chosen = audiences.select(notice.org, notice.audience, [], None)
    latest: dict[str, CallRecord] = {}
    for call in CallRecord.objects.filter(org=notice.org, notice=notice).order_by("at", "pk"):
        latest[call.customer_key] = call
    codes = compensation.codes_by_customer(notice)
    return [Row(c, latest.get(c.customer_key), codes.get(c.customer_key, "")) for c in chosen.calls]


def record_call(
    notice: Notice,
    customer_key: str,
    outcome: str,
    *,
    spoke_to: str = "",
    notes: str = "",
    at: datetime | None = None,
    by: Any = None,
    request_key: str = "",
) -> CallRecord:
    """Keep what came of one call (several calls to one account are each kept)."""
    if outcome not in CallOutcome.values:
        raise CallProblem("outcome", f"Choose what happened: {', '.join(CallOutcome.values)}.")
    if len(notes) > NOTES_MAX:
        raise CallProblem("notes", f"At most {NOTES_MAX} characters.")
    if request_key:
        found = CallRecord.objects.filter(
            org=notice.org, notice=notice, request_key=request_key
        ).first()
        if found is not None:
            return found
    account = KeyAccount.objects.filter(org=notice.org, customer_key=customer_key).first()
    listed = {r.call.customer_key: r.call for r in rows(notice)}
    if customer_key not in listed:
        raise CallProblem("customer_key", "That customer is not on this notice's call list.")
    person = by if by is not None and getattr(by, "is_authenticated", False) else None
    with transaction.atomic():
        call = CallRecord.objects.create(
            org=notice.org,
            notice=notice,
            key_account=account,
            customer_key=customer_key,
            customer_name=listed[customer_key].name[:300],
            outcome=outcome,
            spoke_to=spoke_to.strip()[:200],
            notes=notes.strip(),
            at=at or timezone.now(),
            recorded_by=person,
            request_key=request_key[:80],
        )
        record(
            notice.org,
            "comms.call.recorded",
            call,
            {"customer": [None, customer_key], "outcome": [None, outcome]},
        )
    return call


def context(notice: Notice) -> dict[str, Any]:
    org = notice.org
    desk = desk_mode.settings_for(org)
    listed = rows(notice)
    return {
        "org": org,
        "notice": notice,
        "incident": notice.incident,
        "rows": listed,
        "script": script(notice),
        "letterhead": printing.letterhead(org, desk),
        "printed_at": printing.format_moment(timezone.now(), org),
        "title": f"Call list: {notice.get_phase_display()}",
        "is_exercise": notice.is_exercise or notice.incident.is_exercise,
        "lang": org.locale or "en-GB",
        "zone": org_zone(org),
    }


def call_list_html(notice: Notice, *, screen: bool = False, pdf_url: str = "") -> str:
    data = context(notice)
    data.update({"screen": screen, "pdf_url": pdf_url})
    if screen:
        data["base_css"] = printing.screen_css()
    return render_to_string(TEMPLATE, data)


def call_list_pdf(notice: Notice) -> bytes:
    return printing.html_to_pdf(call_list_html(notice), [printing.base_css()])
