from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import apprise
import pytest

from fallback.simulator import control
from fallback.simulator.app import KEYWORD
from fallback.simulator.business import iso_local, parse_time
from fallback.simulator.runner import REGISTRATION, Simulator
from fallback.simulator.tests.client import (
    SHOPIFY,
    call,
    hubspot_walk,
    quickbooks_token,
    quickbooks_walk,
    shopify_url,
    shopify_walk,
)


def fetch(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=body)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def summary(sim: Simulator) -> dict:
    return json.loads(fetch(sim.url + "/status/api/v2/summary.json")[1])


def test_up_service_answers_health_login_and_status_page(sim):
    assert fetch(sim.url + "/health")[0] == 200
    status, page = fetch(sim.url + "/login")
    assert status == 200 and KEYWORD in page
    data = summary(sim)
    assert data["status"]["indicator"] == "none"
    assert {c["name"]: c["status"] for c in data["components"]} == {
        "CRM API": "operational",
        "Web app": "operational",
        "Email sync": "operational",
    }


def test_down_service_fails_health_and_login_and_says_major_outage(sim):
    control.set_mode(sim.url, "down")
    assert fetch(sim.url + "/health")[0] == 503
    status, page = fetch(sim.url + "/login")
    assert status == 503 and KEYWORD not in page
    data = summary(sim)
    assert data["status"]["indicator"] == "major"
    components = {c["name"]: c["status"] for c in data["components"]}
    assert components["CRM API"] == "major_outage"
    assert data["incidents"][0]["status"] == "investigating"


def test_slow_service_answers_late_and_reports_degraded_performance(sim):
    control.set_mode(sim.url, "slow")
    started = time.monotonic()
    assert fetch(sim.url + "/health")[0] == 200
    assert time.monotonic() - started >= 0.3
    components = {c["name"]: c["status"] for c in summary(sim)["components"]}
    assert components["CRM API"] == "degraded_performance"


def test_home_page_names_the_dialects_their_credentials_and_the_commands(sim):
    status, page = fetch(sim.url + "/")
    assert status == 200
    for words in ("shpat_demo", "pat-demo", "demo-client:demo-secret", "fallback sim down"):
        assert words in page
    assert "500 customers" in page


def test_canaries_stay_up_when_the_service_is_down(sim):
    control.set_mode(sim.url, "down")
    assert fetch(sim.url + "/canary/one") == (200, "ok\n")


def test_service_comes_back_up(sim):
    control.set_mode(sim.url, "down")
    state = control.set_mode(sim.url, "up")
    assert state["mode"] == "up"
    assert fetch(sim.url + "/health")[0] == 200


def test_unknown_mode_is_refused_naming_the_modes(sim):
    with pytest.raises(ValueError, match="up, down, slow"):
        control.set_mode(sim.url, "sideways")
    status, body = fetch(sim.url + "/_control/sideways", method="POST", body=b"")
    assert status == 400 and "up, down, slow" in json.loads(body)["error"]
    assert sim.service.mode == "up"


def test_alert_sent_through_apprise_json_shows_on_the_alerts_page(sim):
    url = sim.url.replace("http://", "json://") + "/alerts"
    sender = apprise.Apprise()
    assert sender.add(url)
    assert sender.notify(title="Outage declared: CloudCRM", body="Down since 10:00")
    status, page = fetch(sim.url + "/alerts")
    assert status == 200
    assert "Outage declared: CloudCRM" in page and "Down since 10:00" in page
    assert control.status(sim.url)["alerts"] == 1


def test_alert_receiver_refuses_what_is_not_json(sim):
    assert fetch(sim.url + "/alerts", method="POST", body=b"nope")[0] == 400
    assert len(sim.service.alerts) == 0


# ------------------------------------------------------------ registration


def test_running_simulator_is_registered_in_the_data_folder_until_stopped(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    try:
        assert control.registered_url(tmp_path) == simulator.url
    finally:
        simulator.stop()
    assert not (tmp_path / REGISTRATION).exists()
    assert control.registered_url(tmp_path) is None


def test_registration_of_a_dead_process_is_ignored(tmp_path):
    (tmp_path / REGISTRATION).write_text(
        json.dumps({"url": "http://127.0.0.1:8081", "pid": 2**22 + 12345})
    )
    assert control.registered_url(tmp_path) is None


def test_registration_pointing_off_the_machine_is_ignored(tmp_path):
    (tmp_path / REGISTRATION).write_text(
        json.dumps({"url": "http://example.com", "pid": os.getpid()})
    )
    assert control.registered_url(tmp_path) is None


def test_port_in_use_is_an_error_at_start(sim, tmp_path):
    with pytest.raises(OSError):
        Simulator("127.0.0.1", sim.port).start()


def test_nothing_listening_is_unreachable_naming_the_address():
    with pytest.raises(control.SimulatorUnreachable, match=r"127\.0\.0\.1:9"):
        control.status("http://127.0.0.1:9")


# ------------------------------------------------------------ the simulated cloud


def test_control_state_lists_faults_and_the_business_scale(sim):
    control.set_fault(sim.url, "ratelimit", every=4)
    state = control.status(sim.url)
    assert state["faults"] == {"ratelimit": {"every": 4, "retry_after": 1}}
    assert set(state["available_faults"]) == {
        "errors",
        "fail_after",
        "ratelimit",
        "empty",
        "short",
        "truncated",
        "mail_down",
        "mail_reject",
    }
    assert state["business"]["counts"]["customers"] == 500
    assert state["business"]["changed"]["customers"] == 0


def test_change_through_the_control_api_is_served_changed_everywhere(sim):
    assert control.change(sim.url, share=0.01, entity="customers") == 5
    assert control.status(sim.url)["business"]["changed"]["customers"] == 5
    index = sim.service.business.changed("customers")[0]
    phone = sim.service.business.customer(index).phone
    shopify = call(shopify_url(sim.url, "customers", limit=250), headers=SHOPIFY).json()
    assert any(c["phone"] == phone for c in shopify["customers"] if c["id"] == index + 1)
    with pytest.raises(ValueError, match="entity"):
        control.change(sim.url, entity="widgets")


def test_every_customer_is_the_same_in_every_dialect(sim):
    control.change(sim.url, share=0.1, entity="customers")  # changes show everywhere too
    shopify = shopify_walk(sim.url, "customers", limit=250)[0]
    companies = hubspot_walk(sim.url, "companies", limit=100)[0]
    contacts = hubspot_walk(sim.url, "contacts", limit=100)[0]
    quickbooks = quickbooks_walk(sim.url, quickbooks_token(sim.url), "Customer", page_size=500)[0]
    assert len(shopify) == len(companies) == len(quickbooks) == 500
    people = {}
    for contact in contacts:
        people.setdefault(contact["properties"]["associatedcompanyid"], contact["properties"])
    for shop, company, books in zip(shopify, companies, quickbooks, strict=True):
        hub = company["properties"]
        assert str(shop["id"]) == company["id"] == books["Id"]
        address = shop["default_address"]
        assert address["company"] == hub["name"] == books["DisplayName"]
        assert shop["phone"] == hub["phone"] == books["PrimaryPhone"]["FreeFormNumber"]
        assert shop["email"] == books["PrimaryEmailAddr"]["Address"]
        assert (shop["first_name"], shop["last_name"]) == (books["GivenName"], books["FamilyName"])
        person = people[company["id"]]
        assert (person["firstname"], person["lastname"]) == (shop["first_name"], shop["last_name"])
        assert address["zip"] == hub["zip"] == books["BillAddr"]["PostalCode"]
        assert address["city"] == hub["city"] == books["BillAddr"]["City"]
        assert shop["currency"] == books["CurrencyRef"]["value"]
        assert shop["updated_at"] == books["MetaData"]["LastUpdatedTime"]
        assert parse_time(shop["updated_at"]) == parse_time(company["updatedAt"])


def test_a_hundred_thousand_customers_start_instantly_and_page_quickly(tmp_path):
    started = time.monotonic()
    simulator = Simulator("127.0.0.1", 0, home=tmp_path, scale=100_000).start()
    try:
        assert time.monotonic() - started < 1.0
        reply = call(shopify_url(simulator.url, "customers", limit=250), headers=SHOPIFY)
        assert len(reply.json()["customers"]) == 250
        last = call(
            shopify_url(
                simulator.url,
                "customers",
                limit=250,
                updated_at_min=iso_local(simulator.service.business.started),
            ),
            headers=SHOPIFY,
        )
        assert last.json() == {"customers": []}
        assert control.status(simulator.url)["business"]["counts"]["customers"] == 100_000
    finally:
        simulator.stop()
    assert time.monotonic() - started < 5.0


def test_scale_outside_the_limits_is_refused():
    with pytest.raises(ValueError, match="100,000"):
        Simulator("127.0.0.1", 0, scale=200_000)
