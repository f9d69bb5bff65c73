"""Reminders by email to the owner's own address, through the installation's outgoing mail:
at most once per part and period, whichever worker runs the job and however often; a
refused connection is retried with a backoff; without outgoing mail nothing is emailed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message

import pytest
import time_machine

from fallback.comms.tests.builders import free_port, sink
from fallback.plans import editing, reminder_mail, staleness
from fallback.plans.models import ContactKind, MailStatus, Reminder

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = START + timedelta(days=40)  # the supplier contact is due by then


@pytest.fixture
def plan(world):
    with time_machine.travel(START, tick=False):
        plan = editing.start(world["acme"], world["ann"])
        editing.save_contact(
            plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", last_verified_on=START.date()
        )
        editing.set_owners(plan, world["ann"], world["mo"], None)  # Mo owns the contacts
    return plan


def use_mail(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "fallback@office.example"
    settings.FALLBACK_URL = "http://office-box:8000"


def parsed(raw: bytes) -> Message:
    return message_from_bytes(raw)


def test_the_owner_is_emailed_once_per_part_and_period(settings, world, plan):
    with sink() as server:
        use_mail(settings, server.port)
        assert staleness.remind(DUE) == 1
        assert staleness.remind(DUE + timedelta(hours=1)) == 0  # the job runs again
        assert reminder_mail.send_due(DUE + timedelta(hours=2)) == 0  # and the sender
        assert server.recipients() == {"mo@acme.test": 1}
        [(sender, _, raw)] = server.messages
    assert sender == "fallback@office.example"
    message = parsed(raw)
    assert message["Subject"] == "[Acme] Plan: supplier contacts due for a check (mo@acme.test)"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_payload(decode=True).decode()
    assert "Pipes Ltd" in body
    assert "http://office-box:8000/o/acme/plan/contacts/#supplier" in body
    reminder = Reminder.objects.get(plan=plan, part="contacts.supplier")
    assert (reminder.email_to, reminder.email_status) == ("mo@acme.test", MailStatus.SENT)
    assert reminder.emailed_at == DUE


def test_the_next_period_is_a_new_email(settings, world, plan):
    with sink() as server:
        use_mail(settings, server.port)
        staleness.remind(DUE)
        staleness.remind(DUE + timedelta(days=30))  # the next 30-day window
        assert server.recipients() == {"mo@acme.test": 2}


def test_two_senders_never_send_the_same_reminder(settings, world, plan):
    """A claimed reminder (`sending`) is another sender's, or a dead sender's: left alone."""
    with sink() as server:
        use_mail(settings, server.port)
        settings.EMAIL_HOST = ""  # made while mail is off: nothing pending
        staleness.remind(DUE)
        reminder = Reminder.objects.get(plan=plan)
        assert reminder.email_status == MailStatus.NONE
        Reminder.objects.filter(pk=reminder.pk).update(
            email_to="mo@acme.test", email_status=MailStatus.SENDING, email_next_at=DUE
        )
        settings.EMAIL_HOST = "127.0.0.1"
        assert reminder_mail.send_due(DUE + timedelta(days=1)) == 0
        assert server.messages == []


def test_a_refused_connection_is_retried_later_and_sent_once(settings, world, plan):
    use_mail(settings, free_port())  # nothing listens there
    assert staleness.remind(DUE) == 1
    reminder = Reminder.objects.get(plan=plan)
    assert (reminder.email_status, reminder.email_attempts) == (MailStatus.PENDING, 1)
    assert "ConnectionRefusedError" in reminder.email_error
    assert reminder.email_next_at is not None and reminder.email_next_at > DUE
    with sink() as server:
        use_mail(settings, server.port)
        assert reminder_mail.send_due(DUE) == 0  # not due yet: the backoff holds
        assert reminder_mail.send_due(reminder.email_next_at) == 1
        assert reminder_mail.send_due(reminder.email_next_at + timedelta(hours=1)) == 0
        assert server.recipients() == {"mo@acme.test": 1}
    reminder.refresh_from_db()
    assert (reminder.email_status, reminder.email_error) == (MailStatus.SENT, "")


def test_giving_up_after_the_last_attempt(settings, world, plan):
    use_mail(settings, free_port())
    staleness.remind(DUE)
    reminder = Reminder.objects.get(plan=plan)
    for _ in range(reminder_mail.MAX_ATTEMPTS):
        reminder.refresh_from_db()
        if reminder.email_status != MailStatus.PENDING:
            break
        assert reminder.email_next_at is not None
        reminder_mail.send_due(reminder.email_next_at)
    reminder.refresh_from_db()
    assert reminder.email_status == MailStatus.FAILED
    assert reminder.email_attempts == reminder_mail.MAX_ATTEMPTS


def test_without_outgoing_mail_nothing_is_emailed(settings, world, plan):
    settings.EMAIL_HOST = ""
    assert staleness.remind(DUE) == 1  # the reminder is still made (channels, dashboard)
    reminder = Reminder.objects.get(plan=plan)
    assert (reminder.email_to, reminder.email_status) == ("", MailStatus.NONE)
    assert reminder_mail.send_due(DUE) == 0


def test_links_are_paths_when_the_installation_does_not_say_where_it_is(settings):
    settings.FALLBACK_URL = ""
    assert reminder_mail.link("/o/acme/plan/") == "/o/acme/plan/"
    settings.FALLBACK_URL = "https://fallback.example"
    assert reminder_mail.link("/o/acme/plan/") == "https://fallback.example/o/acme/plan/"
