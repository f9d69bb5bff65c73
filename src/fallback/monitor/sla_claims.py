"""Claiming SLA credit from a vendor: a letter filled with the downtime Fallback measured.

The figures are the vendor report's (fallback.monitor.availability), never measured again
here: the month's availability against the promise, maintenance left out, the outage
windows in the organisation's time zone. For an incident the outages listed are the ones
inside it; the availability is still the month's, because that is what an SLA promises.
Credit tiers ("99.9:10, 99:25": below 99.9 % a 10 % credit, below 99 % 25 %) turn the
availability into a credit, and the monthly fee into an amount.

The evidence says how it was measured: the checks that watched the system, how many of
their results failed, and the canaries that show this office's own connection was working
(a failure while our own link was down is recorded as "unknown", never as downtime).

A claim is a draft until it is marked sent: its figures are then frozen, so the letter on
file is the one the vendor got. Then it is credited (with the amount) or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import record
from fallback.incidents.models import Incident
from fallback.monitor import availability
from fallback.monitor.models import (
    Check,
    CheckRollup,
    ClaimStatus,
    Resolution,
    SlaClaim,
    State,
    StateChange,
    System,
)
from fallback.monitor.rollups import RETENTION

TEMPLATE = "monitor/print/sla_claim.html"
TEXT_MAX = 10_000
NOTE_MAX = 5_000
MAX_TIERS = 10
ZERO = timedelta(0)


class ClaimError(ValueError):
    """A claim that cannot be made or changed; `errors` name the field."""

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        self.errors = errors or [("", message)]
        super().__init__(message)


def _person(by: Any) -> Any:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


# ------------------------------------------------------------------ credit tiers


@dataclass(frozen=True)
class Tier:
    below: Decimal  # availability under this percent…
    credit: Decimal  # …earns this percent of the monthly fee


def parse_tiers(text: str) -> list[Tier]:
    """ "99.9:10, 99:25" → tiers; ValueError naming the tier that is wrong."""
    tiers: list[Tier] = []
    items = [t.strip() for t in (text or "").replace(";", ",").replace("\n", ",").split(",")]
    for n, item in enumerate([t for t in items if t], start=1):
        below, sep, credit = item.partition(":")
        try:
            if not sep:
                raise InvalidOperation
            b, c = Decimal(below.strip().rstrip("%")), Decimal(credit.strip().rstrip("%"))
        except InvalidOperation:
            raise ValueError(
                f"tier {n} (“{item}”): write availability:credit, e.g. 99.9:10"
            ) from None
        if not Decimal(0) < b <= Decimal(100):
            raise ValueError(f"tier {n} (“{item}”): the availability is a percentage up to 100")
        if not Decimal(0) < c <= Decimal(100):
            raise ValueError(f"tier {n} (“{item}”): the credit is a percentage up to 100")
        if any(t.below == b for t in tiers):
            raise ValueError(f"tier {n} (“{item}”): {b}% is given twice")
        tiers.append(Tier(b, c))
    if len(tiers) > MAX_TIERS:
        raise ValueError(f"at most {MAX_TIERS} tiers")
    return sorted(tiers, key=lambda t: t.below, reverse=True)


def tiers_text(tiers: list[Tier]) -> str:
    return ", ".join(
        f"{availability.percent_text(t.below)}:{t.credit.normalize():f}" for t in tiers
    )


def credit_for(tiers: list[Tier], measure: availability.Measure) -> Tier | None:
    """The tier earned: the lowest promise the exact availability misses."""
    earned = None
    for tier in tiers:  # highest threshold first
        if measure.meets(tier.below) is False:
            earned = tier
    return earned


# ------------------------------------------------------------------ the figures


def _local(moment: datetime, org: Organisation) -> str:
    return moment.astimezone(availability.zone(org)).strftime("%a %d %b %Y, %H:%M")


def duration_text(span: timedelta) -> str:
    """'2 h 05 min', '45 min', '3 days 1 h 10 min' (to the minute)."""
    total = round(span.total_seconds() / 60)
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{mins:02d} min" if (hours or days) else f"{mins} min")
    return " ".join(parts)


def incident_window(system: System, incident: Incident, now: datetime) -> tuple[datetime, datetime]:
    """From the start of the down spell the system was in when the incident opened (if it
    was down then) to the incident's resolution (or now)."""
    before = (
        StateChange.objects.filter(system=system, at__lt=incident.opened_at)
        .order_by("-at", "-id")
        .first()
    )
    start = before.at if before is not None and before.to_state == State.DOWN else None
    return start or incident.opened_at, incident.resolved_at or now


def _resolution(start: datetime, now: datetime) -> tuple[str, int]:
    """The finest tally still kept for `start`, and its length in seconds."""
    if start >= now - RETENTION[Resolution.MINUTE]:
        return Resolution.MINUTE, 60
    if start >= now - RETENTION[Resolution.HOUR]:
        return Resolution.HOUR, 3600
    return Resolution.DAY, 86400


def _tally(
    checks: list[int], spans: list[tuple[datetime, datetime]], now: datetime
) -> dict[str, int]:
    """Check results inside `spans`, counted from the minute/hour/day tallies."""
    found = {"total": 0, "failed": 0, "ok": 0, "unknown": 0}
    if not checks:
        return found
    for a, b in spans:
        resolution, step = _resolution(a, now)
        floor = datetime.fromtimestamp(int(a.timestamp()) // step * step, UTC)
        sums = CheckRollup.objects.filter(
            for_check_id__in=checks, resolution=resolution, bucket__gte=floor, bucket__lt=b
        ).aggregate(
            up=Sum("up"), degraded=Sum("degraded"), down=Sum("down"), unknown=Sum("unknown")
        )
        up, degraded = sums["up"] or 0, sums["degraded"] or 0
        down, unknown = sums["down"] or 0, sums["unknown"] or 0
        found["ok"] += up + degraded
        found["failed"] += down
        found["unknown"] += unknown
        found["total"] += up + degraded + down + unknown
    return found


def _reason_at(system: System, moment: datetime) -> str:
    change = (
        StateChange.objects.filter(system=system, to_state=State.DOWN, at__lte=moment)
        .order_by("-at", "-id")
        .first()
    )
    return change.reason if change is not None else ""


def figures(
    system: System, month: date, incident: Incident | None, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the letter states, JSON-ready (kept as is once the claim is sent)."""
    now = now or timezone.now()
    org = system.org
    report = availability.month_report(system, month, now)
    m = report.measure
    outages = list(m.outages)
    window = None
    if incident is not None:
        a, b = incident_window(system, incident, now)
        a, b = max(a, report.start), min(b, report.end, now)
        window = (a, b)
        outages = [
            availability.Outage(max(o.start, a), min(o.end, b), o.ongoing)
            for o in outages
            if o.start < b and o.end > a
        ]
    claimed = sum((o.duration for o in outages), ZERO)
    try:
        tiers = parse_tiers(system.credit_tiers)
    except ValueError:
        tiers = []  # refused when saved; a stored bad one earns nothing here
    tier = credit_for(tiers, m)
    amount = None
    if tier is not None and system.monthly_fee is not None:
        amount = (system.monthly_fee * tier.credit / 100).quantize(Decimal("0.01"))
    watched = list(Check.objects.filter(system=system, is_canary=False).order_by("name"))
    canaries = list(
        Check.objects.filter(org_id=system.org_id, is_canary=True, enabled=True).order_by("name")
    )
    spans = [(o.start, o.end) for o in outages]
    tally = _tally([c.pk for c in watched], spans, now)
    canary_tally = _tally([c.pk for c in canaries], spans, now)
    resolution = _resolution(spans[0][0], now)[0] if spans else Resolution.MINUTE
    return {
        "system": system.name,
        "vendor": system.vendor,
        "account_number": system.account_number,
        "vendor_contacts": system.vendor_contacts,
        "month": month.strftime("%Y-%m"),
        "month_label": month.strftime("%B %Y"),
        "month_complete": report.complete,
        "time_zone": org.time_zone,
        "incident": incident.title if incident is not None else "",
        "window": [_local(window[0], org), _local(window[1], org)] if window else None,
        "sla_percent": report.sla_text,
        "availability_percent": "" if m.availability is None else str(m.availability),
        "sla_met": report.sla_met,
        "measured_minutes": availability.minutes(m.measured),
        "maintenance_minutes": availability.minutes(m.excluded),
        "unmeasured_minutes": availability.minutes(m.unmeasured),
        "month_downtime_minutes": availability.minutes(m.downtime),
        "month_downtime": duration_text(m.downtime),
        "month_outages": len(m.outages),
        "claimed_minutes": availability.minutes(claimed),
        "claimed_downtime": duration_text(claimed),
        "outages": [
            {
                "start": _local(o.start, org),
                "end": _local(o.end, org),
                "start_iso": o.start.isoformat(),
                "end_iso": o.end.isoformat(),
                "minutes": o.minutes,
                "duration": duration_text(o.duration),
                "ongoing": o.ongoing,
                "reason": _reason_at(system, o.start)[:200],
            }
            for o in outages
        ],
        "first_down": _local(outages[0].start, org) if outages else "",
        "last_back": _local(outages[-1].end, org) if outages else "",
        "credit_terms": system.credit_terms,
        "credit_tiers": tiers_text(tiers),
        "credit_percent": "" if tier is None else f"{tier.credit.normalize():f}",
        "credit_below": "" if tier is None else availability.percent_text(tier.below),
        "monthly_fee": "" if system.monthly_fee is None else str(system.monthly_fee),
        "credit_amount": "" if amount is None else str(amount),
        "currency": org.currency,
        "checks": [
            {"name": c.name, "kind": c.kind, "every_seconds": c.interval_seconds} for c in watched
        ],
        "results": tally,
        "tally_resolution": str(resolution),
        "canaries": [c.name for c in canaries],
        "canary_results": canary_tally,
        "made_at": now.isoformat(),
    }


# ------------------------------------------------------------------ claims


def default_opening(system: System, month: date, incident: Incident | None) -> str:
    account = f", account {system.account_number}" if system.account_number else ""
    about = f" during the incident “{incident.title}”" if incident is not None else ""
    return (
        f"We are writing to claim the service credit due under our agreement for "
        f"{system.name}{account}, for {month:%B %Y}. The service was unavailable{about} for "
        "the times set out below, as measured by our own independent monitoring."
    )


DEFAULT_CLOSING = (
    "Please confirm the credit in writing, quoting the reference above, and apply it to our "
    "next invoice. The measurements behind these figures are available on request."
)


def _next_reference(org: Organisation, month: date) -> str:
    n = SlaClaim.objects.filter(org=org, reference__startswith=f"SLA-{month:%Y%m}-").count()
    return f"SLA-{month:%Y%m}-{n + 1:03d}"


def create(
    system: System,
    month: date,
    incident: Incident | None = None,
    *,
    by: Any = None,
    request_key: str = "",
) -> tuple[SlaClaim, bool]:
    """A draft claim (or the open one already made for the same system, month and
    incident, or the same request_key); (claim, created)."""
    org = system.org
    if incident is not None:
        if incident.org_id != system.org_id:
            raise ClaimError("That incident is not this organisation's.", [("incident", "")])
        if incident.is_exercise:
            raise ClaimError(
                "A drill is not an outage: no credit is owed for it.", [("incident", "")]
            )
    month = month.replace(day=1)
    if request_key:
        found = SlaClaim.objects.filter(org=org, request_key=request_key).first()
        if found is not None:
            return found, False
    same = (
        SlaClaim.objects.filter(org=org, system=system, month=month, incident=incident)
        .exclude(status=ClaimStatus.REFUSED)
        .first()
    )
    if same is not None:
        return same, False
    for _ in range(5):
        try:
            with transaction.atomic():
                claim = SlaClaim.objects.create(
                    org=org,
                    system=system,
                    incident=incident,
                    month=month,
                    reference=_next_reference(org, month),
                    opening=default_opening(system, month, incident),
                    closing=DEFAULT_CLOSING,
                    created_by=_person(by),
                    request_key=request_key[:80],
                )
                record(
                    org,
                    "monitor.sla_claim.created",
                    claim,
                    {"system": [None, system.slug], "month": [None, f"{month:%Y-%m}"]},
                )
                return claim, True
        except IntegrityError:
            found = (
                SlaClaim.objects.filter(org=org, request_key=request_key).first()
                if request_key
                else None
            )
            if found is not None:
                return found, False  # the same request, made a moment ago
            # Someone took that reference a moment ago: count again.
    raise ClaimError("Could not number the claim; try again.")


def current_figures(claim: SlaClaim, now: datetime | None = None) -> dict[str, Any]:
    """As sent, or (a draft) as measured now."""
    if claim.status != ClaimStatus.DRAFT and claim.figures:
        return dict(claim.figures)
    return figures(claim.system, claim.month, claim.incident, now)


def edit(claim: SlaClaim, *, opening: str, closing: str) -> bool:
    if claim.status != ClaimStatus.DRAFT:
        raise ClaimError("The claim was sent: its letter is kept as it was sent.")
    opening, closing = opening.replace("\r\n", "\n").strip(), closing.replace("\r\n", "\n").strip()
    errors = [
        (name, f"At most {TEXT_MAX:,} characters.")
        for name, text in (("opening", opening), ("closing", closing))
        if len(text) > TEXT_MAX
    ]
    if errors:
        raise ClaimError(errors[0][1], errors)
    if (opening, closing) == (claim.opening, claim.closing):
        return False
    with transaction.atomic():
        claim.opening, claim.closing = opening, closing
        claim.save(update_fields=["opening", "closing"])
        record(claim.org, "monitor.sla_claim.edited", claim, {"letter": ["…", "…"]})
    return True


def mark_sent(claim: SlaClaim, now: datetime | None = None) -> bool:
    """The letter went to the vendor: its figures are kept as they are now."""
    if claim.status != ClaimStatus.DRAFT:
        return False
    now = now or timezone.now()
    with transaction.atomic():
        taken = SlaClaim.objects.filter(pk=claim.pk, status=ClaimStatus.DRAFT).update(
            status=ClaimStatus.SENT,
            sent_at=now,
            figures=figures(claim.system, claim.month, claim.incident, now),
        )
        if not taken:
            return False
        claim.refresh_from_db()
        record(claim.org, "monitor.sla_claim.sent", claim, {"status": ["draft", "sent"]})
    return True


def parse_amount(text: Any) -> Decimal:
    try:
        amount = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise ClaimError(
            f"The amount credited must be a number, e.g. 12.50 (got “{text}”).",
            [("credited_amount", "Must be a number, e.g. 12.50.")],
        ) from None
    if amount < 0 or amount.as_tuple().exponent < -2 or amount >= Decimal("1e10"):  # type: ignore[operator]
        raise ClaimError(
            "The amount credited is zero or more, with at most two decimals.",
            [("credited_amount", "Zero or more, at most two decimals.")],
        )
    return amount


def answer(
    claim: SlaClaim,
    status: str,
    *,
    amount: Any = None,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """The vendor's answer: credited (with the amount) or refused."""
    if status not in (ClaimStatus.CREDITED, ClaimStatus.REFUSED):
        raise ClaimError("The answer is credited or refused.", [("status", "credited or refused")])
    if claim.status == ClaimStatus.DRAFT:
        raise ClaimError("Mark the claim sent first: it has not gone to the vendor.")
    if len(note) > NOTE_MAX:
        raise ClaimError(f"At most {NOTE_MAX:,} characters.", [("answer_note", "Too long.")])
    credited = None
    if status == ClaimStatus.CREDITED:
        if amount in (None, ""):
            raise ClaimError(
                "Give the amount credited.", [("credited_amount", "Give the amount credited.")]
            )
        credited = parse_amount(amount)
    before = {"status": claim.status, "credited_amount": claim.credited_amount}
    with transaction.atomic():
        claim.status = status
        claim.credited_amount = credited
        claim.answer_note = note.strip()
        claim.answered_at = now or timezone.now()
        claim.save(update_fields=["status", "credited_amount", "answer_note", "answered_at"])
        record(
            claim.org,
            "monitor.sla_claim.answered",
            claim,
            {
                "status": [before["status"], status],
                "credited_amount": [
                    None if before["credited_amount"] is None else str(before["credited_amount"]),
                    None if credited is None else str(credited),
                ],
            },
        )


def for_incident(org: Organisation, incident: Incident) -> list[SlaClaim]:
    return list(
        SlaClaim.objects.filter(org=org, incident=incident).select_related("system").order_by("pk")
    )


# ------------------------------------------------------------------ the letter


def letter_context(claim: SlaClaim, now: datetime | None = None) -> dict[str, Any]:
    from fallback.desk import mode as desk_mode
    from fallback.desk import printing
    from fallback.desk.money import format_money

    org = claim.org
    found = current_figures(claim, now)
    locale = org.locale or "en-GB"
    money = {
        key: format_money(found[key], found["currency"], locale) if found.get(key) else ""
        for key in ("monthly_fee", "credit_amount")
    }
    return {
        "org": org,
        "claim": claim,
        "f": found,
        "money": money,
        "letterhead": printing.letterhead(org, desk_mode.settings_for(org)),
        "dated": printing.format_day(
            (claim.sent_at or now or timezone.now()).astimezone(availability.zone(org)).date(),
            locale,
        ),
        "title": f"SLA credit claim {claim.reference}",
        "lang": locale,
        "opening": [p for p in claim.opening.split("\n\n") if p.strip()],
        "closing": [p for p in claim.closing.split("\n\n") if p.strip()],
    }


def letter_html(claim: SlaClaim, *, screen: bool = False, pdf_url: str = "") -> str:
    from fallback.desk import printing

    data = letter_context(claim)
    data.update({"screen": screen, "pdf_url": pdf_url})
    if screen:
        data["base_css"] = printing.screen_css()
    return render_to_string(TEMPLATE, data)


def letter_pdf(claim: SlaClaim) -> bytes:
    from fallback.desk import printing

    return printing.html_to_pdf(letter_html(claim), [printing.base_css()])
