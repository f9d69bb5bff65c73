"""What the destinations hold, and pruning: snapshots retention no longer keeps are deleted
once their lock has expired — never before, on S3 (Object Lock, against moto) or in a
folder — and the catalogue learns snapshots its database did not know."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from botocore.exceptions import ClientError

from fallback.vault import catalog, editing, snapshots
from fallback.vault.models import CopyStatus, Snapshot, SnapshotCopy, SnapshotStatus
from fallback.vault.tests.conftest import bucket_name

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 6, 10, 8, 0, 5, tzinfo=UTC)


def take_hourly(count):
    taken = []
    for n in range(count):
        with time_machine.travel(T0 + timedelta(hours=n), tick=True):
            taken.append(snapshots.take("test"))
    return taken


@pytest.fixture
def short_retention():
    # Keep the first snapshot of each of the last 2 hours; every lock is then the minimum day.
    editing.save_settings(hourly_keep=2, daily_keep=0, monthly_keep=0)


def test_pruning_skips_locked_snapshots_and_deletes_expired_ones(
    identity, usb, moto, request, short_retention
):
    bucket = moto.bucket(bucket_name(request))
    moto.destination("offsite", bucket)
    first, second, third, fourth = take_hourly(4)

    with time_machine.travel(T0 + timedelta(hours=3, minutes=30), tick=True):
        report = catalog.prune()
        # S3 itself still refuses to delete them.
        copy = SnapshotCopy.objects.get(snapshot=first, destination__name="offsite")
        with pytest.raises(ClientError):
            moto.client.delete_object(
                Bucket=bucket, Key=f"fallback/{first.name}", VersionId=copy.version_id
            )
    assert report.problems == [] and report.deleted == []
    locked = {(c.destination.name, c.snapshot.name) for c, _ in report.locked}
    assert locked == {(d, s.name) for d in ("usb", "offsite") for s in (first, second)}

    with time_machine.travel(T0 + timedelta(days=1, hours=2), tick=True):
        report = catalog.prune()
    assert report.problems == []
    deleted = {(c.destination.name, c.snapshot.name) for c in report.deleted}
    assert deleted == {(d, s.name) for d in ("usb", "offsite") for s in (first, second)}
    left = moto.client.list_object_versions(Bucket=bucket, Prefix="fallback/")["Versions"]
    assert sorted(v["Key"] for v in left) == sorted(f"fallback/{s.name}" for s in (third, fourth))
    assert sorted(p.name for p in (usb_folder(usb)).iterdir()) == sorted(
        [third.name, third.name + ".json", fourth.name, fourth.name + ".json"]
    )
    assert set(
        SnapshotCopy.objects.filter(status=CopyStatus.PRUNED).values_list("snapshot", flat=True)
    ) == {first.pk, second.pk}


def usb_folder(destination):
    from pathlib import Path

    return Path(destination.path)


def test_a_dry_run_deletes_nothing(identity, usb, short_retention):
    take_hourly(3)
    with time_machine.travel(T0 + timedelta(days=2), tick=True):
        report = catalog.prune(dry_run=True)
    assert len(report.deleted) == 1
    assert len(list(usb_folder(usb).glob("*.age"))) == 3
    assert not SnapshotCopy.objects.filter(status=CopyStatus.PRUNED).exists()


def test_snapshots_the_database_does_not_know_are_learnt_from_the_destination(
    identity, usb, moto, request
):
    bucket = moto.bucket(bucket_name(request))
    moto.destination("offsite", bucket)
    done = snapshots.take("test")
    sha, size = done.sha256, done.size
    # As after a restore from an older snapshot: the database never heard of this one.
    Snapshot.objects.all().delete()
    for destination in ("usb", "offsite"):
        from fallback.vault.models import Destination

        catalog.refresh(Destination.objects.get(name=destination))
    found = Snapshot.objects.get(name=done.name)
    assert found.status == SnapshotStatus.DONE and found.found_on_destination
    assert (found.sha256, found.size) == (sha, size)
    copies = {c.destination.name: c for c in found.copies.select_related("destination")}
    assert copies["offsite"].locked and copies["offsite"].version_id
    assert copies["usb"].retain_until == found.retain_until


def test_a_restored_database_s_running_snapshot_becomes_done(identity, usb):
    done = snapshots.take("test")
    Snapshot.objects.filter(pk=done.pk).update(status=SnapshotStatus.RUNNING)
    catalog.refresh(usb)
    done.refresh_from_db()
    assert done.status == SnapshotStatus.DONE


def test_a_copy_removed_outside_fallback_is_marked_gone(identity, usb):
    done = snapshots.take("test")
    (usb_folder(usb) / done.name).unlink()
    catalog.refresh(usb)
    copy = done.copies.get()
    assert copy.status == CopyStatus.PRUNED
    assert "No longer on the destination" in copy.error


def test_other_installations_snapshots_are_left_alone(identity, usb):
    other = usb_folder(usb) / "fallback-otherbox-20260101T000000Z.tar.zst.age"
    other.write_bytes(b"not ours")
    assert catalog.refresh(usb) == []
    assert not Snapshot.objects.exists()
    catalog.prune()
    assert other.exists()
