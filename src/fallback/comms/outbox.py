"""The outbox: durable, each message to each recipient at most once, retried with backoff.

Every message is an OutboxItem row, written before anything is sent; the row's unique
(notice, channel, address) makes a second enqueue of the same message a no-op. Senders
(fallback.comms.sender) move items through these states, each move a conditional UPDATE
that only one sender can win:

    queued ──claim──▶ claimed ──hand over──▶ sending ──250──▶ sent
      ▲                  │                      │ 4xx: refused, safe to retry
      └── retry (backoff)┘◀─────────────────────┘ 5xx: failed / bounced
                                                │ no answer: unknown

`claimed` means a sender took it but nothing has left this machine: when the sender dies
(its lease on the item is not renewed), the item goes back to the queue. `sending` means
the message was handed to the server and its answer is not recorded yet — the sender
writes it just before the final "." of SMTP's DATA, and records the answer immediately
after. An item left in `sending` by a sender that died may have been delivered, so it is
never sent again by itself: it becomes `unknown`, shown as "may have been sent — check",
until a person decides. The window is one message per connection, a few milliseconds.

Drills: `enqueue` is the one place items are made, and for an exercise it replaces the
audience with the drill's test recipients and marks every message — whatever the caller
passed in.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.comms import audiences, rendering
from fallback.comms.audiences import Target
from fallback.comms.models import ChannelKind, CommsSettings, ItemState, Notice, OutboxItem
from fallback.incidents import alerts
from fallback.incidents.models import Incident

log = logging.getLogger("fallback.comms")

MAX_ATTEMPTS = int(os.environ.get("FALLBACK_OUTBOX_MAX_ATTEMPTS", "8"))
FIRST_RETRY = timedelta(seconds=float(os.environ.get("FALLBACK_OUTBOX_BACKOFF", "30")))
MAX_RETRY = alerts.MAX_RETRY
# A sender renews the lease on what it holds every few seconds; items whose lease ran out
# belong to a sender that died.
LEASE = timedelta(seconds=float(os.environ.get("FALLBACK_OUTBOX_LEASE", "30")))
INSERT_BATCH = 1000
HELD = (ItemState.CLAIMED, ItemState.SENDING)
OPEN = (ItemState.QUEUED, ItemState.CLAIMED, ItemState.SENDING)
UNKNOWN_NOTE = (
    "The sender stopped while handing this message to the server, so it may have been "
    "delivered. Check with the recipient (or search the mailbox for its Message-ID), then "
    "send it again or mark it sent."
)


def backoff(attempts: int, jitter: float | None = None) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1, 2, 4 min … at most 1 h, each
    ±20 % so that many failed messages do not all come back at the same moment."""
    base = alerts.backoff(attempts, first=FIRST_RETRY)
    spread = random.uniform(-0.2, 0.2) if jitter is None else jitter  # noqa: S311
    return base * (1 + spread)


# ------------------------------------------------------------------ enqueue

Renderer = Callable[[Target], tuple[str, str]]


@dataclass
class Enqueued:
    created: int = 0
    already: int = 0  # the same message was already in the outbox
    withheld: int = 0  # real recipients left out because this is a drill
    is_exercise: bool = False


def is_drill(notice: Notice) -> bool:
    """A drill if the notice says so or its incident is one (read again from the database:
    the flag on an object in memory could be stale)."""
    return (
        notice.is_exercise
        or Incident.objects.filter(pk=notice.incident_id, is_exercise=True).exists()
    )


def mark_exercise(channel: str, subject: str, body: str) -> tuple[str, str]:
    if not subject.startswith(rendering.EXERCISE_SUBJECT):
        subject = rendering.EXERCISE_SUBJECT + subject
    if channel == ChannelKind.EMAIL:
        if not body.startswith(rendering.EXERCISE_BANNER):
            body = f"{rendering.EXERCISE_BANNER}\n\n{body}"
    elif not body.startswith("EXERCISE"):
        body = "EXERCISE, not a real outage: " + body
    return subject[:250], body


def drill_targets_for(
    notice: Notice, targets: Sequence[Target], settings: CommsSettings | None = None
) -> list[Target]:
    """Who a drill's notice goes to instead of `targets`: its test recipients."""
    from fallback.comms.preferences import settings_for

    channels = list(dict.fromkeys([*notice.channels, *(t.channel for t in targets)]))
    return audiences.drill_targets(notice.org, settings or settings_for(notice.org), channels)


def enqueue(
    notice: Notice,
    targets: Sequence[Target],
    render: Renderer,
    compensation: Callable[[Target], int | None] | None = None,
) -> Enqueued:
    """Write one queued item per target; the same (notice, channel, address) twice is one.
    `compensation` names the Compensation a target's message carries (a follow-up's).

    For a drill the targets given are ignored: the drill's test recipients take their
    place, and every message is marked as an exercise."""
    from fallback.comms.preferences import settings_for

    org = notice.org
    result = Enqueued()
    if is_drill(notice):
        result.is_exercise = True
        settings = settings_for(org)
        allowed = audiences.drill_addresses(org, settings)
        result.withheld = sum(1 for t in targets if t.address not in allowed)
        targets = drill_targets_for(notice, targets, settings)
        if not notice.is_exercise:
            Notice.objects.filter(pk=notice.pk).update(is_exercise=True)
            notice.is_exercise = True
    now = timezone.now()
    rows = []
    for target in targets:
        subject, body = render(target)
        if result.is_exercise:
            subject, body = mark_exercise(target.channel, subject, body)
        rows.append(
            OutboxItem(
                org_id=notice.org_id,
                notice=notice,
                channel=target.channel,
                via_id=target.via_id,
                address=target.address,
                recipient_name=target.name[:300],
                recipient_key=target.key[:220],
                subject=subject[:250],
                body=body,
                is_exercise=result.is_exercise,
                unsubscribe_url=target.unsubscribe_url[:500],
                compensation_id=compensation(target) if compensation else None,
                next_attempt_at=now,
                created_at=now,
            )
        )
    before = OutboxItem.objects.filter(notice=notice).count()
    for start in range(0, len(rows), INSERT_BATCH):
        OutboxItem.objects.bulk_create(rows[start : start + INSERT_BATCH], ignore_conflicts=True)
    result.created = OutboxItem.objects.filter(notice=notice).count() - before
    result.already = len(rows) - result.created
    return result


# ------------------------------------------------------------------ what senders do


def claim(
    sender_id: str, channels: Sequence[str], limit: int, now: datetime | None = None
) -> list[OutboxItem]:
    """Take up to `limit` due items for this sender: one conditional UPDATE, so two
    senders never hold the same item."""
    now = now or timezone.now()
    ids = list(
        OutboxItem.objects.filter(
            state=ItemState.QUEUED, channel__in=list(channels), next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    OutboxItem.objects.filter(pk__in=ids, state=ItemState.QUEUED).update(
        state=ItemState.CLAIMED, claimed_by=sender_id, claimed_at=now
    )
    return list(
        OutboxItem.objects.filter(pk__in=ids, state=ItemState.CLAIMED, claimed_by=sender_id)
        .select_related("org", "via")
        .order_by("pk")
    )


def renew(sender_id: str, now: datetime | None = None) -> int:
    """Keep the lease on everything this sender holds."""
    return OutboxItem.objects.filter(claimed_by=sender_id, state__in=HELD).update(
        claimed_at=now or timezone.now()
    )


def recover(now: datetime | None = None, lease: timedelta | None = None) -> tuple[int, int]:
    """Items of senders that stopped renewing their lease: claimed ones back to the queue,
    ones being handed over to `unknown`. Returns (requeued, unknown)."""
    now = now or timezone.now()
    expired = Q(claimed_at__lt=now - (lease or LEASE))
    requeued = OutboxItem.objects.filter(expired, state=ItemState.CLAIMED).update(
        state=ItemState.QUEUED, claimed_by="", claimed_at=None
    )
    unknown = OutboxItem.objects.filter(expired, state=ItemState.SENDING).update(
        state=ItemState.UNKNOWN, last_error=UNKNOWN_NOTE
    )
    if unknown:
        log.warning("%s outbox item(s) may have been sent by a sender that died", unknown)
    return requeued, unknown


# The two writes every message makes, as plain SQL: the ORM's query building costs more
# than the UPDATE itself, and these run thousands of times a minute.
_TABLE = OutboxItem._meta.db_table
_HAND_OVER = (
    f"UPDATE {_TABLE} SET state = %s, claimed_at = %s, message_id = %s "  # noqa: S608
    "WHERE id = %s AND state = %s AND claimed_by = %s"
)
_SENT = (
    f"UPDATE {_TABLE} SET state = %s, sent_at = %s, server_reply = %s, "  # noqa: S608
    "attempts = attempts + 1, last_error = '' WHERE id = %s AND state IN (%s, %s)"
)


def _when(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def hand_over(item: OutboxItem, sender_id: str, message_id: str = "") -> bool:
    """Write down, before the message leaves, that it is being handed over; False when the
    item is no longer this sender's (stopped, or taken back after a lost lease)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _HAND_OVER,
            [
                ItemState.SENDING.value,
                _when(timezone.now()),
                (message_id or item.message_id)[:250],
                item.pk,
                ItemState.CLAIMED.value,
                sender_id,
            ],
        )
        return bool(cursor.rowcount)


def record_sent(item: OutboxItem, reply: str, now: datetime | None = None) -> None:
    # Also over `unknown`: if a slow sender's item was written off, the server's 250 wins.
    with connection.cursor() as cursor:
        cursor.execute(
            _SENT,
            [
                ItemState.SENT.value,
                _when(now or timezone.now()),
                reply[:500],
                item.pk,
                ItemState.SENDING.value,
                ItemState.UNKNOWN.value,
            ],
        )


def record_unknown(item: OutboxItem, error: str) -> None:
    OutboxItem.objects.filter(pk=item.pk, state=ItemState.SENDING).update(
        state=ItemState.UNKNOWN,
        attempts=F("attempts") + 1,
        last_error=f"{error[:1500]} — {UNKNOWN_NOTE}",
    )


def record_failure(
    item: OutboxItem,
    error: str,
    *,
    permanent: bool = False,
    bounced: bool = False,
    now: datetime | None = None,
) -> str:
    """A refusal or an error before the server took the message: retried with backoff, or
    failed (or bounced) when permanent or after MAX_ATTEMPTS. Returns the new state."""
    now = now or timezone.now()
    attempts = item.attempts + 1
    if bounced:
        state = ItemState.BOUNCED
    elif permanent or attempts >= MAX_ATTEMPTS:
        state = ItemState.FAILED
    else:
        state = ItemState.QUEUED
    fields: dict[str, Any] = {
        "state": state,
        "attempts": attempts,
        "last_error": error[:2000],
        "claimed_by": "",
        "claimed_at": None,
    }
    if state == ItemState.QUEUED:
        fields["next_attempt_at"] = now + backoff(attempts)
    OutboxItem.objects.filter(pk=item.pk, state__in=HELD).update(**fields)
    item.attempts = attempts
    return state


def release(items: Sequence[OutboxItem], sender_id: str) -> int:
    """Give back claimed items this sender will not get to (it is stopping)."""
    return OutboxItem.objects.filter(
        pk__in=[i.pk for i in items], state=ItemState.CLAIMED, claimed_by=sender_id
    ).update(state=ItemState.QUEUED, claimed_by="", claimed_at=None)


# ------------------------------------------------------------------ what people do


@transaction.atomic
def stop(notice: Notice) -> int:
    """Stop a notice: whatever is not yet handed over is not sent."""
    return OutboxItem.objects.filter(
        notice=notice, state__in=[ItemState.QUEUED, ItemState.CLAIMED]
    ).update(state=ItemState.CANCELLED, claimed_by="", claimed_at=None)


def requeue(notice: Notice, states: Sequence[str], pks: Sequence[int] | None = None) -> int:
    """Send again (failed, or unknown after a person checked): attempts start afresh."""
    items = OutboxItem.objects.filter(notice=notice, state__in=list(states))
    if pks is not None:
        items = items.filter(pk__in=list(pks))
    return items.update(
        state=ItemState.QUEUED,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_by="",
        claimed_at=None,
    )


def mark_sent_by_person(notice: Notice, pks: Sequence[int] | None = None) -> int:
    items = OutboxItem.objects.filter(notice=notice, state=ItemState.UNKNOWN)
    if pks is not None:
        items = items.filter(pk__in=list(pks))
    return items.update(state=ItemState.SENT, sent_at=timezone.now())


# ------------------------------------------------------------------ progress


@dataclass
class Progress:
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    per_minute: int = 0  # sent in the last minute
    last_sent_at: datetime | None = None
    oldest_due: datetime | None = None

    def n(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def waiting(self) -> int:
        return sum(self.n(s) for s in OPEN)

    @property
    def done(self) -> int:
        return self.total - self.waiting

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)

    @property
    def sent(self) -> int:
        return self.n(ItemState.SENT)

    @property
    def problems(self) -> int:
        return self.n(ItemState.FAILED) + self.n(ItemState.BOUNCED) + self.n(ItemState.UNKNOWN)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "queued": self.n(ItemState.QUEUED),
            "in_flight": self.n(ItemState.CLAIMED) + self.n(ItemState.SENDING),
            "sent": self.sent,
            "failed": self.n(ItemState.FAILED),
            "bounced": self.n(ItemState.BOUNCED),
            "unknown": self.n(ItemState.UNKNOWN),
            "cancelled": self.n(ItemState.CANCELLED),
            "per_minute": self.per_minute,
            "percent": self.percent,
            "last_sent_at": self.last_sent_at,
        }


def progress(
    org: Organisation | None = None,
    notice: Notice | None = None,
    now: datetime | None = None,
) -> Progress:
    now = now or timezone.now()
    items = OutboxItem.objects.all()
    if org is not None:
        items = items.filter(org=org)
    if notice is not None:
        items = items.filter(notice=notice)
    found = Progress()
    for row in items.values("state").annotate(n=Count("pk")):
        found.counts[row["state"]] = row["n"]
    found.total = sum(found.counts.values())
    recent = items.filter(state=ItemState.SENT, sent_at__gte=now - timedelta(minutes=1))
    found.per_minute = recent.count()
    figures = items.aggregate(
        last=Max("sent_at"),
        oldest=Min("next_attempt_at", filter=Q(state=ItemState.QUEUED)),
    )
    found.last_sent_at = figures["last"]
    found.oldest_due = figures["oldest"]
    return found


def backlog(now: datetime | None = None) -> bool:
    """Anything a sender still has to do?"""
    now = now or timezone.now()
    return OutboxItem.objects.filter(
        Q(state=ItemState.QUEUED, next_attempt_at__lte=now) | Q(state__in=HELD)
    ).exists()
