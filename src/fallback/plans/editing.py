"""Changing the plan: the rules, each change audited and kept as a new plan version.

The web pages and the API come through here (config files through fallback.plans.applying,
which shares the rules). Problems are raised as PlanInvalid, a list of (field, message)
pairs naming the form's field; nothing is saved when anything is wrong. Any save by a person
confirms a suggested item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max, Model
from django.utils import timezone

from fallback.accounts.models import Membership, Organisation, User
from fallback.audit.trail import diff
from fallback.audit.trail import record as audit
from fallback.monitor.editing import SetupInvalid
from fallback.monitor.models import System
from fallback.plans import durations, seeds, spec
from fallback.plans.models import (
    Activity,
    BackUpStep,
    Band,
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

M = TypeVar("M", bound=Model)

Item = Activity | Risk | Scenario | PlanRole | Contact
Person = User | Contact
MAX_ALTERNATES = 5


class PlanInvalid(SetupInvalid):
    """The change is refused; `errors` names each wrong field and why."""


# ------------------------------------------------------------------ rules


def rto_problem(rto: int | None, mtpd: int | None) -> str | None:
    """Why an RTO does not fit its MTPD, or None: work must resume before the outage
    becomes intolerable."""
    if rto is None or mtpd is None or rto < mtpd:
        return None
    return (
        f"must be shorter than the MTPD ({durations.words(mtpd)}): work has to resume before "
        f"the outage becomes intolerable (got {durations.words(rto)})"
    )


def members(org: Organisation) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(org=org).select_related("user").order_by("user__email")
    ]


def is_member(org: Organisation, user: User | None) -> bool:
    return user is None or Membership.objects.filter(org=org, user=user).exists()


def _member_check(org: Organisation, field: str, user: User | None) -> list[tuple[str, str]]:
    if is_member(org, user):
        return []
    return [(field, f"{user} is not a member of {org.name}")]


def _dump(item: Model) -> dict[str, Any]:
    """An item as the config file shows it: what the audit trail compares."""
    exporters: dict[type[Model], Any] = {
        Activity: spec.activity_spec,
        Risk: spec.risk_spec,
        Scenario: spec.scenario_spec,
        PlanRole: spec.role_spec,
        Contact: spec.contact_spec,
    }
    dumped: dict[str, Any] = exporters[type(item)](item).model_dump(mode="json", exclude_none=True)
    return dumped


def _noun(item: Model) -> str:
    nouns: dict[type[Model], str] = {
        Activity: "activity",
        Risk: "risk",
        Scenario: "scenario",
        PlanRole: "role",
        Contact: "contact",
    }
    return nouns[type(item)]


def _next_position(items: Any) -> int:
    return int(items.aggregate(m=Max("position"))["m"] or 0) + 1


def _saved(plan: Plan, item: Model, before: dict[str, Any] | None, verb: str = "") -> None:
    """Audit an item created (before None) or changed, and keep the plan version."""
    noun = _noun(item)
    after = _dump(item)
    if before is None:
        audit(plan.org, f"plans.{noun}.created", item, {k: [None, v] for k, v in after.items()})
        record_version(plan, f"{noun.capitalize()} added: {item}")
        return
    changes = diff(before, after)
    for key in before.keys() - after.keys():
        changes[key] = [before[key], None]
    if changes:
        audit(plan.org, f"plans.{noun}.{verb or 'changed'}", item, changes)
        record_version(plan, f"{noun.capitalize()} {verb or 'changed'}: {item}")


# ------------------------------------------------------------------ the plan


def start(org: Organisation, by: User | None) -> Plan:
    """The organisation's plan, started with the suggested defaults when it has none."""
    existing = Plan.objects.filter(org=org).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            plan = Plan.objects.create(org=org, owner=by, started_by=by)
            seed(plan, by)
            audit(org, "plans.plan.started", plan, {"owner": [None, _email(by)]})
            record_version(plan, "Plan started with suggested defaults")
    except IntegrityError:  # started by someone else at the same moment
        return Plan.objects.get(org=org)
    return plan


def seed(plan: Plan, by: User | None) -> None:
    org = plan.org
    for i, a in enumerate(seeds.ACTIVITIES, start=1):
        activity = Activity.objects.create(
            org=org,
            plan=plan,
            position=i,
            name=a.name,
            description=a.description,
            data=a.data,
            mtpd_minutes=a.mtpd,
            rto_minutes=a.rto,
            rpo_minutes=a.rpo,
            suggested=True,
        )
        activity.systems.set(seeds.systems_for(org, a))
    for i, r in enumerate(seeds.risk_seeds(seeds.main_system_name(org)), start=1):
        Risk.objects.create(
            org=org,
            plan=plan,
            position=i,
            title=r.title,
            likelihood=r.likelihood,
            severity=r.severity,
            treatment=r.treatment,
            unthinkable=r.unthinkable,
            contrarian=by if r.unthinkable else None,
            suggested=True,
        )
    lead = PlanRole.objects.create(
        org=org,
        plan=plan,
        position=1,
        name=seeds.INCIDENT_LEAD,
        duties=seeds.INCIDENT_LEAD_DUTIES,
        is_incident_lead=True,
        holder_user=by,
    )
    for i, s in enumerate(seeds.SCENARIOS, start=1):
        scenario = Scenario.objects.create(
            org=org,
            plan=plan,
            position=i,
            kind=s.kind,
            title=s.title,
            trigger=s.trigger,
            details=s.details,
            suggested=True,
        )
        scenario.systems.set(seeds.scenario_systems(org, s.kind))
        for j, step in enumerate(s.steps, start=1):
            ProcedureStep.objects.create(
                org=org,
                scenario=scenario,
                position=j,
                role=lead if step.lead else None,
                action=step.action,
                place=step.place,
                method=step.method,
                minutes=step.minutes,
            )
        for j, text in enumerate(s.back_up, start=1):
            BackUpStep.objects.create(org=org, scenario=scenario, position=j, text=text)


@transaction.atomic
def set_owners(
    plan: Plan,
    owner: User | None,
    contacts_owner: User | None,
    price_list_owner: User | None,
) -> dict[str, list[Any]]:
    org = plan.org
    errors = [
        *_member_check(org, "owner", owner),
        *_member_check(org, "contacts_owner", contacts_owner),
        *_member_check(org, "price_list_owner", price_list_owner),
    ]
    if errors:
        raise PlanInvalid(errors)
    wanted = {"owner": owner, "contacts_owner": contacts_owner}
    wanted["price_list_owner"] = price_list_owner
    changes = {
        f: [_email(getattr(plan, f)), _email(v)] for f, v in wanted.items() if getattr(plan, f) != v
    }
    if changes:
        for f, v in wanted.items():
            setattr(plan, f, v)
        plan.save(update_fields=list(wanted))
        audit(org, "plans.plan.changed", plan, changes)
        record_version(plan, "Owners changed")
    return changes


@transaction.atomic
def set_statements(plan: Plan, scope: str, policy: str) -> dict[str, list[Any]]:
    """The plan's scope (what it covers) and policy (why, and what the business commits
    to): the two statements a management system is built on."""
    wanted = {"scope": scope.strip(), "policy": policy.strip()}
    errors = [
        (f, f"at most {spec.STATEMENT_MAX} characters (got {len(v)})")
        for f, v in wanted.items()
        if len(v) > spec.STATEMENT_MAX
    ]
    if errors:
        raise PlanInvalid(errors)
    changes = {f: [getattr(plan, f), v] for f, v in wanted.items() if getattr(plan, f) != v}
    if changes:
        for f, v in wanted.items():
            setattr(plan, f, v)
        plan.save(update_fields=list(wanted))
        audit(plan.org, "plans.plan.changed", plan, changes)
        record_version(plan, "Scope and policy changed")
    return changes


@transaction.atomic
def mark_reviewed(plan: Plan, by: User | None, now: datetime | None = None) -> None:
    """The whole plan was read through and is right as it stands."""
    now = now or timezone.now()
    before = plan.reviewed_at
    plan.reviewed_at, plan.reviewed_by = now, by
    plan.save(update_fields=["reviewed_at", "reviewed_by"])
    audit(plan.org, "plans.plan.reviewed", plan, {"reviewed_at": [_iso(before), _iso(now)]})
    record_version(plan, "Whole plan reviewed", now)


@transaction.atomic
def mark_price_list_checked(plan: Plan, by: User | None, now: datetime | None = None) -> None:
    """The printed price list was checked (re-printed) after the replica's prices changed."""
    now = now or timezone.now()
    before = plan.price_list_reviewed_at
    plan.price_list_reviewed_at, plan.price_list_reviewed_by = now, by
    plan.save(update_fields=["price_list_reviewed_at", "price_list_reviewed_by"])
    audit(
        plan.org,
        "plans.price_list.checked",
        plan,
        {"price_list_reviewed_at": [_iso(before), _iso(now)]},
    )
    record_version(plan, "Price list checked", now)


def _email(user: User | None) -> str | None:
    return str(user.email) if user is not None else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# ------------------------------------------------------------ any item


@transaction.atomic
def remove(item: Item) -> None:
    plan = item.plan
    before = _dump(item)
    noun = _noun(item)
    label = str(item)
    audit(plan.org, f"plans.{noun}.removed", item, {k: [v, None] for k, v in before.items()})
    item.delete()
    record_version(plan, f"{noun.capitalize()} removed: {label}")


@transaction.atomic
def confirm(item: Activity | Risk | Scenario) -> None:
    """A suggested item is right as it is."""
    if not item.suggested:
        return
    before = _dump(item)
    item.suggested = False
    item.save(update_fields=["suggested"])
    _saved(item.plan, item, before, "confirmed")


def _unique(
    queryset: Any, item: Model | None, field: str, value: str, what: str
) -> list[tuple[str, str]]:
    others = queryset.filter(**{f"{field}__iexact": value})
    if item is not None and item.pk:
        others = others.exclude(pk=item.pk)
    if others.exists():
        return [(field, f"the plan already has {what} called {value!r}")]
    return []


def _fill(
    item: M | None, make: Callable[[], M], allowed: Sequence[str], fields: dict[str, Any]
) -> tuple[M, dict[str, Any] | None]:
    """The item to save (`item`, or a new one from `make`) with `fields` set on it, and its
    values before (None when new). A field the kind does not have is a programming error."""
    before = _dump(item) if item is not None and item.pk else None
    target = item if item is not None else make()
    for key, value in fields.items():
        if key not in allowed:
            raise ValueError(f"unknown {_noun(target)} field {key!r}")
        setattr(target, key, value)
    return target, before


def _chosen_systems(
    org: Organisation, systems: Iterable[System] | None
) -> tuple[list[System] | None, list[tuple[str, str]]]:
    """The systems an item depends on (None: leave them as they are), and what is wrong."""
    chosen = list(systems) if systems is not None else None
    if chosen is not None and any(s.org_id != org.pk for s in chosen):
        return chosen, [("systems", "Choose systems of this organisation.")]
    return chosen, []


def _full_clean(item: Model, exclude: Sequence[str] = ()) -> list[tuple[str, str]]:
    try:
        item.full_clean(exclude=[*exclude, "org", "plan"], validate_unique=False)
    except ValidationError as exc:
        return [(f, m) for f, messages in exc.message_dict.items() for m in messages]
    return []


# ------------------------------------------------------------ activities


@dataclass(frozen=True)
class ImpactInput:
    money: int | None = None
    customers: int | None = None
    note: str = ""

    @property
    def empty(self) -> bool:
        return self.money is None and self.customers is None and not self.note.strip()


ACTIVITY_FIELDS = (
    "name",
    "description",
    "owner",
    "people",
    "suppliers",
    "supplier_keys",
    "data",
    "mtpd_minutes",
    "rto_minutes",
    "rpo_minutes",
)


@transaction.atomic
def save_activity(
    plan: Plan,
    activity: Activity | None,
    *,
    systems: Iterable[System] | None = None,
    impacts: dict[str, ImpactInput] | None = None,
    **fields: Any,
) -> Activity:
    """Create (activity None) or change an activity; saving it confirms a suggested one."""
    org = plan.org
    target, before = _fill(
        activity,
        lambda: Activity(org=org, plan=plan, position=_next_position(plan.activities)),
        ACTIVITY_FIELDS,
        fields,
    )
    errors = _full_clean(target)
    errors += _unique(plan.activities, target, "name", target.name, "an activity")
    problem = rto_problem(target.rto_minutes, target.mtpd_minutes)
    if problem:
        errors.append(("rto_minutes", problem))
    errors += _member_check(org, "owner", target.owner)
    chosen, problems = _chosen_systems(org, systems)
    errors += problems
    if errors:
        raise PlanInvalid(errors)
    target.suggested = False
    target.save()
    if chosen is not None:
        target.systems.set(chosen)
    if impacts is not None:
        _set_impacts(target, impacts)
    _saved(plan, target, before)
    return target


def _set_impacts(activity: Activity, impacts: dict[str, ImpactInput]) -> None:
    current = {i.band: i for i in activity.impacts.all()}
    for band in Band.values:
        given = impacts.get(band, ImpactInput())
        row = current.get(band)
        if given.empty:
            if row is not None:
                row.delete()
            continue
        if row is None:
            row = Impact(org_id=activity.org_id, activity=activity, band=band)
        row.money, row.customers, row.note = given.money, given.customers, given.note.strip()
        row.save()


# ----------------------------------------------------------------- risks

RISK_FIELDS = (
    "title",
    "description",
    "likelihood",
    "severity",
    "treatment",
    "unthinkable",
    "contrarian",
)


@transaction.atomic
def save_risk(plan: Plan, risk: Risk | None, **fields: Any) -> Risk:
    org = plan.org
    target, before = _fill(
        risk,
        lambda: Risk(org=org, plan=plan, position=_next_position(plan.risks)),
        RISK_FIELDS,
        fields,
    )
    errors = _full_clean(target)
    errors += _unique(plan.risks, target, "title", target.title, "a risk")
    errors += _member_check(org, "contrarian", target.contrarian)
    if errors:
        raise PlanInvalid(errors)
    target.suggested = False
    target.save()
    _saved(plan, target, before)
    return target


# ------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class StepInput:
    action: str
    role: PlanRole | None = None
    place: str = ""
    method: str = ""
    minutes: int | None = None


SCENARIO_FIELDS = ("kind", "title", "trigger", "details")


@transaction.atomic
def save_scenario(
    plan: Plan,
    scenario: Scenario | None,
    *,
    systems: Iterable[System] | None = None,
    steps: Sequence[StepInput] | None = None,
    back_up: Sequence[str] | None = None,
    **fields: Any,
) -> Scenario:
    org = plan.org
    target, before = _fill(
        scenario,
        lambda: Scenario(org=org, plan=plan, position=_next_position(plan.scenarios)),
        SCENARIO_FIELDS,
        fields,
    )
    errors = _full_clean(target)
    errors += _unique(plan.scenarios, target, "title", target.title, "a scenario")
    chosen, problems = _chosen_systems(org, systems)
    errors += problems
    for i, step in enumerate(steps or [], start=1):
        if not step.action.strip():
            errors.append(("steps", f"step {i}: say what is done"))
        if step.role is not None and step.role.plan_id != plan.pk:
            errors.append(("steps", f"step {i}: choose a role of this plan"))
    if errors:
        raise PlanInvalid(errors)
    target.suggested = False
    target.save()
    if chosen is not None:
        target.systems.set(chosen)
    if steps is not None:
        target.steps.all().delete()
        for i, step in enumerate(steps, start=1):
            ProcedureStep.objects.create(
                org=org,
                scenario=target,
                position=i,
                role=step.role,
                action=step.action.strip(),
                place=step.place.strip(),
                method=step.method.strip(),
                minutes=step.minutes,
            )
    if back_up is not None:
        target.back_up_steps.all().delete()
        texts = [t.strip() for t in back_up if t.strip()]
        for i, text in enumerate(texts, start=1):
            BackUpStep.objects.create(org=org, scenario=target, position=i, text=text[:500])
    _saved(plan, target, before)
    return target


# ----------------------------------------------------------------- roles

ROLE_FIELDS = ("name", "duties", "is_incident_lead")


def _person_problem(plan: Plan, person: Person | None, field: str) -> list[tuple[str, str]]:
    if person is None:
        return []
    if isinstance(person, Contact):
        if person.plan_id != plan.pk:
            return [(field, "choose a contact of this plan")]
        return []
    return _member_check(plan.org, field, person)


def _same(a: Person | None, b: Person | None) -> bool:
    return a is not None and b is not None and type(a) is type(b) and a.pk == b.pk


@transaction.atomic
def save_role(
    plan: Plan,
    role: PlanRole | None,
    *,
    holder: Person | None = None,
    alternates: Sequence[Person] | None = None,
    **fields: Any,
) -> PlanRole:
    """Create or change a role. Making it the incident lead takes that from any other."""
    org = plan.org
    target, before = _fill(
        role,
        lambda: PlanRole(org=org, plan=plan, position=_next_position(plan.roles)),
        ROLE_FIELDS,
        fields,
    )
    errors = _full_clean(target, exclude=["holder_user", "holder_contact"])
    errors += _unique(plan.roles, target, "name", target.name, "a role")
    errors += _person_problem(plan, holder, "holder")
    chosen = list(alternates or [])
    if len(chosen) > MAX_ALTERNATES:
        errors.append(("alternates", f"at most {MAX_ALTERNATES} alternates"))
    for i, person in enumerate(chosen, start=1):
        errors += _person_problem(plan, person, "alternates")
        if _same(person, holder):
            errors.append(("alternates", f"alternate {i} holds the role already"))
        if any(_same(person, other) for other in chosen[: i - 1]):
            errors.append(("alternates", f"alternate {i} is listed twice"))
    if errors:
        raise PlanInvalid(errors)
    target.holder_user = holder if isinstance(holder, User) else None
    target.holder_contact = holder if isinstance(holder, Contact) else None
    if target.is_incident_lead:
        plan.roles.exclude(pk=target.pk).filter(is_incident_lead=True).update(
            is_incident_lead=False
        )
    target.save()
    if alternates is not None:
        target.alternates.all().delete()
        for i, person in enumerate(chosen, start=1):
            RoleAlternate.objects.create(
                org=org,
                role=target,
                position=i,
                user=person if isinstance(person, User) else None,
                contact=person if isinstance(person, Contact) else None,
            )
    _saved(plan, target, before)
    return target


# -------------------------------------------------------------- contacts

CONTACT_FIELDS = (
    "kind",
    "name",
    "organisation",
    "phones",
    "email",
    "account_number",
    "notes",
    "replica_key",
    "system",
    "member",
    "last_verified_on",
    "verified_by",
)


def email_problem(value: str) -> str | None:
    if not value:
        return None
    try:
        validate_email(value)
    except ValidationError:
        return f"is not an email address (got {value!r})"
    return None


@transaction.atomic
def save_contact(plan: Plan, contact: Contact | None, **fields: Any) -> Contact:
    org = plan.org
    target, before = _fill(contact, lambda: Contact(org=org, plan=plan), CONTACT_FIELDS, fields)
    target.email = target.email.strip()
    errors = _full_clean(target, exclude=["email"])
    same = plan.contacts.filter(kind=target.kind)
    errors += _unique(same, target, "name", target.name, f"a {target.get_kind_display()} contact")
    problem = email_problem(target.email)
    if problem:
        errors.append(("email", problem))
    if target.system is not None and target.system.org_id != org.pk:
        errors.append(("system", "Choose a system of this organisation."))
    errors += _member_check(org, "member", target.member)
    if errors:
        raise PlanInvalid(errors)
    target.save()
    _saved(plan, target, before)
    return target


@transaction.atomic
def verify_contacts(
    plan: Plan, contacts: Iterable[Contact], by: User | None, today: date | None = None
) -> int:
    """Someone checked these contacts are still right today."""
    today = today or timezone.localdate()
    count = 0
    for contact in contacts:
        if contact.plan_id != plan.pk:
            continue
        before = contact.last_verified_on
        contact.last_verified_on, contact.verified_by = today, by
        contact.save(update_fields=["last_verified_on", "verified_by"])
        audit(
            plan.org,
            "plans.contact.verified",
            contact,
            {"last_verified_on": [str(before) if before else None, str(today)]},
        )
        count += 1
    if count:
        record_version(plan, f"{count} contact{'s' if count != 1 else ''} verified")
    return count


@transaction.atomic
def add_suggested(plan: Plan, chosen: Iterable[seeds.Suggestion]) -> list[Contact]:
    """Add suggested contacts (those already added are skipped)."""
    added = []
    taken = {(c.kind, c.name.casefold()) for c in plan.contacts.all()}
    for s in chosen:
        if (s.kind, s.name.casefold()) in taken:
            continue
        taken.add((s.kind, s.name.casefold()))
        contact = Contact.objects.create(
            org=plan.org, plan=plan, kind=s.kind, name=s.name[:200], **s.fields
        )
        audit(plan.org, "plans.contact.created", contact, {"name": [None, contact.name]})
        added.append(contact)
    if added:
        record_version(
            plan, f"{len(added)} suggested contact{'s' if len(added) != 1 else ''} added"
        )
    return added
