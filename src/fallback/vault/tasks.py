"""Background tasks of the vault: a snapshot (then pruning), and restore tests."""

from __future__ import annotations

from django_tasks import task


@task()
def snapshot_task(trigger: str = "schedule", request_key: str = "") -> dict[str, object]:
    """Take a snapshot, write it everywhere, then prune what retention no longer keeps."""
    from fallback.vault import catalog, snapshots
    from fallback.vault.models import SnapshotStatus

    try:
        done = snapshots.take(trigger, request_key=request_key or None)
    except (snapshots.VaultNotReady, snapshots.SnapshotRunning) as exc:
        return {"skipped": str(exc)}
    result: dict[str, object] = {"snapshot": done.name, "status": done.status}
    if done.status == SnapshotStatus.DONE:
        report = catalog.prune()
        result["pruned"] = len(report.deleted)
        result["problems"] = report.problems
    return result


@task()
def verify_task(trigger: str = "schedule") -> dict[str, object]:
    """Restore-test the newest snapshot on each destination."""
    from fallback.vault import verify

    results = verify.verify_newest(trigger=trigger)
    return {
        "verified": [
            {"copy": r.copy_id, "level": r.level, "ok": r.ok, "error": r.error} for r in results
        ]
    }
