"""Staff alerts: queued as one AlertDelivery per channel, sent through apprise, never lost.

`queue_alert` writes the deliveries (idempotent: each has a unique `key`, so queuing the
same alert twice makes nothing new). `send_due`, a periodic job, claims due deliveries,
sends them in a thread pool so one slow channel does not hold up the others, and records
the outcome: SENT (with an ALERT timeline entry), or a retry with exponential backoff
(30 s, 1, 2, 4 … min, at most 1 h), and after MAX_ATTEMPTS a FAILED delivery with an
ALERT_FAILED timeline entry and an error in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta

import apprise
from django.db import transaction
from django.utils import timezone

from fallback.incidents import timeline
from fallback.incidents.models import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    DeliveryStatus,
    EntryKind,
    Incident,
    Status,
)
from fallback.monitor.models import State, System
from fallback.runtime import schedulers

log = logging.getLogger("fallback.alerts")

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=5)  # a worker that dies mid-send leaves the row to another
SEND_BATCH = 50
SEND_THREADS = 8
SEND_TIMEOUT = 60.0  # seconds for one delivery, whatever the channel's own timeouts
SEND_EVERY = 5.0
DRILL = "[DRILL] "


def backoff(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1 min, 2 min, 4 min … at most 1 h."""
    return min(first * (1 << max(attempts - 1, 0)), MAX_RETRY)


def channels_for(org_id: int, event: str) -> list[AlertChannel]:
    """The organisation's enabled, on-duty channels that take `event` (no events = all)."""
    channels = AlertChannel.objects.filter(org_id=org_id, enabled=True, on_duty=True)
    return [c for c in channels if not c.events or event in c.events]


# What the alerts say


def _system_lines(systems: Iterable[System], incident: Incident, now: datetime) -> str:
    lines = []
    for s in systems:
        since = timeline.local_time(s.state_since, incident.org, now)
        line = f"- {s.name}: {State(s.state).label.lower()} since {since}"
        if now - s.state_since >= timedelta(minutes=1):
            line += f" ({timeline.duration(now - s.state_since)})"
        if s.state_reason:
            line += f". {s.state_reason}"
        lines.append(line)
    return "\n".join(lines) or "- no system named (declared by a person)"


def _names(systems: list[System]) -> str:
    names = [s.name for s in systems]
    if not names:
        return "a system the checks cannot see"
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:2])} and {len(names) - 2} more"


def compose(
    event: str,
    incident: Incident | None,
    system: System | None,
    now: datetime,
    *,
    note: str = "",
    changes: int = 0,
) -> tuple[str, str]:
    """(title, body) of an alert, in plain words: what, since when, where, what next."""
    if incident is None:
        assert system is not None
        return _compose_flapping(system, now, changes)
    org = incident.org
    systems = list(incident.systems.all())
    names = _names(systems)
    path = timeline.incident_path(incident)
    status_lines = _system_lines(systems, incident, now)
    if event == AlertEvent.SUSPECTED:
        title = f"Suspected outage: {names}"
        trigger_at = ""
        down = [s for s in systems if s.state == State.DOWN]
        if down:
            first = min(down, key=lambda s: s.state_since)
            at = first.state_since + timedelta(minutes=first.trigger_minutes)
            trigger_at = (
                f"If it is still down at {timeline.local_time(at, org, now)}, Fallback "
                "declares an outage and alerts you again.\n"
            )
        body = (
            f"{names} stopped answering.\n{status_lines}\n\n{trigger_at}"
            "If you already know it is down, confirm the outage on the incident page so it "
            "is declared now. If it comes back by itself, this was a blip and you will not "
            "need to do anything.\n"
        )
    elif event == AlertEvent.DECLARED:
        title = f"Outage declared: {names}"
        declared = incident.declared_at or now
        body = (
            f"An outage was declared at {timeline.local_time(declared, org, now)}. {note}\n"
            f"{status_lines}\n\n"
            "What to do next: open the incident page, switch to the fallback desk to keep "
            "working, follow the plan, and tell customers and suppliers what is happening.\n"
        )
    elif event == AlertEvent.REMINDER:
        declared = incident.declared_at or incident.opened_at
        title = f"Still down: {names} (outage for {timeline.duration(now - declared)})"
        body = (
            f"The outage declared at {timeline.local_time(declared, org, now)} is still on.\n"
            f"{status_lines}\n\n"
            "Keep customers updated when you said you would. When everything works again, "
            "resolve the incident.\n"
        )
    elif event == AlertEvent.RECOVERED:
        title = f"Back up: {names}"
        if incident.status == Status.RESOLVED and incident.declared_at is None:
            body = f"{note}\n{status_lines}\n\nNothing to do: the incident is closed.\n"
        elif incident.status == Status.RESOLVED:
            title = f"Outage over: {names}"
            body = (
                f"{note}\n{status_lines}\n\nFallback mode is off. Re-enter the documents made "
                "during the outage if that is not done yet.\n"
            )
        else:
            body = (
                f"{note}\n{status_lines}\n\n"
                "What to do next: check that the systems really work, re-enter the documents "
                "made during the outage, then resolve the incident.\n"
            )
    else:
        raise ValueError(f"unknown alert event {event!r}")
    body += f"Incident page: {path}"
    title = f"[{org.name}] {title}"
    if incident.is_exercise:
        title, body = DRILL + title, DRILL + "This is a drill, not a real outage.\n" + body
    return title[:250], body


def _compose_flapping(system: System, now: datetime, changes: int) -> tuple[str, str]:
    window = system.flap_window_minutes
    title = f"[{system.org.name}] {system.name} is flapping"
    body = (
        f"{system.name} changed state {changes} times in the last {window} min "
        f"(now: {State(system.state).label.lower()}). {system.state_reason}\n\n"
        "To spare you a storm of alerts, Fallback stops alerting about it until it has been "
        f"stable for {window} min; every change is still recorded. Check the system, or "
        "whether its checks are too strict (timeouts, response-time limit).\n"
        f"Dashboard: /o/{system.org.slug}/"
    )
    return title[:250], body


def queue_alert(
    event: str,
    incident: Incident | None = None,
    system: System | None = None,
    *,
    n: int | str = 1,
    now: datetime | None = None,
    note: str = "",
    changes: int = 0,
    channels: list[AlertChannel] | None = None,
) -> list[AlertDelivery]:
    """Queue `event` for every enabled on-duty channel that takes it; returns new deliveries.

    `n` tells repeated alerts of one kind apart (the reminder number, the how-many-th
    declaration); the same (event, incident or system, n, channel) is queued only once.
    """
    if incident is None and system is None:
        raise ValueError("an alert is about an incident or a system")
    org_id = incident.org_id if incident is not None else system.org_id  # type: ignore[union-attr]
    now = now or timezone.now()
    targets = channels if channels is not None else channels_for(org_id, event)
    scope = f"i{incident.pk}" if incident is not None else f"s{system.pk}"  # type: ignore[union-attr]
    keys = {channel.pk: f"{event}:{scope}:{n}:{channel.pk}" for channel in targets}
    existing = set(
        AlertDelivery.objects.filter(key__in=keys.values()).values_list("key", flat=True)
    )
    missing = [c for c in targets if keys[c.pk] not in existing]
    if not missing:
        return []  # the periodic trigger asks every few seconds: cheap when nothing is new
    title, body = compose(event, incident, system, now, note=note, changes=changes)
    created = []
    for channel in missing:
        delivery, new = AlertDelivery.objects.get_or_create(
            key=keys[channel.pk],
            defaults={
                "org_id": org_id,
                "channel": channel,
                "incident": incident,
                "system": system,
                "event": event,
                "title": title,
                "body": body,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
        if new:
            created.append(delivery)
    return created


def queue_notice(
    org_id: int, event: str, scope: str, title: str, body: str, now: datetime | None = None
) -> list[AlertDelivery]:
    """Queue a notice that is about neither an incident nor a system (a held sync, a stale
    replica) for every on-duty channel that takes `event`; `scope` makes it idempotent."""
    now = now or timezone.now()
    created = []
    for channel in channels_for(org_id, event):
        delivery, new = AlertDelivery.objects.get_or_create(
            key=f"{event}:{scope}:{channel.pk}"[:200],
            defaults={
                "org_id": org_id,
                "channel": channel,
                "event": event,
                "title": title[:250],
                "body": body,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
        if new:
            created.append(delivery)
    return created


def was_sent_or_pending(incident: Incident, event: str) -> bool:
    """Did Fallback queue `event` for this incident (whatever became of it)?"""
    return AlertDelivery.objects.filter(
        org_id=incident.org_id, incident=incident, event=event
    ).exists()


# Sending


def deliver(url: str, title: str, body: str) -> str | None:
    """Send one alert; None when sent, else what went wrong (without the secret URL)."""
    # async_mode off: the send happens in this thread, which send_due already runs in a pool.
    sender = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not sender.add(url):
        return "The channel's address is not a valid apprise URL; check its settings."
    try:
        result = sender.notify(body=body, title=title, timeout=SEND_TIMEOUT)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".replace(url, "<channel URL>")
    if result:
        return None
    messages = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    text = " | ".join(dict.fromkeys(messages)) or "The service did not accept the alert."
    return text.replace(url, "<channel URL>")[:2000]


def _claim(now: datetime) -> list[AlertDelivery]:
    """Due deliveries this worker may send: each claimed by moving next_attempt_at on in a
    conditional update, so two workers never send the same one."""
    due = list(
        AlertDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .select_related("channel", "incident", "org")
        .order_by("next_attempt_at", "pk")[:SEND_BATCH]
    )
    claimed = []
    for d in due:
        if AlertDelivery.objects.filter(
            pk=d.pk, status=DeliveryStatus.PENDING, next_attempt_at=d.next_attempt_at
        ).update(next_attempt_at=now + CLAIM_LEASE):
            claimed.append(d)
    return claimed


def _record(delivery: AlertDelivery, error: str | None, now: datetime) -> None:
    delivery.attempts += 1
    event_label = AlertEvent(delivery.event).label
    with transaction.atomic():
        if error is None:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.last_error = ""
            if delivery.incident is not None:
                timeline.add(
                    delivery.incident,
                    EntryKind.ALERT,
                    f"Alert \u201c{event_label}\u201d sent to {delivery.channel.name}.",
                    at=now,
                    data={"delivery": delivery.pk, "attempts": delivery.attempts},
                )
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = error
            log.error(
                "alert %s to channel %s failed %s times, giving up: %s",
                delivery.key,
                delivery.channel.name,
                delivery.attempts,
                error,
            )
            if delivery.incident is not None:
                timeline.add(
                    delivery.incident,
                    EntryKind.ALERT_FAILED,
                    f"Alert \u201c{event_label}\u201d to {delivery.channel.name} failed "
                    f"{delivery.attempts} times; Fallback gave up. Last error: {error}",
                    at=now,
                    data={"delivery": delivery.pk, "attempts": delivery.attempts},
                )
        else:
            delivery.last_error = error
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            log.warning(
                "alert %s to channel %s failed (attempt %s), retrying at %s: %s",
                delivery.key,
                delivery.channel.name,
                delivery.attempts,
                delivery.next_attempt_at,
                error,
            )
        delivery.save(
            update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"]
        )


@schedulers.register("incidents.send_alerts", every=SEND_EVERY)
def send_due(now: datetime | None = None) -> int:
    """Send the deliveries that are due; returns how many were sent."""
    now = now or timezone.now()
    claimed = _claim(now)
    if not claimed:
        return 0
    sent = 0
    # Threads only talk to the channels; the database is written from this thread.
    with ThreadPoolExecutor(
        max_workers=min(SEND_THREADS, len(claimed)), thread_name_prefix="fallback-alert"
    ) as pool:
        futures = {pool.submit(deliver, d.channel.url, d.title, d.body): d for d in claimed}
        for future in as_completed(futures):
            delivery = futures[future]
            try:
                error = future.result()
            except Exception as exc:  # deliver() catches what apprise raises; belt and braces
                error = f"{type(exc).__name__}: {exc}"
            _record(delivery, error, now)
            sent += error is None
    return sent
