"""CloudCRM, the simulated cloud: what it answers in each mode, and its control API.

- up: everything answers normally;
- slow: answers, but after SLOW_SECONDS (past the demo checks' response-time limit);
- down: /health and /login answer 503, the status page reports a major outage, and every
  dialect's API answers 503.

The dialects (`shopify`, `hubspot`, `quickbooks`) serve one business (`business`) under
/shopify, /hubspot and /quickbooks, with the failure switches of `faults`. The canary
targets (/canary/…), the other vendors (/vendors/<name>/health) and the alert receiver stay
up whatever the mode: they stand for the rest of the internet, the vendors that are fine,
and the staff's phones.

The control API: `GET /_control` (mode, faults, the business's size), `POST /_control/<mode>`,
`POST /_control/faults/<name>` (optional JSON parameters), `DELETE /_control/faults/<name>`,
`DELETE /_control/faults`, `POST /_control/change` (JSON `{"share", "entity"}`).
"""

from __future__ import annotations

import asyncio
import html
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from fallback.simulator import hubspot, mail_pages, quickbooks, shopify
from fallback.simulator.business import ENTITIES
from fallback.simulator.faults import FAULTS
from fallback.simulator.pages import page as _page
from fallback.simulator.service import (
    ALERTS_KEPT,
    MODES,
    NAME,
    SERVICE,
    SLOW_SECONDS,
    Alert,
    Mode,
    Service,
)

__all__ = [
    "ALERTS_KEPT",
    "COMPONENTS",
    "KEYWORD",
    "MODES",
    "NAME",
    "SERVICE",
    "SLOW_SECONDS",
    "Alert",
    "Mode",
    "Service",
    "make_app",
]

KEYWORD = "Sign in to CloudCRM"
COMPONENTS = ["CRM API", "Web app", "Email sync"]


def _service(request: web.Request) -> Service:
    return request.app[SERVICE]


async def _wait_if_slow(service: Service) -> None:
    if service.mode == "slow":
        await asyncio.sleep(service.slow_seconds)


async def health(request: web.Request) -> web.Response:
    service = _service(request)
    await _wait_if_slow(service)
    if service.mode == "down":
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok", "version": "4.2.1"})


async def login(request: web.Request) -> web.Response:
    service = _service(request)
    await _wait_if_slow(service)
    if service.mode == "down":
        return _page("Service unavailable", "<p>CloudCRM is having problems.</p>", status=503)
    body = (
        f"<h1>{KEYWORD}</h1><form><label>Email <input name=email></label>"
        "<label>Password <input name=password type=password></label>"
        "<button>Sign in</button></form>"
    )
    return _page(NAME, body)


def _component_status(service: Service, name: str) -> str:
    if service.mode == "down":
        return "major_outage" if name != "Email sync" else "partial_outage"
    if service.mode == "slow" and name == "CRM API":
        return "degraded_performance"
    return "operational"


_INDICATOR = {
    "up": ("none", "All Systems Operational"),
    "slow": ("minor", "Degraded Performance"),
    "down": ("major", "Major Service Outage"),
}


async def status_summary(request: web.Request) -> web.Response:
    """The vendor's status page, in Atlassian Statuspage's summary.json format."""
    service = _service(request)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    indicator, description = _INDICATOR[service.mode]
    base = f"http://{request.host}"
    components = [
        {
            "id": f"cmp{n}",
            "name": name,
            "status": _component_status(service, name),
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": service.since.isoformat(timespec="seconds"),
            "position": n,
            "description": None,
            "showcase": True,
            "group_id": None,
            "page_id": "cloudcrm",
            "group": False,
            "only_show_if_degraded": False,
        }
        for n, name in enumerate(COMPONENTS, start=1)
    ]
    incidents: list[dict[str, Any]] = []
    if service.mode != "up":
        incidents.append(
            {
                "id": "inc1",
                "name": "Elevated error rates" if service.mode == "down" else "Slow responses",
                "status": "investigating",
                "impact": indicator,
                "created_at": service.since.isoformat(timespec="seconds"),
                "updated_at": now,
                "shortlink": f"{base}/status",
                "incident_updates": [],
            }
        )
    return web.json_response(
        {
            "page": {
                "id": "cloudcrm",
                "name": NAME,
                "url": f"{base}/status",
                "time_zone": "Etc/UTC",
                "updated_at": now,
            },
            "status": {"indicator": indicator, "description": description},
            "components": components,
            "incidents": incidents,
            "scheduled_maintenances": [],
        }
    )


async def status_page(request: web.Request) -> web.Response:
    service = _service(request)
    _, description = _INDICATOR[service.mode]
    rows = "".join(
        f"<li>{html.escape(name)}: {_component_status(service, name).replace('_', ' ')}</li>"
        for name in COMPONENTS
    )
    return _page(f"{NAME} status", f"<h1>{description}</h1><ul>{rows}</ul>")


async def canary(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def other_vendor(request: web.Request) -> web.Response:
    """The demo's other vendors (accounting, the web shop): always fine, whatever the mode."""
    return web.json_response({"status": "ok", "vendor": request.match_info["name"]})


async def receive_alert(request: web.Request) -> web.Response:
    """Apprise's json:// posts {"version", "title", "message", "type"} here."""
    try:
        data = await request.json()
    except ValueError:
        return web.json_response({"error": "expected a JSON body"}, status=400)
    if not isinstance(data, dict):
        return web.json_response({"error": "expected a JSON object"}, status=400)
    _service(request).alerts.appendleft(
        Alert(
            at=datetime.now(UTC),
            title=str(data.get("title", "")),
            message=str(data.get("message", "")),
            type=str(data.get("type", "")),
        )
    )
    return web.json_response({"received": True})


async def alerts_page(request: web.Request) -> web.Response:
    service = _service(request)
    items = "".join(
        f"<li><time>{a.at:%Y-%m-%d %H:%M:%S} UTC</time> <strong>{html.escape(a.title)}</strong>"
        f"<pre>{html.escape(a.message)}</pre></li>"
        for a in service.alerts
    )
    body = (
        "<h1>Staff alerts received</h1>"
        "<p>The demo's alert channel posts here (apprise <code>json://</code>), standing in "
        "for the phones of the people on duty. Newest first; the page refreshes itself. "
        "What the demo businesses email to customers and subscribers is on the "
        "<a href=/mail>Mail</a> page.</p>"
        + (f"<ol reversed>{items}</ol>" if items else "<p>No alerts yet.</p>")
    )
    response = _page("Alerts received", body)
    response.headers["Refresh"] = "10"
    return response


async def home(request: web.Request) -> web.Response:
    service = _service(request)
    counts = service.business.counts
    faults = ", ".join(service.faults.active()) or "none"
    body = (
        f"<h1>{NAME} (simulated)</h1>"
        f"<p>A pretend cloud service for Fallback's demo and tests. Right now it is "
        f"<strong>{service.mode}</strong> (since {service.since:%H:%M:%S} UTC); faults on: "
        f"{html.escape(faults)}.</p>"
        "<ul><li><a href=/health>/health</a></li><li><a href=/login>/login</a></li>"
        "<li><a href=/status/api/v2/summary.json>/status/api/v2/summary.json</a></li>"
        "<li><a href=/alerts>/alerts</a>: alerts Fallback sent</li>"
        "<li><a href=/mail>/mail</a>: mail Fallback sent to its SMTP sink</li>"
        "<li><a href=/_control>/_control</a>: its state, as JSON</li></ul>"
        f"<p>Its business, {html.escape(service.business.describe()['name'])}: "
        f"{counts['customers']:,} customers, {counts['products']:,} products, "
        f"{counts['suppliers']:,} suppliers, {counts['orders']:,} orders and "
        f"{counts['invoices']:,} invoices, served in three dialects:</p><ul>"
        f"<li>Shopify: <code>{shopify.PREFIX}/customers.json</code> "
        "(header <code>X-Shopify-Access-Token: shpat_demo</code>)</li>"
        f"<li>HubSpot: <code>{hubspot.PREFIX}/companies</code> "
        "(header <code>Authorization: Bearer pat-demo</code>)</li>"
        f"<li>QuickBooks Online: <code>{quickbooks.PREFIX}/v3/company/"
        f"{quickbooks.DEMO_REALM}/query</code> (a token from <code>{quickbooks.TOKEN_PATH}"
        "</code>, client <code>demo-client:demo-secret</code>, refresh token "
        "<code>demo-refresh</code>)</li></ul>"
        "<p>Take it down with <code>fallback sim down</code>, bring it back with "
        "<code>fallback sim up</code>; break it in other ways with <code>fallback sim fault"
        "</code>.</p>"
    )
    return _page(NAME, body)


async def control_state(request: web.Request) -> web.Response:
    state = _service(request).state()
    state["available_faults"] = FAULTS
    return web.json_response(state)


async def control_set(request: web.Request) -> web.Response:
    service = _service(request)
    try:
        service.set_mode(request.match_info["mode"])
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(service.state())


async def _json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body; {} when there is none. ValueError when not JSON."""
    raw = await request.read()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


async def control_fault_on(request: web.Request) -> web.Response:
    service = _service(request)
    try:
        params = await _json_object(request)
        service.faults.set(request.match_info["name"], params)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(service.state())


async def control_fault_off(request: web.Request) -> web.Response:
    service = _service(request)
    try:
        service.faults.clear(request.match_info["name"])
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(service.state())


async def control_faults_off(request: web.Request) -> web.Response:
    service = _service(request)
    service.faults.clear_all()
    return web.json_response(service.state())


async def control_change(request: web.Request) -> web.Response:
    service = _service(request)
    try:
        data = await _json_object(request)
        share = data.get("share", 0.01)
        entity = data.get("entity", "customers")
        if isinstance(share, bool) or not isinstance(share, int | float):
            raise ValueError(f"share must be a number (got {share!r})")
        if not isinstance(entity, str) or entity not in ENTITIES:
            raise ValueError(f"entity must be one of {', '.join(ENTITIES)} (got {entity!r})")
        changed = service.business.change(float(share), entity)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"changed": changed, "entity": entity, "share": share})


def make_app(service: Service | None = None) -> web.Application:
    app = web.Application()
    app[SERVICE] = service or Service()
    shopify.add_routes(app)
    hubspot.add_routes(app)
    quickbooks.add_routes(app)
    mail_pages.add_routes(app)
    app.add_routes(
        [
            web.get("/", home),
            web.get("/health", health),
            web.get("/login", login),
            web.get("/status", status_page),
            web.get("/status/api/v2/summary.json", status_summary),
            web.get("/canary/{name}", canary),
            web.get("/vendors/{name}/health", other_vendor),
            web.post("/alerts", receive_alert),
            web.get("/alerts", alerts_page),
            web.get("/_control", control_state),
            web.post("/_control/change", control_change),
            web.delete("/_control/faults", control_faults_off),
            web.post("/_control/faults/{name}", control_fault_on),
            web.delete("/_control/faults/{name}", control_fault_off),
            web.post("/_control/{mode}", control_set),
        ]
    )
    return app
