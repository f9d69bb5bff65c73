"""A sync killed with SIGKILL midway leaves the replica exactly as it was before the sync.

The sync runs in a child process against its own database (SQLite in its data folder, or a
fresh PostgreSQL database when the tests run on PostgreSQL), so the kill is real.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fallback.simulator import control
from fallback.simulator.runner import Simulator
from fallback.testing.postgres import fresh_database

COMMON = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from fallback.replica.models import Connector, Record, Sync
from fallback.replica import sync as syncing

def fingerprint():
    return sorted(Record.objects.values_list("key", "digest", "ended", "valid_to"), key=str)
"""

FIRST = (
    COMMON
    + """
from fallback.accounts.membership import create_organisation
from fallback.replica import editing
call_command("migrate", interactive=False, verbosity=0)
org = create_organisation("Kill test")
connector = editing.create_connector(
    org, name="Shop", kind="shopify",
    config={"base_url": sys.argv[1] + "/shopify/admin/api/2024-10/", "streams": ["customers"],
            "page_size": 10},
    secrets={"token": "shpat_demo"},
)
done = syncing.run(connector)
print(json.dumps({"status": done.status, "fingerprint": fingerprint()}, default=str))
"""
)

KILLED = (
    COMMON
    + """
from fallback.replica.connectors.shopify import ShopifyKind
original = ShopifyKind.read
def read(self, *args, **kwargs):
    for page in original(self, *args, **kwargs):
        yield page
        print("PAGE", flush=True)
ShopifyKind.read = read
syncing.run(Connector.objects.get(), full=True)
print("FINISHED", flush=True)
"""
)

AFTER = (
    COMMON
    + """
from datetime import timedelta
from django.utils import timezone
before = fingerprint()
running = list(Sync.objects.filter(status="running").values_list("pk", flat=True))
# The dead worker's lease runs out (5 minutes in real time; here, by moving it back).
past = timezone.now() - timedelta(hours=1)
Connector.objects.update(claimed_until=past)
Sync.objects.filter(status="running").update(heartbeat_at=past)
done = syncing.run(Connector.objects.get(), full=True)
dead = list(Sync.objects.filter(pk__in=running).values_list("status", flat=True))
print(json.dumps({"fingerprint": before, "running": len(running), "dead": dead,
                  "after": done.status}, default=str))
"""
)


@pytest.fixture
def database_url():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        with fresh_database("fallback_replica_kill") as (db_url, _, _):
            yield db_url
    else:
        yield None


def _env(home, db_url):
    env = dict(os.environ, FALLBACK_HOME=str(home), DJANGO_SETTINGS_MODULE="fallback.settings")
    env["FALLBACK_SEALING_KEY"] = (
        "AGE-SECRET-KEY-1YE4UCJFRQN2G7RZKMK32V078T7UKKK3UU2L52L6P78UZXWWCAE9SXM3PTY"
    )
    env.pop("DATABASE_URL", None)
    if db_url:
        env["DATABASE_URL"] = db_url
    return env


def _run(script, env, *args):
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_sync_killed_midway_leaves_the_replica_as_it_was(tmp_path, database_url):
    sim = Simulator(port=0, scale=60).start()
    env = _env(tmp_path, database_url)
    try:
        first = _run(FIRST, env, sim.url)
        assert first["status"] == "applied"
        control.change(sim.url, share=0.5, entity="customers")
        control.set_mode(sim.url, "slow")  # each page takes seconds: time to kill mid-way
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(KILLED)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line.strip() == "PAGE", child.stderr.read() if child.stderr else line
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        control.set_mode(sim.url, "up")
        after = _run(AFTER, env)
    finally:
        sim.stop()
    assert after["fingerprint"] == first["fingerprint"]
    assert after["running"] == 1
    assert after["dead"] == ["failed"]
    assert after["after"] == "applied"
