"""Status page subscribers, against a real SMTP server on loopback (aiosmtpd): double opt-in,
the choice of systems, unsubscribing (links and List-Unsubscribe), opt-outs, throttling, and
drills that never reach a real subscriber."""

import re
import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from django.utils import timezone

from fallback.comms import preferences, statuspage, subscribers
from fallback.comms.models import ItemState, OutboxItem, Subscriber
from fallback.comms.sender import Sender
from fallback.comms.tests.builders import declare, mail_setup, sink
from fallback.incidents.tests.builders import make_system
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "https://fallback.hartley.example"


@pytest.fixture
def smtp():
    with sink() as s:
        yield s


@pytest.fixture
def world(smtp):
    ann = make_user("ann@hartley.example")
    org = make_org("Hartley Supplies", owner=ann)
    mail_setup(org, smtp.port, drill_recipients="drill@hartley.example")
    crm = make_system(org, "CloudCRM")
    books = make_system(org, "Books")
    statuspage.update_page(org, public_url="https://status.hartley.example/", fallback_url=BASE)
    statuspage.save_components(org, [(crm, "Orders", ""), (books, "Invoices", "")])
    return {"ann": ann, "org": org, "crm": crm, "books": books}


def messages_to(smtp, address):
    return [
        message_from_bytes(raw, policy=default)
        for _, rcpts, raw in smtp.messages
        if address in rcpts
    ]


def link(message, kind):
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"{re.escape(BASE)}/status/[\w-]+/{kind}/([^/\s]+)/", text).group(1)


def subscribed(world, smtp, email, systems=None):
    """Subscribe and confirm through the email's link, as a person would."""
    subscribers.subscribe(world["org"], email, systems, asker="203.0.113.9")
    assert subscribers.send_confirmations() == 1
    (message,) = messages_to(smtp, email)
    return subscribers.confirm(world["org"], link(message, "confirm"))


def send_all():
    sender = Sender(email_threads=2)
    result = {}
    thread = threading.Thread(target=lambda: result.update(stats=sender.run(until_done=True)))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    return result["stats"]


def test_nothing_but_the_confirmation_goes_to_an_unconfirmed_subscriber(world, smtp):
    requested = subscribers.subscribe(world["org"], "  Jo@Example.COM ", None)
    assert requested.subscriber.email == "jo@example.com" and requested.email_due
    incident = declare(world["org"], world["ann"], [world["crm"]])
    statuspage.post_update(incident, "identified", "The host's disk failed.")
    assert not OutboxItem.objects.exists()
    assert subscribers.send_confirmations() == 1
    (message,) = messages_to(smtp, "jo@example.com")
    assert message["Subject"] == "Confirm your subscription to Hartley Supplies status"
    assert message["X-Fallback-Notice"] is None  # it belongs to no notice
    assert "/confirm/" in message.get_body(("plain",)).get_content()


def test_a_confirmed_subscriber_gets_each_update_once_with_an_unsubscribe_link(world, smtp):
    subscribed(world, smtp, "jo@example.com")
    incident = declare(world["org"], world["ann"], [world["crm"]])
    update, _ = statuspage.post_update(incident, "identified", "The host's disk failed.")
    statuspage.post_update(incident, "identified", "The host's disk failed.", request_key="x")
    statuspage.post_update(incident, "identified", "The host's disk failed.", request_key="x")
    assert send_all().sent == 2
    mails = messages_to(smtp, "jo@example.com")[1:]
    assert len(mails) == 2
    first = mails[0]
    assert first["Subject"] == "[Hartley Supplies status] Identified: Orders unavailable"
    body = first.get_body(("plain",)).get_content()
    assert "The host's disk failed." in body and "Affected: Orders" in body
    token = link(first, "unsubscribe")
    assert first["List-Unsubscribe"] == f"<{BASE}/status/{world['org'].slug}/unsubscribe/{token}/>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert update.notice.items.get().state == ItemState.SENT


def test_subscribers_get_only_the_systems_they_chose(world, smtp):
    subscribed(world, smtp, "crm@example.com", [world["crm"].pk])
    subscribed(world, smtp, "books@example.com", [world["books"].pk])
    subscribed(world, smtp, "all@example.com")
    incident = declare(world["org"], world["ann"], [world["books"]])
    statuspage.post_update(incident, "investigating", "Invoices are slow.")
    send_all()
    told = {a for _, rcpts, raw in smtp.messages for a in rcpts if b"Invoices are slow" in raw}
    assert told == {"books@example.com", "all@example.com"}


def test_the_choice_confirmed_is_the_one_in_the_link(world, smtp):
    sub = subscribed(world, smtp, "jo@example.com", [world["crm"].pk])
    assert not sub.all_systems and list(sub.systems.all()) == [world["crm"]]
    # Someone else asks to change it: nothing changes until the new link is followed.
    smtp.messages.clear()
    Subscriber.objects.filter(pk=sub.pk).update(confirm_sent_at=None)
    subscribers.subscribe(world["org"], "jo@example.com", None)
    sub.refresh_from_db()
    assert not sub.all_systems and sub.active
    subscribers.send_confirmations()
    (message,) = messages_to(smtp, "jo@example.com")
    assert subscribers.confirm(world["org"], link(message, "confirm")).all_systems


def test_unsubscribing_stops_every_email_and_cancels_queued_ones(world, smtp):
    subscribed(world, smtp, "jo@example.com")
    incident = declare(world["org"], world["ann"], [world["crm"]])
    statuspage.post_update(incident, "identified", "First.")
    sub = Subscriber.objects.get(email="jo@example.com")
    token = subscribers._token(sub, "unsubscribe")
    assert subscribers.unsubscribe(subscribers.unsubscribe_token(world["org"], token))
    assert not subscribers.unsubscribe(sub)  # twice is harmless
    assert OutboxItem.objects.get().state == ItemState.CANCELLED
    statuspage.post_update(incident, "monitoring", "Second.")
    send_all()
    assert len(messages_to(smtp, "jo@example.com")) == 1  # the confirmation only


def test_links_are_signed_for_one_organisation_and_one_purpose(world, smtp):
    sub = subscribers.subscribe(world["org"], "jo@example.com", None).subscriber
    other = make_org("Other")
    confirm = subscribers._token(sub, "confirm", None)
    with pytest.raises(subscribers.BadLink):
        subscribers.confirm(other, confirm)
    with pytest.raises(subscribers.BadLink):
        subscribers.unsubscribe_token(world["org"], confirm)
    with pytest.raises(subscribers.BadLink):
        subscribers.confirm(world["org"], confirm[:-3] + "abc")
    sub.refresh_from_db()
    assert sub.confirmed_at is None


def test_an_old_confirmation_link_has_expired(world, smtp, monkeypatch):
    sub = subscribers.subscribe(world["org"], "jo@example.com", None).subscriber
    token = subscribers._token(sub, "confirm", None)
    monkeypatch.setattr(subscribers, "CONFIRM_DAYS", -1)
    with pytest.raises(subscribers.BadLink, match="too old"):
        subscribers.confirm(world["org"], token)


def test_opted_out_addresses_are_neither_asked_nor_told(world, smtp):
    sub = subscribed(world, smtp, "jo@example.com")
    preferences.add_opt_out(world["org"], "jo@example.com", "", "asked on the phone", None)
    incident = declare(world["org"], world["ann"], [world["crm"]])
    update, _ = statuspage.post_update(incident, "identified", "Cause found.")
    assert update.notice.counts["opted_out"] == 1 and not update.notice.items.exists()
    subscribers.subscribe(world["org"], "JO@example.com", None)  # asks again
    Subscriber.objects.filter(pk=sub.pk).update(confirm_due_at=timezone.now())
    assert subscribers.send_confirmations() == 0
    assert len(messages_to(smtp, "jo@example.com")) == 1


def test_the_public_form_is_throttled_per_asker_and_per_address(world, smtp):
    for i in range(subscribers.REQUESTS_PER_ASKER):
        subscribers.subscribe(world["org"], f"p{i}@example.com", None, asker="198.51.100.7")
    with pytest.raises(subscribers.Throttled):
        subscribers.subscribe(world["org"], "more@example.com", None, asker="198.51.100.7")
    assert not Subscriber.objects.filter(email="more@example.com").exists()
    subscribers.subscribe(world["org"], "more@example.com", None, asker="198.51.100.8")
    assert subscribers.send_confirmations() == 6
    again = subscribers.subscribe(world["org"], "more@example.com", None, asker="198.51.100.9")
    assert not again.email_due  # one confirmation email per quarter hour
    assert Subscriber.objects.filter(email="more@example.com").count() == 1


def test_bad_subscribe_input_names_the_field_and_changes_nothing(world):
    with pytest.raises(subscribers.SubscribeProblem) as caught:
        subscribers.subscribe(world["org"], "not an address", [999999])
    assert [f for f, _ in caught.value.errors] == ["email", "systems"]
    assert not Subscriber.objects.exists()


def test_a_failed_confirmation_email_is_retried_later_and_recorded(world, smtp):
    smtp.data_reply = "451 Try again later"
    subscribers.subscribe(world["org"], "jo@example.com", None)
    assert subscribers.send_confirmations() == 0
    sub = Subscriber.objects.get()
    assert sub.confirm_error.startswith("retry: 451") and sub.confirm_attempts == 1
    assert sub.confirm_due_at > timezone.now()
    smtp.data_reply = None
    assert subscribers.send_confirmations(now=timezone.now() + timedelta(hours=2)) == 1


def test_a_drill_never_emails_a_real_subscriber(world, smtp):
    subscribed(world, smtp, "jo@example.com")
    drill = declare(world["org"], world["ann"], [world["crm"]], is_exercise=True)
    update, _ = statuspage.post_update(drill, "identified", "Drill update.")
    send_all()
    assert len(messages_to(smtp, "jo@example.com")) == 1  # the confirmation only
    (message,) = messages_to(smtp, "drill@hartley.example")
    assert message["Subject"].startswith("[EXERCISE]")
    assert update.notice.counts["withheld_for_drill"] == 1
    assert statuspage.page_for(world["org"]).publish_due_at is None  # nothing to publish
