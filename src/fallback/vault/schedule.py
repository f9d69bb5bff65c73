"""When snapshots and restore tests run: claimed from the settings row, handed to a worker.

Claiming moves `next_snapshot_at` (or `next_verify_at`) on in a conditional UPDATE
(`… WHERE next_snapshot_at <= now`), so with several workers exactly one of them enqueues
each run. Snapshots fall on multiples of their interval (every hour on the hour), so the
first snapshot of each hour, day and month is the one retention keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from fallback.runtime import schedulers
from fallback.vault.models import VaultSettings

CHECK_EVERY = 30.0  # seconds between looks for due work
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def following(now: datetime, minutes: int) -> datetime:
    """The next multiple of `minutes` (counted from midnight UTC) after `now`."""
    step = timedelta(minutes=max(minutes, 1))
    return EPOCH + ((now - EPOCH) // step + 1) * step


def claim(field: str, now: datetime, then: datetime) -> bool:
    """Take the run due at `field` if it is due and nobody took it; move it to `then`."""
    assert field in ("next_snapshot_at", "next_verify_at")
    config = VaultSettings.load()
    return bool(
        VaultSettings.objects.filter(pk=config.pk, **{f"{field}__lte": now}).update(**{field: then})
    )


@schedulers.register("vault-due", CHECK_EVERY)
def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue the snapshot and the restore test that are due; returns what was enqueued."""
    from fallback.vault.snapshots import not_ready
    from fallback.vault.tasks import snapshot_task, verify_task

    config = VaultSettings.load()  # made first: a new row is due from when it is made
    now = now or timezone.now()
    if not_ready():
        return []
    started = []
    if config.snapshot_every_minutes and claim(
        "next_snapshot_at", now, following(now, config.snapshot_every_minutes)
    ):
        snapshot_task.enqueue("schedule")
        started.append("snapshot")
    if config.verify_every_hours and claim(
        "next_verify_at", now, now + timedelta(hours=config.verify_every_hours)
    ):
        verify_task.enqueue("schedule")
        started.append("verify")
    return started
