"""Compensation: what a follow-up gives each affected customer to make up for an outage.

An incident has at most one Offer: discount codes from the shop's list, codes made here
(prefix + random, unguessable), free shipping, or an offer in words. A notice that uses
{{ compensation }} or {{ discount_code }} carries each customer's own.

The rule that matters: a code is given to at most one customer, and a customer gets at most
one compensation per incident. `prepare` runs inside the transaction that queues a notice's
messages, before any is written: it reuses the customer's compensation if they have one
(a second follow-up names the same code), takes free codes for the rest, and records each
— so the compensation and the messages that carry it are committed together or not at
all (a killed process, a double click, a retried request change nothing). The database
holds the rule too: a code is unique in its organisation, a Compensation's code is
one-to-one, and (incident, customer) is unique.

Drills never touch real codes: every recipient of an exercise gets a TEST- code, recorded
as an exercise.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import diff, record
from fallback.comms import audiences, outbox, rendering
from fallback.comms.audiences import Call, Target
from fallback.comms.checker import Finding
from fallback.comms.models import (
    ChannelKind,
    Compensation,
    DiscountCode,
    ItemState,
    Notice,
    Offer,
    OfferKind,
    OutboxItem,
    Phase,
)
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.incidents.models import Incident

VARIABLES = ("compensation", "discount_code")
CODE_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
PREFIX_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
# No 0/O, 1/I/L: a code read out over the phone or typed from paper is not mistaken.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RANDOM_LENGTH = 10  # 31^10 ≈ 8e14: not guessable, even knowing the prefix
TEST_PREFIX = "TEST"
SAMPLE_CODE = "SAMPLE-CODE"
CODE_KINDS = (OfferKind.LIST, OfferKind.GENERATED)
DESCRIPTION_MAX = 300
ERRORS_SHOWN = 20
HEADER_WORDS = frozenset({"code", "codes", "discount code", "discount_code", "coupon"})
DEFAULT_DESCRIPTIONS: dict[str, str] = {
    OfferKind.FREE_SHIPPING: "free shipping on your next order",
}
LEAD_IN = "To make up for it: {{ compensation }}."


class CompensationError(ValueError):
    """An offer, a code list or a grant that cannot be made; names what is wrong and where."""

    def __init__(self, message: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        self.errors = list(errors) or [("", message)]
        super().__init__(message)


def _person(by: Any) -> Any:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


# ------------------------------------------------------------------ the offer


def offer_for(incident: Incident) -> Offer | None:
    return Offer.objects.filter(org_id=incident.org_id, incident=incident).first()


def has_given(offer: Offer) -> bool:
    return Compensation.objects.filter(offer=offer).exists()


def save_offer(
    incident: Incident,
    kind: str,
    description: str = "",
    prefix: str = "",
    by: Any = None,
) -> Offer:
    """Choose (or change) the incident's offer. Its kind is fixed once anything was given:
    the records would no longer say what the customers got."""
    errors: list[tuple[str, str]] = []
    if kind not in OfferKind.values:
        errors.append(("kind", f"Choose one of: {', '.join(OfferKind.values)}."))
    description = " ".join((description or "").split()) or DEFAULT_DESCRIPTIONS.get(kind, "")
    if not description:
        errors.append(("description", "Say what it is, e.g. “15% off your next order”."))
    elif len(description) > DESCRIPTION_MAX:
        errors.append(("description", f"At most {DESCRIPTION_MAX} characters."))
    elif description.endswith("."):
        description = description.rstrip(".")
    prefix = (prefix or "").strip().upper()
    if kind == OfferKind.GENERATED:
        prefix = prefix or "SORRY"
        if not PREFIX_SHAPE.match(prefix):
            errors.append(
                ("prefix", "Letters, digits and - only, at most 20, starting with a letter.")
            )
    else:
        prefix = ""
    offer = offer_for(incident)
    if offer is not None and offer.kind != kind and has_given(offer):
        errors.append(
            (
                "kind",
                "Compensation was already given under this offer, so its kind cannot change; "
                "you can still change its words.",
            )
        )
    if errors:
        raise CompensationError(" ".join(m for _, m in errors), errors)
    with transaction.atomic():
        if offer is None:
            offer = Offer.objects.create(
                org_id=incident.org_id,
                incident=incident,
                kind=kind,
                description=description,
                prefix=prefix,
                created_by=_person(by),
            )
            record(
                incident.org,
                "comms.offer.created",
                offer,
                {"incident": [None, incident.pk], "kind": [None, kind]},
            )
            return offer
        before = {"kind": offer.kind, "description": offer.description, "prefix": offer.prefix}
        offer.kind, offer.description, offer.prefix = kind, description, prefix
        changes = diff(before, {"kind": kind, "description": description, "prefix": prefix})
        if changes:
            offer.updated_at = timezone.now()
            offer.save()
            record(incident.org, "comms.offer.changed", offer, changes)
    return offer


def sentence(offer: Offer, code: str) -> str:
    """{{ compensation }}: the offer in words, with the customer's code if it has one."""
    if offer.kind in CODE_KINDS:
        return f"{offer.description} with the code {code}"
    return offer.description


# ------------------------------------------------------------------ code lists


@dataclass
class ParsedCodes:
    codes: list[tuple[int, str]] = field(default_factory=list)  # (line, code)


def _rows(text: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for row in reader:
        yield reader.line_num, [cell.strip() for cell in row]


def parse_codes(text: str) -> ParsedCodes:
    """Codes pasted one per line, or a CSV file (the column headed "code", else the first).
    Every problem names its line; any problem and nothing is taken."""
    parsed = ParsedCodes()
    errors: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    column = 0
    first = True
    for line, cells in _rows(text or ""):
        if not any(cells) or cells[0].startswith("#"):
            continue
        if first:
            first = False
            headers = [c.lower() for c in cells]
            found = next((i for i, c in enumerate(headers) if c in HEADER_WORDS), None)
            if found is not None:
                column = found
                continue
        value = cells[column] if column < len(cells) else ""
        if not value:
            errors.append((f"line {line}", f"line {line}: no code in column {column + 1}."))
        elif not CODE_SHAPE.match(value):
            errors.append(
                (
                    f"line {line}",
                    f"line {line}: “{value[:70]}” is not a code: letters, digits, - and _ "
                    "only, 3 to 64 of them.",
                )
            )
        elif value.upper() in seen:
            errors.append(
                (
                    f"line {line}",
                    f"line {line}: {value} is listed twice (also line {seen[value.upper()]}).",
                )
            )
        else:
            seen[value.upper()] = line
            parsed.codes.append((line, value))
    if not errors and not parsed.codes:
        errors.append(("", "No codes found: paste one code per line, or a CSV file."))
    if errors:
        shown = errors[:ERRORS_SHOWN]
        more = len(errors) - len(shown)
        message = " ".join(m for _, m in shown) + (f" …and {more} more." if more else "")
        raise CompensationError(f"No codes were added. {message}", shown)
    return parsed


def add_codes(offer: Offer, text: str, by: Any = None) -> int:
    """Add the codes of a pasted list or CSV file to a list offer; returns how many.
    A code that is already in any of the organisation's lists is refused with its line."""
    if offer.kind != OfferKind.LIST:
        raise CompensationError("Only an offer of codes from your list takes a list of codes.")
    parsed = parse_codes(text)
    upper = {code.upper(): line for line, code in parsed.codes}
    taken: list[tuple[str, str]] = []
    existing = DiscountCode.objects.filter(org_id=offer.org_id).select_related("offer__incident")
    for start in range(0, len(parsed.codes), 500):
        chunk = [code.upper() for _, code in parsed.codes[start : start + 500]]
        # Compared without case: shops treat SORRY10 and sorry10 as one code.
        for found in _upper_in(existing, chunk):
            where = "this list" if found.offer_id == offer.pk else found.offer.incident.title
            line = upper[found.code.upper()]
            taken.append((f"line {line}", f"line {line}: {found.code} is already in {where}."))
    if taken:
        shown = sorted(taken, key=lambda e: int(e[0].split()[1]))[:ERRORS_SHOWN]
        raise CompensationError("No codes were added. " + " ".join(m for _, m in shown), shown)
    now = timezone.now()
    rows = [
        DiscountCode(org_id=offer.org_id, offer=offer, code=code, line=line, added_at=now)
        for line, code in parsed.codes
    ]
    try:
        with transaction.atomic():
            DiscountCode.objects.bulk_create(rows, batch_size=1000)
            record(offer.org, "comms.codes.added", offer, {"codes": [None, len(rows)]})
    except IntegrityError as exc:  # added by someone else a moment ago
        raise CompensationError(
            "No codes were added: some were added at the same moment; look at the list and "
            "try again."
        ) from exc
    return len(rows)


def _upper_in(codes: Any, uppers: list[str]) -> list[DiscountCode]:
    return list(codes.annotate(upper=Upper("code")).filter(upper__in=uppers))


def free_codes(offer: Offer) -> QuerySet[DiscountCode]:
    return DiscountCode.objects.filter(offer=offer, given_to__isnull=True)


def remove_unused(offer: Offer, by: Any = None) -> int:
    """Take the list's codes nobody was given out of it (e.g. a list uploaded by mistake)."""
    with transaction.atomic():
        n: int = free_codes(offer).delete()[0]
        record(offer.org, "comms.codes.removed", offer, {"codes": [n, 0]})
    return n


def random_code(prefix: str) -> str:
    tail = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{prefix}-{tail}" if prefix else tail


# ------------------------------------------------------------------ giving


def uses_compensation(notice: Notice) -> bool:
    parts = rendering.parts_of(notice)
    return any(name in VARIABLES for _, name in rendering.names_in(parts))


def _offer_values(notice: Notice, code: str) -> dict[str, str]:
    """The offer in words with `code` standing for the customer's ('' when it has no code,
    and both '' when the incident has no offer)."""
    offer = offer_for(notice.incident)
    if offer is None:
        return {"compensation": "", "discount_code": ""}
    code = code if offer.kind in CODE_KINDS else ""
    return {"compensation": sentence(offer, code), "discount_code": code}


def sample_values(notice: Notice) -> dict[str, str]:
    """What the checker and the preview see: the offer with a sample code ('' when the
    incident has no offer, so the checker asks for one)."""
    return _offer_values(notice, SAMPLE_CODE)


def forgotten_offer(notice: Notice) -> Finding | None:
    """A follow-up to customers that leaves out the offer chosen for its incident: probably
    a mistake, so the checker asks (a person may send it without, acknowledging it)."""
    if notice.phase != Phase.FOLLOW_UP or uses_compensation(notice):
        return None
    if audiences.kind(notice.audience).wording != "customers":
        return None
    offer = offer_for(notice.incident)
    if offer is None:
        return None
    return Finding(
        "offer_left_out",
        "solve",
        f"Solve: the incident's offer ({offer.description}) is not in this follow-up; add "
        "“To make up for it: {{ compensation }}.”, or send it without the offer.",
    )


def phone_values(notice: Notice) -> dict[str, str]:
    """What the call list's script says for the offer: each row has the customer's code."""
    return _offer_values(notice, "on their line of the call list")


def codes_by_customer(notice: Notice) -> dict[str, str]:
    """customer key -> the code they were given for the notice's incident."""
    return dict(
        Compensation.objects.filter(org_id=notice.org_id, incident_id=notice.incident_id)
        .exclude(code_text="")
        .values_list("customer_key", "code_text")
    )


@dataclass
class Prepared:
    """Each target's compensation, recorded; what its message says."""

    offer: Offer
    by_customer: dict[str, Compensation]
    exercise: bool = False

    def _key(self, target: Target) -> str:
        return f"drill:{target.address}" if self.exercise else target.customer_key

    def values_for(self, target: Target) -> dict[str, str]:
        given = self.by_customer.get(self._key(target))
        if given is None:  # a chat room with an offer that has no code
            return {"compensation": self.offer.description, "discount_code": ""}
        return {
            "compensation": sentence(self.offer, given.code_text),
            "discount_code": given.code_text,
        }

    def tag(self, target: Target) -> int | None:
        given = self.by_customer.get(self._key(target))
        return given.pk if given is not None else None


def prepare(
    notice: Notice, targets: Sequence[Target], calls: Sequence[Call] = ()
) -> Prepared | None:
    """Record each target customer's compensation before their messages are queued (call
    inside the transaction that queues them), and each key account's on the call list, who
    hears it on the phone. None when the notice carries no offer."""
    if not uses_compensation(notice):
        return None
    incident = notice.incident
    offer = offer_for(incident)
    if offer is None:
        raise CompensationError(
            "This notice names the compensation, but the incident has no offer yet: choose "
            "one under Follow up."
        )
    if outbox.is_drill(notice):
        drill = outbox.drill_targets_for(notice, targets)
        wanted = {f"drill:{t.address}": t.name for t in drill}
        return _give(offer, notice, wanted, exercise=True)
    wanted = {call.customer_key: call.name for call in calls}
    for target in targets:
        if target.customer_key:
            wanted.setdefault(target.customer_key, target.name)
        elif target.channel == ChannelKind.CHAT and offer.kind not in CODE_KINDS:
            continue  # a room hears the offer in words; nobody's code is in it
        else:
            label = audiences.kind(notice.audience).label
            what = "a chat room" if target.channel == ChannelKind.CHAT else target.address
            raise CompensationError(
                f"Compensation goes to customers, one each; {what} ({label}) is not a "
                "customer. Send the follow-up with the offer to a customer audience by "
                "email or SMS."
            )
    return _give(offer, notice, wanted, exercise=False)


def _give(offer: Offer, notice: Notice, wanted: dict[str, str], *, exercise: bool) -> Prepared:
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _give_once(offer, notice, wanted, exercise=exercise)
        except IntegrityError:
            # Another follow-up of this incident gave some of these customers theirs at the
            # same moment: read again and give only the rest (once).
            if attempt:
                raise CompensationError(
                    "Another follow-up is giving compensation at this moment; send again in "
                    "a minute (nobody will get two)."
                ) from None
    raise AssertionError("unreachable")


def _give_once(offer: Offer, notice: Notice, wanted: dict[str, str], *, exercise: bool) -> Prepared:
    found = {
        c.customer_key: c
        for c in Compensation.objects.filter(
            incident_id=offer.incident_id, customer_key__in=list(wanted)
        )
    }
    missing = [key for key in wanted if key not in found]
    now = timezone.now()
    codes: list[tuple[DiscountCode | None, str]]
    if exercise:
        codes = [(None, random_code(TEST_PREFIX)) for _ in missing]
    elif offer.kind == OfferKind.LIST:
        codes = [(c, c.code) for c in _take_free(offer, len(missing))]
    elif offer.kind == OfferKind.GENERATED:
        made = _make_codes(offer, len(missing), now)
        codes = [(c, c.code) for c in made]
    else:
        codes = [(None, "") for _ in missing]
    rows = [
        Compensation(
            org_id=offer.org_id,
            offer=offer,
            incident_id=offer.incident_id,
            customer_key=key[:220],
            customer_name=wanted[key][:300],
            code=code,
            code_text=text,
            notice=notice,
            given_at=now,
            is_exercise=exercise,
        )
        for key, (code, text) in zip(missing, codes, strict=True)
    ]
    Compensation.objects.bulk_create(rows, batch_size=1000)
    if rows:
        record(
            offer.org,
            "comms.compensation.given",
            notice,
            {"customers": [None, len(rows)], "exercise": [None, exercise]},
        )
    found.update(
        (c.customer_key, c)
        for c in Compensation.objects.filter(
            incident_id=offer.incident_id, customer_key__in=missing
        )
    )
    return Prepared(offer, found, exercise=exercise)


def _take_free(offer: Offer, n: int) -> list[DiscountCode]:
    if not n:
        return []
    free = free_codes(offer).order_by("line", "pk")
    if connection.features.has_select_for_update_skip_locked:
        # Two follow-ups sending at once take different codes rather than wait.
        free = free.select_for_update(skip_locked=True, of=("self",))
    taken = list(free[:n])
    if len(taken) < n:
        left = free_codes(offer).count()
        raise CompensationError(
            f"The list has run out: {n:,} customers need a code and {left:,} are left. Add "
            f"at least {n - left:,} more codes under Follow up, then send again; nothing "
            "was sent."
        )
    return taken


def _make_codes(offer: Offer, n: int, now: datetime) -> list[DiscountCode]:
    made: list[DiscountCode] = []
    while len(made) < n:
        want = n - len(made)
        batch = {random_code(offer.prefix) for _ in range(want)}
        taken = set(
            DiscountCode.objects.filter(org_id=offer.org_id, code__in=batch).values_list(
                "code", flat=True
            )
        )
        rows = [
            DiscountCode(org_id=offer.org_id, offer=offer, code=c, generated=True, added_at=now)
            for c in sorted(batch - taken)
        ]
        DiscountCode.objects.bulk_create(rows, batch_size=1000)
        made.extend(rows)
    if made and made[0].pk is None:  # backends that do not return ids from bulk inserts
        made = list(
            DiscountCode.objects.filter(org_id=offer.org_id, code__in=[c.code for c in made])
        )
    return made


# ------------------------------------------------------------------ the record


SENT_WORDS = {
    "sent": "Sent",
    "waiting": "Waiting in the outbox",
    "problem": "Not delivered",
    "none": "No message",
}


@dataclass(frozen=True)
class Row:
    given: Compensation
    message: str  # one of SENT_WORDS
    sent_at: datetime | None

    @property
    def message_label(self) -> str:
        return SENT_WORDS[self.message]


def _message_state(states: set[str]) -> str:
    if ItemState.SENT in states:
        return "sent"
    if states & set(outbox.OPEN):
        return "waiting"
    if states:
        return "problem"
    return "none"


def rows(org: Organisation, incident: Incident) -> list[Row]:
    """Who got what for this incident, with whether the message carrying it was sent."""
    given = list(
        Compensation.objects.filter(org=org, incident=incident).select_related("notice", "offer")
    )
    states: dict[int, set[str]] = {}
    sent_at: dict[int, datetime] = {}
    items = OutboxItem.objects.filter(org=org, compensation__incident=incident).values_list(
        "compensation_id", "state", "sent_at"
    )
    for pk, state, at in items:
        states.setdefault(pk, set()).add(state)
        if at is not None and (pk not in sent_at or at < sent_at[pk]):
            sent_at[pk] = at
    return [Row(g, _message_state(states.get(g.pk, set())), sent_at.get(g.pk)) for g in given]


@dataclass(frozen=True)
class Summary:
    given: int
    sent: int
    redeemed: int
    codes: int
    codes_left: int


def summary(org: Organisation, incident: Incident, offer: Offer | None) -> Summary:
    given = Compensation.objects.filter(org=org, incident=incident)
    counts = given.aggregate(
        n=Count("pk"),
        redeemed=Count("pk", filter=Q(redeemed_at__isnull=False)),
        sent=Count("pk", filter=Q(items__state=ItemState.SENT), distinct=True),
    )
    codes = left = 0
    if offer is not None and offer.kind == OfferKind.LIST:
        codes = DiscountCode.objects.filter(offer=offer).count()
        left = free_codes(offer).count()
    return Summary(counts["n"], counts["sent"], counts["redeemed"], codes, left)


def redeem(given: Compensation, redeemed: bool = True, by: Any = None) -> bool:
    """Mark (or unmark) a compensation as used by the customer; False when it already was."""
    if (given.redeemed_at is not None) == redeemed:
        return False
    with transaction.atomic():
        given.redeemed_at = timezone.now() if redeemed else None
        given.redeemed_by = _person(by) if redeemed else None
        given.save(update_fields=["redeemed_at", "redeemed_by"])
        record(
            given.org,
            "comms.compensation.redeemed" if redeemed else "comms.compensation.unredeemed",
            given,
            {"redeemed": [not redeemed, redeemed]},
        )
    return True


def redeem_codes(org: Organisation, incident: Incident, text: str, by: Any = None) -> int:
    """Mark redeemed the compensations whose codes are listed (e.g. the shop's report of used
    codes, pasted); a code that was not given for this incident is refused with its line."""
    parsed = parse_codes(text)
    given = {
        c.code_text.upper(): c
        for c in Compensation.objects.filter(org=org, incident=incident).exclude(code_text="")
    }
    unknown = [
        (f"line {line}", f"line {line}: {code} was not given to anyone for this incident.")
        for line, code in parsed.codes
        if code.upper() not in given
    ]
    if unknown:
        raise CompensationError(
            "Nothing was marked. " + " ".join(m for _, m in unknown[:ERRORS_SHOWN]), unknown
        )
    with transaction.atomic():
        return sum(redeem(given[code.upper()], True, by) for _, code in parsed.codes)


EXPORT_COLUMNS = [
    "customer_key",
    "customer",
    "code",
    "offer",
    "given_at",
    "notice",
    "message",
    "sent_at",
    "redeemed_at",
    "exercise",
]


def export_csv(org: Organisation, incident: Incident) -> str:
    """Who got what, for loading the codes into the shop and for the books."""
    zone = org_zone(org)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).isoformat(timespec="seconds") if moment else ""

    for row in rows(org, incident):
        g = row.given
        writer.writerow(
            [
                g.customer_key,
                g.customer_name,
                g.code_text,
                g.offer.description,
                local(g.given_at),
                g.notice_id or "",
                row.message,
                local(row.sent_at),
                local(g.redeemed_at),
                "yes" if g.is_exercise else "no",
            ]
        )
    return out.getvalue()
