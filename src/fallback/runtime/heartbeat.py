"""Worker heartbeats: how `doctor` and the dashboard know background work is alive."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.utils import timezone
from django.utils.crypto import get_random_string

from fallback.runtime.models import WorkerHeartbeat

ALIVE_WITHIN = timedelta(seconds=30)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(8)}"


def beat(worker_id: str, kind: str) -> None:
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname()[:255],
            pid=os.getpid(),
            kind=kind,
            started_at=now,
            seen_at=now,
        )


def stopped(worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(stopped_at=timezone.now())


def alive_workers() -> list[WorkerHeartbeat]:
    since = timezone.now() - ALIVE_WITHIN
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=since, stopped_at__isnull=True))


def prune(older_than: timedelta = timedelta(days=7)) -> int:
    deleted, _ = WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - older_than).delete()
    return deleted
