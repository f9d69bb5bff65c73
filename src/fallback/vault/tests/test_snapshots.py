"""Taking a snapshot: the database (SQLite backup API or pg_dump), the data folder's keys and
the file sets, packed, compressed and encrypted into one file that Debian's age, zstd and
tar open alone; written to every destination, one failing not stopping the others."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction

from fallback.incidents.models import AlertDelivery, AlertEvent
from fallback.testing.factories import make_org
from fallback.vault import database, editing, snapshots
from fallback.vault.models import (
    CopyStatus,
    Destination,
    Kind,
    Recipient,
    Snapshot,
    SnapshotCopy,
    SnapshotStatus,
    Tier,
    VaultSettings,
)
from fallback.vault.tests.conftest import bucket_name

pytestmark = pytest.mark.django_db(transaction=True)


def open_with_cli(snapshot_file, key_file, out):
    out.mkdir()
    done = subprocess.run(
        f"/usr/bin/age -d -i {key_file} {snapshot_file} | zstd -d | tar -xf - -C {out}",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((out / "MANIFEST.json").read_text())


def test_a_snapshot_opens_with_debian_age_zstd_and_tar_and_matches_its_manifest(
    identity, usb, home, tmp_path
):
    make_org("Hartley Plumbing")
    kept = tmp_path / "company"
    kept.mkdir()
    (kept / "accounts.qbw").write_bytes(b"QBW" * 10000)
    (kept / "scratch.tmp").write_text("leave me out")
    editing.save_file_set(None, name="accounts", paths=[str(kept)], excludes=["*.tmp"])
    (home / "uploads" / "1" / "shop").mkdir(parents=True)
    (home / "uploads" / "1" / "shop" / "customers.csv").write_text("id,name\n1,Smith\n")

    done = snapshots.take("test")

    assert done.status == SnapshotStatus.DONE, done.error
    [copy] = done.copies.all()
    assert copy.status == CopyStatus.STORED
    stored = tmp_path / "usb" / done.name
    assert done.name.startswith(f"fallback-{VaultSettings.load().installation}-")
    assert done.name.endswith("Z.tar.zst.age")
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == done.sha256
    manifest = open_with_cli(stored, tmp_path / "key.txt", tmp_path / "opened")
    opened = tmp_path / "opened"
    for member in manifest["members"]:
        data = (opened / member["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == member["sha256"], member["name"]
    names = {m["name"] for m in manifest["members"]}
    assert {"README.txt", "home/secret_key", "home/uploads/1/shop/customers.csv"} <= names
    assert "files/accounts/company/accounts.qbw" in names
    assert "files/accounts/company/scratch.tmp" not in names
    assert manifest["snapshot"] == done.name
    assert manifest["row_counts"]["accounts_organisation"] == 1
    if connection.vendor == "sqlite":
        db = sqlite3.connect(opened / "database" / "fallback.sqlite3")
        assert db.execute("SELECT name FROM accounts_organisation").fetchall() == [
            ("Hartley Plumbing",)
        ]
    else:
        listing = subprocess.run(
            ["pg_restore", "--list", str(opened / "database" / "fallback.pgdump")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "TABLE DATA public accounts_organisation" in listing


def test_the_database_copied_beside_the_packing_is_one_moment_of_a_busy_database(
    identity, usb, tmp_path
):
    """The copy runs while the files are packed. A writer adds organisations three at a time,
    one transaction each, from before the snapshot starts until after it ends: the copy holds
    whole transactions only, and the manifest's counts are the copy's own."""
    kept = tmp_path / "company"
    kept.mkdir()
    (kept / "company.qbw").write_bytes(os.urandom(4 << 20))
    editing.save_file_set(None, name="accounts", paths=[str(kept)])
    stop = threading.Event()
    committed: list[int] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                with transaction.atomic():
                    for _ in range(3):
                        make_org(f"Busy {len(committed) * 3 + _}")
                committed.append(len(committed) + 1)
                time.sleep(0.005)
        finally:
            connections.close_all()  # this thread's own

    def wait_for(batches: int) -> None:
        deadline = time.monotonic() + 30
        while len(committed) < batches and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(committed) >= batches, "the writer stopped writing"

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(1)
        done = snapshots.take("test")
        wait_for(len(committed) + 1)  # still writing after the snapshot ended
    finally:
        stop.set()
        thread.join()

    assert done.status == SnapshotStatus.DONE, done.error
    manifest = open_with_cli(tmp_path / "usb" / done.name, tmp_path / "key.txt", tmp_path / "o")
    counted = manifest["row_counts"]["accounts_organisation"]
    assert counted > 0
    assert counted % 3 == 0, f"{counted} organisations: a transaction was copied in part"
    assert counted < 3 * len(committed)
    assert done.row_counts == manifest["row_counts"]
    if connection.vendor == "sqlite":
        copy = tmp_path / "o" / "database" / "fallback.sqlite3"
        assert database.check_sqlite(copy, manifest["row_counts"]) == manifest["row_counts"]
    else:
        copy = tmp_path / "o" / "database" / "fallback.pgdump"
        assert database.check_pgdump(copy, manifest["row_counts"])


def test_the_spool_is_empty_after_a_snapshot(identity, usb, home):
    snapshots.take("test")
    assert list((home / "vault-spool").rglob("*.*")) == []


def test_one_destination_failing_does_not_stop_the_other_and_raises_an_alert(
    identity, usb, admin_channel, tmp_path
):
    broken = editing.save_destination(
        None, name="nas", kind=Kind.LOCAL, path=str(tmp_path / "unmounted-nas")
    )
    done = snapshots.take("test")
    assert done.status == SnapshotStatus.DONE
    by_name = {c.destination.name: c for c in done.copies.select_related("destination")}
    assert by_name["usb"].status == CopyStatus.STORED
    assert by_name["nas"].status == CopyStatus.FAILED
    assert "is the disk plugged in" in by_name["nas"].error
    assert (tmp_path / "usb" / done.name).exists()
    broken.refresh_from_db()
    assert "unmounted-nas" in broken.last_error
    [alert] = AlertDelivery.objects.filter(event=AlertEvent.BACKUP_FAILED)
    assert alert.channel == admin_channel
    assert "nas" in alert.title and done.name in alert.body


def test_every_destination_failing_fails_the_snapshot(identity, admin_channel, tmp_path):
    editing.save_destination(None, name="nas", kind=Kind.LOCAL, path=str(tmp_path / "gone"))
    done = snapshots.take("test")
    assert done.status == SnapshotStatus.FAILED
    assert "No destination could take it" in done.error
    assert AlertDelivery.objects.filter(event=AlertEvent.BACKUP_FAILED).count() == 2


def test_a_snapshot_goes_to_the_folder_and_to_s3_with_its_lock(identity, usb, moto, request):
    bucket = moto.bucket(bucket_name(request))
    moto.destination("offsite", bucket)
    done = snapshots.take("test")
    copies = {c.destination.name: c for c in done.copies.select_related("destination")}
    assert {c.status for c in copies.values()} == {CopyStatus.STORED}
    assert copies["offsite"].locked and not copies["usb"].locked
    head = moto.client.head_object(
        Bucket=bucket, Key=f"fallback/{done.name}", VersionId=copies["offsite"].version_id
    )
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] >= done.retain_until - timedelta(seconds=1)


def test_without_a_key_or_a_destination_it_says_what_to_do(usb, identity):
    Recipient.objects.all().delete()
    with pytest.raises(snapshots.VaultNotReady, match="fallback vault keygen"):
        snapshots.take("test")
    Recipient.objects.create(label="Binder", public_key=str(identity.to_public()))
    Destination.objects.all().delete()
    with pytest.raises(snapshots.VaultNotReady, match="There is no destination"):
        snapshots.take("test")
    assert not Snapshot.objects.exists()


def test_only_one_snapshot_runs_at_a_time(identity, usb):
    now = datetime.now(UTC)
    VaultSettings.load()
    VaultSettings.objects.update(snapshot_lease_until=now + timedelta(minutes=5))
    with pytest.raises(snapshots.SnapshotRunning):
        snapshots.take("test")
    # A snapshot whose process died: its lease runs out, the next one marks it interrupted.
    dead = Snapshot.objects.create(
        name="fallback-x-20260101T000000Z.tar.zst.age", taken_at=now - timedelta(hours=1)
    )
    half_written = SnapshotCopy.objects.create(snapshot=dead, destination=usb)
    VaultSettings.objects.update(snapshot_lease_until=now - timedelta(seconds=1))
    done = snapshots.take("test")
    assert done.status == SnapshotStatus.DONE
    dead.refresh_from_db()
    assert dead.status == SnapshotStatus.FAILED and "Interrupted" in dead.error
    half_written.refresh_from_db()
    assert half_written.status == CopyStatus.FAILED
    assert VaultSettings.load().snapshot_lease_until is None


def test_the_same_request_key_takes_one_snapshot(identity, usb):
    first = snapshots.take("api", request_key="k1")
    again = snapshots.take("api", request_key="k1")
    assert first.pk == again.pk
    assert Snapshot.objects.count() == 1


def test_the_lock_follows_the_tier_it_is_first_of(identity, usb):
    with time_machine.travel(datetime(2026, 5, 1, 9, 0, 5, tzinfo=UTC), tick=False):
        first = snapshots.take("test")
    with time_machine.travel(datetime(2026, 5, 1, 9, 20, tzinfo=UTC), tick=False):
        extra = snapshots.take("test")
    with time_machine.travel(datetime(2026, 5, 1, 10, 0, 5, tzinfo=UTC), tick=False):
        hourly = snapshots.take("test")
    with time_machine.travel(datetime(2026, 5, 2, 0, 0, 5, tzinfo=UTC), tick=False):
        daily = snapshots.take("test")
    assert (first.tier, extra.tier, hourly.tier, daily.tier) == (
        Tier.MONTHLY,
        Tier.EXTRA,
        Tier.HOURLY,
        Tier.DAILY,
    )
    assert first.retain_until == datetime(2027, 5, 1, 9, 0, 5, tzinfo=UTC)
    assert daily.retain_until == datetime(2026, 6, 1, 0, 0, 5, tzinfo=UTC)
    assert hourly.retain_until == datetime(2026, 5, 3, 10, 0, 5, tzinfo=UTC)


def test_a_missing_file_set_folder_is_a_warning_not_a_failure(identity, usb, tmp_path):
    editing.save_file_set(None, name="templates", paths=[str(tmp_path / "unplugged")])
    done = snapshots.take("test")
    assert done.status == SnapshotStatus.DONE
    assert any("unplugged does not exist" in w for w in done.warnings)


def test_a_long_snapshot_keeps_its_lease(identity, usb, monkeypatch):
    """A pg_dump of a big database says nothing for minutes: the lease is renewed anyway."""
    real = database._copy
    renewed = []

    def slow(*args):
        time.sleep(0.3)
        renewed.append(VaultSettings.load().snapshot_lease_until)
        connections.close_all()  # the copying thread's own
        return real(*args)

    monkeypatch.setattr(snapshots, "BEAT_EVERY", 0.05)
    monkeypatch.setattr(database, "_copy", slow)
    started = datetime.now(UTC)
    done = snapshots.take("test")
    assert done.status == SnapshotStatus.DONE
    assert renewed[0] > started + snapshots.LEASE
    assert done.heartbeat_at > done.started_at
