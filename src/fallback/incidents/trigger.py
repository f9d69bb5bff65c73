"""The outage trigger and the reminders, run every few seconds by the schedulers.

A SUSPECTED incident is declared once any of its systems has been DOWN, without a break,
for that system's `trigger_minutes` (measured from System.state_since, so a spell in
maintenance or "unknown: our own link is down" restarts the clock): down at 10:00 with
30 minutes → declared at 10:30, not at 10:29.

While an incident is declared, each channel with `remind_every_minutes` gets a REMINDER
every that many minutes of the current declared spell (counted from the declaration, or
from the latest reopening). A reminder is numbered within its spell and keyed on it, so
evaluating again, on this or another worker, never sends it twice; one missed while the
process was down is not sent late, the next one comes on time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from fallback.incidents import timeline
from fallback.incidents.alerts import channels_for, queue_alert
from fallback.incidents.lifecycle import declare, reminder_base
from fallback.incidents.models import AlertEvent, Incident, Status
from fallback.monitor.models import State
from fallback.runtime import schedulers

TRIGGER_EVERY = 10.0  # seconds: how late after the trigger moment an outage is declared


@schedulers.register("incidents.trigger", every=TRIGGER_EVERY)
def evaluate(now: datetime | None = None) -> list[Incident]:
    """Declare the suspected incidents whose trigger is met, queue due reminders; returns
    the incidents declared now."""
    now = now or timezone.now()
    declared = []
    suspected = Incident.objects.filter(
        status=Status.SUSPECTED, is_exercise=False
    ).prefetch_related("systems")
    for incident in suspected.select_related("org"):
        due = [
            s
            for s in incident.systems.all()
            if s.state == State.DOWN and now >= s.state_since + timedelta(minutes=s.trigger_minutes)
        ]
        if not due:
            continue
        first = min(due, key=lambda s: s.state_since)
        reason = (
            f"{first.name} has been down since "
            f"{timeline.local_time(first.state_since, incident.org, now)} "
            f"({timeline.duration(now - first.state_since)}), "
            f"the trigger of {first.trigger_minutes} min is met."
        )
        declare(incident, None, now, reason=reason)
        if incident.status == Status.DECLARED:
            declared.append(incident)
    remind(now)
    return declared


def remind(now: datetime) -> int:
    """Queue the reminders that are due; returns how many deliveries were queued."""
    queued = 0
    for incident in Incident.objects.filter(status=Status.DECLARED).select_related("org"):
        channels = [c for c in channels_for(incident.org_id, AlertEvent.REMINDER)]
        channels = [c for c in channels if c.remind_every_minutes]
        if not channels:
            continue
        base = reminder_base(incident)
        fresh = 0
        for channel in channels:
            number = (now - base) // timedelta(minutes=channel.remind_every_minutes)
            if number < 1:
                continue
            fresh += len(
                queue_alert(
                    AlertEvent.REMINDER,
                    incident,
                    n=f"{int(base.timestamp())}-{number}",
                    now=now,
                    channels=[channel],
                )
            )
        if fresh:
            Incident.objects.filter(pk=incident.pk).update(last_reminder_at=now)
            queued += fresh
    return queued
