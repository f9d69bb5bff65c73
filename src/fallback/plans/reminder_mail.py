"""Reminders by email to the owner of each stale part of the plan.

The route is the installation's outgoing mail (Django's EMAIL_* settings, from the
FALLBACK_EMAIL_* environment variables): a reminder is about the plan, sent on a quiet day,
to a member of the installation — like a password reset. The organisations' backup mail
accounts are kept for notices to customers during an outage (their own rate limits and
outbox), and may not be set up at all. Without FALLBACK_EMAIL_HOST nothing is emailed; the
reminder still goes to the alert channels and the dashboard lists the part.

At most once: each Reminder (one per part and period) carries its email's state. A sender
claims a pending one by moving it to `sending` in a conditional update, so two workers never
both send it; a failure before the server took the message puts it back with a backoff; a
sender that died while sending leaves it `sending`, and it is not sent again blindly.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from fallback.incidents.alerts import backoff
from fallback.plans.models import MailStatus, Reminder

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 50


def configured() -> bool:
    return bool(settings.EMAIL_HOST)


def link(path: str) -> str:
    """An absolute link when the installation says where it is served (FALLBACK_URL)."""
    base = str(getattr(settings, "FALLBACK_URL", "") or "")
    return f"{base}{path}" if base and path.startswith("/") else path


def _claim(now: datetime) -> list[Reminder]:
    due = list(
        Reminder.objects.filter(email_status=MailStatus.PENDING, email_next_at__lte=now)
        .select_related("org")
        .order_by("email_next_at", "pk")[:BATCH]
    )
    return [
        r
        for r in due
        if Reminder.objects.filter(pk=r.pk, email_status=MailStatus.PENDING).update(
            email_status=MailStatus.SENDING
        )
    ]


def send_due(now: datetime | None = None) -> int:
    """Email the reminders that are due to their owners; returns how many went."""
    now = now or timezone.now()
    if not configured():
        return 0
    claimed = _claim(now)
    if not claimed:
        return 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as exc:
        for reminder in claimed:
            _failed(reminder, f"{type(exc).__name__}: {exc}", now)
        return 0
    sent = 0
    try:
        for reminder in claimed:
            sent += _send(connection, reminder, now)
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
    return sent


def _send(connection: BaseEmailBackend, reminder: Reminder, now: datetime) -> bool:
    message = EmailMessage(
        subject=reminder.title,
        body=reminder.body,
        to=[reminder.email_to],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        _failed(reminder, f"{type(exc).__name__}: {exc}", now)
        return False
    reminder.email_attempts += 1
    reminder.email_status, reminder.emailed_at, reminder.email_error = MailStatus.SENT, now, ""
    reminder.save(update_fields=["email_status", "emailed_at", "email_error", "email_attempts"])
    return True


def _failed(reminder: Reminder, error: str, now: datetime) -> None:
    reminder.email_attempts += 1
    reminder.email_error = error[:2000]
    if reminder.email_attempts >= MAX_ATTEMPTS:
        reminder.email_status = MailStatus.FAILED
        log.error(
            "plan reminder %s to %s failed, giving up: %s", reminder.pk, reminder.email_to, error
        )
    else:
        reminder.email_status = MailStatus.PENDING
        reminder.email_next_at = now + backoff(reminder.email_attempts)
    reminder.save(update_fields=["email_attempts", "email_error", "email_status", "email_next_at"])
