"""A document the server said was saved survives the server being killed at once (SIGKILL,
no goodbye), and replaying the same request after the restart makes nothing new.

The server is a real `fallback serve` in a child process on its own database (SQLite in its
data folder, or a fresh PostgreSQL database when the tests run on PostgreSQL).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request

import pytest

from fallback.testing.postgres import fresh_database

SETUP = """
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from fallback.accounts.roles import Role
from fallback.desk import mode
from fallback.testing.factories import join, make_org, make_user, token_for
org = make_org("Kill test")
user = make_user("staff@kill.test")
join(org, user, Role.STAFF)
mode.switch_on(org, user, "CRM down")
print(json.dumps({"slug": org.slug, "token": token_for(user)}))
"""

PAYLOAD = {
    "kind": "quote",
    "party_name": "Smith Plumbing",
    "lines": [
        {"description": "Copper pipe 15mm", "quantity": "10", "unit_price": "4.20"},
        {"description": "Pipe bender", "quantity": "1", "unit_price": "38.00"},
    ],
    "request_key": "quote-after-kill-1",
}


@pytest.fixture
def database_url():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        with fresh_database("fallback_desk_kill") as (db_url, _, _):
            yield db_url
    else:
        yield None


def _env(home, db_url):
    env = dict(os.environ, FALLBACK_HOME=str(home), DJANGO_SETTINGS_MODULE="fallback.settings")
    env.pop("DATABASE_URL", None)
    if db_url:
        env["DATABASE_URL"] = db_url
    return env


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env, home):
        self.env, self.home, self.port = env, home, _free_port()
        self.process = None

    def start(self):
        log = (self.home / f"serve-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fallback", "serve", "--port", str(self.port), "--no-worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                return self
            assert self.process.poll() is None, "the server stopped while starting"
            time.sleep(0.2)
        raise AssertionError("the server did not start")

    def call(self, method, path, token, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def test_a_saved_document_survives_a_kill_and_a_replay_makes_nothing_new(tmp_path, database_url):
    env = _env(tmp_path, database_url)
    setup = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SETUP)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr
    given = json.loads(setup.stdout.strip().splitlines()[-1])
    base, token = f"/orgs/{given['slug']}/desk", given["token"]

    first = Server(env, tmp_path).start()
    try:
        status, saved = first.call("POST", f"{base}/documents", token, PAYLOAD)
        assert status == 201, saved
        first.kill()  # the moment after "saved"
    finally:
        first.stop()

    second = Server(env, tmp_path).start()
    try:
        status, found = second.call("GET", f"{base}/documents/{saved['id']}", token)
        assert status == 200 and found["number"] == saved["number"]
        assert found["total"] == saved["total"] and len(found["lines"]) == 2
        status, again = second.call("POST", f"{base}/documents", token, PAYLOAD)
        assert status == 200 and again["id"] == saved["id"]
        status, listed = second.call("GET", f"{base}/documents", token)
        assert status == 200 and [d["id"] for d in listed] == [saved["id"]]
    finally:
        second.stop()
