"""Alert channels (where staff alerts go): the rules for changing them, each change audited.

A channel's apprise URL often holds a password or token, so the audit trail and every page
that is not its own edit form show only its scheme (`masked`).
"""

from __future__ import annotations

from typing import Any

import apprise
from django.db import transaction
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import diff, record
from fallback.incidents.alerts import deliver
from fallback.incidents.models import AlertChannel, AlertEvent

FIELDS = ["name", "url", "on_duty", "events", "remind_every_minutes", "enabled"]


class ChannelInvalid(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


def masked(url: str) -> str:
    """ "mailto://user:pw@example.com" -> "mailto://…": enough to tell channels apart."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "…"


def _snapshot(channel: AlertChannel) -> dict[str, Any]:
    return {
        "name": channel.name,
        "url": masked(channel.url),
        "on_duty": channel.on_duty,
        "events": list(channel.events),
        "remind_every_minutes": channel.remind_every_minutes,
        "enabled": channel.enabled,
    }


def url_problem(url: str) -> str | None:
    if not url.strip():
        return "Give the channel's apprise URL, e.g. mailto://user:password@example.com"
    if not apprise.Apprise().add(url.strip()):
        return (
            "Apprise does not recognise this URL. It starts with the service, e.g. "
            "mailto://, tgram://, slack://, json:// (see the apprise documentation)."
        )
    return None


def _validate(channel: AlertChannel) -> None:
    errors: list[tuple[str, str]] = []
    if not channel.name.strip():
        errors.append(("name", "Give the channel a name, e.g. “Office manager’s phone”."))
    elif len(channel.name) > 120:
        errors.append(("name", "At most 120 characters."))
    problem = url_problem(channel.url)
    if problem:
        errors.append(("url", problem))
    known = {e.value for e in AlertEvent}
    unknown = [e for e in channel.events if e not in known]
    if unknown:
        errors.append(
            ("events", f"Unknown event(s): {', '.join(unknown)}; known: {', '.join(known)}")
        )
    if errors:
        raise ChannelInvalid(errors)


@transaction.atomic
def create_channel(org: Organisation, **fields: Any) -> AlertChannel:
    channel = AlertChannel(org=org, created_at=timezone.now())
    for key, value in fields.items():
        if key not in FIELDS:
            raise ValueError(f"unknown field {key!r}")
        setattr(channel, key, value)
    channel.url = channel.url.strip()
    _validate(channel)
    channel.save()
    record(
        org, "alert_channel.created", channel, {k: [None, v] for k, v in _snapshot(channel).items()}
    )
    return channel


@transaction.atomic
def update_channel(channel: AlertChannel, **fields: Any) -> dict[str, list[Any]]:
    before = _snapshot(channel)
    old_url = channel.url
    for key, value in fields.items():
        if key not in FIELDS:
            raise ValueError(f"unknown field {key!r}")
        setattr(channel, key, value)
    channel.url = channel.url.strip()
    try:
        _validate(channel)
    except ChannelInvalid:
        channel.refresh_from_db()
        raise
    changes = diff(before, _snapshot(channel))
    if channel.url != old_url and "url" not in changes:
        changes["url"] = ["(changed)", "(changed)"]  # same scheme, different secret
    if changes or channel.url != old_url:
        channel.save()
        record(channel.org, "alert_channel.updated", channel, changes)
    return changes


@transaction.atomic
def delete_channel(channel: AlertChannel) -> None:
    record(channel.org, "alert_channel.deleted", channel, {"name": [channel.name, None]})
    channel.delete()


def send_test(channel: AlertChannel) -> str | None:
    """Send a test alert now; None when it went, else what went wrong. Audited either way."""
    title = f"[{channel.org.name}] Test alert from Fallback"
    body = (
        f"This is a test of the alert channel “{channel.name}”. When a system your business "
        "depends on goes down, alerts come here."
    )
    error = deliver(channel.url, title, body)
    record(
        channel.org,
        "alert_channel.tested",
        channel,
        {"result": [None, "sent" if error is None else f"failed: {error[:200]}"]},
    )
    return error
