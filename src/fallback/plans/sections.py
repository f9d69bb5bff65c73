"""The plan's sections and how complete each is: what is done, what is still missing (each
with the page that fixes it), and the first missing thing — where "Continue" goes.

A section is complete when nothing is missing. Suggested items count as missing until a
person confirms or removes them: nothing in the plan is taken for granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from fallback.accounts.models import Membership
from fallback.monitor.models import System
from fallback.plans import staleness
from fallback.plans.models import Activity, ContactKind, Plan, ScenarioKind
from fallback.replica import history


@dataclass(frozen=True)
class Missing:
    text: str
    url: str


@dataclass
class Section:
    key: str
    title: str
    intro: str
    url: str
    done: int = 0  # checks met
    total: int = 0
    missing: list[Missing] = field(default_factory=list)
    stale: list[staleness.Part] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def fraction(self) -> float:
        if self.complete:
            return 1.0
        return self.done / self.total if self.total else 0.0

    def need(self, ok: bool, text: str, url: str) -> None:
        """One check of this section: met, or missing with the page that fixes it."""
        self.total += 1
        if ok:
            self.done += 1
        else:
            self.missing.append(Missing(text, url))


TITLES = {
    "activities": (
        "What matters",
        "The work that keeps the business going, what it depends on, and how long it can stop.",
    ),
    "risks": (
        "Risks",
        "What could stop the business, how likely and how bad — including the “unthinkable”.",
    ),
    "scenarios": (
        "Scenarios and procedures",
        "For each way the business can stop: when the procedure starts, who does what, and "
        "the checklist for when it is over.",
    ),
    "roles": (
        "Roles",
        "Who leads during an outage and who stands in when they cannot.",
    ),
    "contacts": (
        "Contacts",
        "Staff, key customers, suppliers and vendors' support lines — each checked regularly.",
    ),
}
ORDER = list(TITLES)


def _url(plan: Plan, name: str, **kwargs: object) -> str:
    return reverse(f"plans:{name}", kwargs={"org_slug": plan.org.slug, **kwargs})


def depended_on(plan: Plan) -> list[System]:
    """The systems the plan's confirmed activities depend on."""
    links = Activity.systems.through.objects.filter(
        activity__plan=plan, activity__suggested=False
    ).values("system_id")
    return list(System.objects.filter(org_id=plan.org_id, pk__in=links).order_by("name"))


def _activities(plan: Plan, section: Section) -> None:
    activities = list(plan.activities.prefetch_related("impacts", "systems"))
    section.need(
        any(not a.suggested for a in activities),
        "Say which work keeps the business going: confirm a suggested activity or add one",
        _url(plan, "activities"),
    )
    for a in activities:
        edit = _url(plan, "activity", pk=a.pk)
        if a.suggested:
            section.need(False, f"Confirm or remove the suggested activity “{a.name}”", edit)
            continue
        section.need(
            a.mtpd_minutes is not None and a.rto_minutes is not None,
            f"Say how long “{a.name}” can stop (MTPD) and how fast it must resume (RTO)",
            edit,
        )
        if a.systems.all():
            section.need(
                a.rpo_minutes is not None,
                f"Say how old the data of “{a.name}” may be when it resumes (RPO)",
                edit,
            )
        section.need(
            any(i.money is not None or i.customers is not None for i in a.impacts.all()),
            f"Estimate what a stop of “{a.name}” costs, in money or customers",
            edit,
        )
        section.need(a.owner_id is not None, f"Name who owns “{a.name}”", edit)


def _risks(plan: Plan, section: Section) -> None:
    risks = list(plan.risks.all())
    confirmed = [r for r in risks if not r.suggested]
    section.need(
        bool(confirmed), "Name the risks: confirm a suggested one or add one", _url(plan, "risks")
    )
    for r in risks:
        edit = _url(plan, "risk", pk=r.pk)
        if r.suggested:
            section.need(False, f"Confirm or remove the suggested risk “{r.title}”", edit)
            continue
        section.need(bool(r.treatment.strip()), f"Say what we do about “{r.title}”", edit)
        if r.unthinkable:
            section.need(
                r.contrarian_id is not None,
                f"Name the contrarian who assumes “{r.title}” will happen",
                edit,
            )
    section.need(
        any(r.unthinkable for r in confirmed),
        "Name one “unthinkable” risk, and someone to play the contrarian who assumes it happens",
        _url(plan, "risks"),
    )


def _scenarios(plan: Plan, section: Section) -> None:
    scenarios = list(plan.scenarios.prefetch_related("systems", "steps", "back_up_steps"))
    confirmed = [s for s in scenarios if not s.suggested]
    section.need(
        bool(confirmed),
        "Confirm a suggested scenario or add one",
        _url(plan, "scenarios"),
    )
    for s in scenarios:
        edit = _url(plan, "scenario", pk=s.pk)
        if s.suggested:
            section.need(False, f"Confirm or remove the suggested scenario “{s.title}”", edit)
            continue
        section.need(bool(s.trigger.strip()), f"Say what triggers “{s.title}”", edit)
        section.need(bool(s.steps.all()), f"Write the procedure steps of “{s.title}”", edit)
        section.need(
            bool(s.back_up_steps.all()),
            f"Write the “back to normal” checklist of “{s.title}”",
            edit,
        )
        if s.kind == ScenarioKind.SYSTEM_LOST:
            section.need(bool(s.systems.all()), f"Choose the systems “{s.title}” is about", edit)
    covered = {
        system.pk
        for s in confirmed
        if s.kind == ScenarioKind.SYSTEM_LOST
        for system in s.systems.all()
    }
    for system in depended_on(plan):
        section.need(
            system.pk in covered,
            f"No scenario says what to do when {system.name} is lost",
            _url(plan, "scenarios"),
        )


def _roles(plan: Plan, section: Section) -> None:
    roles = list(
        plan.roles.select_related("holder_user", "holder_contact").prefetch_related("alternates")
    )
    members = set(Membership.objects.filter(org_id=plan.org_id).values_list("user_id", flat=True))
    lead = next((r for r in roles if r.is_incident_lead), None)
    section.need(lead is not None, "Name the incident lead role", _url(plan, "roles"))
    for r in roles:
        edit = _url(plan, "role", pk=r.pk)
        holder_gone = r.holder_user_id is not None and r.holder_user_id not in members
        section.need(
            (r.holder_user_id is not None or r.holder_contact_id is not None) and not holder_gone,
            f"Say who is the {r.name.lower()}"
            + (" (the holder is no longer a member)" if holder_gone else ""),
            edit,
        )
        section.need(bool(r.alternates.all()), f"Name who stands in for the {r.name.lower()}", edit)


def _contacts(plan: Plan, section: Section) -> None:
    contacts = list(plan.contacts.all())
    kinds = {c.kind for c in contacts}
    url = _url(plan, "contacts")
    section.need(ContactKind.STAFF in kinds, "Add the staff to the contact tree", url + "#staff")
    if history.current(plan.org, "customer").exists():
        section.need(
            ContactKind.KEY_CUSTOMER in kinds,
            "Add the key customers to call first",
            url + "#key_customer",
        )
    if history.current(plan.org, "supplier").exists():
        section.need(ContactKind.SUPPLIER in kinds, "Add the suppliers", url + "#supplier")
    vendors = {c.system_id for c in contacts if c.kind == ContactKind.VENDOR_SUPPORT}
    for system in depended_on(plan):
        section.need(
            system.pk in vendors,
            f"Add the support line of {system.name}'s vendor",
            url + "#vendor_support",
        )
    for c in contacts:
        section.need(
            bool(c.phone_list or c.email),
            f"Add a phone number or email for {c.name}",
            _url(plan, "contact", pk=c.pk),
        )


CHECKS = {
    "activities": _activities,
    "risks": _risks,
    "scenarios": _scenarios,
    "roles": _roles,
    "contacts": _contacts,
}


def sections(plan: Plan, stale: list[staleness.Part] | None = None) -> list[Section]:
    stale = staleness.stale_parts(plan) if stale is None else stale
    found = []
    for key in ORDER:
        title, intro = TITLES[key]
        section = Section(key, title, intro, _url(plan, key))
        CHECKS[key](plan, section)
        section.stale = [p for p in stale if p.section == key]
        found.append(section)
    return found


def progress(found: list[Section]) -> int:
    """Percent of the plan written: each section counts the same, partly done counts part."""
    if not found:
        return 0
    return round(100 * sum(s.fraction for s in found) / len(found))


def next_missing(found: list[Section]) -> Missing | None:
    """The first thing missing, in the sections' order: where "Continue" goes."""
    for section in found:
        if section.missing:
            return section.missing[0]
    return None


# Used by the per-item pages to show what that item still lacks.
def missing_for(found: list[Section], url: str) -> list[str]:
    return [m.text for s in found for m in s.missing if m.url == url]
