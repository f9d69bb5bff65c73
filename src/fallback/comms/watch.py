"""The outbox must never go silent (Cachet's queue that quietly stopped is the failure to
avoid): a scheduler job alerts the people on duty when messages have been due for a while
and nothing was sent, and `fallback doctor` reports the same.

"Stuck" for an organisation: a queued message due more than its `stall_minutes` ago, or
one a sender claimed that long ago and never finished — with nothing of the
organisation's sent in those minutes. One alert per stall (keyed by the oldest stuck
message), through the incidents app's alert channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.comms.models import CommsSettings, ItemState, OutboxItem
from fallback.incidents import alerts
from fallback.incidents.models import AlertEvent
from fallback.runtime import health, schedulers

WATCH_EVERY = 60.0
DEFAULT_STALL_MINUTES = 5


@dataclass(frozen=True)
class Stall:
    org: Organisation
    waiting: int
    oldest: OutboxItem
    minutes: int
    last_error: str = ""


def _stuck(now: datetime, minutes: int) -> Q:
    since = now - timedelta(minutes=minutes)
    return (
        Q(state=ItemState.QUEUED, next_attempt_at__lte=since)  # nobody takes it
        | Q(state=ItemState.QUEUED, attempts__gte=1, created_at__lte=since)  # keeps failing
        | Q(state__in=[ItemState.CLAIMED, ItemState.SENDING], claimed_at__lte=since)
    )


def stalls(now: datetime | None = None) -> list[Stall]:
    now = now or timezone.now()
    floor = min(
        [DEFAULT_STALL_MINUTES, *CommsSettings.objects.values_list("stall_minutes", flat=True)]
    )
    org_ids = set(
        OutboxItem.objects.filter(_stuck(now, max(floor, 1))).values_list("org_id", flat=True)
    )
    found = []
    for org in Organisation.objects.filter(pk__in=org_ids).order_by("slug"):
        setting = CommsSettings.objects.filter(org=org).values_list("stall_minutes", flat=True)
        minutes = max(setting.first() or DEFAULT_STALL_MINUTES, 1)
        stuck = OutboxItem.objects.filter(_stuck(now, minutes), org=org)
        oldest = stuck.order_by("next_attempt_at", "pk").first()
        if oldest is None:
            continue
        since = now - timedelta(minutes=minutes)
        if OutboxItem.objects.filter(org=org, state=ItemState.SENT, sent_at__gte=since).exists():
            continue  # slow (rate limits), not stuck
        failing = stuck.exclude(last_error="").order_by("-pk").values_list("last_error", flat=True)
        found.append(Stall(org, stuck.count(), oldest, minutes, failing.first() or ""))
    return found


@schedulers.register("comms.outbox_watch", every=WATCH_EVERY)
def watch(now: datetime | None = None) -> int:
    """Alert staff about every stuck outbox; returns how many alerts were queued."""
    now = now or timezone.now()
    queued = 0
    for stall in stalls(now):
        title = f"[{stall.org.name}] Notices are stuck: {stall.waiting} not sent"
        body = (
            f"{stall.waiting} message(s) to customers, suppliers or staff have waited more "
            f"than {stall.minutes} min and nothing was sent meanwhile. People are not being "
            "told.\n\n"
            + (f"The last error: {stall.last_error[:300]}\n\n" if stall.last_error else "")
            + "Check that Fallback's worker is running (`fallback doctor`) and that the "
            "backup mail account works (Notices → Settings → Send a test). The outbox: "
            f"/o/{stall.org.slug}/comms/outbox/"
        )
        scope = f"outbox:{stall.org.pk}:{stall.oldest.pk}"
        queued += len(
            alerts.queue_notice(stall.org.pk, AlertEvent.OUTBOX_STALLED, scope, title, body, now)
        )
    return queued


def check_outbox() -> health.Result:
    """`fallback doctor`: is the outbox moving?"""
    name = "Outbox"
    try:
        found = stalls()
        waiting = OutboxItem.objects.filter(state=ItemState.QUEUED).count()
    except Exception as exc:
        return health.Result(
            name, health.Status.FAIL, f"cannot read it: {exc}", "fix the database first"
        )
    if found:
        detail = "; ".join(
            f"{s.org.slug}: {s.waiting} stuck for more than {s.minutes} min" for s in found
        )
        return health.Result(
            name,
            health.Status.FAIL,
            detail,
            "start `fallback serve` or `fallback worker` (or `fallback comms send`), and send "
            "a test from Notices → Settings",
        )
    return health.Result(
        name, health.Status.OK, f"{waiting} queued" if waiting else "nothing waiting"
    )


if check_outbox not in health.CHECKS:
    health.CHECKS.append(check_outbox)
