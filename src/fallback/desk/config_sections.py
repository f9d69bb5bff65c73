"""The desk's config section: `desk`, how the organisation's fallback desk numbers, taxes
and letters its documents (its DeskSettings).

One mapping per organisation, not a list. A setting left out (or null) is left as it is;
`""` clears a text setting. `covered_systems` names systems by slug, from the database or
from the same document's `systems` section, which is applied first (order 20 < 40); an
empty list means "any system". The checklist is a list of steps, stored one per line.

An organisation whose desk was never set up (no DeskSettings yet) is exported without the
section: its defaults are what applying nothing gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError
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

from fallback.audit.trail import record as audit
from fallback.configfile.context import ApplyContext
from fallback.configfile.errors import Loc, SectionError
from fallback.configfile.fields import Slug, Text
from fallback.configfile.messages import show
from fallback.configfile.registry import Problem, Section, listed_slugs, register
from fallback.desk import mode, numbering
from fallback.desk.models import PREFIX_VALIDATOR, DeskSettings
from fallback.monitor.models import System

DESK = "desk"
SYSTEMS = "systems"
MAX_DAYS = 32767  # the model's small integer
RATE_PLACES = Decimal("0.001")  # the model stores three decimals


def _prefix(value: str) -> str:
    try:
        PREFIX_VALIDATOR(value)
    except ValidationError as exc:
        raise ValueError(f"must be {PREFIX_VALIDATOR.message} (got {value!r})") from exc
    return value


def _rate(value: Any) -> Decimal:
    # One validator for int and float, so a wrong value gets one message, not one per type.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a percentage from 0 to 100, e.g. 20 (got {show(value)})")
    rate = Decimal(str(value))
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise ValueError(f"must be a percentage from 0 to 100 (got {value:g})")
    if rate != rate.quantize(RATE_PLACES):
        raise ValueError(f"has at most three decimals, e.g. 17.5 (got {value:g})")
    return rate


def _rate_out(rate: Decimal) -> int | float:
    """20.000 -> 20, 17.500 -> 17.5: as a person writes it."""
    return int(rate) if rate == rate.to_integral_value() else float(rate)


def _days(value: int) -> int:
    if not 0 <= value <= MAX_DAYS:
        raise ValueError(f"must be a number of days from 0 to {MAX_DAYS} (got {value})")
    return value


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be one line: give each step as its own item of the list")
    return value.strip()


Rate = Annotated[Decimal, PlainValidator(_rate), PlainSerializer(_rate_out)]
Days = Annotated[StrictInt, AfterValidator(_days)]
Prefix = Annotated[StrictStr, AfterValidator(_prefix)]
Step = Annotated[Text, AfterValidator(_one_line)]
Blankable = StrictStr  # "" clears a text setting


class TaxSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Text, StringConstraints(max_length=20)] | None = None
    rate: Rate | None = None
    prices_include_tax: StrictBool | None = None


class LetterheadSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Blankable, StringConstraints(max_length=200)] | None = None
    address: Blankable | None = None
    phone: Annotated[Blankable, StringConstraints(max_length=60)] | None = None
    email: Annotated[Blankable, StringConstraints(max_length=200)] | None = None
    tax_number: Annotated[Blankable, StringConstraints(max_length=60)] | None = None


class DeskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    number_prefix: Prefix | None = None
    covered_systems: list[Slug] | None = None
    tax: TaxSpec | None = None
    payment_terms_days: Days | None = None
    quote_valid_days: Days | None = None
    letterhead: LetterheadSpec | None = None
    footer: Blankable | None = None
    document_css: Blankable | None = None
    system_back_checklist: list[Step] | None = None


# DeskSettings field -> where the file says it (within the section).
PLACES: dict[str, Loc] = {
    "number_prefix": ("number_prefix",),
    "tax_name": ("tax", "name"),
    "tax_rate": ("tax", "rate"),
    "prices_include_tax": ("tax", "prices_include_tax"),
    "payment_terms_days": ("payment_terms_days",),
    "quote_valid_days": ("quote_valid_days",),
    "letterhead_name": ("letterhead", "name"),
    "letterhead_address": ("letterhead", "address"),
    "letterhead_phone": ("letterhead", "phone"),
    "letterhead_email": ("letterhead", "email"),
    "letterhead_tax_number": ("letterhead", "tax_number"),
    "footer": ("footer",),
    "document_css": ("document_css",),
    "system_back_checklist": ("system_back_checklist",),
}


def _steps(text: str) -> list[str]:
    """The stored checklist as the steps the desk shows (reconciliation.checklist)."""
    return [s.strip() for s in text.splitlines() if s.strip()]


# ------------------------------------------------------------------ checking


def check_desk(spec: DeskSpec, document: Mapping[str, Any]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    # A document's systems list is complete: a system it leaves out is removed.
    listed = listed_slugs(document, SYSTEMS) if SYSTEMS in document else None
    for i, slug in enumerate(spec.covered_systems or []):
        earlier = first.setdefault(slug, i)
        if earlier != i:
            yield (
                ("covered_systems", i),
                f"{slug!r} is listed twice (also covered_systems[{earlier}])",
            )
        elif listed is not None and slug not in listed:
            yield ("covered_systems", i), f"no system {slug!r} is listed under {SYSTEMS}"


# ------------------------------------------------------------------- export


def export_desk(org: Any) -> DeskSpec | None:
    desk = DeskSettings.objects.filter(org=org).first()
    if desk is None:
        return None
    # Not validated: a value stored before today's rules is exported as is, and applying
    # the export points at it rather than the export failing.
    return DeskSpec.model_construct(
        number_prefix=desk.number_prefix,
        covered_systems=sorted(desk.covered_systems.filter(org=org).values_list("slug", flat=True)),
        tax=TaxSpec.model_construct(
            name=desk.tax_name, rate=desk.tax_rate, prices_include_tax=desk.prices_include_tax
        ),
        payment_terms_days=desk.payment_terms_days,
        quote_valid_days=desk.quote_valid_days,
        letterhead=LetterheadSpec.model_construct(
            name=desk.letterhead_name,
            address=desk.letterhead_address,
            phone=desk.letterhead_phone,
            email=desk.letterhead_email,
            tax_number=desk.letterhead_tax_number,
        ),
        footer=desk.footer,
        document_css=desk.document_css,
        system_back_checklist=_steps(desk.system_back_checklist),
    )


# -------------------------------------------------------------------- apply


def _given(spec: DeskSpec) -> dict[str, Any]:
    """DeskSettings field -> the value the file gives for it (left out: not there)."""
    values = {}
    for field, place in PLACES.items():
        value: Any = spec
        for part in place:
            value = getattr(value, str(part), None)
            if value is None:
                break
        if value is not None:
            values[field] = value
    return values


def _shown(field: str, value: Any) -> str:
    if field == "tax_rate":
        return str(_rate_out(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _covered(org: Any, slugs: list[str]) -> list[System]:
    found = {s.slug: s for s in System.objects.filter(org=org, slug__in=slugs)}
    for i, slug in enumerate(slugs):
        if slug not in found:
            raise SectionError(
                (DESK, "covered_systems", i),
                f"the organisation has no system {slug!r} (add it under {SYSTEMS})",
            )
    return [found[s] for s in slugs]


def apply_desk(ctx: ApplyContext, spec: DeskSpec) -> None:
    org = ctx.organisation
    desk = mode.settings_for(org)
    changes: dict[str, list[Any]] = {}
    for field, value in _given(spec).items():
        old = getattr(desk, field)
        if field == "number_prefix" and value != old:
            clash = numbering.prefix_clash(org, value)
            if clash is not None:
                raise SectionError((DESK, *PLACES[field]), clash)
        if field == "system_back_checklist":
            if _steps(old) == value:
                continue
            value = "\n".join(value)
            ctx.updated(f"desk: system_back_checklist changed ({len(_steps(value))} steps)")
        elif field == "tax_rate":
            value = value.quantize(RATE_PLACES)
            if old == value:
                continue
            ctx.updated(f"desk: tax.rate: {_shown(field, old)} → {_shown(field, value)}")
        else:
            if old == value:
                continue
            where = ".".join(str(p) for p in PLACES[field])
            if "\n" in f"{old}{value}" or len(f"{old}{value}") > 80:
                ctx.updated(f"desk: {where} changed")
            else:
                ctx.updated(f"desk: {where}: {_shown(field, old)} → {_shown(field, value)}")
        setattr(desk, field, value)
        changes[field] = [str(old), str(value)]
    try:
        desk.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise SectionError((DESK, *PLACES.get(field, ())), " ".join(messages)) from exc
    if changes:
        desk.save(update_fields=list(changes))
    if spec.covered_systems is not None:
        systems = _covered(org, spec.covered_systems)
        before = list(desk.covered_systems.all())
        if {s.pk for s in before} != {s.pk for s in systems}:
            desk.covered_systems.set(systems)
            old_slugs = ", ".join(sorted(s.slug for s in before)) or "any system"
            new_slugs = ", ".join(sorted(s.slug for s in systems)) or "any system"
            ctx.updated(f"desk: covered_systems: {old_slugs} → {new_slugs}")
            # Names, as the settings page records them.
            changes["covered_systems"] = [
                sorted(s.name for s in before),
                sorted(s.name for s in systems),
            ]
    if changes:
        audit(org, "desk.settings.changed", desk, changes)


DESK_SECTION = register(
    Section(
        key=DESK,
        schema=DeskSpec,
        export=export_desk,
        apply=apply_desk,
        check=check_desk,
        order=40,  # after systems (20), which covered_systems may name
    )
)
