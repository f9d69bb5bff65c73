from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from fallback.accounts.models import Organisation


class Via(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    CLI = "cli", "Command line"
    SYSTEM = "system", "Fallback itself"


class AuditEvent(models.Model):
    """Who changed what, when, and through which door. Append-only."""

    org = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, help_text="Kept if the user is deleted")
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.SYSTEM)
    action = models.CharField(max_length=64, help_text="e.g. organisation.updated")
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["org", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"
