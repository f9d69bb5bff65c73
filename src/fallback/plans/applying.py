"""Making a plan match its description in the `plan` shape (fallback.plans.spec): for
`fallback apply` and for the API's whole-plan write.

Each list given (activities, risks, scenarios, roles, contacts) is complete: an item not
listed is removed. A list left out is left as it is. Items are matched by name (risks and
scenarios by title, contacts by kind and name, ignoring case); their order is the list's.
Within an item the description is complete too — a field left out is empty — except a
contact's `verified_on` and `verified_by`, which are left as they are (people check
contacts in the web pages; a file written before should not undo that).

The rules are the web pages' (fallback.plans.editing); every change is audited, and the
whole apply makes one plan version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from fallback.accounts.models import Membership, Organisation, User
from fallback.audit.trail import diff
from fallback.audit.trail import record as audit
from fallback.configfile.errors import Loc
from fallback.configfile.registry import Problem, listed_slugs
from fallback.monitor.models import System
from fallback.plans import editing, rpo
from fallback.plans.models import (
    Activity,
    BackUpStep,
    Contact,
    Impact,
    Plan,
    PlanRole,
    ProcedureStep,
    Risk,
    RoleAlternate,
    Scenario,
)
from fallback.plans.snapshot import record_version
from fallback.plans.spec import (
    ActivitySpec,
    ContactSpec,
    PlanSpec,
    RiskSpec,
    RoleSpec,
    ScenarioSpec,
)

MEMBERS = "members"
SYSTEMS = "systems"


class Reporter(Protocol):
    def created(self, text: str) -> None: ...
    def updated(self, text: str) -> None: ...
    def removed(self, text: str) -> None: ...
    def notice(self, text: str) -> None: ...


class PlanRefused(Exception):
    """The description cannot be applied; `loc` points at the value (within the plan)."""

    def __init__(self, loc: Loc, message: str) -> None:
        self.loc = loc
        self.message = message
        super().__init__(message)


def _fold(text: str) -> str:
    return text.strip().casefold()


def is_email(text: str) -> bool:
    return "@" in text and " " not in text.strip()


# ------------------------------------------------------------------ checking


def _duplicates(items: list[Any], key: Any, what: str, where: str) -> Iterator[Problem]:
    first: dict[Any, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        earlier = first.setdefault(k, i)
        if earlier != i:
            name = item.title if hasattr(item, "title") else item.name
            yield (where, i), f"{what} {name!r} is listed twice (also {where}[{earlier}])"


def check_plan(spec: PlanSpec, document: Mapping[str, Any]) -> Iterator[Problem]:
    """Rules across items that the schema cannot say; `document` is the rest of the config
    document (its members and systems, when it lists them)."""
    systems = listed_slugs(document, SYSTEMS) if SYSTEMS in document else None
    members: set[str] | None = None
    if MEMBERS in document:
        members = {str(getattr(m, "email", "")).lower() for m in document.get(MEMBERS) or []}

    def member(loc: Loc, email: str | None) -> Iterator[Problem]:
        if email and members is not None and email.lower() not in members:
            yield loc, f"{email} is not listed under {MEMBERS}"

    def system_refs(loc: Loc, slugs: list[str] | None) -> Iterator[Problem]:
        for j, slug in enumerate(slugs or []):
            if systems is not None and slug not in systems:
                yield (*loc, j), f"no system {slug!r} is listed under {SYSTEMS}"

    for field in ("owner", "contacts_owner", "price_list_owner"):
        yield from member((field,), getattr(spec, field))
    activities = spec.activities or []
    yield from _duplicates(activities, lambda a: _fold(a.name), "activity", "activities")
    for i, a in enumerate(activities):
        problem = editing.rto_problem(a.rto, a.mtpd)
        if problem:
            yield ("activities", i, "rto"), problem
        yield from member(("activities", i, "owner"), a.owner)
        yield from system_refs(("activities", i, "systems"), a.systems)
    risks = spec.risks or []
    yield from _duplicates(risks, lambda r: _fold(r.title), "risk", "risks")
    for i, r in enumerate(risks):
        yield from member(("risks", i, "contrarian"), r.contrarian)
    contacts = spec.contacts or []
    yield from _duplicates(contacts, lambda c: (c.kind, _fold(c.name)), "contact", "contacts")
    contact_names = {_fold(c.name) for c in contacts}
    for i, c in enumerate(contacts):
        problem = editing.email_problem(c.email or "")
        if problem:
            yield ("contacts", i, "email"), problem
        yield from member(("contacts", i, "member"), c.member)
        if c.system and systems is not None and c.system not in systems:
            yield ("contacts", i, "system"), f"no system {c.system!r} is listed under {SYSTEMS}"
    roles = spec.roles or []
    yield from _duplicates(roles, lambda r: _fold(r.name), "role", "roles")
    leads = [i for i, r in enumerate(roles) if r.incident_lead]
    for i in leads[1:]:
        yield (
            ("roles", i, "incident_lead"),
            (f"only one role leads an incident (also roles[{leads[0]}])"),
        )

    def person(loc: Loc, text: str | None) -> Iterator[Problem]:
        if not text:
            return
        if is_email(text):
            yield from member(loc, text)
        elif spec.contacts is not None and _fold(text) not in contact_names:
            yield loc, f"no contact called {text!r} is listed under contacts"

    for i, role in enumerate(roles):
        yield from person(("roles", i, "holder"), role.holder)
        seen: dict[str, int] = {}
        for j, alternate in enumerate(role.alternates or []):
            yield from person(("roles", i, "alternates", j), alternate)
            if role.holder and _fold(alternate) == _fold(role.holder):
                yield ("roles", i, "alternates", j), "holds the role already"
            earlier = seen.setdefault(_fold(alternate), j)
            if earlier != j:
                yield ("roles", i, "alternates", j), f"is listed twice (also alternates[{earlier}])"
    role_names = {_fold(r.name) for r in roles}
    scenarios = spec.scenarios or []
    yield from _duplicates(scenarios, lambda s: _fold(s.title), "scenario", "scenarios")
    for i, s in enumerate(scenarios):
        yield from system_refs(("scenarios", i, "systems"), s.systems)
        for j, step in enumerate(s.steps or []):
            if step.who and spec.roles is not None and _fold(step.who) not in role_names:
                yield (
                    ("scenarios", i, "steps", j, "who"),
                    f"no role called {step.who!r} is listed under roles",
                )


# -------------------------------------------------------------------- apply


class _Applier:
    def __init__(self, org: Organisation, report: Reporter) -> None:
        self.org = org
        self.report = report
        self.users = {
            m.user.email.lower(): m.user
            for m in Membership.objects.filter(org=org).select_related("user")
        }
        self.systems = {s.slug: s for s in System.objects.filter(org=org)}
        self.plan: Plan

    def member(self, loc: Loc, email: str | None) -> User | None:
        if not email:
            return None
        user = self.users.get(email.lower())
        if user is None:
            raise PlanRefused(
                loc, f"{email} is not a member of the organisation (add them under members)"
            )
        return user

    def system_list(self, loc: Loc, slugs: list[str] | None) -> list[System]:
        found = []
        for j, slug in enumerate(slugs or []):
            system = self.systems.get(slug)
            if system is None:
                raise PlanRefused(
                    (*loc, j), f"the organisation has no system {slug!r} (add it under systems)"
                )
            found.append(system)
        return found

    def contact_named(self, loc: Loc, name: str) -> Contact:
        matches = [c for c in self.plan.contacts.all() if _fold(c.name) == _fold(name)]
        if len(matches) > 1:
            staff = [c for c in matches if c.kind == "staff"]
            matches = staff if len(staff) == 1 else matches
        if len(matches) != 1:
            why = "no contact" if not matches else "more than one contact"
            raise PlanRefused(
                loc, f"{why} is called {name!r}; give a member's email or a contact's name"
            )
        return matches[0]

    def person(self, loc: Loc, text: str | None) -> User | Contact | None:
        if not text:
            return None
        if is_email(text):
            return self.member(loc, text)
        return self.contact_named(loc, text)

    # -- reporting and auditing each item

    def _changed(self, noun: str, item: Any, before: dict[str, Any] | None) -> None:
        after = editing._dump(item)
        label = f"plan: {noun} {item}"
        if before is None:
            audit(self.org, f"plans.{noun}.created", item, {k: [None, v] for k, v in after.items()})
            self.report.created(label)
            return
        changes = diff(before, after)
        for key in before.keys() - after.keys():
            changes[key] = [before[key], None]
        if changes:
            audit(self.org, f"plans.{noun}.changed", item, changes)
            self.report.updated(f"{label}: {', '.join(changes)} changed")

    def _remove(self, noun: str, items: Mapping[str, Any], listed: set[str]) -> None:
        for key, item in items.items():
            if key in listed:
                continue
            before = editing._dump(item)
            audit(
                self.org, f"plans.{noun}.removed", item, {k: [v, None] for k, v in before.items()}
            )
            self.report.removed(f"plan: {noun} {item}")
            item.delete()

    def _reordered(self, what: str, items: list[Any], positions: list[int]) -> None:
        if [i.position for i in items] != positions:
            for item, position in zip(items, positions, strict=True):
                if item.position != position:
                    type(item).objects.filter(pk=item.pk).update(position=position)
            self.report.updated(f"plan: {what}: order changed")

    # -- the plan itself

    def owners(self, spec: PlanSpec) -> None:
        changes = {}
        for field in ("owner", "contacts_owner", "price_list_owner"):
            if field not in spec.model_fields_set:
                continue
            user = self.member((field,), getattr(spec, field))
            if getattr(self.plan, field) != user:
                changes[field] = [str(getattr(self.plan, field) or ""), str(user or "")]
                setattr(self.plan, field, user)
                self.report.updated(
                    f"plan: {field}: {changes[field][0] or '—'} → {changes[field][1] or '—'}"
                )
        for field in ("scope", "policy"):
            if field not in spec.model_fields_set:
                continue
            text = (getattr(spec, field) or "").strip()
            if getattr(self.plan, field) != text:
                changes[field] = [getattr(self.plan, field), text]
                setattr(self.plan, field, text)
                self.report.updated(f"plan: {field} changed")
        if changes:
            self.plan.save(update_fields=list(changes))
            audit(self.org, "plans.plan.changed", self.plan, changes)

    def contacts(self, specs: list[ContactSpec]) -> None:
        current = {f"{c.kind}:{_fold(c.name)}": c for c in self.plan.contacts.all()}
        self._remove("contact", current, {f"{s.kind.value}:{_fold(s.name)}" for s in specs})
        for i, s in enumerate(specs):
            loc: Loc = ("contacts", i)
            contact = current.get(f"{s.kind.value}:{_fold(s.name)}")
            before = editing._dump(contact) if contact else None
            contact = contact or Contact(org=self.org, plan=self.plan)
            contact.kind, contact.name = s.kind.value, s.name
            contact.organisation = s.organisation or ""
            contact.phones = "\n".join(s.phones or [])
            contact.email = (s.email or "").strip()
            contact.account_number = s.account_number or ""
            contact.notes = s.notes or ""
            contact.replica_key = s.replica_key or ""
            contact.system = self.system_list((*loc, "system"), [s.system])[0] if s.system else None
            contact.member = self.member((*loc, "member"), s.member)
            if "verified_on" in s.model_fields_set:
                contact.last_verified_on = s.verified_on
            if "verified_by" in s.model_fields_set:
                contact.verified_by = self.member((*loc, "verified_by"), s.verified_by)
            if contact.last_verified_on and contact.last_verified_on > timezone.localdate():
                raise PlanRefused((*loc, "verified_on"), "is in the future")
            contact.save()
            self._changed("contact", contact, before)

    def roles(self, specs: list[RoleSpec]) -> None:
        current = {_fold(r.name): r for r in self.plan.roles.all()}
        self._remove("role", current, {_fold(s.name) for s in specs})
        # The lead moves in two steps, so that two roles never lead at once.
        self.plan.roles.filter(is_incident_lead=True).exclude(
            name__in=[s.name for s in specs if s.incident_lead]
        ).update(is_incident_lead=False)
        saved = []
        for i, s in enumerate(specs):
            loc: Loc = ("roles", i)
            role = current.get(_fold(s.name))
            before = editing._dump(role) if role else None
            role = role or PlanRole(org=self.org, plan=self.plan, position=i + 1)
            role.name, role.duties = s.name, s.duties or ""
            role.is_incident_lead = bool(s.incident_lead)
            holder = self.person((*loc, "holder"), s.holder)
            role.holder_user = holder if isinstance(holder, User) else None
            role.holder_contact = holder if isinstance(holder, Contact) else None
            role.save()
            people = [
                self.person((*loc, "alternates", j), a) for j, a in enumerate(s.alternates or [])
            ]
            role.alternates.all().delete()
            for j, p in enumerate(people, start=1):
                RoleAlternate.objects.create(
                    org=self.org,
                    role=role,
                    position=j,
                    user=p if isinstance(p, User) else None,
                    contact=p if isinstance(p, Contact) else None,
                )
            self._changed("role", role, before)
            saved.append(role)
        self._reordered("roles", saved, list(range(1, len(saved) + 1)))

    def activities(self, specs: list[ActivitySpec]) -> None:
        current = {_fold(a.name): a for a in self.plan.activities.all()}
        self._remove("activity", current, {_fold(s.name) for s in specs})
        saved = []
        for i, s in enumerate(specs):
            loc: Loc = ("activities", i)
            activity = current.get(_fold(s.name))
            before = editing._dump(activity) if activity else None
            activity = activity or Activity(org=self.org, plan=self.plan, position=i + 1)
            activity.name, activity.description = s.name, s.description or ""
            activity.owner = self.member((*loc, "owner"), s.owner)
            activity.people = "\n".join(s.people or [])
            activity.suppliers = "\n".join(s.suppliers or [])
            activity.supplier_keys = list(s.supplier_keys or [])
            activity.data = s.data or ""
            activity.mtpd_minutes, activity.rto_minutes = s.mtpd, s.rto
            activity.rpo_minutes = s.rpo
            activity.suggested = bool(s.suggested)
            systems = self.system_list((*loc, "systems"), s.systems)
            activity.save()
            activity.systems.set(systems)
            activity.impacts.all().delete()
            for band, impact in (s.impact.model_dump() if s.impact else {}).items():
                if impact is None:
                    continue
                Impact.objects.create(
                    org=self.org,
                    activity=activity,
                    band=band,
                    money=impact["money"],
                    customers=impact["customers"],
                    note=impact["note"] or "",
                )
            self._changed("activity", activity, before)
            saved.append(activity)
        self._reordered("activities", saved, list(range(1, len(saved) + 1)))

    def risks(self, specs: list[RiskSpec]) -> None:
        current = {_fold(r.title): r for r in self.plan.risks.all()}
        self._remove("risk", current, {_fold(s.title) for s in specs})
        saved = []
        for i, s in enumerate(specs):
            loc: Loc = ("risks", i)
            risk = current.get(_fold(s.title))
            before = editing._dump(risk) if risk else None
            risk = risk or Risk(org=self.org, plan=self.plan, position=i + 1)
            risk.title, risk.description = s.title, s.description or ""
            risk.likelihood = s.likelihood or 3
            risk.severity = s.severity or 3
            risk.treatment = s.treatment or ""
            risk.unthinkable = bool(s.unthinkable)
            risk.contrarian = self.member((*loc, "contrarian"), s.contrarian)
            risk.suggested = bool(s.suggested)
            risk.save()
            self._changed("risk", risk, before)
            saved.append(risk)
        self._reordered("risks", saved, list(range(1, len(saved) + 1)))

    def scenarios(self, specs: list[ScenarioSpec]) -> None:
        current = {_fold(s.title): s for s in self.plan.scenarios.all()}
        self._remove("scenario", current, {_fold(s.title) for s in specs})
        roles = {_fold(r.name): r for r in self.plan.roles.all()}
        saved = []
        for i, s in enumerate(specs):
            loc: Loc = ("scenarios", i)
            scenario = current.get(_fold(s.title))
            before = editing._dump(scenario) if scenario else None
            scenario = scenario or Scenario(org=self.org, plan=self.plan, position=i + 1)
            scenario.title, scenario.kind = s.title, s.kind.value
            scenario.trigger, scenario.details = s.trigger or "", s.details or ""
            scenario.suggested = bool(s.suggested)
            systems = self.system_list((*loc, "systems"), s.systems)
            steps = []
            for j, step in enumerate(s.steps or []):
                role = None
                if step.who:
                    role = roles.get(_fold(step.who))
                    if role is None:
                        raise PlanRefused(
                            (*loc, "steps", j, "who"),
                            f"the plan has no role called {step.who!r} (add it under roles)",
                        )
                steps.append((step, role))
            scenario.save()
            scenario.systems.set(systems)
            scenario.steps.all().delete()
            for j, (step, role) in enumerate(steps, start=1):
                ProcedureStep.objects.create(
                    org=self.org,
                    scenario=scenario,
                    position=j,
                    role=role,
                    action=step.does,
                    place=step.where or "",
                    method=step.how or "",
                    minutes=step.minutes,
                )
            scenario.back_up_steps.all().delete()
            for j, text in enumerate(s.back_up or [], start=1):
                BackUpStep.objects.create(org=self.org, scenario=scenario, position=j, text=text)
            self._changed("scenario", scenario, before)
            saved.append(scenario)
        self._reordered("scenarios", saved, list(range(1, len(saved) + 1)))


@transaction.atomic
def apply_plan(org: Organisation, spec: PlanSpec, report: Reporter, summary: str) -> Plan:
    """Make the organisation's plan match `spec` (PlanRefused, and nothing changed, when it
    cannot); starts a plan without the suggested defaults when there is none."""
    applier = _Applier(org, report)
    plan = Plan.objects.filter(org=org).first()
    if plan is None:
        plan = Plan.objects.create(org=org)
        audit(org, "plans.plan.started", plan, {})
        report.created("plan")
    applier.plan = plan
    applier.owners(spec)
    # Contacts before roles (holders may be contacts), roles before scenarios (steps name
    # the role that does them).
    if spec.contacts is not None:
        applier.contacts(spec.contacts)
    if spec.roles is not None:
        applier.roles(spec.roles)
    if spec.activities is not None:
        applier.activities(spec.activities)
    if spec.risks is not None:
        applier.risks(spec.risks)
    if spec.scenarios is not None:
        applier.scenarios(spec.scenarios)
    record_version(plan, summary)
    for feed in rpo.feeds(plan):
        report.notice(feed.text + " (the replica's alerts use the stricter)")
    return plan
