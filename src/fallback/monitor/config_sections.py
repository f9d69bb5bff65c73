"""The monitor app's config section: `systems`, each with its `checks`.

Declarative, like `members`: the list is complete, so a system not listed is removed (with
its checks and history), and a system's `checks` list is complete too. Systems are matched
by slug, checks by name within their system. A setting left out of an entry is left as it
is (or takes its default when the entry is created); `checks` left out leaves the checks as
they are. Changes go through monitor.editing, so every rule and the audit trail apply, and
each check's `config` is validated by its kind with errors at the config's own lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from fallback.configfile.context import ApplyContext
from fallback.configfile.errors import SectionError
from fallback.configfile.fields import Slug, Text
from fallback.configfile.registry import Problem, Section, register
from fallback.monitor import editing, kinds, sla_claims
from fallback.monitor.models import Check, Criticality, System, SystemKind

SYSTEMS = "systems"


def _not_reserved(slug: str) -> str:
    if slug in editing.RESERVED_SLUGS:
        raise ValueError(
            f"{slug!r} is a word the system pages use; choose another "
            f"(not {', '.join(sorted(editing.RESERVED_SLUGS))})"
        )
    return slug


def _percent(value: float) -> float:
    if not 0 < value <= 100:
        raise ValueError(f"must be a percentage above 0, at most 100 (got {value:g})")
    if Decimal(str(value)).as_tuple().exponent < -3:  # type: ignore[operator]
        raise ValueError(f"has at most three decimals, e.g. 99.95 (got {value:g})")
    return value


def _tiers(text: str) -> str:
    sla_claims.parse_tiers(text)  # ValueError names the tier
    return text


def _fee(value: float) -> float:
    if value < 0 or Decimal(str(value)).as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"is zero or more, with at most two decimals (got {value:g})")
    return value


def _between(low: float, high: float, unit: str) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g} {unit} (got {value:g})")
        return value

    return AfterValidator(check)


Number = StrictInt | StrictFloat
Whole = Annotated[StrictInt, Field(ge=0)]
AtLeastOne = Annotated[StrictInt, Field(ge=1)]
Blankable = StrictStr  # "" clears a text setting


class CheckSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Text, StringConstraints(max_length=120)]
    kind: StrictStr = Field(description="http, tcp, dns, heartbeat or statuspage")
    config: dict[str, Any] = Field(default_factory=dict)
    interval_seconds: (
        Annotated[StrictInt, _between(editing.MIN_INTERVAL, editing.MAX_INTERVAL, "seconds")] | None
    ) = None
    timeout_seconds: Annotated[Number, _between(0.1, 120, "seconds")] | None = None
    retries: Annotated[StrictInt, _between(0, 10, "re-tests")] | None = None
    retry_delay_seconds: Annotated[Number, _between(0, 60, "seconds")] | None = None
    is_canary: StrictBool | None = None
    enabled: StrictBool | None = None


class SystemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Annotated[Slug, AfterValidator(_not_reserved)] = Field(
        description="Identifies the system; never changes."
    )
    name: Annotated[Text, StringConstraints(max_length=120)]
    kind: SystemKind | None = None
    criticality: Criticality | None = None
    vendor: Annotated[Blankable, StringConstraints(max_length=120)] | None = None
    vendor_contacts: Blankable | None = None
    account_number: Annotated[Blankable, StringConstraints(max_length=120)] | None = None
    sla_percent: Annotated[Number, AfterValidator(_percent)] | None = None
    credit_terms: Blankable | None = None
    credit_tiers: Annotated[Blankable, AfterValidator(_tiers)] | None = None
    monthly_fee: Annotated[Number, AfterValidator(_fee)] | None = None
    status_page_url: Annotated[Blankable, StringConstraints(max_length=200)] | None = None
    notes: Blankable | None = None
    trigger_minutes: Whole | None = None
    failures_to_down: AtLeastOne | None = None
    successes_to_up: AtLeastOne | None = None
    flap_changes: AtLeastOne | None = None
    flap_window_minutes: AtLeastOne | None = None
    paused: StrictBool | None = None
    checks: list[CheckSpec] | None = None


SYSTEM_SETTINGS = [f for f in editing.SYSTEM_FIELDS if f not in ("slug", "name")]
CHECK_SETTINGS = [f for f in editing.CHECK_FIELDS if f not in ("name",)]


# ------------------------------------------------------------------ checking


def check_systems(systems: list[SystemSpec], document: Mapping[str, Any]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for i, system in enumerate(systems):
        earlier = first.setdefault(system.slug, i)
        if earlier != i:
            yield (i, "slug"), f"{system.slug!r} is listed twice (also {SYSTEMS}[{earlier}])"
        names: dict[str, int] = {}
        for j, check in enumerate(system.checks or []):
            where = (i, "checks", j)
            seen = names.setdefault(check.name, j)
            if seen != j:
                yield (
                    (*where, "name"),
                    f"{check.name!r} is listed twice in this system (also checks[{seen}])",
                )
            if check.is_canary and system.kind not in (None, SystemKind.INTERNET):
                yield (*where, "is_canary"), editing.CANARY_RULE
            try:
                kinds.validate_config(check.kind, check.config)
            except kinds.InvalidCheckConfig as exc:
                for loc, (_, message) in zip(exc.locs, exc.errors, strict=True):
                    yield (*where, *loc), message


# ------------------------------------------------------------------- export


def _blank_to_none(value: str) -> str | None:
    return value or None


def export_systems(org: Any) -> list[SystemSpec] | None:
    systems = list(System.objects.filter(org=org).order_by("slug").prefetch_related("checks"))
    if not systems:
        return None  # left out: an empty list would say "remove every system"
    return [_export_system(s) for s in systems]


def _export_system(s: System) -> SystemSpec:
    # Not validated: a value stored before today's rules is exported as is, and applying
    # the export points at it rather than the export failing.
    return SystemSpec.model_construct(
        slug=s.slug,
        name=s.name,
        kind=SystemKind(s.kind),
        criticality=Criticality(s.criticality),
        vendor=_blank_to_none(s.vendor),
        vendor_contacts=_blank_to_none(s.vendor_contacts),
        account_number=_blank_to_none(s.account_number),
        sla_percent=float(s.sla_percent) if s.sla_percent is not None else None,
        credit_terms=_blank_to_none(s.credit_terms),
        credit_tiers=_blank_to_none(s.credit_tiers),
        monthly_fee=float(s.monthly_fee) if s.monthly_fee is not None else None,
        status_page_url=_blank_to_none(s.status_page_url),
        notes=_blank_to_none(s.notes),
        trigger_minutes=s.trigger_minutes,
        failures_to_down=s.failures_to_down,
        successes_to_up=s.successes_to_up,
        flap_changes=s.flap_changes,
        flap_window_minutes=s.flap_window_minutes,
        paused=s.paused,
        checks=[_export_check(c) for c in sorted(s.checks.all(), key=lambda c: c.name)],
    )


def _export_check(c: Check) -> CheckSpec:
    return CheckSpec.model_construct(
        name=c.name,
        kind=c.kind,
        config=c.config,
        interval_seconds=c.interval_seconds,
        timeout_seconds=c.timeout_seconds,
        retries=c.retries,
        retry_delay_seconds=c.retry_delay_seconds,
        is_canary=c.is_canary,
        enabled=c.enabled,
    )


# -------------------------------------------------------------------- apply


def _given(spec: BaseModel, names: list[str]) -> dict[str, Any]:
    """The settings the file states (an explicit null included), in model terms."""
    values = {}
    for name in names:
        if name in spec.model_fields_set:
            value = getattr(spec, name)
            if name in ("sla_percent", "monthly_fee") and value is not None:
                value = Decimal(str(value))
            elif hasattr(value, "value"):  # an enum member
                value = value.value
            values[name] = value
    return values


def _refuse(loc: tuple[str | int, ...], exc: editing.SetupInvalid) -> SectionError:
    field, message = exc.errors[0]
    head = field.split(".")[0] if field else ""
    return SectionError((*loc, head) if head else loc, message)


def apply_systems(ctx: ApplyContext, systems: list[SystemSpec]) -> None:
    org = ctx.organisation
    current = {s.slug: s for s in System.objects.filter(org=org).select_related("org")}
    for i, spec in enumerate(systems):
        loc: tuple[str | int, ...] = (SYSTEMS, i)
        settings = _given(spec, SYSTEM_SETTINGS)
        system = current.get(spec.slug)
        try:
            if system is None:
                system = editing.create_system(org, slug=spec.slug, name=spec.name, **settings)
                ctx.created(f"system {spec.slug} ({spec.name})")
            else:
                changes = editing.update_system(system, name=spec.name, **settings)
                for field, (old, new) in changes.items():
                    ctx.updated(f"system {spec.slug}: {field}: {old!r} → {new!r}")
        except editing.SetupInvalid as exc:
            raise _refuse(loc, exc) from exc
        if spec.paused is not None and editing.set_paused(system, spec.paused):
            ctx.updated(f"system {spec.slug}: {'paused' if spec.paused else 'resumed'}")
        if spec.checks is not None:
            _apply_checks(ctx, system, spec.checks, loc)
    listed = {s.slug for s in systems}
    for slug in sorted(set(current) - listed):
        editing.delete_system(current[slug])
        ctx.removed(f"system {slug} (with its checks and history)")


def _apply_checks(
    ctx: ApplyContext, system: System, checks: list[CheckSpec], loc: tuple[str | int, ...]
) -> None:
    current = {c.name: c for c in system.checks.select_related("system", "system__org")}
    for j, spec in enumerate(checks):
        where = (*loc, "checks", j)
        values = _given(spec, CHECK_SETTINGS)
        values["kind"], values["config"] = spec.kind, spec.config
        values = {k: v for k, v in values.items() if v is not None}
        check = current.get(spec.name)
        try:
            if check is None:
                editing.create_check(system, name=spec.name, **values)
                ctx.created(f"check {system.slug}/{spec.name} ({spec.kind})")
            else:
                for field in editing.update_check(check, **values):
                    ctx.updated(f"check {system.slug}/{spec.name}: {field} changed")
        except editing.SetupInvalid as exc:
            raise _refuse(where, exc) from exc
    listed = {c.name for c in checks}
    for name in sorted(set(current) - listed):
        editing.delete_check(current[name])
        ctx.removed(f"check {system.slug}/{name}")


SYSTEMS_SECTION = register(
    Section(
        key=SYSTEMS,
        schema=list[SystemSpec],
        export=export_systems,
        apply=apply_systems,
        check=check_systems,
        order=20,
        refusals=(editing.SetupInvalid,),
    )
)
