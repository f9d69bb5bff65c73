"""Pings to a heartbeat check's secret URL (`/api/push/<token>`).

A ping stores `last_ping_at` and moves `next_run_at` to the moment the check would become
overdue, so the engine looks at it exactly then (and not before). A check that was not UP
gets an UP result at once, so recovery does not wait for the next evaluation.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from fallback.monitor import kinds, results
from fallback.monitor.models import Check, State

PING_MESSAGE = "ping received"


def record_ping(token: str, now: datetime | None = None) -> Check | None:
    """Record a ping; the check, or None when no check has this token.

    Idempotent: a repeated ping at the same moment (or an older one arriving late) changes
    nothing.
    """
    if not token:
        return None
    now = now or timezone.now()
    changes: list[results.StatusChange] = []
    wrote = False
    with transaction.atomic():
        check = (
            Check.objects.select_for_update(of=("self",))
            .select_related("system")
            .filter(push_token=token)
            .first()
        )
        if check is None:
            return None
        if check.last_ping_at is not None and check.last_ping_at >= now:
            return check
        update: dict[str, object] = {"last_ping_at": now}
        try:
            kind = kinds.get(check.kind)
            config = kinds.validate_config(check.kind, check.config)
        except (KeyError, kinds.InvalidCheckConfig):
            kind = None  # the engine reports the broken definition; the ping is still kept
        if kind is not None and kind.passive:
            due = kind.next_due(config, now, now)
            if due is not None:
                update["next_run_at"] = due
        Check.objects.filter(pk=check.pk).update(**update)
        for field, value in update.items():
            setattr(check, field, value)
        watched = check.enabled and not check.system.paused
        if watched and check.status != State.UP:
            result = results.Result(
                check_id=check.pk,
                org_id=check.org_id,
                at=now,
                status=State.UP.value,
                response_ms=None,
                message=PING_MESSAGE,
            )
            changes = results.write_results([result])
            wrote = True
    if changes:
        results.refresh_systems(changes)
    if wrote:
        check.refresh_from_db()
    return check
