"""Changing systems, checks and maintenance windows: the rules, each change audited.

The web pages, the API and `fallback apply` all come through here, so a rule holds whichever
door a change comes in by. Problems are raised as SetupInvalid, a list of (field, message)
pairs; a check's config problems are named "config.<field>", as the kinds' validation names
them. Nothing is saved when anything is wrong.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.accounts.scoping import free_slug
from fallback.audit.trail import diff, record
from fallback.monitor import kinds
from fallback.monitor.maintenance import validate_window
from fallback.monitor.models import Check, MaintenanceWindow, System, SystemKind
from fallback.monitor.sla_claims import parse_tiers, tiers_text
from fallback.monitor.system_state import refresh_system

# What a person (or a config file) may set on a system; the rest is the state machine's.
SYSTEM_FIELDS = [
    "name",
    "slug",
    "kind",
    "criticality",
    "vendor",
    "vendor_contacts",
    "account_number",
    "sla_percent",
    "credit_terms",
    "credit_tiers",
    "monthly_fee",
    "status_page_url",
    "notes",
    "trigger_minutes",
    "failures_to_down",
    "successes_to_up",
    "flap_changes",
    "flap_window_minutes",
]
CHECK_FIELDS = [
    "name",
    "kind",
    "config",
    "interval_seconds",
    "timeout_seconds",
    "retries",
    "retry_delay_seconds",
    "enabled",
    "is_canary",
]
# Words the system pages use after /systems/: a system cannot take them as its slug.
RESERVED_SLUGS = frozenset({"new", "card", "report", "claims"})
MIN_INTERVAL = 5  # seconds; quicker than this is a load test, not watching
MAX_INTERVAL = 24 * 60 * 60
CANARY_RULE = "Only the internet-link system has canary checks: they watch our own connection."


class SetupInvalid(Exception):
    """The change is refused; `errors` says which field is wrong and why."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in errors))

    @classmethod
    def from_validation(cls, exc: ValidationError) -> SetupInvalid:
        if hasattr(exc, "error_dict"):
            return cls(
                [
                    ("" if f == "__all__" else f, m)
                    for f, messages in exc.message_dict.items()
                    for m in messages
                ]
            )
        return cls([("", m) for m in exc.messages])


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return str(value)


def _audit_config(config: Any) -> Any:
    # Headers often carry API keys; the audit trail is readable by every member.
    if isinstance(config, dict) and isinstance(config.get("headers"), dict):
        return {**config, "headers": dict.fromkeys(config["headers"], "•••")}
    return config


def _snapshot(obj: System | Check, fields: list[str]) -> dict[str, Any]:
    values = {f: _plain(getattr(obj, f)) for f in fields}
    if "config" in values:
        values["config"] = _audit_config(values["config"])
    return values


# -------------------------------------------------------------------- systems


def unique_slug(org: Organisation, name: str, exclude: int | None = None) -> str:
    return free_slug(System.objects.filter(org=org), name, RESERVED_SLUGS, "system", exclude)


def _check_system(system: System) -> None:
    errors: dict[str, list[str]] = {}
    if system.slug in RESERVED_SLUGS:
        errors["slug"] = [f"“{system.slug}” is a word the pages use; choose another."]
    if system.sla_percent is not None and not Decimal(0) < system.sla_percent <= Decimal(100):
        errors["sla_percent"] = ["An uptime promise is a percentage above 0, at most 100."]
    if system.credit_tiers:
        try:
            system.credit_tiers = tiers_text(parse_tiers(system.credit_tiers))
        except ValueError as exc:
            errors["credit_tiers"] = [f"{str(exc)[0].upper()}{str(exc)[1:]}."]
    if system.monthly_fee is not None and system.monthly_fee < 0:
        errors["monthly_fee"] = ["The monthly fee is zero or more."]
    for field_name in ("failures_to_down", "successes_to_up", "flap_changes"):
        if (getattr(system, field_name) or 0) < 1:
            errors[field_name] = ["Must be at least 1."]
    if system.kind != SystemKind.INTERNET and system.pk:
        canaries = system.checks.filter(is_canary=True).exists()
        if canaries:
            errors["kind"] = [
                "This system has canary checks, which only an internet-link system may have."
            ]
    try:
        system.full_clean(exclude=["org"], validate_unique=False)
    except ValidationError as exc:
        for f, messages in exc.message_dict.items():
            errors.setdefault(f, []).extend(messages)
    if System.objects.filter(org_id=system.org_id, slug=system.slug).exclude(pk=system.pk).exists():
        errors.setdefault("slug", []).append(
            f"Another system of this organisation already has the short name “{system.slug}”."
        )
    if errors:
        raise SetupInvalid.from_validation(ValidationError(errors))


def _set(obj: Any, fields: dict[str, Any], allowed: list[str]) -> None:
    for key, value in fields.items():
        if key not in allowed:
            raise ValueError(f"unknown field {key!r}")
        if key in ("sla_percent", "monthly_fee") and isinstance(value, float | int):
            value = Decimal(str(value))  # 99.9, not 99.900000000000005684…
        setattr(obj, key, value)


@transaction.atomic
def create_system(org: Organisation, **fields: Any) -> System:
    """A new system; without a slug it gets one from its name."""
    system = System(org=org)
    _set(system, fields, SYSTEM_FIELDS)
    if not system.slug:
        system.slug = unique_slug(org, system.name or "")
    system.state_since = system.created_at = timezone.now()
    _check_system(system)
    system.save()
    record(
        org,
        "system.created",
        system,
        {f: [None, v] for f, v in _snapshot(system, SYSTEM_FIELDS).items()},
    )
    return system


@transaction.atomic
def update_system(system: System, **fields: Any) -> dict[str, list[Any]]:
    """Change a system's setup; returns {field: [old, new]} of what changed."""
    before = _snapshot(system, SYSTEM_FIELDS)
    _set(system, fields, SYSTEM_FIELDS)
    if "slug" in fields and not system.slug:
        system.slug = unique_slug(system.org, system.name, exclude=system.pk)
    try:
        _check_system(system)
    except SetupInvalid:
        system.refresh_from_db()
        raise
    changes = diff(before, _snapshot(system, SYSTEM_FIELDS))
    if changes:
        system.save(update_fields=list(changes))
        record(system.org, "system.updated", system, changes)
    return changes


@transaction.atomic
def delete_system(system: System) -> None:
    record(system.org, "system.deleted", system, {"slug": [system.slug, None]})
    system.delete()


def set_paused(system: System, paused: bool, now: datetime | None = None) -> bool:
    """Pause (stop watching) or resume a system; False when it already was."""
    if system.paused == paused:
        return False
    with transaction.atomic():
        system.paused = paused
        system.save(update_fields=["paused"])
        record(
            system.org,
            "system.paused" if paused else "system.resumed",
            system,
            {"paused": [not paused, paused]},
        )
    refresh_system(system.pk, now or timezone.now())
    system.refresh_from_db()
    return True


# --------------------------------------------------------------------- checks


def normalise_config(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The config as stored: validated by its kind, in the kind's own spelling.

    Only the keys given are kept (defaults stay implicit), so a later, better default
    applies to the checks that did not choose, and an export shows what people chose.
    """
    model = kinds.validate_config(kind, data)
    result: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    return result


def _check_errors(check: Check) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not (check.name or "").strip():
        errors.append(("name", "Give the check a name, e.g. “Website answers”."))
    elif len(check.name) > 120:
        errors.append(("name", "At most 120 characters."))
    elif (
        Check.objects.filter(system_id=check.system_id, name=check.name)
        .exclude(pk=check.pk)
        .exists()
    ):
        errors.append(("name", f"This system already has a check named “{check.name}”."))
    if not MIN_INTERVAL <= check.interval_seconds <= MAX_INTERVAL:
        errors.append(
            (
                "interval_seconds",
                f"Between {MIN_INTERVAL} seconds and {MAX_INTERVAL // 3600} hours.",
            )
        )
    if not 0 < check.timeout_seconds <= 120:
        errors.append(("timeout_seconds", "More than 0 and at most 120 seconds."))
    if check.retries > 10:
        errors.append(("retries", "At most 10 quick re-tests."))
    if not 0 <= check.retry_delay_seconds <= 60:
        errors.append(("retry_delay_seconds", "Between 0 and 60 seconds."))
    if check.is_canary and check.system.kind != SystemKind.INTERNET:
        errors.append(("is_canary", CANARY_RULE))
    try:
        check.config = normalise_config(check.kind, check.config)
    except kinds.InvalidCheckConfig as exc:
        errors.extend(exc.errors)
    return errors


def _ensure_token(check: Check) -> None:
    try:
        passive = kinds.get(check.kind).passive
    except KeyError:
        return
    if passive and not check.push_token:
        check.push_token = secrets.token_urlsafe(24)
    elif not passive:
        check.push_token = None


@dataclass(frozen=True)
class CheckSaved:
    check: Check
    changes: dict[str, list[Any]]


def create_check(system: System, **fields: Any) -> Check:
    check = Check(org_id=system.org_id, system=system)
    _set(check, fields, CHECK_FIELDS)
    errors = _check_errors(check)
    if errors:
        raise SetupInvalid(errors)
    _ensure_token(check)
    now = timezone.now()
    check.created_at = check.status_since = check.next_run_at = now
    with transaction.atomic():
        check.save()
        record(
            system.org,
            "check.created",
            check,
            {f: [None, v] for f, v in _snapshot(check, CHECK_FIELDS).items()},
        )
    refresh_system(system.pk, now)
    return check


def update_check(check: Check, **fields: Any) -> dict[str, list[Any]]:
    before = _snapshot(check, CHECK_FIELDS)
    raw_before = {f: getattr(check, f) for f in CHECK_FIELDS}
    _set(check, fields, CHECK_FIELDS)
    errors = _check_errors(check)
    if errors:
        for f, v in raw_before.items():
            setattr(check, f, v)
        raise SetupInvalid(errors)
    raw_changes = [f for f in CHECK_FIELDS if getattr(check, f) != raw_before[f]]
    if not raw_changes:
        return {}
    audited = diff(before, _snapshot(check, CHECK_FIELDS))
    # A change the audit snapshot hides (a header's secret value) is still a change.
    changes = {f: audited.get(f, ["(hidden)", "(hidden)"]) for f in raw_changes}
    _ensure_token(check)
    now = timezone.now()
    update = [*raw_changes, "push_token"]
    if {"kind", "config", "interval_seconds", "enabled"} & set(raw_changes):
        check.next_run_at = now  # try the new definition at once
        update.append("next_run_at")
    with transaction.atomic():
        check.save(update_fields=update)
        record(check.system.org, "check.updated", check, changes)
    refresh_system(check.system_id, now)
    return changes


def delete_check(check: Check) -> None:
    system_id = check.system_id
    with transaction.atomic():
        record(check.system.org, "check.deleted", check, {"name": [check.name, None]})
        check.delete()
    refresh_system(system_id, timezone.now())


def new_push_token(check: Check) -> str:
    """Replace a heartbeat's secret URL (the old one stops working at once)."""
    with transaction.atomic():
        check.push_token = secrets.token_urlsafe(24)
        check.save(update_fields=["push_token"])
        record(check.system.org, "check.push_token_replaced", check)
    return check.push_token


# -------------------------------------------------------- maintenance windows


WINDOW_FIELDS = [
    "title",
    "starts_at",
    "ends_at",
    "weekdays",
    "start_time",
    "duration_minutes",
    "time_zone",
]


def add_maintenance(org: Organisation, system: System | None, **fields: Any) -> MaintenanceWindow:
    window = MaintenanceWindow(org=org, system=system)
    _set(window, fields, WINDOW_FIELDS)
    errors: list[tuple[str, str]] = []
    if not (window.title or "").strip():
        errors.append(("title", "Say what the work is, e.g. “Vendor upgrade”."))
    try:
        validate_window(window)
    except ValidationError as exc:
        errors.extend(SetupInvalid.from_validation(exc).errors)
    if errors:
        raise SetupInvalid(errors)
    with transaction.atomic():
        window.save()
        record(
            org,
            "maintenance.created",
            window,
            {f: [None, _plain(getattr(window, f))] for f in WINDOW_FIELDS},
        )
    if system is not None:
        refresh_system(system.pk, timezone.now())
    return window


def delete_maintenance(window: MaintenanceWindow) -> None:
    system_id = window.system_id
    with transaction.atomic():
        record(window.org, "maintenance.deleted", window, {"title": [window.title, None]})
        window.delete()
    if system_id is not None:
        refresh_system(system_id, timezone.now())
