"""Vendor status page: what the vendor itself says, read from a Statuspage summary.json.

Mapping (a component's status, or the page's indicator when no component is named):
- operational → up; degraded_performance → degraded;
- partial_outage → degraded: only part of the component is out, so it may still work for
  us; our own checks say whether it does;
- major_outage → down;
- under_maintenance (or the indicator "maintenance") → unknown, "vendor maintenance": the
  vendor planned it, it is not an outage we should raise an alarm for by itself;
- indicator none → up; minor → degraded; major or critical → down.
A page that cannot be fetched or read, or has no component of that name, is unknown: a broken
status page says nothing about the service.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr
from yarl import URL

from fallback.configfile.messages import show
from fallback.monitor.kinds.base import CheckKind, Outcome, RunContext, clip
from fallback.monitor.kinds.fetch import (
    REQUEST_ERRORS,
    USER_AGENT,
    client_timeout,
    describe_error,
    display_url,
    read_bounded,
)
from fallback.monitor.kinds.fields import http_url
from fallback.monitor.kinds.registry import register
from fallback.monitor.models import State

# Large vendors list hundreds of components; their summaries run to a few hundred KB.
BODY_LIMIT = 8 * 1024 * 1024
SUMMARY_PATH = "/api/v2/summary.json"

COMPONENT_STATES: dict[str, tuple[State, str]] = {
    "operational": (State.UP, "operational"),
    "degraded_performance": (State.DEGRADED, "degraded performance"),
    "partial_outage": (State.DEGRADED, "partial outage"),
    "major_outage": (State.DOWN, "major outage"),
    "under_maintenance": (State.UNKNOWN, "vendor maintenance"),
}
INDICATOR_STATES: dict[str, tuple[State, str]] = {
    "none": (State.UP, "no problems"),
    "minor": (State.DEGRADED, "minor problems"),
    "major": (State.DOWN, "a major outage"),
    "critical": (State.DOWN, "a critical outage"),
    "maintenance": (State.UNKNOWN, "vendor maintenance"),
}
_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}


def summary_url(raw: Any) -> str:
    """The page's root gets the summary's path added; a .json address is kept as given."""
    value = http_url(raw)
    url = URL(value)
    if url.path.endswith(".json"):
        return value
    return str(url.with_path(url.path.rstrip("/") + SUMMARY_PATH).with_query(None))


def _component(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"must be the component's name as the status page shows it (got {show(value)})"
        )
    return value.strip()


class StatusPageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[str, BeforeValidator(summary_url)]
    component: Annotated[str | None, BeforeValidator(_component)] = None

    _url: URL = PrivateAttr()
    _component_key: str | None = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._url = URL(self.url)
        self._component_key = _key(self.component) if self.component else None


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


class StatusPageKind(CheckKind[StatusPageConfig]):
    key = "statuspage"
    label = "Vendor status page"
    Config = StatusPageConfig

    async def run(self, config: StatusPageConfig, ctx: RunContext) -> Outcome:
        started = time.perf_counter()
        try:
            async with ctx.session.get(
                config._url, headers=_HEADERS, timeout=client_timeout(ctx.timeout)
            ) as response:
                body, truncated = await read_bounded(response, BODY_LIMIT)
                code = response.status
        except REQUEST_ERRORS as exc:
            reason = describe_error(exc, display_url(config._url), ctx.timeout)
            return Outcome(State.UNKNOWN, None, f"vendor status page unavailable: {reason}")
        elapsed_ms = (time.perf_counter() - started) * 1000
        if code != 200:
            message = f"vendor status page unavailable: HTTP {code} from {display_url(config._url)}"
            return Outcome(State.UNKNOWN, elapsed_ms, message)
        if truncated:
            return Outcome(State.UNKNOWN, elapsed_ms, "vendor status page is too large to read")
        try:
            summary = json.loads(body)
        except ValueError:
            return Outcome(State.UNKNOWN, elapsed_ms, "vendor status page is not valid JSON")
        if not isinstance(summary, dict):
            return Outcome(State.UNKNOWN, elapsed_ms, "vendor status page is not a summary")
        return judge(summary, config.component, config._component_key, elapsed_ms)


def judge(
    summary: dict[str, Any], component: str | None, component_key: str | None, elapsed_ms: float
) -> Outcome:
    """The outcome for a parsed summary.json."""
    if component is None or component_key is None:
        status = summary.get("status")
        indicator = status.get("indicator") if isinstance(status, dict) else None
        if not isinstance(indicator, str):
            return Outcome(State.UNKNOWN, elapsed_ms, "vendor status page has no status indicator")
        mapped = INDICATOR_STATES.get(indicator)
        if mapped is None:
            message = f"vendor status page shows an unrecognised indicator {indicator!r}"
            return Outcome(State.UNKNOWN, elapsed_ms, clip(message, 200))
        state, words = mapped
        description = status.get("description") if isinstance(status, dict) else None
        if state == State.UNKNOWN:
            message = words
        elif isinstance(description, str) and description.strip():
            message = f"vendor says: {clip(description, 100)}"
        else:
            message = f"vendor reports {words}"
        details = {"indicator": indicator}
        return Outcome(state, elapsed_ms, _with_incident(message, state, summary, None), details)

    components = summary.get("components")
    if not isinstance(components, list):
        return Outcome(State.UNKNOWN, elapsed_ms, "vendor status page lists no components")
    matches = [
        c
        for c in components
        if isinstance(c, dict)
        and isinstance(c.get("name"), str)
        and _key(c["name"]) == component_key
    ]
    if not matches:
        names = [
            c["name"] for c in components if isinstance(c, dict) and isinstance(c.get("name"), str)
        ]
        listed = clip(", ".join(names), 150) if names else "none"
        message = f"no component named {component!r} on the vendor status page (it lists: {listed})"
        return Outcome(State.UNKNOWN, elapsed_ms, message)
    # The same name may appear in several groups (say, per region): the worst one counts.
    worst: tuple[State, str] | None = None
    ids: list[str] = []
    for match in matches:
        raw = match.get("status")
        mapped = COMPONENT_STATES.get(raw) if isinstance(raw, str) else None
        if mapped is None:
            message = (
                f"vendor status page shows an unrecognised status {show(raw)} for {component!r}"
            )
            return Outcome(State.UNKNOWN, elapsed_ms, clip(message, 200))
        if worst is None or _RANK[mapped[0]] > _RANK[worst[0]]:
            worst = mapped
        if isinstance(match.get("id"), str):
            ids.append(match["id"])
    assert worst is not None
    state, words = worst
    if state == State.UNKNOWN:
        message = words
    elif state == State.UP:
        message = f"vendor reports {component} operational"
    else:
        message = f"vendor reports {words} for {component}"
    details = {"component_status": words}
    return Outcome(state, elapsed_ms, _with_incident(message, state, summary, ids), details)


# How bad a vendor's component status is, to pick the worst of several with one name.
_RANK = {State.UP: 0, State.UNKNOWN: 1, State.DEGRADED: 2, State.DOWN: 3}


def _with_incident(
    message: str, state: State, summary: dict[str, Any], component_ids: list[str] | None
) -> str:
    """The message with the vendor's current incident, when there is one to point at."""
    if state in (State.UP, State.UNKNOWN):
        return message
    incidents = summary.get("incidents")
    if not isinstance(incidents, list):
        return message
    for incident in incidents:
        if not isinstance(incident, dict) or not isinstance(incident.get("name"), str):
            continue
        if incident.get("status") in ("resolved", "postmortem"):
            continue
        affected = incident.get("components")
        if component_ids is not None and isinstance(affected, list):
            touched = {c.get("id") for c in affected if isinstance(c, dict)}
            if not touched & set(component_ids):
                continue
        return f"{message} (incident: {clip(incident['name'], 100)})"
    return message


register(StatusPageKind())
