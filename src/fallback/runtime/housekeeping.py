"""Jobs every installation runs: prune old heartbeats and finished background-task results."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fallback.runtime import heartbeat, schedulers

KEEP_TASK_RESULTS = timedelta(days=14)


@schedulers.register("housekeeping", every=3600)
def housekeeping() -> None:
    heartbeat.prune()
    cutoff = timezone.now() - KEEP_TASK_RESULTS
    DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()
