"""Sensible defaults: what a new plan starts with, and the contacts Fallback suggests.

Starting a plan seeds the activities most small businesses have, a few risks (one of them
"unthinkable"), the four standard scenarios with their procedure steps and "system back up"
checklists, and the incident-lead role — each marked "suggested" until a person confirms or
removes it, so nothing is taken for granted. Contacts are only suggested (from the members,
the replica's suppliers and busiest customers, and the vendors of the monitored systems):
a person picks which to add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from fallback.accounts.models import Membership, Organisation
from fallback.desk.reconciliation import DEFAULT_CHECKLIST
from fallback.monitor.models import System, SystemKind
from fallback.plans.durations import DAY, HOUR, WEEK
from fallback.plans.models import ContactKind, Plan, ScenarioKind
from fallback.replica import history
from fallback.replica.models import Record

INCIDENT_LEAD = "Incident lead"
KEY_CUSTOMERS = 10
SUPPLIERS = 20
_PHONE = re.compile(r"^\+?[\d\s().-]{6,}$")
_LABEL = re.compile(r"^[^\W\d][\w ]*:\s*")  # "Support: " before a number
_NOTE = re.compile(r"\s*\([^)]*[^\d\s)][^)]*\)\s*$")  # "(24 h)" after it, not "(0)"
_LINE_KINDS = {SystemKind.INTERNET, SystemKind.PHONE}


@dataclass(frozen=True)
class ActivitySeed:
    name: str
    description: str
    kinds: frozenset[str]
    data: str
    mtpd: int
    rto: int
    rpo: int | None
    core: bool = False  # linked to the business's only system when no kind matches


ACTIVITIES = (
    ActivitySeed(
        "Taking orders",
        "Customers order by phone, email or the web shop; we confirm the price and when it "
        "will arrive.",
        frozenset({SystemKind.CRM, SystemKind.ECOMMERCE}),
        "Customers and their contacts, products and prices, open orders",
        mtpd=DAY,
        rto=4 * HOUR,
        rpo=HOUR,
        core=True,
    ),
    ActivitySeed(
        "Invoicing",
        "Invoices for what was delivered, and chasing what is owed.",
        frozenset({SystemKind.ACCOUNTING}),
        "Customers, delivered orders, prices and tax numbers",
        mtpd=WEEK,
        rto=3 * DAY,
        rpo=DAY,
        core=True,
    ),
    ActivitySeed(
        "Dispatch",
        "Picking, packing and delivering orders on time.",
        frozenset({SystemKind.CRM, SystemKind.ECOMMERCE}),
        "Open orders, delivery addresses, stock",
        mtpd=2 * DAY,
        rto=DAY,
        rpo=4 * HOUR,
        core=True,
    ),
    ActivitySeed(
        "Payroll",
        "Paying staff on time.",
        frozenset({SystemKind.ACCOUNTING}),
        "Staff, hours worked, pay rates",
        mtpd=WEEK,
        rto=3 * DAY,
        rpo=DAY,
    ),
    ActivitySeed(
        "Answering the phone",
        "Customers and suppliers can reach us.",
        frozenset({SystemKind.PHONE}),
        "Who to put calls through to; customers' phone numbers",
        mtpd=4 * HOUR,
        rto=HOUR,
        rpo=None,
    ),
)


@dataclass(frozen=True)
class RiskSeed:
    title: str
    likelihood: int
    severity: int
    treatment: str
    unthinkable: bool = False


def risk_seeds(main: str) -> list[RiskSeed]:
    return [
        RiskSeed(
            f"{main} is down for a week (ransomware or a failure at the host)",
            2,
            5,
            "Keep the replica within its RPO, work from the fallback desk, follow the "
            "“system lost” scenario, and claim the SLA credit afterwards.",
            unthinkable=True,
        ),
        RiskSeed(
            "The internet line is down for a day",
            3,
            3,
            "A mobile hotspot in the office; the “line down” scenario re-routes the calls.",
        ),
        RiskSeed(
            "A key person is off sick or away during an outage",
            3,
            3,
            "An alternate for every role; procedures written down, not only in people's heads.",
        ),
        RiskSeed(
            "The office cannot be used (fire, flood, no power)",
            1,
            4,
            "Work from home or another site; the binder is kept off-site as well.",
        ),
    ]


@dataclass(frozen=True)
class StepSeed:
    action: str
    place: str = ""
    method: str = ""
    minutes: int | None = None
    lead: bool = True  # done by the incident lead


@dataclass(frozen=True)
class ScenarioSeed:
    kind: str
    title: str
    trigger: str
    details: str
    steps: tuple[StepSeed, ...]
    back_up: tuple[str, ...]


SCENARIOS = (
    ScenarioSeed(
        ScenarioKind.SYSTEM_LOST,
        "A system or its data is lost",
        "Fallback declares an outage (down for 30 minutes) or a person confirms one; or "
        "records are found missing or wrong.",
        "Work carries on at the fallback desk from the replica until the system is back.",
        (
            StepSeed(
                "Confirm the outage so that fallback mode switches on",
                "Fallback → Incidents",
                "Open the incident and confirm it; the desk switches to fallback mode.",
                10,
            ),
            StepSeed(
                "Call the vendor's support line and ask when it will be back",
                "Phone",
                "The number and our account number are under Contacts → Vendor support.",
                15,
            ),
            StepSeed(
                "Tell staff to work from the fallback desk until further notice",
                "Office, or by phone",
                "Call or message everyone on the staff contact list.",
                10,
            ),
            StepSeed(
                "Tell key customers what is happening and how to order meanwhile",
                "Phone and email",
                "Call the key customers on the contact list; email the others.",
                30,
            ),
            StepSeed(
                "Keep quoting, taking orders and invoicing at the desk",
                "Fallback → Desk",
                "Search the replica; every document gets a provisional number.",
                None,
                lead=False,
            ),
        ),
        DEFAULT_CHECKLIST,
    ),
    ScenarioSeed(
        ScenarioKind.PREMISES,
        "The office is unavailable",
        "The office cannot be used or reached: fire, flood, no power, no access.",
        "Where we work instead: from home, or another site.",
        (
            StepSeed("Decide where to work instead and tell staff", "Phone", "", 15),
            StepSeed("Take the grab binder and the laptops that run the desk", "Office", "", 10),
            StepSeed(
                "Divert the office phone number to a mobile",
                "Phone provider",
                "Call the provider (Contacts → Vendor support) or use its web portal.",
                10,
            ),
            StepSeed(
                "Tell customers and suppliers about deliveries and collections",
                "Phone and email",
                "",
                30,
            ),
        ),
        (
            "Check the office is safe and that power, internet and phones work.",
            "Move the phone diversion back to the office.",
            "Bring back the binder and any paper forms filled in; enter them at the desk.",
            "Tell staff, customers and suppliers we are back in the office.",
        ),
    ),
    ScenarioSeed(
        ScenarioKind.PEOPLE,
        "Key people are unavailable",
        "Someone who holds a role cannot be reached for half a day, or is away for longer.",
        "The knowledge in their heads, written down: where the passwords are kept, how payroll "
        "is run, who our contacts at the suppliers are.",
        (
            StepSeed(
                "Call the role's first alternate and hand the role over",
                "Phone",
                "Roles and their alternates are in the plan.",
                10,
            ),
            StepSeed(
                "Follow the written procedures; note anything that was missing",
                "Fallback → Plan",
                "",
                None,
                lead=False,
            ),
        ),
        (
            "Hand back: tell them what was done and what is still open.",
            "Add what was missing to the plan.",
        ),
    ),
    ScenarioSeed(
        ScenarioKind.LINE_DOWN,
        "The internet or phone line is down",
        "Fallback's canary checks see our own internet is down, or the phones are dead.",
        "How calls are re-routed: the office number is diverted to a mobile, by the phone "
        "provider or from its web portal on a phone.",
        (
            StepSeed(
                "Check the router and the provider's status page, then call its fault line",
                "Office",
                "The fault line and account number are under Contacts → Vendor support.",
                15,
            ),
            StepSeed(
                "Divert the office number to the mobile of whoever answers the phone",
                "Phone provider",
                "",
                10,
            ),
            StepSeed("Switch the computers that must work to a mobile hotspot", "Office", "", 10),
            StepSeed("Tell customers if replies will be slow", "Phone", "", 15),
        ),
        (
            "Check internet and phones work from every desk.",
            "Cancel the call diversion.",
            "Switch off the hotspot.",
            "Tell staff the line is back.",
        ),
    ),
)

INCIDENT_LEAD_DUTIES = (
    "Confirms the outage, decides when to switch to fallback and back, speaks for the "
    "business to customers and the vendor, and keeps the timeline."
)


# ------------------------------------------------------------------ systems


def systems_for(org: Organisation, seed: ActivitySeed) -> list[System]:
    systems = list(System.objects.filter(org=org))
    matched = [s for s in systems if s.kind in seed.kinds]
    if matched or not seed.core:
        return matched
    # A one-system business: its only system (of any other kind) carries the core work.
    business = [s for s in systems if s.kind not in _LINE_KINDS]
    return business if len(business) == 1 else []


def main_system_name(org: Organisation) -> str:
    systems = [s for s in System.objects.filter(org=org) if s.kind not in _LINE_KINDS]
    critical = [s for s in systems if s.criticality == "critical"]
    chosen = (critical or systems)[:1]
    return chosen[0].name if chosen else "Our main system"


def scenario_systems(org: Organisation, kind: str) -> list[System]:
    systems = list(System.objects.filter(org=org))
    if kind == ScenarioKind.SYSTEM_LOST:
        return [s for s in systems if s.kind not in _LINE_KINDS]
    if kind == ScenarioKind.LINE_DOWN:
        return [s for s in systems if s.kind in _LINE_KINDS]
    return []


# ----------------------------------------------------------- suggested contacts


@dataclass(frozen=True)
class Suggestion:
    token: str  # identifies it in a form: kind and where it comes from
    kind: str
    name: str
    why: str
    fields: dict[str, Any] = field(default_factory=dict)


def _taken(plan: Plan) -> tuple[set[tuple[str, str]], set[str], set[int], set[int]]:
    names, keys, systems, members = set(), set(), set(), set()
    for c in plan.contacts.all():
        names.add((c.kind, c.name.casefold()))
        if c.replica_key:
            keys.add(f"{c.kind}:{c.replica_key}")
        if c.system_id:
            systems.add(c.system_id)
        if c.member_id:
            members.add(c.member_id)
    return names, keys, systems, members


def _bare_number(line: str) -> str:
    """ "Support: 0800 000 4242 (24 h)" -> "0800 000 4242": vendors label their lines."""
    return _NOTE.sub("", _LABEL.sub("", line))


def _split_vendor_lines(text: str) -> tuple[list[str], str, list[str]]:
    phones, email, other = [], "", []
    for line in (s.strip() for s in text.splitlines()):
        if not line:
            continue
        if "@" in line and " " not in line and not email:
            email = line.removeprefix("mailto:")
        elif _PHONE.match(_bare_number(line)):
            phones.append(line)
        else:
            other.append(line)
    return phones, email, other


def _record_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "phones": str(data.get("phone") or "").strip(),
        "email": str(data.get("email") or "").strip(),
        "organisation": "",
    }


def key_customer_records(org: Organisation, limit: int = KEY_CUSTOMERS) -> list[Record]:
    """The customers with the most current orders and invoices in the replica."""
    busiest = (
        history.current(org)
        .filter(entity__in=["order", "invoice"])
        .values("data__customer")
        .annotate(n=Count("id"))
        .order_by("-n")[: limit * 2]
    )
    keys = [str(row["data__customer"]) for row in busiest if row["data__customer"]]
    found = {r.key: r for r in history.current(org, "customer").filter(key__in=keys)}
    return [found[k] for k in keys if k in found][:limit]


def suggestions(plan: Plan) -> list[Suggestion]:
    """Contacts worth adding that the plan does not have yet."""
    org = plan.org
    names, keys, systems, members = _taken(plan)
    found: list[Suggestion] = []

    def fresh(kind: str, name: str) -> bool:
        return bool(name) and (kind, name.casefold()) not in names

    for m in Membership.objects.filter(org=org).select_related("user").order_by("user__email"):
        user = m.user
        name = user.get_full_name() or user.email
        if user.pk in members or not fresh(ContactKind.STAFF, name):
            continue
        found.append(
            Suggestion(
                f"staff:u{user.pk}",
                ContactKind.STAFF,
                name,
                f"member ({m.get_role_display().lower()})",
                {"email": user.email, "member": user},
            )
        )
    for kind, records, why in (
        (ContactKind.KEY_CUSTOMER, key_customer_records(org), "busiest customer in the replica"),
        (
            ContactKind.SUPPLIER,
            list(history.current(org, "supplier").order_by("name")[:SUPPLIERS]),
            "supplier in the replica",
        ),
    ):
        for r in records:
            name = r.name or r.key
            if f"{kind}:{r.key}" in keys or not fresh(kind, name):
                continue
            data = r.data or {}
            fields = _record_fields(data)
            fields["replica_key"] = r.key
            fields["account_number"] = str(data.get("account_number") or "").strip()
            contact = str(data.get("contact_name") or "").strip()
            fields["notes"] = f"Contact: {contact}" if contact else ""
            found.append(Suggestion(f"{kind}:r:{r.key}", kind, name, why, fields))
    for system in System.objects.filter(org=org).order_by("name"):
        if system.pk in systems or not (system.vendor or system.vendor_contacts):
            continue
        name = f"{system.vendor or system.name} support"
        if not fresh(ContactKind.VENDOR_SUPPORT, name):
            continue
        phones, email, other = _split_vendor_lines(system.vendor_contacts)
        if system.status_page_url:
            other.append(f"Status page: {system.status_page_url}")
        found.append(
            Suggestion(
                f"vendor_support:s{system.pk}",
                ContactKind.VENDOR_SUPPORT,
                name,
                f"vendor of {system.name}",
                {
                    "organisation": system.vendor,
                    "phones": "\n".join(phones),
                    "email": email,
                    "account_number": system.account_number,
                    "notes": "\n".join(other),
                    "system": system,
                },
            )
        )
    return found
