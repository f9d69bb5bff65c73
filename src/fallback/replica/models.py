"""The replica: connectors, their syncs, and every version of every record they brought.

History is a slowly-changing-dimension table (type 2): a Record row is one version of one
source record, valid from `valid_from` until `valid_to` (NULL while it is current). A change
closes the current version and adds a new one; a record gone from the source is closed
("retired") only after a full sweep. Nothing a sync does deletes a version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from fallback.accounts.scoping import OrgOwned


class Connector(OrgOwned):
    """Where records come from: a REST API, a preset for a known service, a folder of files."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    kind = models.CharField(max_length=40)
    config = models.JSONField(default=dict, blank=True)
    sealed_secrets = models.TextField(blank=True, help_text="Sealed JSON (fallback.sealing)")
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Per stream: overrides of the kind's default mapping"
    )
    system = models.ForeignKey(
        "monitor.System",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connectors",
        help_text="The system this connector copies (its RPO shows on that system)",
    )
    interval_minutes = models.PositiveIntegerField(default=15)
    full_sweep_hours = models.PositiveIntegerField(
        default=24, help_text="A full sweep (which can retire records) at least this often"
    )
    rpo_minutes = models.PositiveIntegerField(
        default=60, help_text="Warn when the last good sync is older than this"
    )
    drop_guard_percent = models.PositiveSmallIntegerField(
        default=20, help_text="Hold a full sweep that has this many percent fewer records"
    )
    enabled = models.BooleanField(default=True)
    next_sync_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_good_at = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "slug"], name="replica_connector_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    APPLIED = "applied", "Applied"
    HELD = "held", "Held for review"
    FAILED = "failed", "Failed"
    DISCARDED = "discarded", "Discarded"


class Sync(OrgOwned):
    """One run of a connector: fetched into staging, checked by the guards, then applied."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="syncs")
    trigger = models.CharField(max_length=16, default="schedule")
    full = models.BooleanField(default=True, help_text="A full sweep (else incremental)")
    status = models.CharField(
        max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING, db_index=True
    )
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=120, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    streams = models.JSONField(default=dict, blank=True, help_text="Per stream: counts, fill")
    cursors = models.JSONField(default=dict, blank=True, help_text="Per stream: newest cursor")
    problems = models.JSONField(default=list, blank=True, help_text="A sample of bad values")
    problem_count = models.PositiveIntegerField(default=0)
    fetch_seconds = models.FloatField(null=True, blank=True)
    apply_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    hold_reasons = models.JSONField(default=list, blank=True)
    complete = models.BooleanField(
        default=False, help_text="Every page was fetched (only then can records be retired)"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    request_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True, help_text="Idempotency key"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["connector", "status", "started_at"])]

    def __str__(self) -> str:
        return f"{self.connector} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class StagedChunk(OrgOwned):
    """Fetched, mapped records waiting for the guards: zstd-compressed JSON, in order."""

    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="chunks")
    stream = models.CharField(max_length=80)
    seq = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    payload = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sync", "stream", "seq"], name="replica_chunk_seq"),
        ]


class Ended(models.TextChoices):
    CURRENT = "", "Current"
    CHANGED = "changed", "Changed"
    RETIRED = "retired", "Gone from the source"


class Record(OrgOwned):
    """One version of one source record, mapped to its canonical entity.

    The table grows by a row per new or changed record, so it carries only the indexes its
    queries need: the foreign keys' own indexes are left out where a composite index below
    starts with the same column (org, connector) or nothing looks rows up by it (sync).
    """

    org = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    connector = models.ForeignKey(
        Connector, on_delete=models.PROTECT, related_name="records", db_index=False
    )
    stream = models.CharField(max_length=80)
    entity = models.CharField(max_length=20)
    key = models.CharField(max_length=200)
    name = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict)
    digest = models.CharField(max_length=32)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    ended = models.CharField(max_length=8, choices=Ended.choices, default="", blank=True)
    sync = models.ForeignKey(
        Sync, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "stream", "key"],
                condition=Q(valid_to__isnull=True),
                name="replica_record_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["connector", "stream", "key", "valid_from"]),
            models.Index(
                fields=["org", "entity", "name"],
                condition=Q(valid_to__isnull=True),
                name="replica_record_current",
            ),
            models.Index(fields=["org", "entity", "valid_from"]),
            # The desk looks records up by key (a customer for a document, each product of
            # its lines); valid_from is in it so SQLite prefers it to a scan of the entity.
            models.Index(
                fields=["org", "entity", "key", "valid_from"],
                condition=Q(valid_to__isnull=True),
                name="replica_record_current_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.key} {self.name}"


class KeptFile(OrgOwned):
    """One version of a plain file kept as it is (a document template, a company file)."""

    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="files")
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content = models.BinaryField(help_text="zstd-compressed")
    modified_at = models.DateTimeField(null=True, blank=True)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    ended = models.CharField(max_length=8, choices=Ended.choices, default="", blank=True)
    sync = models.ForeignKey(Sync, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "path"],
                condition=Q(valid_to__isnull=True),
                name="replica_file_one_current",
            ),
        ]
        indexes = [models.Index(fields=["connector", "path", "valid_from"])]

    def __str__(self) -> str:
        return self.path
