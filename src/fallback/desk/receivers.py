"""The desk's side of what other apps announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from fallback.desk import reconciliation, search_index
from fallback.incidents import lifecycle
from fallback.replica.models import Sync
from fallback.replica.signals import records_applied


@receiver(records_applied, sender=Sync, dispatch_uid="desk-search-index")
def _index_applied(sender: Any, sync: Sync, at: datetime, **kwargs: Any) -> None:
    search_index.on_applied(sync.connector_id, at)


lifecycle.RESOLVE_GUARDS.append(reconciliation.resolve_guard)
