"""Who is told: audiences drawn from the replica and the organisation, one address each.

An audience kind is registered with `register(AudienceKind(...))`: its key, its label, the
wording its default templates use (customers, suppliers, staff) and a function that lists
its people. The five built in: all customers, affected customers (open orders, or invoices
of the last N days), key accounts, suppliers, staff. Another app (the plan's contact tree)
adds its own the same way.

`select` turns people into one target per channel and address: addresses normalised (email
lower-cased, phone numbers as +countrycode…), duplicates dropped, opt-outs respected, key
accounts flagged "call, don't email" moved from email to the call list — and counts each,
so the page can say who will be told before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from fallback.accounts.models import Membership, Organisation
from fallback.comms.models import Channel, ChannelKind, CommsSettings, KeyAccount, OptOut
from fallback.desk import lookup
from fallback.replica import history

EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PHONE_DIGITS = 7
# Country calling codes by the region of the organisation's locale, for national numbers
# ("01234 567890" in en-GB is +441234567890).
CALLING_CODES = {
    "GB": "44",
    "IE": "353",
    "US": "1",
    "CA": "1",
    "AU": "61",
    "NZ": "64",
    "ZA": "27",
    "DE": "49",
    "AT": "43",
    "CH": "41",
    "FR": "33",
    "BE": "32",
    "NL": "31",
    "LU": "352",
    "ES": "34",
    "PT": "351",
    "IT": "39",
    "DK": "45",
    "SE": "46",
    "NO": "47",
    "FI": "358",
    "PL": "48",
    "CZ": "420",
    "GR": "30",
    "IN": "91",
    "SG": "65",
}


@dataclass(frozen=True)
class Person:
    """Someone an audience includes, with whatever addresses the records give."""

    name: str
    key: str  # what they are in Fallback: "customer:C1", "contact:K3", "user:5"…
    email: str = ""
    phone: str = ""
    customer_key: str = ""  # the customer they belong to (for key accounts)


@dataclass(frozen=True)
class AudienceKind:
    key: str
    label: str
    help: str
    wording: str  # which default templates: "customers", "suppliers" or "staff"
    people: Callable[[Organisation, CommsSettings, date], Iterable[Person]]
    greeting: str = "customer"  # {{ customer_name }} when a person has no name
    # False: not offered for notices (the status page's subscribers get status updates,
    # each with its unsubscribe link, through fallback.comms.subscribers).
    listed: bool = True


_REGISTRY: dict[str, AudienceKind] = {}


def register(kind: AudienceKind) -> AudienceKind:
    _REGISTRY[kind.key] = kind
    return kind


def registered() -> list[AudienceKind]:
    return list(_REGISTRY.values())


def kind(key: str) -> AudienceKind:
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise ValueError(f"unknown audience {key!r} (known: {known})") from None


def choices() -> list[tuple[str, str]]:
    return [(k.key, k.label) for k in registered()]


def composable(key: str) -> AudienceKind:
    """An audience a notice may be composed for; ValueError otherwise."""
    found = kind(key)
    if not found.listed:
        raise ValueError(f"{found.label} get status page updates, not notices")
    return found


# ------------------------------------------------------------------ addresses


def normal_email(value: Any) -> str:
    text = str(value or "").strip().strip("<>").lower()
    return text if EMAIL_SHAPE.match(text) else ""


def calling_code(org: Organisation) -> str:
    region = (org.locale or "").replace("_", "-").partition("-")[2].upper()
    return CALLING_CODES.get(region, "")


def normal_phone(value: Any, country_code: str = "") -> str:
    """'+44 (0)1234 567-890', '0044 1234 567890' and (in the UK) '01234 567890' all
    become '+441234567890'; '' when it is not a phone number."""
    text = re.sub(r"\s*(?:ext\.?|x)\s*\d+\s*$", "", str(value or "").strip(), flags=re.I)
    if not text or re.search(r"[A-Za-z@]", text):
        return ""
    plus = text.startswith("+")
    text = text.replace("(0)", "")
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return ""
    if plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if country_code == "1" and len(digits) == 10:
        return "+1" + digits
    if digits.startswith("0") and country_code:
        return f"+{country_code}{digits[1:]}"
    return digits


def normal_address(value: str, channel: str, country_code: str = "") -> str:
    if channel == ChannelKind.EMAIL:
        return normal_email(value)
    if channel == ChannelKind.SMS:
        return normal_phone(value, country_code)
    return str(value).strip()


# ------------------------------------------------------------------ the built-in kinds


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def _inactive(data: dict[str, Any]) -> bool:
    return data.get("active") is False


def _customer_person(key: str, name: str, data: dict[str, Any]) -> Person:
    return Person(
        name=_text(data.get("contact_name")) or _text(data.get("name")) or name,
        key=f"customer:{key}",
        email=_text(data.get("email")),
        phone=_text(data.get("phone")),
        customer_key=key,
    )


def _customers(org: Organisation, keys: set[str] | None = None) -> Iterator[Person]:
    """Customers (and the contacts at them) of the replica; only `keys` if given."""
    active: set[str] = set()
    records = history.current(org, "customer").only("key", "name", "data").order_by("name", "pk")
    for record in records.iterator(chunk_size=2000):
        data = record.data or {}
        if _inactive(data) or (keys is not None and record.key not in keys):
            continue
        active.add(record.key)
        yield _customer_person(record.key, record.name, data)
    contacts = history.current(org, "contact").only("key", "name", "data").order_by("name", "pk")
    for record in contacts.iterator(chunk_size=2000):
        data = record.data or {}
        customer = _text(data.get("customer"))
        if customer and customer in active:
            yield Person(
                name=_text(data.get("name")) or record.name,
                key=f"contact:{record.key}",
                email=_text(data.get("email")),
                phone=_text(data.get("phone")),
                customer_key=customer,
            )


def all_customers(org: Organisation, settings: CommsSettings, today: date) -> Iterator[Person]:
    return _customers(org)


def affected_keys(org: Organisation, window_days: int, today: date) -> set[str]:
    """Customers with an open order, or an invoice issued in the last `window_days`."""
    keys = {row.customer_key for row in lookup.open_orders(org) if row.customer_key}
    since = (today - timedelta(days=window_days)).isoformat()
    invoices = history.current(org, "invoice").only("data")
    for record in invoices.iterator(chunk_size=2000):
        data = record.data or {}
        issued = _text(data.get("issue_date"))[:10]
        customer = _text(data.get("customer"))
        if customer and issued and issued >= since:
            keys.add(customer)
    return keys


def affected_customers(org: Organisation, settings: CommsSettings, today: date) -> Iterator[Person]:
    return _customers(org, affected_keys(org, settings.affected_window_days, today))


def _customer_data(org: Organisation, keys: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for start in range(0, len(keys), 500):
        records = history.current(org, "customer").filter(key__in=keys[start : start + 500])
        for record in records.only("key", "name", "data"):
            found[record.key] = (record.name, record.data or {})
    return found


def key_accounts(org: Organisation, settings: CommsSettings, today: date) -> Iterator[Person]:
    accounts = list(KeyAccount.objects.filter(org=org))
    replica = _customer_data(org, [a.customer_key for a in accounts])
    for account in accounts:
        name, data = replica.get(account.customer_key, (account.name, {}))
        yield Person(
            name=account.contact_name
            or _text(data.get("contact_name"))
            or account.name
            or _text(data.get("name"))
            or name,
            key=f"customer:{account.customer_key}",
            email=_text(data.get("email")),
            phone=account.phone or _text(data.get("phone")),
            customer_key=account.customer_key,
        )


def suppliers(org: Organisation, settings: CommsSettings, today: date) -> Iterator[Person]:
    active: set[str] = set()
    records = history.current(org, "supplier").only("key", "name", "data").order_by("name", "pk")
    for record in records.iterator(chunk_size=2000):
        data = record.data or {}
        if _inactive(data):
            continue
        active.add(record.key)
        yield Person(
            name=_text(data.get("contact_name")) or _text(data.get("name")) or record.name,
            key=f"supplier:{record.key}",
            email=_text(data.get("email")),
            phone=_text(data.get("phone")),
        )
    contacts = history.current(org, "contact").only("key", "name", "data").order_by("name", "pk")
    for record in contacts.iterator(chunk_size=2000):
        data = record.data or {}
        if _text(data.get("supplier")) in active:
            yield Person(
                name=_text(data.get("name")) or record.name,
                key=f"contact:{record.key}",
                email=_text(data.get("email")),
                phone=_text(data.get("phone")),
            )


def staff(org: Organisation, settings: CommsSettings, today: date) -> Iterator[Person]:
    members = Membership.objects.filter(org=org).select_related("user").order_by("user__email")
    for m in members:
        user = m.user
        if not user.is_active:
            continue
        yield Person(
            name=user.first_name or user.get_full_name(),
            key=f"user:{user.pk}",
            email=user.email,
        )


register(
    AudienceKind(
        "all_customers",
        "All customers",
        "Every active customer in the replica, and the contacts at them.",
        "customers",
        all_customers,
    )
)
register(
    AudienceKind(
        "affected_customers",
        "Affected customers",
        "Customers with an open order, or an invoice from the last days (see settings).",
        "customers",
        affected_customers,
    )
)
register(
    AudienceKind(
        "key_accounts",
        "Key accounts",
        "The customers you marked as key accounts; those marked “call, don't email” go on "
        "the call list.",
        "customers",
        key_accounts,
    )
)
register(
    AudienceKind(
        "suppliers",
        "Suppliers",
        "Every active supplier in the replica, and the contacts at them.",
        "suppliers",
        suppliers,
    )
)
register(
    AudienceKind(
        "staff",
        "Staff",
        "Everyone who is a member of this organisation in Fallback.",
        "staff",
        staff,
        greeting="colleague",
    )
)


# ------------------------------------------------------------------ selection


@dataclass(frozen=True)
class Target:
    """One message to send: a channel and a normalised address."""

    channel: str
    address: str
    name: str = ""
    key: str = ""
    via_id: int | None = None
    unsubscribe_url: str = ""
    customer_key: str = ""  # the customer they belong to (a follow-up's compensation)


@dataclass(frozen=True)
class Call:
    """A key account to phone rather than email."""

    customer_key: str
    name: str
    contact: str
    phone: str
    note: str
    key_account_id: int | None


@dataclass
class Counts:
    people: int = 0
    no_address: int = 0
    duplicates: int = 0
    opted_out: int = 0
    to_call: int = 0
    targets: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Selection:
    audience: str
    targets: list[Target] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "audience": self.audience,
            "channels": {c: n.as_dict() for c, n in self.counts.items()},
            "calls": len(self.calls),
            "problems": list(self.problems),
        }


def opted_out(org: Organisation) -> dict[str, set[str]]:
    """channel ('' for all) -> addresses that asked not to be sent notices."""
    found: dict[str, set[str]] = {}
    for address, channel in OptOut.objects.filter(org=org).values_list("address", "channel"):
        found.setdefault(channel, set()).add(address)
    return found


def _calls(org: Organisation, people: Sequence[Person], everyone: bool) -> list[Call]:
    """Key accounts among `people` (all key accounts when `everyone`) flagged "call, don't
    email" — or all of them for the key-accounts audience."""
    accounts = {a.customer_key: a for a in KeyAccount.objects.filter(org=org)}
    if not accounts:
        return []
    seen: set[str] = set()
    calls = []
    replica = _customer_data(org, sorted(accounts))
    for person in people:
        account = accounts.get(person.customer_key)
        if account is None or account.customer_key in seen:
            continue
        if not (everyone or account.call_dont_email):
            continue
        seen.add(account.customer_key)
        name, data = replica.get(account.customer_key, (account.name, {}))
        calls.append(
            Call(
                customer_key=account.customer_key,
                name=account.name or _text(data.get("name")) or name or account.customer_key,
                contact=account.contact_name or _text(data.get("contact_name")),
                phone=account.phone or _text(data.get("phone")),
                note=account.note,
                key_account_id=account.pk,
            )
        )
    return sorted(calls, key=lambda c: c.name.lower())


def select(
    org: Organisation,
    audience: str,
    channels: Sequence[str],
    settings: CommsSettings | None = None,
    today: date | None = None,
) -> Selection:
    """The targets of `audience` on `channels`, with counts of who is left out and why."""
    from fallback.comms.preferences import settings_for

    settings = settings or settings_for(org)
    today = today or timezone.localdate()
    audience_kind = kind(audience)
    people = list(audience_kind.people(org, settings, today))
    selection = Selection(audience=audience)
    country = calling_code(org)
    blocked = opted_out(org)
    call_only = {
        a.customer_key
        for a in KeyAccount.objects.filter(org=org, call_dont_email=True).only("customer_key")
    }
    selection.calls = _calls(org, people, everyone=audience == "key_accounts")
    sms_channel = (
        Channel.objects.filter(org=org, kind=ChannelKind.SMS, enabled=True).order_by("pk").first()
    )
    for channel in channels:
        counts = Counts(people=len(people))
        selection.counts[channel] = counts
        if channel == ChannelKind.CHAT:
            rooms = Channel.objects.filter(org=org, kind=ChannelKind.CHAT, enabled=True)
            for room in rooms.order_by("name"):
                selection.targets.append(
                    Target(channel, f"chat:{room.pk}", room.name, f"channel:{room.pk}", room.pk)
                )
                counts.targets += 1
            if not counts.targets:
                selection.problems.append("No chat channel is set up: add one in settings.")
            continue
        if channel == ChannelKind.SMS and sms_channel is None:
            selection.problems.append("No SMS channel is set up: add one in settings.")
            continue
        refused = blocked.get(channel, set()) | blocked.get("", set())
        seen: set[str] = set()
        for person in people:
            if channel == ChannelKind.EMAIL and person.customer_key in call_only:
                counts.to_call += 1
                continue
            raw = person.email if channel == ChannelKind.EMAIL else person.phone
            address = normal_address(raw, channel, country)
            if not address:
                counts.no_address += 1
            elif address in seen:
                counts.duplicates += 1
            elif address in refused:
                counts.opted_out += 1
                seen.add(address)
            else:
                seen.add(address)
                via = sms_channel.pk if channel == ChannelKind.SMS and sms_channel else None
                selection.targets.append(
                    Target(
                        channel,
                        address,
                        person.name,
                        person.key,
                        via,
                        customer_key=person.customer_key,
                    )
                )
                counts.targets += 1
    return selection


def drill_targets(
    org: Organisation, settings: CommsSettings, channels: Sequence[str]
) -> list[Target]:
    """The drill's test recipients on `channels`: email addresses for email, phone numbers
    for SMS; chat rooms are never part of a drill (a room may hold real customers)."""
    country = calling_code(org)
    sms_channel = (
        Channel.objects.filter(org=org, kind=ChannelKind.SMS, enabled=True).order_by("pk").first()
    )
    targets: list[Target] = []
    seen: set[tuple[str, str]] = set()
    for line in settings.drill_recipients.splitlines():
        line = line.strip()
        if not line:
            continue
        if "@" in line:
            channel, address = ChannelKind.EMAIL.value, normal_email(line)
        else:
            channel, address = ChannelKind.SMS.value, normal_phone(line, country)
        if not address or channel not in channels or (channel, address) in seen:
            continue
        if channel == ChannelKind.SMS and sms_channel is None:
            continue
        seen.add((channel, address))
        via = sms_channel.pk if channel == ChannelKind.SMS and sms_channel else None
        targets.append(Target(channel, address, "Drill recipient", "drill", via))
    return targets


def drill_addresses(org: Organisation, settings: CommsSettings) -> set[str]:
    country = calling_code(org)
    found = set()
    for line in settings.drill_recipients.splitlines():
        line = line.strip()
        address = normal_email(line) if "@" in line else normal_phone(line, country)
        if address:
            found.add(address)
    return found
