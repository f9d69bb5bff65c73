"""Restore: the newest snapshot at or before a time, found by listing the destination (as on
a new box with no database), decrypted with the binder's key, checked, and unpacked into a
data folder that `fallback serve` runs from — showing the replica as it was then."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from typer.testing import CliRunner

from fallback.accounts.roles import Role
from fallback.cli.app import app
from fallback.desk.tests.conftest import put_records
from fallback.testing.factories import join, make_org, make_user, token_for
from fallback.testing.postgres import fresh_database
from fallback.vault import restore, snapshots
from fallback.vault.archive import parse_identities
from fallback.vault.models import Destination, Kind
from fallback.vault.tests.conftest import bucket_name

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()

T1 = datetime(2026, 9, 1, 9, 0, 5, tzinfo=UTC)
T2 = datetime(2026, 9, 1, 15, 0, 5, tzinfo=UTC)


@pytest.fixture
def history(identity, usb):
    """Alpha Plumbing is in the replica at T1's snapshot; Bravo Heating arrives after it and
    is in T2's."""
    org = make_org("Hartley Plumbing")
    user = make_user("sam@hartley.test")
    join(org, user, Role.STAFF)
    token = token_for(user)
    with time_machine.travel(T1 - timedelta(minutes=5), tick=True):
        put_records(org, "customer", [{"key": "C1", "name": "Alpha Plumbing"}])
    with time_machine.travel(T1, tick=True):
        first = snapshots.take("test")
    with time_machine.travel(T2 - timedelta(minutes=5), tick=True):
        put_records(org, "customer", [{"key": "C2", "name": "Bravo Heating"}])
    with time_machine.travel(T2, tick=True):
        second = snapshots.take("test")
    return {"org": org, "token": token, "first": first, "second": second}


@pytest.fixture
def database_url():
    """On PostgreSQL, an empty database of the test's own to restore the dump into."""
    if connection.vendor == "postgresql":
        with fresh_database("fallback_vault_restore") as (url, _, _):
            yield url
    else:
        yield ""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(home: Path, database_url: str):
    port = _free_port()
    env = dict(os.environ, FALLBACK_HOME=str(home), DJANGO_SETTINGS_MODULE="fallback.settings")
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    log = (home.parent / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "fallback", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert process.poll() is None, (home.parent / f"serve-{port}.log").read_text()
                assert time.monotonic() < deadline, "the restored server did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _customers(base: str, slug: str, token: str) -> list[str]:
    request = urllib.request.Request(
        f"{base}/api/orgs/{slug}/records?entity=customer",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return [r["name"] for r in json.loads(answer.read())]


def test_restore_at_a_past_time_rebuilds_a_data_folder_that_serves_the_replica_as_it_was(
    history, tmp_path, database_url
):
    target = tmp_path / "restored"
    args = [
        "vault",
        "restore",
        "--at",
        (T1 + timedelta(hours=2)).isoformat(),
        "--to",
        str(target),
        "--from",
        str(tmp_path / "usb"),  # the USB disk, as on a new box with no database
        "--identity",
        str(tmp_path / "key.txt"),
    ]
    if database_url:
        args += ["--database-url", database_url]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert history["first"].name in result.output
    assert (target / "secret_key").read_text() == "test-secret-key\n"
    recorded = json.loads((target / "restored-from.json").read_text())
    assert recorded["snapshot"] == history["first"].name
    if not database_url:
        assert (target / "fallback.sqlite3").exists()

    with serving(target, database_url) as base:
        names = _customers(base, history["org"].slug, history["token"])
    assert "Alpha Plumbing" in names
    assert "Bravo Heating" not in names


def test_the_newest_snapshot_at_or_before_the_time_is_chosen(history, tmp_path):
    store = restore.store_for(str(tmp_path / "usb"))
    assert restore.choose(T2, [store]).name == history["second"].name
    assert restore.choose(T2 - timedelta(seconds=1), [store]).name == history["first"].name
    with pytest.raises(restore.RestoreProblem, match="No snapshot at or before"):
        restore.choose(T1 - timedelta(minutes=1), [store])


def test_a_folder_that_is_not_empty_is_refused(history, tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "precious.txt").write_text("mine")
    result = runner.invoke(
        app,
        [
            "vault",
            "restore",
            "--at",
            "now",
            "--to",
            str(target),
            "--identity",
            str(tmp_path / "key.txt"),
        ],
    )
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["precious.txt"]


def test_a_damaged_snapshot_restores_nothing(history, tmp_path):
    stored = tmp_path / "usb" / history["second"].name
    stored.chmod(0o600)
    data = bytearray(stored.read_bytes())
    data[len(data) // 3] ^= 0x40
    stored.write_bytes(bytes(data))
    target = tmp_path / "restored"
    candidate = restore.choose(T2, [restore.store_for(str(tmp_path / "usb"))])
    identities = parse_identities((tmp_path / "key.txt").read_text())
    with pytest.raises(restore.RestoreProblem, match="damaged or truncated"):
        restore.restore(candidate, target, identities)
    assert list(target.iterdir()) == []


def test_a_fresh_data_folder_takes_the_snapshot_s_keys(history, tmp_path, database_url):
    fresh = tmp_path / "fresh-home"
    fresh.mkdir()
    (fresh / "secret_key").write_text("made on first start\n")
    candidate = restore.choose(T2, [restore.store_for(str(tmp_path / "usb"))])
    identities = parse_identities((tmp_path / "key.txt").read_text())
    done = restore.restore(candidate, fresh, identities, into_home=True, database_url=database_url)
    assert (fresh / "secret_key").read_text() == "test-secret-key\n"
    assert done.row_counts["replica_record"] == 2
    # …but never over what is there now.
    with pytest.raises(restore.RestoreProblem, match=r"already has a database|is not empty"):
        restore.restore(candidate, fresh, identities, into_home=True, database_url=database_url)


def test_snapshots_are_found_in_an_s3_bucket_by_its_address(identity, moto, request):
    bucket = moto.bucket(bucket_name(request))
    moto.destination("offsite", bucket, prefix="box1")
    done = snapshots.take("test")
    Destination.objects.all().delete()  # a new box: only the address is known
    store = restore.store_for(f"s3://{bucket}/box1", endpoint_url=moto.url)
    assert restore.choose(datetime.now(UTC), [store]).name == done.name
    assert store.label == f"s3://{bucket}/box1"
    assert Destination.objects.filter(kind=Kind.S3).count() == 0


def test_times_are_read_in_the_installation_s_zone(settings):
    settings.TIME_ZONE = "Europe/London"
    assert restore.parse_time("2026-07-01T14:30").isoformat() == "2026-07-01T14:30:00+01:00"
    assert restore.parse_time("2026-07-01T14:30Z") == datetime(2026, 7, 1, 14, 30, tzinfo=UTC)
    assert restore.parse_time("2026-07-01").hour == 23  # the end of that day
    with pytest.raises(restore.RestoreProblem, match="is not a time"):
        restore.parse_time("yesterday-ish")
