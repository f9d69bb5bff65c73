"""Readiness: the facts the dashboard card and the plans' readiness score read, and each
problem in plain words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.vault import snapshots, verify
from fallback.vault.models import Level
from fallback.vault.status import readiness

pytestmark = pytest.mark.django_db(transaction=True)


def test_not_set_up_says_what_is_missing():
    ready = readiness()
    assert ready.last_snapshot_at is None and ready.verified_ok is None
    assert ready.problems == [
        "Backups are not set up: there is no key to encrypt them to.",
        "Backups are not set up: there is no destination to keep them in.",
    ]


def test_a_fresh_verified_snapshot_is_ready_at_the_level_achieved(identity, usb):
    snapshots.take("test")
    assert readiness().problems == ["No snapshot has been restore-tested yet."]
    verify.verify_newest()
    ready = readiness()
    assert ready.ok, ready.problems
    assert ready.verified_ok is True and ready.level == Level.INTEGRITY
    assert ready.last_snapshot_at is not None and ready.last_verified_at is not None


def test_old_snapshots_and_failed_tests_are_problems(identity, usb, tmp_path):
    done = snapshots.take("test")
    verify.verify_newest()
    later = timezone.now() + timedelta(hours=5)
    assert any("The last snapshot is 5 hours old" in p for p in readiness(later).problems)
    (tmp_path / "usb" / done.name).unlink()
    verify.verify_newest()
    ready = readiness()
    assert ready.verified_ok is False
    assert any(p.startswith("The last restore test failed: Snapshot") for p in ready.problems)


def test_a_destination_that_missed_the_last_snapshot_is_a_problem(identity, usb, tmp_path):
    from fallback.vault import editing
    from fallback.vault.models import Kind

    editing.save_destination(None, name="nas", kind=Kind.LOCAL, path=str(tmp_path / "gone"))
    snapshots.take("test")
    assert "The last snapshot could not be written to nas." in readiness().problems
