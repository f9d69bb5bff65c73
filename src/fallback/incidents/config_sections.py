"""The incidents app's config section: `alert_channels`, where staff alerts go.

Matched by name. A channel's apprise URL carries its password or token, so the file names the
environment variable holding it (`url: env:OFFICE_PAGER`), read when the file is applied;
`fallback export` leaves the URL out, and an entry without `url` keeps the stored one. A
channel not listed is disabled, not deleted, so its delivery log stays.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from fallback.configfile.context import ApplyContext
from fallback.configfile.errors import SectionError
from fallback.configfile.fields import EnvReference, Text, env_name
from fallback.configfile.registry import Problem, Section, register
from fallback.incidents import channels
from fallback.incidents.models import AlertChannel, AlertEvent

ALERT_CHANNELS = "alert_channels"


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Text, StringConstraints(max_length=120)] = Field(
        description="Identifies the channel."
    )
    url: EnvReference | None = None
    on_duty: StrictBool | None = None
    events: list[AlertEvent] | None = None
    remind_every_minutes: Annotated[StrictInt, Field(ge=0)] | None = None
    enabled: StrictBool | None = None


SETTINGS = ["on_duty", "events", "remind_every_minutes", "enabled"]


def check_channels(specs: list[ChannelSpec], document: Mapping[str, Any]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for i, spec in enumerate(specs):
        earlier = first.setdefault(spec.name, i)
        if earlier != i:
            yield (i, "name"), f"{spec.name!r} is listed twice (also {ALERT_CHANNELS}[{earlier}])"
        if spec.url is None:
            continue
        value = os.environ.get(env_name(spec.url))
        if value is None:
            yield (i, "url"), f"the environment variable {env_name(spec.url)} is not set"
            continue
        problem = channels.url_problem(value)
        if problem:
            yield (i, "url"), f"{env_name(spec.url)}: {problem}"


def export_channels(org: Any) -> list[ChannelSpec] | None:
    found = list(AlertChannel.objects.filter(org=org).order_by("name"))
    if not found:
        return None
    return [
        ChannelSpec.model_construct(
            name=c.name,
            on_duty=c.on_duty,
            events=[AlertEvent(e) for e in c.events if e in AlertEvent.values],
            remind_every_minutes=c.remind_every_minutes,
            enabled=c.enabled,
        )
        for c in found
    ]


def apply_channels(ctx: ApplyContext, specs: list[ChannelSpec]) -> None:
    org = ctx.organisation
    current = {c.name: c for c in AlertChannel.objects.filter(org=org).select_related("org")}
    for i, spec in enumerate(specs):
        values: dict[str, Any] = {
            name: getattr(spec, name) for name in SETTINGS if name in spec.model_fields_set
        }
        values = {k: v for k, v in values.items() if v is not None}
        if "events" in values:
            values["events"] = [str(e.value) for e in values["events"]]
        if spec.url is not None:
            values["url"] = os.environ.get(env_name(spec.url), "")
        channel = current.get(spec.name)
        try:
            if channel is None:
                if "url" not in values:
                    raise SectionError(
                        (ALERT_CHANNELS, i), "a new channel needs its url (as env:NAME)"
                    )
                channels.create_channel(org, name=spec.name, **values)
                ctx.created(f"alert channel {spec.name}")
            else:
                for field in channels.update_channel(channel, **values):
                    ctx.updated(f"alert channel {spec.name}: {field} changed")
        except channels.ChannelInvalid as exc:
            field, message = exc.errors[0]
            raise SectionError((ALERT_CHANNELS, i, field), message) from exc
    listed = {s.name for s in specs}
    for name in sorted(set(current) - listed):
        if current[name].enabled:
            channels.update_channel(current[name], enabled=False)
            ctx.removed(f"alert channel {name} disabled (not listed; its deliveries are kept)")


ALERT_CHANNELS_SECTION = register(
    Section(
        key=ALERT_CHANNELS,
        schema=list[ChannelSpec],
        export=export_channels,
        apply=apply_channels,
        check=check_channels,
        order=25,
        refusals=(channels.ChannelInvalid,),
    )
)
