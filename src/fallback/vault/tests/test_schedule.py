"""The schedule: snapshots on the hour, each run claimed by exactly one worker from the
settings row, and nothing claimed while the vault is not set up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections, connections

from fallback.vault import schedule
from fallback.vault.models import Snapshot, SnapshotStatus, VaultSettings, Verification

pytestmark = pytest.mark.django_db(transaction=True)


def test_snapshots_fall_on_multiples_of_their_interval():
    at = datetime(2026, 5, 1, 9, 17, 3, tzinfo=UTC)
    assert schedule.following(at, 60) == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert schedule.following(at, 15) == datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    assert schedule.following(at, 24 * 60) == datetime(2026, 5, 2, 0, 0, tzinfo=UTC)


def test_the_claim_is_exclusive_among_concurrent_workers():
    now = datetime.now(UTC)
    VaultSettings.load()
    VaultSettings.objects.update(next_snapshot_at=now - timedelta(minutes=1))
    won = []
    barrier = threading.Barrier(6)

    def worker():
        close_old_connections()
        try:
            barrier.wait()
            won.append(schedule.claim("next_snapshot_at", now, now + timedelta(hours=1)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False] * 5 + [True]
    assert VaultSettings.load().next_snapshot_at == now + timedelta(hours=1)
    assert not schedule.claim("next_snapshot_at", now, now + timedelta(hours=2))


def test_nothing_is_claimed_before_the_vault_is_set_up():
    VaultSettings.load()
    assert schedule.enqueue_due() == []
    assert VaultSettings.load().next_snapshot_at <= datetime.now(UTC)


def test_due_work_runs_once(identity, usb, immediate_tasks):
    assert schedule.enqueue_due() == ["snapshot", "verify"]
    assert Snapshot.objects.filter(status=SnapshotStatus.DONE).count() == 1
    assert Verification.objects.filter(ok=True).count() == 1
    assert schedule.enqueue_due() == []
    config = VaultSettings.load()
    assert config.next_snapshot_at.minute == 0 and config.next_snapshot_at.second == 0


def test_an_interval_of_zero_means_by_hand_only(identity, usb, immediate_tasks):
    from fallback.vault import editing

    editing.save_settings(snapshot_every_minutes=0, verify_every_hours=0)
    assert schedule.enqueue_due() == []
    assert not Snapshot.objects.exists()
