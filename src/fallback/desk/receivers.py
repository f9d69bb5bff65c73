"""The desk's side of what other apps announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from fallback.desk import reconciliation, tasks
from fallback.incidents import lifecycle
from fallback.replica.models import Sync
from fallback.replica.signals import records_applied


@receiver(records_applied, sender=Sync, dispatch_uid="desk-search-index")
def _index_applied(sender: Any, sync: Sync, at: datetime, **kwargs: Any) -> None:
    # Indexing 100,000 new records takes longer than syncing them: a worker does it once the
    # sync has committed (a sync rolled back enqueues nothing).
    connector_id = sync.connector_id
    transaction.on_commit(lambda: tasks.index_applied.enqueue(connector_id, at.isoformat()))


lifecycle.RESOLVE_GUARDS.append(reconciliation.resolve_guard)
