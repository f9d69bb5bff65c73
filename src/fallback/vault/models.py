"""The vault: encrypted, immutable, verified off-site snapshots of the whole installation.

A snapshot holds the installation's database, so everything here belongs to the installation,
not to one organisation (see accounts.checks.GLOBAL_MODELS); installation administrators
(`User.is_superuser`) manage it. Credentials are never stored: a destination names the
environment variables that hold them. Private keys are not stored either, unless an
administrator asks (`fallback vault keygen --keep-on-box`), and then only sealed.
"""

from __future__ import annotations

import re
import socket

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

INSTALLATION_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{0,39}$",
    "1 to 40 lowercase letters, digits or dashes, starting with a letter or digit",
)
ENV_NAME_VALIDATOR = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]{0,99}$", "the name of an environment variable, e.g. VAULT_S3_KEY"
)
RECIPIENT_VALIDATOR = RegexValidator(
    r"^age1[02-9ac-hj-np-z]{58}$", "an age public key: age1 followed by 58 letters and digits"
)


def default_installation() -> str:
    """The host name as a name part: snapshots of different boxes never share a name."""
    name = slugify(socket.gethostname().split(".")[0])[:40].strip("-")
    return name if re.fullmatch(r"[a-z0-9][a-z0-9-]*", name or "") else "fallback"


class VaultSettings(models.Model):
    """The installation's one row of vault settings (pk 1): schedule and retention."""

    installation = models.CharField(
        max_length=40,
        default=default_installation,
        validators=[INSTALLATION_VALIDATOR],
        help_text="Names this installation's snapshots (fallback-<this>-<time>.tar.zst.age)",
    )
    snapshot_every_minutes = models.PositiveIntegerField(
        default=60, help_text="Minutes between automatic snapshots; 0 for by hand only"
    )
    verify_every_hours = models.PositiveIntegerField(
        default=24, help_text="Hours between automatic restore tests; 0 for never"
    )
    hourly_keep = models.PositiveIntegerField(
        default=48, help_text="Keep the first snapshot of each of this many latest hours"
    )
    daily_keep = models.PositiveIntegerField(
        default=30, help_text="Keep the first snapshot of each of this many latest days"
    )
    monthly_keep = models.PositiveIntegerField(
        default=12, help_text="Keep the first snapshot of each of this many latest months"
    )
    # Claimed in a conditional UPDATE (schedule.claim), so two workers never both run one.
    next_snapshot_at = models.DateTimeField(default=timezone.now)
    next_verify_at = models.DateTimeField(default=timezone.now)
    # One snapshot at a time, whichever worker or command starts it: a lease taken in a
    # conditional UPDATE and renewed while it runs (snapshots.take).
    snapshot_lease_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "vault settings"
        verbose_name_plural = "vault settings"

    def __str__(self) -> str:
        return f"Vault settings of {self.installation}"

    @classmethod
    def load(cls) -> VaultSettings:
        found, _ = cls.objects.get_or_create(pk=1)
        return found


class Recipient(models.Model):
    """An age public key every snapshot is encrypted to. Its private key is kept off-site
    (printed into the binder); only with `--keep-on-box` is it also stored here, sealed, so
    that automatic restore tests can decrypt."""

    label = models.CharField(max_length=100)
    public_key = models.CharField(max_length=62, unique=True, validators=[RECIPIENT_VALIDATOR])
    sealed_identity = models.TextField(
        blank=True, help_text="The private key, sealed with the installation's sealing key"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.public_key[:12]}…)"

    @property
    def kept_on_box(self) -> bool:
        return bool(self.sealed_identity)


class Kind(models.TextChoices):
    LOCAL = "local", "Local folder (USB disk, NAS)"
    S3 = "s3", "S3-compatible storage with Object Lock"


class Destination(models.Model):
    """Where snapshots go. Every snapshot is written to every enabled destination."""

    name = models.SlugField(max_length=40, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    path = models.CharField(max_length=500, blank=True, help_text="Local folder: its path")
    bucket = models.CharField(max_length=63, blank=True)
    prefix = models.CharField(max_length=200, blank=True, help_text="Folder inside the bucket")
    endpoint_url = models.CharField(
        max_length=300, blank=True, help_text="For S3-compatible services; empty for AWS"
    )
    region = models.CharField(max_length=40, blank=True)
    access_key_env = models.CharField(
        max_length=100,
        blank=True,
        validators=[ENV_NAME_VALIDATOR],
        help_text="Name of the environment variable holding the access key id",
    )
    secret_key_env = models.CharField(
        max_length=100,
        blank=True,
        validators=[ENV_NAME_VALIDATOR],
        help_text="Name of the environment variable holding the secret access key",
    )
    min_lock_days = models.PositiveIntegerField(
        default=0,
        help_text="Lock every snapshot for at least this many days (0: as long as it is kept)",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def location(self) -> str:
        if self.kind == Kind.LOCAL:
            return self.path
        where = f"s3://{self.bucket}/{self.prefix.strip('/')}".rstrip("/")
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where


class FileSet(models.Model):
    """Files kept with the database in every snapshot (the accounting company file, the
    document templates): each path, a file or a folder, under files/<name>/ in a snapshot."""

    name = models.SlugField(max_length=40, unique=True)
    paths = models.JSONField(default=list, help_text="Absolute paths of files or folders")
    excludes = models.JSONField(
        default=list, blank=True, help_text="Glob patterns to leave out, e.g. *.tmp or cache/*"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SnapshotStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Tier(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    DAILY = "daily", "Daily"
    HOURLY = "hourly", "Hourly"
    EXTRA = "extra", "Extra"


class Snapshot(models.Model):
    """One snapshot: one encrypted file, copied to each destination (SnapshotCopy)."""

    name = models.CharField(max_length=200, unique=True)
    taken_at = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=8, choices=SnapshotStatus.choices, default=SnapshotStatus.RUNNING
    )
    trigger = models.CharField(max_length=16, default="manual")
    db_kind = models.CharField(max_length=16, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Encrypted bytes")
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the encrypted file")
    data_size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes packed")
    members = models.PositiveIntegerField(default=0)
    row_counts = models.JSONField(default=dict, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="Public keys")
    warnings = models.JSONField(default=list, blank=True)
    tier = models.CharField(max_length=8, choices=Tier.choices, blank=True)
    retain_until = models.DateTimeField(null=True, blank=True)
    fallback_version = models.CharField(max_length=20, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    request_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True, help_text="Idempotency key"
    )
    found_on_destination = models.BooleanField(
        default=False, help_text="Learnt from a destination's listing, not made by this database"
    )

    class Meta:
        ordering = ["-taken_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CopyStatus(models.TextChoices):
    WRITING = "writing", "Writing"
    STORED = "stored", "Stored"
    FAILED = "failed", "Failed"
    PRUNED = "pruned", "Pruned"


class Level(models.TextChoices):
    FULL = "full", "Full restore test"
    INTEGRITY = "integrity", "Integrity only"


class SnapshotCopy(models.Model):
    """A snapshot on one destination, with its lock and its last verification."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="copies")
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="copies")
    status = models.CharField(max_length=8, choices=CopyStatus.choices, default=CopyStatus.WRITING)
    version_id = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    retain_until = models.DateTimeField(null=True, blank=True)
    locked = models.BooleanField(
        default=False, help_text="The destination itself refuses to delete it before then"
    )
    error = models.TextField(blank=True)
    written_at = models.DateTimeField(null=True, blank=True)
    pruned_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    verify_ok = models.BooleanField(null=True, blank=True)
    verify_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-snapshot__taken_at", "destination__name"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "destination"], name="vault_one_copy"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot.name} on {self.destination.name}"


class Verification(models.Model):
    """One restore test of one copy (the copy keeps the latest result)."""

    copy = models.ForeignKey(SnapshotCopy, on_delete=models.CASCADE, related_name="verifications")
    at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10, choices=Level.choices)
    ok = models.BooleanField()
    error = models.TextField(blank=True)
    seconds = models.FloatField(default=0.0)
    row_counts = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=16, default="manual")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.copy} {self.level} {'ok' if self.ok else 'FAILED'} at {self.at}"
