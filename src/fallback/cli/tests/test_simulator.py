from __future__ import annotations

import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fallback.cli.app import app
from fallback.comms.tests.builders import free_port
from fallback.simulator.runner import Simulator

runner = CliRunner()


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    yield simulator
    simulator.stop()


def test_sim_takes_the_service_down_and_brings_it_back(sim):
    r = runner.invoke(app, ["sim", "down", "--url", sim.url])
    assert r.exit_code == 0, r.output
    assert "is now down" in r.output
    assert sim.service.mode == "down"
    r = runner.invoke(app, ["sim", "up", "--url", sim.url])
    assert r.exit_code == 0 and sim.service.mode == "up"


def test_old_simulate_name_still_works(sim):
    r = runner.invoke(app, ["simulate", "down", "--url", sim.url])
    assert r.exit_code == 0, r.output
    assert sim.service.mode == "down"
    assert not re.search(r"│ simulate ", runner.invoke(app, ["--help"]).output)  # hidden


def test_sim_finds_the_simulator_registered_in_the_data_folder(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("FALLBACK_HOME", str(tmp_path))
    r = runner.invoke(app, ["sim", "slow"])
    assert r.exit_code == 0, r.output
    assert sim.service.mode == "slow"
    r = runner.invoke(app, ["sim", "status"])
    assert r.exit_code == 0 and "slow" in r.output
    assert "no faults" in r.output and "500 customers" in r.output


def test_sim_without_a_simulator_says_so_and_exits_1():
    r = runner.invoke(app, ["sim", "status", "--url", "http://127.0.0.1:9"])
    assert r.exit_code == 1
    assert "Is `fallback demo` or `fallback sim run` running?" in r.output


def test_sim_fault_turns_a_fault_on_with_its_parameters_and_off(sim):
    r = runner.invoke(app, ["sim", "fault", "ratelimit", "--every", "5", "--url", sim.url])
    assert r.exit_code == 0, r.output
    assert sim.service.faults.active() == {"ratelimit": {"every": 5, "retry_after": 1}}
    assert "ratelimit (every=5, retry_after=1)" in r.output
    r = runner.invoke(app, ["sim", "fault", "fail-after", "--pages", "1", "--url", sim.url])
    assert r.exit_code == 0 and sim.service.faults.active()["fail_after"] == {"pages": 1}
    r = runner.invoke(app, ["sim", "fault", "ratelimit", "--off", "--url", sim.url])
    assert r.exit_code == 0 and list(sim.service.faults.active()) == ["fail_after"]


def test_sim_fault_refuses_unknown_faults_and_parameters_with_exit_2(sim):
    r = runner.invoke(app, ["sim", "fault", "gremlins", "--url", sim.url])
    assert r.exit_code == 2 and "errors, fail_after" in r.output
    r = runner.invoke(app, ["sim", "fault", "errors", "--pages", "3", "--url", sim.url])
    assert r.exit_code == 2 and "no parameter 'pages'" in r.output
    assert sim.service.faults.active() == {}


def test_sim_faults_lists_them_and_clears_them_all(sim):
    sim.service.faults.set("empty")
    sim.service.faults.set("truncated")
    r = runner.invoke(app, ["sim", "faults", "--url", sim.url])
    assert r.exit_code == 0 and "empty" in r.output and "truncated (page=2)" in r.output
    r = runner.invoke(app, ["sim", "faults", "--clear", "--url", sim.url])
    assert r.exit_code == 0 and "no faults" in r.output
    assert sim.service.faults.active() == {}


def test_sim_change_changes_the_share_of_records_asked_for(sim):
    r = runner.invoke(
        app, ["sim", "change", "--share", "0.05", "--entity", "products", "--url", sim.url]
    )
    assert r.exit_code == 0, r.output
    assert "Changed 10 products" in r.output
    assert len(sim.service.business.changed("products")) == 10
    r = runner.invoke(app, ["sim", "change", "--entity", "widgets", "--url", sim.url])
    assert r.exit_code == 2


def test_sim_run_refuses_a_scale_out_of_range(tmp_path, monkeypatch):
    monkeypatch.setenv("FALLBACK_HOME", str(tmp_path))
    r = runner.invoke(app, ["sim", "run", "--port", "0", "--scale", "0"])
    assert r.exit_code == 2
    assert "between 1 and 100,000" in r.output


@contextmanager
def _sim_run(home: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`fallback sim run` in its own process, answering; (the process, its URL)."""
    port = free_port()
    command = [sys.executable, "-m", "fallback", "--home", str(home), "sim", "run"]
    process = subprocess.Popen(
        [*command, "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.2)
        yield process, url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def test_sim_run_serves_the_smtp_sink_and_says_where_its_mail_shows(tmp_path):
    smtp_port = free_port()
    with _sim_run(tmp_path, "--smtp-port", str(smtp_port)) as (process, url):
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as client:
            client.sendmail("a@x.test", ["b@y.test"], b"Subject: Hello\r\n\r\nHi\r\n")
        r = runner.invoke(app, ["sim", "status", "--url", url])
        assert f"SMTP sink on 127.0.0.1:{smtp_port}, 1 message(s) received" in r.output
    assert process.stdout is not None
    out = process.stdout.read()
    assert f"Mail:       {url}/mail  (SMTP sink on 127.0.0.1:{smtp_port}, no security)" in out


def test_sim_run_with_its_smtp_port_taken_says_so_and_serves_the_rest(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        smtp_port = taken.getsockname()[1]
        with _sim_run(tmp_path, "--smtp-port", str(smtp_port)) as (process, url):
            r = runner.invoke(app, ["sim", "status", "--url", url])
            assert "its SMTP sink off (cannot listen on" in r.output
    assert process.stdout is not None
    out = process.stdout.read()
    assert f"The SMTP sink is not started: cannot listen on 127.0.0.1:{smtp_port}: the port " in out


def test_sim_fault_mail_down_switches_the_sink_s_fault(sim):
    r = runner.invoke(app, ["sim", "fault", "mail-down", "--url", sim.url])
    assert r.exit_code == 0, r.output
    assert sim.service.faults.active() == {"mail_down": {}} and "mail_down" in r.output
