"""Systems the business depends on, the checks that watch them, and what the checks saw.

Storage stays bounded: raw results are a ring of the last RESULT_RING per check (upserted
into a slot), aggregates are rolled up per minute/hour/day and pruned by age.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from fallback.accounts.scoping import OrgOwned

RESULT_RING = 100  # raw results kept per check


class SystemKind(models.TextChoices):
    CRM = "crm", "CRM / orders"
    ACCOUNTING = "accounting", "Accounting"
    ECOMMERCE = "ecommerce", "E-commerce"
    EMAIL = "email", "Email / newsletter"
    WEBSITE = "website", "Website"
    HELPDESK = "helpdesk", "Helpdesk"
    PROJECTS = "projects", "Project management"
    PHONE = "phone", "Phone line"
    INTERNET = "internet", "Internet link"
    OTHER = "other", "Other"


class Criticality(models.TextChoices):
    CRITICAL = "critical", "Critical: trading stops without it"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class State(models.TextChoices):
    """A system's state; checks use UP, DEGRADED, DOWN and UNKNOWN only."""

    UP = "up", "Up"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"
    UNKNOWN = "unknown", "Unknown"
    PAUSED = "paused", "Paused"
    MAINTENANCE = "maintenance", "Maintenance"


class System(OrgOwned):
    """An external service the business depends on."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    kind = models.CharField(max_length=16, choices=SystemKind.choices, default=SystemKind.OTHER)
    criticality = models.CharField(
        max_length=16, choices=Criticality.choices, default=Criticality.HIGH
    )
    vendor = models.CharField(max_length=120, blank=True)
    vendor_contacts = models.TextField(
        blank=True, help_text="Support phone numbers, emails, portal — one per line"
    )
    account_number = models.CharField(max_length=120, blank=True)
    sla_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Promised uptime, e.g. 99.9",
    )
    credit_terms = models.TextField(blank=True, help_text="What the vendor owes when it misses")
    credit_tiers = models.CharField(
        max_length=200,
        blank=True,
        help_text="Credit by availability, e.g. “99.9:10, 99:25”: below 99.9 % a 10 % credit",
    )
    monthly_fee = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What the service costs a month (the credit is a share of it)",
    )
    status_page_url = models.URLField(blank=True, help_text="The vendor's own status page")
    notes = models.TextField(blank=True)

    # The outage trigger and the state machine's thresholds.
    trigger_minutes = models.PositiveIntegerField(
        default=30, help_text="Declare an outage after it has been down this long"
    )
    failures_to_down = models.PositiveSmallIntegerField(default=3)
    successes_to_up = models.PositiveSmallIntegerField(default=2)
    flap_changes = models.PositiveSmallIntegerField(
        default=6, help_text="More state changes than this within the window is flapping"
    )
    flap_window_minutes = models.PositiveIntegerField(default=30)
    paused = models.BooleanField(default=False)

    # Current state (survives restarts: it lives here, not in memory).
    state = models.CharField(max_length=16, choices=State.choices, default=State.UNKNOWN)
    state_since = models.DateTimeField(default=timezone.now)
    state_reason = models.CharField(max_length=300, blank=True)
    flapping_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "slug"], name="system_slug_unique_in_org")
        ]

    def __str__(self) -> str:
        return self.name


class Check(OrgOwned):
    """One way of watching a system. `kind` names an entry in monitor.kinds' registry."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32)
    config = models.JSONField(default=dict, help_text="Validated by the kind's schema")
    interval_seconds = models.PositiveIntegerField(default=60)
    timeout_seconds = models.FloatField(default=10.0)
    retries = models.PositiveSmallIntegerField(
        default=2, help_text="Quick re-tests before a failure counts"
    )
    retry_delay_seconds = models.FloatField(default=3.0)
    enabled = models.BooleanField(default=True)
    is_canary = models.BooleanField(
        default=False, help_text="Watches a neutral target to tell our own link from the vendor"
    )
    push_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    last_ping_at = models.DateTimeField(null=True, blank=True)

    # Scheduling: the database is the queue. A worker claims a due check by moving
    # next_run_at forward in the same statement that selects it.
    next_run_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_by = models.CharField(max_length=64, blank=True)

    # Outcome so far.
    status = models.CharField(max_length=16, choices=State.choices, default=State.UNKNOWN)
    status_since = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_message = models.CharField(max_length=500, blank=True)
    last_response_ms = models.FloatField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    result_seq = models.PositiveBigIntegerField(default=0, help_text="Results written so far")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["system__name", "name"]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="check_due")]

    def __str__(self) -> str:
        return f"{self.system.name}: {self.name}"


class CheckResult(OrgOwned):
    """One raw result, in slot `seq % RESULT_RING` of its check's ring."""

    # Not `check`: that name is taken by Model.check() (Django's system checks).
    for_check = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="results", db_column="check_id"
    )
    slot = models.PositiveSmallIntegerField()
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=State.choices)
    response_ms = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(fields=["for_check", "slot"], name="one_result_per_ring_slot")
        ]

    def __str__(self) -> str:
        return f"{self.for_check_id} {self.at:%H:%M:%S} {self.status}"


class Resolution(models.TextChoices):
    MINUTE = "minute", "Minute"
    HOUR = "hour", "Hour"
    DAY = "day", "Day"


class CheckRollup(OrgOwned):
    """Counts and response times of one check over one minute, hour or day."""

    for_check = models.ForeignKey(
        Check, on_delete=models.CASCADE, related_name="rollups", db_column="check_id"
    )
    resolution = models.CharField(max_length=8, choices=Resolution.choices)
    bucket = models.DateTimeField(help_text="Start of the minute/hour/day (UTC)")
    up = models.PositiveIntegerField(default=0)
    degraded = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    timed = models.PositiveIntegerField(default=0, help_text="Results with a response time")
    total_ms = models.FloatField(default=0.0)
    max_ms = models.FloatField(default=0.0)

    class Meta:
        ordering = ["bucket"]
        constraints = [
            models.UniqueConstraint(
                fields=["for_check", "resolution", "bucket"], name="one_rollup_per_bucket"
            )
        ]
        indexes = [models.Index(fields=["resolution", "bucket"], name="rollup_age")]

    def __str__(self) -> str:
        return f"{self.for_check_id} {self.resolution} {self.bucket:%Y-%m-%d %H:%M}"


class StateChange(OrgOwned):
    """Every change of a system's state: the evidence for downtime and SLA claims."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    from_state = models.CharField(max_length=16, choices=State.choices)
    to_state = models.CharField(max_length=16, choices=State.choices)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["system", "at"], name="state_change_when")]

    def __str__(self) -> str:
        return f"{self.system_id} {self.from_state}→{self.to_state} at {self.at:%Y-%m-%d %H:%M}"


class MaintenanceWindow(OrgOwned):
    """Planned work: alerts and incidents are suppressed, downtime is not held against the SLA.

    One-off (starts_at/ends_at) or weekly recurring (weekdays + start_time + duration, in
    `time_zone`, so "Sunday 02:00" stays 02:00 across daylight-saving changes).
    """

    system = models.ForeignKey(
        System,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        help_text="Empty: every system of the organisation",
    )
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weekdays = models.CharField(
        max_length=20, blank=True, help_text="Recurring: ISO weekdays, e.g. '7' or '1,3,5'"
    )
    start_time = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/London")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "start_time"]

    def __str__(self) -> str:
        return self.title


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent to the vendor"
    CREDITED = "credited", "Credited"
    REFUSED = "refused", "Refused"


class SlaClaim(OrgOwned):
    """A claim to a vendor for the service credit its SLA owes, with the downtime Fallback
    measured. The figures are worked out afresh while it is a draft and kept as they were
    sent from then on: the letter on file is the letter the vendor got."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="sla_claims")
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sla_claims",
        help_text="Empty: the whole month",
    )
    month = models.DateField(help_text="First day of the SLA month claimed for")
    reference = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    opening = models.TextField(blank=True, help_text="The letter's first paragraph(s)")
    closing = models.TextField(blank=True, help_text="The letter's last paragraph(s)")
    figures = models.JSONField(default=dict, blank=True, help_text="As sent (empty: a draft)")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    credited_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_note = models.TextField(blank=True, help_text="What the vendor said")
    request_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "reference"], name="sla_claim_reference"),
            models.UniqueConstraint(
                fields=["org", "request_key"],
                condition=~Q(request_key=""),
                name="sla_claim_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.system.name})"
