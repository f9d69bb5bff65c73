"""Incidents (outages and drills) from suspicion to closure, their timeline, and staff alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from fallback.accounts.scoping import OrgOwned
from fallback.monitor.models import System


class Status(models.TextChoices):
    SUSPECTED = "suspected", "Suspected"
    DECLARED = "declared", "Declared"
    RECOVERING = "recovering", "Recovering"
    RESOLVED = "resolved", "Resolved"


class Incident(OrgOwned):
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUSPECTED)
    is_exercise = models.BooleanField(default=False, help_text="A drill, not a real outage")
    systems = models.ManyToManyField(System, related_name="incidents", blank=True)
    summary = models.TextField(blank=True)
    declared_manually = models.BooleanField(
        default=False, help_text="Declared by a person (e.g. an outage the checks cannot see)"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    declared_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_reminder_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["org", "status"], name="incident_open")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED


class EntryKind(models.TextChoices):
    OPENED = "opened", "Suspected"
    STATE = "state", "System state changed"
    CONFIRMED = "confirmed", "Confirmed by a person"
    DECLARED = "declared", "Declared"
    RECOVERING = "recovering", "Systems back up"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Down again"
    NOTE = "note", "Note"
    ALERT = "alert", "Alert sent"
    ALERT_FAILED = "alert_failed", "Alert failed"


class TimelineEntry(OrgOwned):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.text[:60]}"


class AlertEvent(models.TextChoices):
    SUSPECTED = "suspected", "Suspected outage"
    DECLARED = "declared", "Outage declared"
    REMINDER = "reminder", "Reminder: outage still declared"
    RECOVERED = "recovered", "Systems back up"
    FLAPPING = "flapping", "A system is flapping"
    SYNC_HELD = "sync_held", "A replica sync was held"
    SYNC_FAILED = "sync_failed", "Replica syncs are failing"
    REPLICA_STALE = "replica_stale", "The replica is older than its RPO"
    OUTBOX_STALLED = "outbox_stalled", "Notices to customers are stuck in the outbox"
    PLAN_STALE = "plan_stale", "A part of the continuity plan is due for review"
    BACKUP_FAILED = "backup_failed", "A backup failed or did not verify"  # the vault's
    STATUS_PAGE_FAILED = "status_page", "The public status page could not be published"


class AlertChannel(OrgOwned):
    """Where staff alerts go: an apprise URL (mailto://, an SMS gateway, a chat webhook…)."""

    name = models.CharField(max_length=120)
    url = models.CharField(max_length=1000, help_text="An apprise URL; kept secret")
    on_duty = models.BooleanField(default=True, help_text="Alerts go only to people on duty")
    events = models.JSONField(
        default=list, blank=True, help_text="Alert events to send; empty means all"
    )
    remind_every_minutes = models.PositiveIntegerField(
        default=60, help_text="While an outage is declared; 0 for never"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class AlertDelivery(OrgOwned):
    """One alert to one channel; `key` makes creating it idempotent, retries never duplicate."""

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    system = models.ForeignKey(
        System, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event = models.CharField(max_length=16, choices=AlertEvent.choices)
    key = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=250)
    body = models.TextField()
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel_id} ({self.status})"
