"""Changing the vault's set-up: destinations, file sets, schedule and retention.

The web page, the API and the command line all come through here: each change is validated
whole (a bad field changes nothing and is named), saved, and recorded in the audit trail as
an installation-level event (org None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fallback.audit.trail import diff, record, snapshot
from fallback.vault.filesets import check_paths
from fallback.vault.models import Destination, FileSet, Kind, VaultSettings

DESTINATION_FIELDS = [
    "name",
    "kind",
    "enabled",
    "path",
    "bucket",
    "prefix",
    "endpoint_url",
    "region",
    "access_key_env",
    "secret_key_env",
    "min_lock_days",
]
FILESET_FIELDS = ["name", "paths", "excludes", "enabled"]
SETTINGS_FIELDS = [
    "installation",
    "snapshot_every_minutes",
    "verify_every_hours",
    "hourly_keep",
    "daily_keep",
    "monthly_keep",
]
MAX_KEEP = 10_000


@dataclass
class ConfigProblem(Exception):
    """Field -> what is wrong with it. Nothing was saved."""

    errors: dict[str, list[str]]

    def __str__(self) -> str:
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in self.errors.items()
        )


def _validated(obj: Any, extra: dict[str, list[str]], exclude: list[str] | None = None) -> None:
    errors = dict(extra)
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ConfigProblem(errors)


def _destination_rules(d: Destination) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if d.kind == Kind.LOCAL:
        if not d.path.strip():
            errors["path"] = ["Give the folder to write snapshots in (a USB disk, a NAS share)."]
        elif not d.path.startswith(("/", "~")) and ":" not in d.path[:3]:
            errors["path"] = ["Give the full path of the folder (starting with /)."]
    elif d.kind == Kind.S3:
        if not d.bucket.strip():
            errors["bucket"] = ["Give the bucket's name (made with Object Lock enabled)."]
        if d.endpoint_url and not d.endpoint_url.startswith(("https://", "http://")):
            errors["endpoint_url"] = ["An address starting with https://."]
        if bool(d.access_key_env) != bool(d.secret_key_env):
            errors["secret_key_env" if d.access_key_env else "access_key_env"] = [
                "Name both environment variables (access key id and secret), or neither to use "
                "the usual AWS variables or an instance role."
            ]
    return errors


@transaction.atomic
def save_destination(destination: Destination | None, **fields: Any) -> Destination:
    """Create (destination None) or change a destination; ConfigProblem names bad fields."""
    unknown = set(fields) - set(DESTINATION_FIELDS)
    if unknown:
        raise ValueError(f"unknown destination fields {sorted(unknown)}")
    creating = destination is None
    target = destination or Destination()
    before = snapshot(target, DESTINATION_FIELDS) if not creating else {}
    for name, value in fields.items():
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    if target.kind == Kind.LOCAL:
        target.bucket = target.prefix = target.endpoint_url = target.region = ""
        target.access_key_env = target.secret_key_env = ""
    elif target.kind == Kind.S3:
        target.path = ""
    _validated(target, _destination_rules(target), exclude=["last_error"])
    target.save()
    changes = diff(before, snapshot(target, DESTINATION_FIELDS))
    if changes:
        action = "vault.destination.added" if creating else "vault.destination.changed"
        record(None, action, target, changes)
    return target


@transaction.atomic
def remove_destination(destination: Destination) -> None:
    """Forget a destination (its snapshots stay where they are, under their locks)."""
    record(None, "vault.destination.removed", destination, {"name": [destination.name, None]})
    destination.delete()


@transaction.atomic
def save_file_set(file_set: FileSet | None, **fields: Any) -> FileSet:
    unknown = set(fields) - set(FILESET_FIELDS)
    if unknown:
        raise ValueError(f"unknown file set fields {sorted(unknown)}")
    creating = file_set is None
    target = file_set or FileSet()
    before = snapshot(target, FILESET_FIELDS) if not creating else {}
    for name, value in fields.items():
        if name in ("paths", "excludes"):
            value = [str(v).strip() for v in value if str(v).strip()]
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    extra: dict[str, list[str]] = {}
    if not target.paths:
        extra["paths"] = ["Give at least one file or folder to keep."]
    else:
        problems = check_paths(list(target.paths))
        if problems:
            extra["paths"] = problems
    _validated(target, extra)
    target.save()
    changes = diff(before, snapshot(target, FILESET_FIELDS))
    if changes:
        action = "vault.file_set.added" if creating else "vault.file_set.changed"
        record(None, action, target, changes)
    return target


@transaction.atomic
def remove_file_set(file_set: FileSet) -> None:
    record(None, "vault.file_set.removed", file_set, {"name": [file_set.name, None]})
    file_set.delete()


@transaction.atomic
def save_settings(**fields: Any) -> VaultSettings:
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"unknown vault settings {sorted(unknown)}")
    current = VaultSettings.objects.select_for_update().get(pk=VaultSettings.load().pk)
    before = snapshot(current, SETTINGS_FIELDS)
    for name, value in fields.items():
        setattr(current, name, value)
    extra: dict[str, list[str]] = {}
    for name in ("hourly_keep", "daily_keep", "monthly_keep"):
        if int(getattr(current, name) or 0) > MAX_KEEP:
            extra[name] = [f"At most {MAX_KEEP:,}."]
    if not (current.hourly_keep or current.daily_keep or current.monthly_keep):
        extra["__all__"] = ["Keep at least one tier (hourly, daily or monthly)."]
    _validated(current, extra, exclude=["next_snapshot_at", "next_verify_at"])
    changes = diff(before, snapshot(current, SETTINGS_FIELDS))
    if changes:
        now = timezone.now()
        current.updated_at = now
        # A new interval applies from now, not after the old one runs out.
        if "snapshot_every_minutes" in changes:
            current.next_snapshot_at = now
        if "verify_every_hours" in changes:
            current.next_verify_at = now
        current.save()
        record(None, "vault.settings.changed", current, changes)
    return current
