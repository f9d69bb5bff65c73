"""The replica's config section: `connectors`.

Declarative like `systems`, with one difference: a connector not listed is disabled, not
deleted, because its history is the business's records. Connectors are matched by slug. A
setting left out is left as it is. Secrets never appear in a file: `secrets` names the
environment variables to read them from at apply time (`token: env:SHOP_TOKEN`), and
`fallback export` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from fallback.configfile.context import ApplyContext
from fallback.configfile.errors import SectionError
from fallback.configfile.fields import EnvReference, Slug, Text, env_name
from fallback.configfile.registry import Problem, Section, listed_slugs, register
from fallback.monitor.models import System
from fallback.replica import editing
from fallback.replica.models import Connector

CONNECTORS = "connectors"


class ConnectorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug = Field(description="Identifies the connector; never changes.")
    name: Text
    kind: StrictStr
    config: dict[str, Any] = Field(default_factory=dict)
    mapping: dict[str, Any] | None = None
    system: Slug | None = None
    interval_minutes: Annotated[StrictInt, Field(ge=1, le=editing.MAX_INTERVAL)] | None = None
    full_sweep_hours: Annotated[StrictInt, Field(ge=1)] | None = None
    rpo_minutes: Annotated[StrictInt, Field(ge=1)] | None = None
    drop_guard_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    enabled: StrictBool | None = None
    secrets: dict[str, EnvReference] | None = None


SETTINGS = [
    "interval_minutes",
    "full_sweep_hours",
    "rpo_minutes",
    "drop_guard_percent",
    "enabled",
]


def check_connectors(
    connectors: list[ConnectorSpec], document: Mapping[str, Any]
) -> Iterator[Problem]:
    first: dict[str, int] = {}
    systems = listed_slugs(document, "systems")
    for i, spec in enumerate(connectors):
        earlier = first.setdefault(spec.slug, i)
        if earlier != i:
            yield (i, "slug"), f"{spec.slug!r} is listed twice (also {CONNECTORS}[{earlier}])"
        if spec.slug in editing.RESERVED_SLUGS:
            yield (i, "slug"), f"{spec.slug!r} is a word the replica pages use; choose another"
        try:
            editing.validate(spec.kind, spec.config, spec.mapping or {})
        except editing.SetupInvalid as exc:
            for field, message in exc.errors:
                yield (i, *_loc(field)), message
        if spec.system is not None and "systems" in document and spec.system not in systems:
            yield (i, "system"), f"no system {spec.system!r} is listed under systems"
        for name, ref in (spec.secrets or {}).items():
            var = env_name(ref)
            if var not in os.environ:
                yield (i, "secrets", name), f"the environment variable {var} is not set"


def _loc(field: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in field.split(".")) if field else ()


def export_connectors(org: Any) -> list[ConnectorSpec] | None:
    connectors = list(Connector.objects.filter(org=org).select_related("system").order_by("slug"))
    if not connectors:
        return None
    return [
        ConnectorSpec.model_construct(
            slug=c.slug,
            name=c.name,
            kind=c.kind,
            config=c.config,
            mapping=c.mapping or None,
            system=c.system.slug if c.system else None,
            interval_minutes=c.interval_minutes,
            full_sweep_hours=c.full_sweep_hours,
            rpo_minutes=c.rpo_minutes,
            drop_guard_percent=c.drop_guard_percent,
            enabled=c.enabled,
        )
        for c in connectors
    ]


def apply_connectors(ctx: ApplyContext, connectors: list[ConnectorSpec]) -> None:
    org = ctx.organisation
    current = {c.slug: c for c in Connector.objects.filter(org=org).select_related("org")}
    for i, spec in enumerate(connectors):
        loc: tuple[str | int, ...] = (CONNECTORS, i)
        values: dict[str, Any] = {
            name: getattr(spec, name) for name in SETTINGS if name in spec.model_fields_set
        }
        values = {k: v for k, v in values.items() if v is not None}
        values.update(name=spec.name, kind=spec.kind, config=spec.config)
        if spec.mapping is not None:
            values["mapping"] = spec.mapping
        if "system" in spec.model_fields_set:
            system = None
            if spec.system is not None:
                system = System.objects.filter(org=org, slug=spec.system).first()
                if system is None:
                    raise SectionError((*loc, "system"), f"no system {spec.system!r}")
            values["system"] = system
        secrets = {
            name: os.environ.get(env_name(ref), "") for name, ref in (spec.secrets or {}).items()
        }
        connector = current.get(spec.slug)
        try:
            if connector is None:
                editing.create_connector(org, slug=spec.slug, secrets=secrets, **values)
                ctx.created(f"connector {spec.slug} ({spec.kind})")
            else:
                for field in editing.update_connector(connector, secrets=secrets, **values):
                    ctx.updated(f"connector {spec.slug}: {field} changed")
        except editing.SetupInvalid as exc:
            field, message = exc.errors[0]
            raise SectionError((*loc, *_loc(field)), message) from exc
    listed = {c.slug for c in connectors}
    for slug in sorted(set(current) - listed):
        if current[slug].enabled:
            editing.update_connector(current[slug], enabled=False)
            ctx.removed(f"connector {slug} disabled (not listed; its history is kept)")


CONNECTORS_SECTION = register(
    Section(
        key=CONNECTORS,
        schema=list[ConnectorSpec],
        export=export_connectors,
        apply=apply_connectors,
        check=check_connectors,
        order=30,
        refusals=(editing.SetupInvalid,),
    )
)
