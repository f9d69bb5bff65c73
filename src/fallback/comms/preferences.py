"""The organisation's comms set-up: the backup mail account, the routes customers can use
meanwhile, SMS and chat channels, opt-outs and key accounts — the rules for changing them,
each change audited (secrets never: the audit trail says only that one changed).
"""

from __future__ import annotations

import os
import re
from typing import Any

import apprise
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import diff, record
from fallback.comms.audiences import (
    calling_code,
    normal_email,
    normal_phone,
)
from fallback.comms.models import (
    Channel,
    ChannelKind,
    CommsSettings,
    KeyAccount,
    MessageTemplate,
    OptOut,
)
from fallback.incidents.models import Incident
from fallback.monitor.models import State
from fallback.sealing import SealingError, seal, unseal

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SETTINGS_FIELDS = [
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password_env",
    "from_address",
    "from_name",
    "reply_to",
    "phone_numbers",
    "backup_email",
    "status_url",
    "usual_email",
    "usual_phone",
    "affected_window_days",
    "email_per_second",
    "sms_per_second",
    "chat_per_second",
    "stall_minutes",
    "drill_recipients",
]
MAX_RATE = 10_000.0


class SetupProblem(Exception):
    """Settings, a channel, an opt-out or a key account that cannot be saved; each error
    names its field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


class MailSetupError(Exception):
    """The backup mail account cannot be used as set up; says what to fix."""


def settings_for(org: Organisation) -> CommsSettings:
    found, _ = CommsSettings.objects.get_or_create(org=org, defaults={"from_name": org.name[:120]})
    return found


def password_is_set(settings: CommsSettings) -> bool:
    return bool(settings.smtp_password_env or settings.smtp_password_sealed)


def smtp_password(settings: CommsSettings) -> str:
    """The backup account's password, from its environment variable or unsealed."""
    if settings.smtp_password_env:
        value = os.environ.get(settings.smtp_password_env)
        if value is None:
            raise MailSetupError(
                f"The environment variable {settings.smtp_password_env} (the mail "
                "password) is not set for this process."
            )
        return value
    if settings.smtp_password_sealed:
        try:
            return unseal(settings.smtp_password_sealed)
        except SealingError as exc:
            raise MailSetupError(f"The mail password cannot be opened: {exc}") from exc
    return ""


def mail_ready(settings: CommsSettings) -> str | None:
    """None when email can be sent, else what is missing."""
    if not settings.smtp_host:
        return "No backup mail server is set up: add one under Notices → Settings."
    if not settings.from_address:
        return "No From address is set: add one under Notices → Settings."
    return None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _snapshot(settings: CommsSettings) -> dict[str, Any]:
    values = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
    values["email_systems"] = sorted(s.slug for s in settings.email_systems.all())
    values["phone_systems"] = sorted(s.slug for s in settings.phone_systems.all())
    return values


def _validate(settings: CommsSettings) -> None:
    errors: list[tuple[str, str]] = []
    if settings.smtp_password_env and not ENV_NAME.match(settings.smtp_password_env):
        errors.append(
            (
                "smtp_password_env",
                "The name of an environment variable: letters, digits and _, e.g. "
                "FALLBACK_MAIL_PASSWORD.",
            )
        )
    if not 1 <= settings.smtp_port <= 65535:
        errors.append(("smtp_port", "A port from 1 to 65535 (587 for STARTTLS, 465 for TLS)."))
    if settings.smtp_host and not settings.from_address:
        errors.append(("from_address", "Give the address notices come from."))
    for name in ("email_per_second", "sms_per_second", "chat_per_second"):
        rate = getattr(settings, name)
        if not 0 < rate <= MAX_RATE:
            errors.append((name, f"Messages per second, more than 0 and at most {MAX_RATE:g}."))
    country = calling_code(settings.org)
    for i, line in enumerate(_lines(settings.drill_recipients), start=1):
        address = normal_email(line) if "@" in line else normal_phone(line, country)
        if not address:
            errors.append(
                (
                    "drill_recipients",
                    f"Line {i} (“{line[:60]}”) is neither an email address nor a phone number.",
                )
            )
    for i, line in enumerate(_lines(settings.phone_numbers), start=1):
        if not normal_phone(line, country):
            errors.append(("phone_numbers", f"Line {i} (“{line[:60]}”) is not a phone number."))
    try:
        settings.full_clean(exclude=["org", "smtp_password_sealed"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.extend((name, m) for m in messages)
    if errors:
        raise SetupProblem(errors)


@transaction.atomic
def update_settings(
    org: Organisation,
    *,
    password: str | None = None,
    email_systems: list[Any] | None = None,
    phone_systems: list[Any] | None = None,
    **fields: Any,
) -> dict[str, list[Any]]:
    """Change the settings; `password` "" clears a sealed password, None keeps it."""
    settings = settings_for(org)
    before = _snapshot(settings)
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"unknown comms setting {name!r}")
        setattr(settings, name, value.strip() if isinstance(value, str) else value)
    try:
        _validate(settings)
    except SetupProblem:
        settings.refresh_from_db()
        raise
    for systems in (email_systems, phone_systems):
        for s in systems or []:
            if s.org_id != org.pk:
                raise SetupProblem([("email_systems", f"{s} is not a system of {org.name}.")])
    password_changed = False
    if password is not None:
        sealed = seal(password) if password else ""
        if password or settings.smtp_password_sealed:
            password_changed = True
        settings.smtp_password_sealed = sealed
    settings.save()
    if email_systems is not None:
        settings.email_systems.set(email_systems)
    if phone_systems is not None:
        settings.phone_systems.set(phone_systems)
    changes = diff(before, _snapshot(settings))
    if password_changed:
        changes["smtp_password"] = ["(secret)", "(changed)" if password else "(cleared)"]
    if changes:
        record(org, "comms.settings.changed", settings, changes)
    return changes


def down_routes(org: Organisation, incident: Incident | None) -> tuple[bool, bool]:
    """(email down, phone down): a system the usual email (phone) depends on is part of
    the incident, or is down right now."""
    settings = settings_for(org)
    in_incident = set(incident.systems.values_list("pk", flat=True)) if incident else set()

    def down(systems: Any) -> bool:
        return any(s.pk in in_incident or s.state == State.DOWN for s in systems.all())

    return down(settings.email_systems), down(settings.phone_systems)


# ------------------------------------------------------------------ channels


def masked(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "…"


def channel_url(channel: Channel, phone: str = "") -> str:
    """The apprise URL to notify: an SMS channel's {phone} replaced by the number."""
    return channel.url.replace("{phone}", phone) if channel.kind == ChannelKind.SMS else channel.url


def _validate_channel(channel: Channel) -> None:
    errors: list[tuple[str, str]] = []
    if not channel.name.strip():
        errors.append(("name", "Give the channel a name, e.g. “Office SMS gateway”."))
    if channel.kind not in (ChannelKind.SMS, ChannelKind.CHAT):
        errors.append(("kind", "A channel is sms or chat (email goes through the mail account)."))
    url = channel.url.strip()
    if not url:
        errors.append(("url", "Give the channel's apprise URL."))
    else:
        if channel.kind == ChannelKind.SMS and "{phone}" not in url:
            errors.append(
                (
                    "url",
                    "An SMS channel's URL names the recipient as {phone}, e.g. "
                    "twilio://SID:token@+441234567890/{phone}.",
                )
            )
        probe = url.replace("{phone}", "+447700900123")
        if not apprise.Apprise().add(probe):
            errors.append(
                (
                    "url",
                    "Apprise does not recognise this URL. It starts with the service, e.g. "
                    "twilio://, msteams://, slack://, json:// (see the apprise documentation).",
                )
            )
    if errors:
        raise SetupProblem(errors)


@transaction.atomic
def save_channel(org: Organisation, channel: Channel | None = None, **fields: Any) -> Channel:
    creating = channel is None
    channel = channel or Channel(org=org, created_at=timezone.now())
    before = {"name": channel.name, "kind": channel.kind, "url": masked(channel.url or "")}
    old_url = channel.url
    for name, value in fields.items():
        if name not in ("name", "kind", "url", "enabled"):
            raise ValueError(f"unknown channel field {name!r}")
        setattr(channel, name, value.strip() if isinstance(value, str) else value)
    try:
        _validate_channel(channel)
    except SetupProblem:
        if not creating:
            channel.refresh_from_db()
        raise
    channel.save()
    after = {"name": channel.name, "kind": channel.kind, "url": masked(channel.url)}
    changes = diff(before, after) if not creating else {k: [None, v] for k, v in after.items()}
    if not creating and channel.url != old_url and "url" not in changes:
        changes["url"] = ["(changed)", "(changed)"]
    if changes:
        verb = "created" if creating else "updated"
        record(org, f"comms.channel.{verb}", channel, changes)
    return channel


@transaction.atomic
def delete_channel(channel: Channel) -> None:
    record(channel.org, "comms.channel.deleted", channel, {"name": [channel.name, None]})
    channel.delete()


# ------------------------------------------------------------------ opt-outs


def add_opt_out(
    org: Organisation, address: str, channel: str = "", reason: str = "", by: Any = None
) -> OptOut:
    """Record that `address` asked not to be told (idempotent: the same one twice is one)."""
    if channel not in ("", ChannelKind.EMAIL, ChannelKind.SMS):
        raise SetupProblem([("channel", "email, sms, or blank for every channel")])
    kind = ChannelKind.EMAIL if "@" in address else ChannelKind.SMS
    normal = (
        normal_email(address)
        if kind == ChannelKind.EMAIL
        else normal_phone(address, calling_code(org))
    )
    if not normal:
        raise SetupProblem(
            [("address", f"“{address[:80]}” is neither an email address nor a phone number.")]
        )
    person = by if by is not None and getattr(by, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            opt_out = OptOut.objects.create(
                org=org, address=normal, channel=channel, reason=reason[:300], created_by=person
            )
    except IntegrityError:
        return OptOut.objects.get(org=org, address=normal, channel=channel)
    record(
        org, "comms.opt_out.added", opt_out, {"address": [None, normal], "channel": [None, channel]}
    )
    return opt_out


@transaction.atomic
def remove_opt_out(opt_out: OptOut) -> None:
    record(opt_out.org, "comms.opt_out.removed", opt_out, {"address": [opt_out.address, None]})
    opt_out.delete()


# ------------------------------------------------------------------ key accounts

KEY_ACCOUNT_FIELDS = ["name", "call_dont_email", "phone", "contact_name", "note"]


@transaction.atomic
def save_key_account(org: Organisation, customer_key: str, **fields: Any) -> KeyAccount:
    """Create or update the key account of `customer_key` (its name defaults to the
    replica's)."""
    from fallback.replica import history

    key = customer_key.strip()
    if not key:
        raise SetupProblem([("customer_key", "Choose the customer (its key in the replica).")])
    for name in fields:
        if name not in KEY_ACCOUNT_FIELDS:
            raise ValueError(f"unknown key-account field {name!r}")
    account = KeyAccount.objects.filter(org=org, customer_key=key).first()
    creating = account is None
    found = history.current(org, "customer").filter(key=key).only("name").first()
    if account is None:
        account = KeyAccount(org=org, customer_key=key)
        if found is None and not fields.get("name"):
            raise SetupProblem(
                [("customer_key", f"No customer {key!r} in the replica; give a name for it.")]
            )
    before = {n: getattr(account, n) for n in KEY_ACCOUNT_FIELDS}
    for name, value in fields.items():
        if value is not None:
            setattr(account, name, value.strip() if isinstance(value, str) else value)
    if not account.name and found is not None:
        account.name = found.name  # blank: the replica's name
    if account.phone and not normal_phone(account.phone, calling_code(org)):
        raise SetupProblem([("phone", f"“{account.phone[:60]}” is not a phone number.")])
    account.save()
    after = {n: getattr(account, n) for n in KEY_ACCOUNT_FIELDS}
    changes = {k: [None, v] for k, v in after.items()} if creating else diff(before, after)
    if changes:
        verb = "added" if creating else "updated"
        record(org, f"comms.key_account.{verb}", account, changes)
    return account


@transaction.atomic
def remove_key_account(account: KeyAccount) -> None:
    record(
        account.org,
        "comms.key_account.removed",
        account,
        {"customer_key": [account.customer_key, None]},
    )
    account.delete()


# ------------------------------------------------------------------ templates

TEMPLATE_FIELDS = ["subject", "notify", "explain", "solve", "predict", "apologise"]


@transaction.atomic
def save_template(template: MessageTemplate, **fields: Any) -> dict[str, list[Any]]:
    """Change a template's words (notices made from it afterwards start from them)."""
    before = {n: getattr(template, n) for n in TEMPLATE_FIELDS}
    for name, value in fields.items():
        if name not in TEMPLATE_FIELDS:
            raise ValueError(f"unknown template field {name!r}")
        value = str(value).replace("\r\n", "\n").strip()
        if name == "subject":
            value = " ".join(value.split())[:200]
        setattr(template, name, value)
    if not template.subject:
        raise SetupProblem([("subject", "Give the subject line.")])
    changes = diff(before, {n: getattr(template, n) for n in TEMPLATE_FIELDS})
    if changes:
        template.updated_at = timezone.now()
        template.save()
        record(
            template.org,
            "comms.template.changed",
            template,
            {name: ["…", "…"] for name in changes},
        )
    return changes
