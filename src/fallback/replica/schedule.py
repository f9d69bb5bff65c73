"""When connectors sync: due ones are claimed from the database and handed to the task worker.

Claiming moves `next_sync_at` on in a conditional UPDATE, so with several workers each due
connector is enqueued once. The freshness job warns staff when a replica is older than its
RPO (once per stale spell).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from fallback.replica import freshness
from fallback.replica.models import Connector
from fallback.runtime import schedulers

log = logging.getLogger("fallback.replica")

CHECK_EVERY = 10.0  # seconds between looks for due connectors


def claim_due(now: datetime) -> list[Connector]:
    due = list(
        Connector.objects.filter(enabled=True, next_sync_at__lte=now).order_by("next_sync_at")[:50]
    )
    claimed = []
    for connector in due:
        following = now + timedelta(minutes=max(connector.interval_minutes, 1))
        taken = Connector.objects.filter(
            pk=connector.pk, next_sync_at=connector.next_sync_at
        ).update(next_sync_at=following)
        if taken:
            claimed.append(connector)
    return claimed


@schedulers.register("replica-due", CHECK_EVERY)
def enqueue_due() -> int:
    from fallback.replica.tasks import sync_connector

    now = timezone.now()
    claimed = claim_due(now)
    for connector in claimed:
        sync_connector.enqueue(connector.pk, "schedule")
    return len(claimed)


@schedulers.register("replica-freshness", 60.0)
def warn_stale() -> int:
    return freshness.alert_stale(timezone.now())
