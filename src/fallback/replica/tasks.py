"""Background tasks of the replica: one sync, run by whichever worker takes it."""

from __future__ import annotations

from django_tasks import task

from fallback.replica.models import Connector


@task()
def sync_connector(
    connector_id: int, trigger: str = "schedule", full: bool | None = None, request_key: str = ""
) -> dict[str, object]:
    from fallback.replica import sync

    connector = Connector.objects.filter(pk=connector_id, enabled=True).first()
    if connector is None:
        return {"skipped": "connector gone or disabled"}
    try:
        done = sync.run(connector, trigger=trigger, full=full, request_key=request_key or None)
    except sync.SyncRefused as exc:
        return {"skipped": str(exc)}
    return {"sync": done.pk, "status": done.status}
