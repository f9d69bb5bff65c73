from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import apprise
import pytest
from typer.testing import CliRunner

from fallback.cli.app import app
from fallback.simulator import control
from fallback.simulator.app import KEYWORD
from fallback.simulator.runner import REGISTRATION, Simulator


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    simulator.service.slow_seconds = 0.3
    yield simulator
    simulator.stop()


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


# --------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_takes_the_service_down_and_brings_it_back(sim):
    r = runner.invoke(app, ["simulate", "down", "--url", sim.url])
    assert r.exit_code == 0, r.output
    assert "is now down" in r.output
    assert sim.service.mode == "down"
    r = runner.invoke(app, ["simulate", "up", "--url", sim.url])
    assert r.exit_code == 0 and sim.service.mode == "up"


def test_cli_finds_the_simulator_registered_in_the_data_folder(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("FALLBACK_HOME", str(tmp_path))
    r = runner.invoke(app, ["simulate", "slow"])
    assert r.exit_code == 0, r.output
    assert sim.service.mode == "slow"
    r = runner.invoke(app, ["simulate", "status"])
    assert r.exit_code == 0 and "slow" in r.output


def test_cli_without_a_simulator_says_so_and_exits_1():
    r = runner.invoke(app, ["simulate", "status", "--url", "http://127.0.0.1:9"])
    assert r.exit_code == 1
    assert "Is `fallback demo` running?" in r.output
