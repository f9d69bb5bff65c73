"""Filling a notice's words with the facts of the incident: `{{ variable }}` substitution.

Deliberately not Django's template engine: the words are typed by people, and must not
reach tags, filters, attributes or anything but the named values below. A name that is
not known is left as it was typed and reported (the checker blocks sending until it is
fixed), so a customer never receives "{{ phnoe }}".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.comms.models import CommsSettings, Notice
from fallback.incidents.models import Incident

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
PARTS = ("notify", "explain", "solve", "predict", "apologise")
PART_LABELS = {
    "subject": "Subject",
    "notify": "Notify",
    "explain": "Explain",
    "solve": "Solve",
    "predict": "Predict",
    "apologise": "Apologise",
}
EXERCISE_SUBJECT = "[EXERCISE] "
EXERCISE_BANNER = (
    "EXERCISE: this is a drill of our outage plan, not a real outage. No action needed."
)

# Every variable a notice may use, with what it is (the editor lists them).
VARIABLES: dict[str, str] = {
    "business": "the business's name",
    "customer_name": "the recipient's name (“everyone” in a chat room)",
    "systems": "what is down, e.g. “our order system (CloudCRM)”",
    "since": "when it went down, e.g. “10:05 today”",
    "expected_return": "when it should be back (“not known yet” if blank)",
    "next_update_by": "when the next update will come",
    "phone": "the phone number(s) to call now",
    "backup_email": "the backup email address",
    "status_url": "the status page",
    "alternate_routes": "every way to reach the business now, in one sentence",
    "incident": "the incident's title",
    "compensation": "a follow-up's offer, with each customer's own code (choose it under "
    "Follow up)",
    "discount_code": "each customer's own discount code alone (Follow up)",
}
NOT_KNOWN_YET = "not known yet"
SOME_SYSTEM = "one of our systems"  # an incident declared without naming a system
SENTENCE_END = (".", "!", "?", "\n")


@dataclass(frozen=True)
class Rendered:
    text: str
    unknown: list[str]  # names not in VARIABLES, in order of appearance
    empty: list[str]  # known names with no value to give


def _zone(org: Organisation) -> ZoneInfo:
    try:
        return ZoneInfo(org.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(moment: datetime, org: Organisation, now: datetime | None = None) -> str:
    """'10:05 today', '16:30 yesterday', '09:00 on Monday 2 March': for a customer."""
    zone = _zone(org)
    local = moment.astimezone(zone)
    today = (now or timezone.now()).astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"{clock} today"
    if local.date() == today - timedelta(days=1):
        return f"{clock} yesterday"
    if local.date() == today + timedelta(days=1):
        return f"{clock} tomorrow"
    return f"{clock} on {local:%A} {local.day} {local:%B}"


def default_next_update(org: Organisation, now: datetime | None = None) -> str:
    """Two hours from now, on the half hour: a promise that is easy to keep."""
    now = now or timezone.now()
    later = (now + timedelta(hours=2)).astimezone(_zone(org))
    later = later.replace(second=0, microsecond=0)
    later += timedelta(minutes=(30 - later.minute % 30) % 30)
    return when(later, org, now)


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def systems_phrase(incident: Incident) -> str:
    names = [s.name for s in incident.systems.all().order_by("name")]
    return _join(names) if names else SOME_SYSTEM


def alternate_routes(settings: CommsSettings) -> str:
    ways = []
    phones = lines(settings.phone_numbers)
    if phones:
        ways.append(f"call us on {_join(phones, 'or')}")
    if settings.backup_email:
        ways.append(f"email {settings.backup_email}")
    if settings.status_url:
        ways.append(f"see {settings.status_url} for the latest")
    return _join(ways, "or")


def incident_values(
    notice: Notice, settings: CommsSettings, now: datetime | None = None
) -> dict[str, str]:
    """The values every message of `notice` shares (the recipient's name is added per
    message)."""
    incident = notice.incident
    org = incident.org
    began = incident.declared_at or incident.opened_at
    down = [s.state_since for s in incident.systems.all() if s.state == "down"]
    if down:
        began = min([*down, began])
    phones = lines(settings.phone_numbers)
    return {
        "business": org.name,
        "systems": systems_phrase(incident),
        "since": when(began, org, now),
        "expected_return": notice.expected_return.strip() or NOT_KNOWN_YET,
        "next_update_by": notice.next_update_by.strip(),
        "phone": _join(phones, "or"),
        "backup_email": settings.backup_email,
        "status_url": settings.status_url,
        "alternate_routes": alternate_routes(settings),
        "incident": incident.title,
        "customer_name": "",
    }


def render(text: str, values: Mapping[str, str]) -> Rendered:
    unknown: list[str] = []
    empty: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in VARIABLES:
            if name not in unknown:
                unknown.append(name)
            return match.group(0)
        value = values.get(name, "")
        if not value and name not in empty:
            empty.append(name)
        before = match.string[: match.start()].rstrip(" ")
        starts = not before or before.endswith(SENTENCE_END)
        if value and starts and "@" not in value and "://" not in value:
            value = value[0].upper() + value[1:]  # "one of our systems" starting a sentence
        return value

    return Rendered(VARIABLE.sub(fill, text or ""), unknown, empty)


def used(text: str) -> list[str]:
    return list(dict.fromkeys(VARIABLE.findall(text or "")))


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def parts_of(source: Notice | object) -> dict[str, str]:
    """The five parts and the subject of a notice or a template."""
    return {name: str(getattr(source, name, "") or "") for name in ("subject", *PARTS)}


def compose(
    parts: Mapping[str, str], values: Mapping[str, str], *, is_exercise: bool = False
) -> Message:
    """One message: the parts in the order of the five laws, a blank line between them."""
    body_parts = [render(parts.get(p, ""), values).text.strip() for p in PARTS]
    body = "\n\n".join(p for p in body_parts if p)
    subject = " ".join(render(parts.get("subject", ""), values).text.split())
    if is_exercise:
        subject = EXERCISE_SUBJECT + subject
        body = f"{EXERCISE_BANNER}\n\n{body}"
    return Message(subject=subject[:250], body=body + "\n")


def short_text(parts: Mapping[str, str], values: Mapping[str, str], is_exercise: bool) -> str:
    """The SMS or chat version: the parts run together as one paragraph."""
    words = " ".join(
        " ".join(render(parts.get(p, ""), values).text.split()) for p in PARTS if parts.get(p)
    )
    if is_exercise:
        words = "EXERCISE, not a real outage: " + words
    return words.strip()


def names_in(parts: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """(part, variable) for every variable used, in order."""
    for part in ("subject", *PARTS):
        for name in used(parts.get(part, "")):
            yield part, name
