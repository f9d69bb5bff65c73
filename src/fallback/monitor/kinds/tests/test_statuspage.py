"""The vendor status page kind against a Statuspage-format page served on loopback."""

from __future__ import annotations

import asyncio
import copy
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from fallback.monitor.kinds import InvalidCheckConfig, Outcome, validate_config
from fallback.monitor.kinds.statuspage import StatusPageConfig
from fallback.monitor.models import State

Run = Callable[..., Outcome]

SUMMARY: dict[str, Any] = {
    "page": {"id": "p1", "name": "Ledgerly", "url": "https://status.ledgerly.test"},
    "status": {"indicator": "none", "description": "All Systems Operational"},
    "components": [
        {"id": "c1", "name": "API", "status": "operational", "group": False, "group_id": None},
        {"id": "c2", "name": "Invoicing", "status": "operational", "group": False},
        {"id": "g1", "name": "Europe", "status": "operational", "group": True},
        {"id": "c3", "name": "Web app", "status": "operational", "group_id": "g1"},
        {"id": "c4", "name": "Web app", "status": "operational", "group_id": "g2"},
    ],
    "incidents": [],
    "scheduled_maintenances": [],
}


@dataclass
class Vendor:
    url: str
    summary: dict[str, Any]

    def component(self, name: str, status: str, index: int = 0) -> None:
        matches = [c for c in self.summary["components"] if c["name"] == name]
        matches[index]["status"] = status


@pytest.fixture
def vendor(serve: Callable[..., str]) -> Vendor:
    summary = copy.deepcopy(SUMMARY)

    async def page(request: web.Request) -> web.Response:
        return web.json_response(summary)

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>Status</html>", content_type="text/html")

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response(summary)

    app = web.Application()
    app.router.add_get("/api/v2/summary.json", page)
    app.router.add_get("/broken/summary.json", broken)
    app.router.add_get("/html/summary.json", html)
    app.router.add_get("/hang/summary.json", hang)
    return Vendor(serve(app), summary)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_page_root_reads_the_summary(run_check: Run, vendor: Vendor) -> None:
    model = validate_config("statuspage", {"url": vendor.url + "/"})
    assert isinstance(model, StatusPageConfig)
    assert model.url == vendor.url + "/api/v2/summary.json"
    outcome = run_check("statuspage", {"url": vendor.url})
    assert outcome.status == State.UP
    assert outcome.message == "vendor says: All Systems Operational"


def test_a_json_address_is_used_as_given() -> None:
    url = "https://status.ledgerly.test/api/v2/summary.json"
    assert validate_config("statuspage", {"url": url}).url == url  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("vendor_status", "state", "message"),
    [
        ("operational", State.UP, "vendor reports Invoicing operational"),
        (
            "degraded_performance",
            State.DEGRADED,
            "vendor reports degraded performance for Invoicing",
        ),
        ("partial_outage", State.DEGRADED, "vendor reports partial outage for Invoicing"),
        ("major_outage", State.DOWN, "vendor reports major outage for Invoicing"),
        ("under_maintenance", State.UNKNOWN, "vendor maintenance"),
    ],
)
def test_component_status_maps_to_a_state(
    run_check: Run, vendor: Vendor, vendor_status: str, state: State, message: str
) -> None:
    vendor.component("Invoicing", vendor_status)
    outcome = run_check("statuspage", {"url": vendor.url, "component": "Invoicing"})
    assert (outcome.status, outcome.message) == (state, message)
    assert outcome.details["component_status"] == vendor_status.replace("_", " ").replace(
        "under maintenance", "vendor maintenance"
    )


def test_down_when_the_vendor_reports_a_major_outage_of_our_component_with_its_incident(
    run_check: Run, vendor: Vendor
) -> None:
    vendor.component("Invoicing", "major_outage")
    vendor.summary["incidents"] = [
        {"name": "API latency", "status": "investigating", "components": [{"id": "c1"}]},
        {"name": "Invoices failing to send", "status": "identified", "components": [{"id": "c2"}]},
    ]
    outcome = run_check("statuspage", {"url": vendor.url, "component": "Invoicing"})
    assert outcome.status == State.DOWN
    assert outcome.message == (
        "vendor reports major outage for Invoicing (incident: Invoices failing to send)"
    )


def test_up_when_only_another_component_is_out(run_check: Run, vendor: Vendor) -> None:
    vendor.component("API", "major_outage")
    vendor.summary["status"] = {"indicator": "major", "description": "Major System Outage"}
    outcome = run_check("statuspage", {"url": vendor.url, "component": "Invoicing"})
    assert outcome.status == State.UP


def test_the_component_name_is_matched_without_regard_to_case(
    run_check: Run, vendor: Vendor
) -> None:
    vendor.component("Invoicing", "major_outage")
    outcome = run_check("statuspage", {"url": vendor.url, "component": "  invoicing "})
    assert outcome.status == State.DOWN


def test_the_worst_of_components_sharing_a_name_counts(run_check: Run, vendor: Vendor) -> None:
    vendor.component("Web app", "partial_outage", index=1)
    outcome = run_check("statuspage", {"url": vendor.url, "component": "Web app"})
    assert outcome.status == State.DEGRADED


@pytest.mark.parametrize(
    ("indicator", "state"),
    [
        ("none", State.UP),
        ("minor", State.DEGRADED),
        ("major", State.DOWN),
        ("critical", State.DOWN),
        ("maintenance", State.UNKNOWN),
    ],
)
def test_without_a_component_the_page_indicator_counts(
    run_check: Run, vendor: Vendor, indicator: str, state: State
) -> None:
    vendor.summary["status"] = {"indicator": indicator, "description": "Something"}
    assert run_check("statuspage", {"url": vendor.url}).status == state


def test_the_indicator_message_quotes_the_vendor_or_says_what_it_means(
    run_check: Run, vendor: Vendor
) -> None:
    vendor.summary["status"] = {"indicator": "major", "description": "Major System Outage"}
    assert run_check("statuspage", {"url": vendor.url}).message == (
        "vendor says: Major System Outage"
    )
    vendor.summary["status"] = {"indicator": "critical"}
    assert run_check("statuspage", {"url": vendor.url}).message == (
        "vendor reports a critical outage"
    )
    vendor.summary["status"] = {"indicator": "maintenance", "description": "Planned work"}
    assert run_check("statuspage", {"url": vendor.url}).message == "vendor maintenance"


def test_unknown_when_the_component_is_not_on_the_page(run_check: Run, vendor: Vendor) -> None:
    outcome = run_check("statuspage", {"url": vendor.url, "component": "Payroll"})
    assert outcome.status == State.UNKNOWN
    assert outcome.message == (
        "no component named 'Payroll' on the vendor status page "
        "(it lists: API, Invoicing, Europe, Web app, Web app)"
    )


def test_unknown_when_the_status_is_not_one_statuspage_uses(run_check: Run, vendor: Vendor) -> None:
    vendor.component("Invoicing", "on_fire")
    outcome = run_check("statuspage", {"url": vendor.url, "component": "Invoicing"})
    assert outcome.status == State.UNKNOWN
    assert "unrecognised status 'on_fire'" in outcome.message


def test_unreachable_page_is_unknown_never_down(run_check: Run) -> None:
    port = _free_port()
    outcome = run_check("statuspage", {"url": f"http://127.0.0.1:{port}", "component": "API"})
    assert outcome.status == State.UNKNOWN
    assert outcome.message == (
        f"vendor status page unavailable: connection refused by 127.0.0.1:{port}"
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/broken/summary.json", "vendor status page unavailable: HTTP 500 from "),
        ("/html/summary.json", "vendor status page is not valid JSON"),
        ("/hang/summary.json", "vendor status page unavailable: no response from "),
    ],
)
def test_a_page_that_cannot_be_read_is_unknown(
    run_check: Run, vendor: Vendor, path: str, message: str
) -> None:
    outcome = run_check("statuspage", {"url": vendor.url + path, "component": "API"}, timeout=0.3)
    assert outcome.status == State.UNKNOWN
    assert outcome.message.startswith(message)


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({}, "config.url", "is required"),
        ({"url": "status.vendor.test"}, "config.url", "must start with http:// or https://"),
        ({"url": "https://status.vendor.test", "component": ""}, "config.component", "name"),
        (
            {"url": "https://status.vendor.test", "components": "API"},
            "config.components",
            "unknown key",
        ),
    ],
)
def test_bad_definitions_are_refused_with_the_field_path(
    config: dict[str, object], path: str, message: str
) -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("statuspage", config)
    assert [p for p, _ in caught.value.errors] == [path]
    assert message in caught.value.errors[0][1]
