"""Restore tests: a copy fetched back is checked in full with a private key (every member's
hash, the database opened and its rows counted) or for integrity without one; one flipped
byte or a truncated file is reported naming the snapshot and the destination, and alerted."""

from __future__ import annotations

import pytest

from fallback.incidents.models import AlertDelivery, AlertEvent
from fallback.testing.factories import make_org
from fallback.vault import keys, snapshots, verify
from fallback.vault.archive import parse_identities
from fallback.vault.models import Level, Recipient, SnapshotCopy, Verification
from fallback.vault.tests.conftest import bucket_name

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def taken(identity, usb, tmp_path):
    make_org("Hartley Plumbing")
    done = snapshots.take("test")
    copy = done.copies.get()
    return copy, tmp_path / "usb" / done.name


def damage(path, change):
    path.chmod(0o600)  # the copy is read-only, as written
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(change(data)))


def flip_one_byte(data):
    data[len(data) // 2] ^= 0x01
    return data


def test_without_a_key_on_the_box_the_test_checks_integrity(taken):
    copy, _ = taken
    result = verify.verify_copy(copy)
    assert (result.level, result.ok, result.error) == (Level.INTEGRITY, True, "")
    copy.refresh_from_db()
    assert copy.verify_ok is True and copy.verify_level == Level.INTEGRITY


def test_with_the_key_the_test_opens_the_database_and_counts_rows(taken, tmp_path):
    copy, _ = taken
    identities = parse_identities((tmp_path / "key.txt").read_text())
    result = verify.verify_copy(copy, identities)
    assert result.ok, result.error
    assert result.level == Level.FULL
    assert result.row_counts["accounts_organisation"] == 1


def test_a_key_kept_on_the_box_makes_automatic_tests_full(usb):
    keys.generate("Kept key", keep_on_box=True)
    snapshots.take("test")
    [result] = verify.verify_newest(trigger="schedule")
    assert result.ok, result.error
    assert result.level == Level.FULL


def test_one_flipped_byte_is_reported_naming_the_snapshot_and_destination(
    taken, tmp_path, admin_channel
):
    copy, path = taken
    damage(path, flip_one_byte)
    result = verify.verify_copy(copy)
    name = copy.snapshot.name
    assert not result.ok
    assert result.error.startswith(f"Snapshot {name} on destination 'usb': it is damaged")
    full = verify.verify_copy(copy, parse_identities((tmp_path / "key.txt").read_text()))
    assert full.error.startswith(f"Snapshot {name} on destination 'usb':")
    assert "damaged" in full.error
    alert = AlertDelivery.objects.get(event=AlertEvent.BACKUP_FAILED)
    assert name in alert.title and "usb" in alert.title


def test_a_truncated_copy_is_reported_as_truncated(taken, tmp_path):
    copy, path = taken
    damage(path, lambda data: data[: len(data) - 5000])
    result = verify.verify_copy(copy)
    assert "were written (truncated)" in result.error
    assert copy.snapshot.name in result.error and "'usb'" in result.error
    full = verify.verify_copy(copy, parse_identities((tmp_path / "key.txt").read_text()))
    assert not full.ok and "truncated" in full.error


def test_a_copy_gone_from_its_destination_fails_its_test(taken):
    copy, path = taken
    path.unlink()
    result = verify.verify_copy(copy)
    assert not result.ok and "is not there" in result.error


def test_each_result_is_kept(taken):
    copy, _ = taken
    verify.verify_copy(copy)
    verify.verify_copy(copy)
    assert Verification.objects.filter(copy=copy).count() == 2


def test_the_newest_copy_on_each_destination_is_tested(identity, usb, moto, request):
    moto.destination("offsite", moto.bucket(bucket_name(request)))
    snapshots.take("test")
    newest = snapshots.take("test", now=None)
    results = verify.verify_newest()
    assert {r.copy.destination.name for r in results} == {"usb", "offsite"}
    assert {r.copy.snapshot_id for r in results} == {newest.pk}
    assert all(r.ok for r in results), [r.error for r in results]
    assert SnapshotCopy.objects.filter(verified_at__isnull=True).count() == 2
    assert Recipient.objects.count() == 1
