"""Background tasks of the desk."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task


@task()
def index_applied(connector_id: int, at: str) -> dict[str, int]:
    """Bring the search index in step with one applied sync (see receivers): run by a worker
    after the sync commits, so a big first sync is not held up by indexing. Safe to run twice
    and in any order with the syncs after it."""
    from fallback.desk import search_index

    return {"indexed": search_index.on_applied(connector_id, datetime.fromisoformat(at))}
