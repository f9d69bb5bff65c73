"""The plan as data: the shape of the `plan` config section (and of the API's whole-plan
read and write, and of every PlanVersion's snapshot), and the export of a plan into it.

Members are named by email, systems by slug, roles and contacts by name. Durations are
written with their unit ("4h", "1d 12h"); impacts per time band in whole units of the
organisation's currency.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from fallback.accounts.models import Organisation
from fallback.configfile.fields import Email, Slug, Text
from fallback.configfile.messages import show
from fallback.plans import durations
from fallback.plans.models import (
    Activity,
    Band,
    Contact,
    ContactKind,
    Plan,
    PlanRole,
    Risk,
    Scenario,
    ScenarioKind,
)

MAX_MONEY = 10**15
MAX_CUSTOMERS = 10**9
MAX_MINUTES_STEP = 7 * 24 * 60


def _duration(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError(
            f"must be a duration with its unit, {durations.EXAMPLE} (got {show(value)})"
        )
    try:
        return durations.parse(value)
    except durations.BadDuration as exc:
        raise ValueError(str(exc)) from None


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be one line: give each as its own item of the list")
    return value.strip()


def _scale(value: int) -> int:
    if not 1 <= value <= 5:
        raise ValueError(f"must be from 1 (low) to 5 (high) (got {value})")
    return value


def _money(value: int) -> int:
    if not 0 <= value < MAX_MONEY:
        raise ValueError(f"must be a whole amount from 0 (got {value})")
    return value


def _count(value: int) -> int:
    if not 0 <= value < MAX_CUSTOMERS:
        raise ValueError(f"must be a number from 0 (got {value})")
    return value


def _step_minutes(value: int) -> int:
    if not 0 <= value <= MAX_MINUTES_STEP:
        raise ValueError(f"must be a number of minutes from 0 to {MAX_MINUTES_STEP} (got {value})")
    return value


Duration = Annotated[int, PlainValidator(_duration), PlainSerializer(durations.short)]
Line = Annotated[Text, AfterValidator(_one_line)]
Blankable = StrictStr  # "" clears a text setting
Name = Annotated[Line, StringConstraints(max_length=120)]
Title = Annotated[Line, StringConstraints(max_length=200)]
Scale = Annotated[StrictInt, AfterValidator(_scale)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImpactSpec(_Spec):
    money: Annotated[StrictInt, AfterValidator(_money)] | None = None
    customers: Annotated[StrictInt, AfterValidator(_count)] | None = None
    note: Annotated[Blankable, StringConstraints(max_length=300)] | None = None


class ImpactTable(_Spec):
    """Impact per time band; a band left out has no estimate."""

    under_1h: ImpactSpec | None = None
    hours_1_8: ImpactSpec | None = None
    hours_8_24: ImpactSpec | None = None
    days_1_3: ImpactSpec | None = None
    over_3d: ImpactSpec | None = None
    over_week: ImpactSpec | None = None


assert list(ImpactTable.model_fields) == list(Band.values)


class ActivitySpec(_Spec):
    name: Name
    description: Blankable | None = None
    owner: Email | None = None
    systems: list[Slug] | None = None
    people: list[Line] | None = None
    suppliers: list[Line] | None = None
    supplier_keys: list[Annotated[Line, StringConstraints(max_length=200)]] | None = None
    data: Blankable | None = None
    mtpd: Duration | None = None
    rto: Duration | None = None
    rpo: Duration | None = None
    impact: ImpactTable | None = None
    suggested: StrictBool | None = None


class RiskSpec(_Spec):
    title: Title
    description: Blankable | None = None
    likelihood: Scale | None = None
    severity: Scale | None = None
    treatment: Blankable | None = None
    unthinkable: StrictBool | None = None
    contrarian: Email | None = None
    suggested: StrictBool | None = None


class StepSpec(_Spec):
    does: Text
    who: Name | None = None
    where: Annotated[Blankable, StringConstraints(max_length=200)] | None = None
    how: Blankable | None = None
    minutes: Annotated[StrictInt, AfterValidator(_step_minutes)] | None = None


class ScenarioSpec(_Spec):
    title: Title
    kind: ScenarioKind
    systems: list[Slug] | None = None
    trigger: Blankable | None = None
    details: Blankable | None = None
    steps: list[StepSpec] | None = None
    back_up: list[Annotated[Line, StringConstraints(max_length=500)]] | None = None
    suggested: StrictBool | None = None


class RoleSpec(_Spec):
    name: Name
    incident_lead: StrictBool | None = None
    duties: Blankable | None = None
    holder: Annotated[Line, StringConstraints(max_length=254)] | None = None
    alternates: list[Annotated[Line, StringConstraints(max_length=254)]] | None = None


class ContactSpec(_Spec):
    kind: ContactKind
    name: Annotated[Line, StringConstraints(max_length=200)]
    organisation: Annotated[Blankable, StringConstraints(max_length=200)] | None = None
    phones: list[Annotated[Line, StringConstraints(max_length=60)]] | None = None
    email: Annotated[Blankable, StringConstraints(max_length=254)] | None = None
    account_number: Annotated[Blankable, StringConstraints(max_length=120)] | None = None
    notes: Blankable | None = None
    replica_key: Annotated[Blankable, StringConstraints(max_length=200)] | None = None
    system: Slug | None = None
    member: Email | None = None
    verified_on: date | None = None
    verified_by: Email | None = None


STATEMENT_MAX = 5000


class PlanSpec(_Spec):
    owner: Email | None = None
    contacts_owner: Email | None = None
    price_list_owner: Email | None = None
    scope: Annotated[Blankable, StringConstraints(max_length=STATEMENT_MAX)] | None = None
    policy: Annotated[Blankable, StringConstraints(max_length=STATEMENT_MAX)] | None = None
    activities: list[ActivitySpec] | None = None
    risks: list[RiskSpec] | None = None
    scenarios: list[ScenarioSpec] | None = None
    roles: list[RoleSpec] | None = None
    contacts: list[ContactSpec] | None = None


# -------------------------------------------------------------------- export
# Not validated (model_construct): a value stored before today's rules is exported as it
# is, and applying the export points at it rather than the export failing.


def _email(user: Any) -> str | None:
    return str(user.email) if user is not None else None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _blank(text: str) -> str | None:
    return text or None


def activity_spec(a: Activity) -> ActivitySpec:
    impacts = {i.band: i for i in a.impacts.all()}
    table: dict[str, Any] = {
        band: ImpactSpec.model_construct(money=i.money, customers=i.customers, note=_blank(i.note))
        for band, i in impacts.items()
    }
    return ActivitySpec.model_construct(
        name=a.name,
        description=_blank(a.description),
        owner=_email(a.owner),
        systems=sorted(s.slug for s in a.systems.all()),
        people=_lines(a.people) or None,
        suppliers=_lines(a.suppliers) or None,
        supplier_keys=list(a.supplier_keys) or None,
        data=_blank(a.data),
        mtpd=a.mtpd_minutes,
        rto=a.rto_minutes,
        rpo=a.rpo_minutes,
        impact=ImpactTable.model_construct(**table) if table else None,
        suggested=True if a.suggested else None,
    )


def risk_spec(r: Risk) -> RiskSpec:
    return RiskSpec.model_construct(
        title=r.title,
        description=_blank(r.description),
        likelihood=r.likelihood,
        severity=r.severity,
        treatment=_blank(r.treatment),
        unthinkable=True if r.unthinkable else None,
        contrarian=_email(r.contrarian),
        suggested=True if r.suggested else None,
    )


def scenario_spec(s: Scenario) -> ScenarioSpec:
    steps = [
        StepSpec.model_construct(
            does=step.action,
            who=step.role.name if step.role else None,
            where=_blank(step.place),
            how=_blank(step.method),
            minutes=step.minutes,
        )
        for step in s.steps.all()
    ]
    return ScenarioSpec.model_construct(
        title=s.title,
        kind=ScenarioKind(s.kind),
        systems=sorted(x.slug for x in s.systems.all()) or None,
        trigger=_blank(s.trigger),
        details=_blank(s.details),
        steps=steps or None,
        back_up=[b.text for b in s.back_up_steps.all()] or None,
        suggested=True if s.suggested else None,
    )


def person_name(user: Any = None, contact: Contact | None = None) -> str | None:
    """How a role names its holder or an alternate: a member by email, a contact by name."""
    if user is not None:
        return str(user.email)
    if contact is not None:
        return contact.name
    return None


def role_spec(r: PlanRole) -> RoleSpec:
    alternates = [person_name(a.user, a.contact) for a in r.alternates.all()]
    return RoleSpec.model_construct(
        name=r.name,
        incident_lead=True if r.is_incident_lead else None,
        duties=_blank(r.duties),
        holder=person_name(r.holder_user, r.holder_contact),
        alternates=[a for a in alternates if a] or None,
    )


def contact_spec(c: Contact) -> ContactSpec:
    return ContactSpec.model_construct(
        kind=ContactKind(c.kind),
        name=c.name,
        organisation=_blank(c.organisation),
        phones=c.phone_list or None,
        email=_blank(c.email),
        account_number=_blank(c.account_number),
        notes=_blank(c.notes),
        replica_key=_blank(c.replica_key),
        system=c.system.slug if c.system else None,
        member=_email(c.member),
        verified_on=c.last_verified_on,
        verified_by=_email(c.verified_by),
    )


def export_plan(plan: Plan) -> PlanSpec:
    activities = plan.activities.prefetch_related("impacts", "systems").select_related("owner")
    roles = plan.roles.select_related("holder_user", "holder_contact").prefetch_related(
        "alternates__user", "alternates__contact"
    )
    scenarios = plan.scenarios.prefetch_related("systems", "steps__role", "back_up_steps")
    contacts = plan.contacts.select_related("system", "member", "verified_by").order_by(
        "kind", "name"
    )
    return PlanSpec.model_construct(
        owner=_email(plan.owner),
        contacts_owner=_email(plan.contacts_owner),
        price_list_owner=_email(plan.price_list_owner),
        scope=_blank(plan.scope),
        policy=_blank(plan.policy),
        activities=[activity_spec(a) for a in activities],
        risks=[risk_spec(r) for r in plan.risks.select_related("contrarian")],
        scenarios=[scenario_spec(s) for s in scenarios],
        roles=[role_spec(r) for r in roles],
        contacts=[contact_spec(c) for c in contacts],
    )


def plan_of(org: Organisation) -> Plan | None:
    return (
        Plan.objects.filter(org=org)
        .select_related("owner", "contacts_owner", "price_list_owner")
        .first()
    )
