"""The plan's config section: `plan`, the continuity plan (activities, risks, scenarios with
their steps and "system back up" checklists, roles and contacts) — see
fallback.plans.applying for what applying it does, and docs/CONFIG.md for the format.

Applied after members (10), systems (20) and connectors (30), which it refers to. An
organisation without a plan is exported without the section.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fallback.configfile.context import ApplyContext
from fallback.configfile.errors import SectionError
from fallback.configfile.registry import Problem, Section, register
from fallback.plans import applying
from fallback.plans.spec import PlanSpec, export_plan, plan_of

PLAN = "plan"


def check(spec: PlanSpec, document: Mapping[str, Any]) -> Iterator[Problem]:
    yield from applying.check_plan(spec, document)


def export(org: Any) -> PlanSpec | None:
    plan = plan_of(org)
    return export_plan(plan) if plan is not None else None


def apply(ctx: ApplyContext, spec: PlanSpec) -> None:
    try:
        applying.apply_plan(ctx.organisation, spec, ctx, "Applied from a config file")
    except applying.PlanRefused as exc:
        raise SectionError((PLAN, *exc.loc), exc.message) from exc


PLAN_SECTION = register(
    Section(
        key=PLAN,
        schema=PlanSpec,
        export=export,
        apply=apply,
        check=check,
        order=60,
    )
)
