"""The outbox sender end to end: real threads, a real SMTP server on loopback (aiosmtpd),
a real HTTP receiver for apprise's SMS and chat."""

import asyncio
import json
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from aiohttp import web
from django.utils import timezone

from fallback.comms import notices, outbox, preferences
from fallback.comms.models import ItemState, OutboxItem
from fallback.comms.sender import NOT_A_DRILL_RECIPIENT, Sender, TokenBucket
from fallback.comms.tests.builders import declare, mail_setup, put_records, sink
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def send_notice(org, audience="all_customers", channels=("email",), is_exercise=False):
    notice, _ = notices.create(
        declare(org, is_exercise=is_exercise), audience, "first_notice", channels
    )
    notices.send(notice, make_user(f"mo{notice.pk}@hartley.example"))
    return notice


def customers(org, n, phones=False):
    put_records(
        org,
        "customer",
        [
            {
                "key": f"C{i}",
                "name": f"Customer {i}",
                "email": f"c{i}@example.com",
                **({"phone": f"07700 9{i:05d}"} if phones else {}),
            }
            for i in range(n)
        ],
    )


def run(sender=None, **kw):
    sender = sender or Sender(email_threads=3, **kw)
    result = {}
    thread = threading.Thread(target=lambda: result.update(stats=sender.run(until_done=True)))
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the sender did not finish"
    return result["stats"]


@pytest.fixture
def smtp():
    with sink() as s:
        yield s


def test_every_recipient_gets_exactly_one_message(smtp):
    org = make_org("Hartley")
    mail_setup(org, smtp.port)
    customers(org, 60)
    notice = send_notice(org)
    stats = run()
    assert stats.sent == 60
    assert smtp.recipients() == {f"c{i}@example.com": 1 for i in range(60)}
    items = OutboxItem.objects.filter(notice=notice)
    assert {i.state for i in items} == {ItemState.SENT}
    item = items.first()
    assert item.server_reply.startswith("250") and item.message_id.startswith("<fallback.")
    assert item.sent_at is not None and item.attempts == 1
    assert outbox.progress(notice=notice).percent == 100


def test_a_temporary_refusal_is_retried_later_and_then_sent(smtp):
    org = make_org("Hartley")
    mail_setup(org, smtp.port)
    customers(org, 3)
    smtp.refuse["c1@example.com"] = "451 4.3.0 Mailbox busy"
    send_notice(org)
    run()
    busy = OutboxItem.objects.get(address="c1@example.com")
    assert busy.state == ItemState.QUEUED and busy.attempts == 1
    assert busy.next_attempt_at > timezone.now() + timedelta(seconds=15)
    assert busy.last_error.startswith("451 4.3.0 Mailbox busy")
    del smtp.refuse["c1@example.com"]
    OutboxItem.objects.filter(pk=busy.pk).update(next_attempt_at=timezone.now())
    run()
    busy.refresh_from_db()
    assert busy.state == ItemState.SENT and busy.attempts == 2
    assert smtp.recipients() == {f"c{i}@example.com": 1 for i in range(3)}


def test_a_bounce_is_recorded_with_the_server_s_words(smtp):
    org = make_org("Hartley")
    mail_setup(org, smtp.port)
    customers(org, 2)
    smtp.refuse["c0@example.com"] = "550 5.1.1 User unknown"
    send_notice(org)
    run()
    bounced = OutboxItem.objects.get(address="c0@example.com")
    assert bounced.state == ItemState.BOUNCED and bounced.last_error == "550 5.1.1 User unknown"


def test_the_rate_limit_is_kept(smtp):
    org = make_org("Hartley")
    mail_setup(org, smtp.port, email_per_second=20.0)
    customers(org, 30)
    send_notice(org)
    started = time.monotonic()
    run()
    # 20 at once (a second's burst), then 10 more at 20 a second.
    assert time.monotonic() - started >= 0.45
    assert len(smtp.messages) == 30


def test_token_bucket_spaces_messages_out():
    bucket = TokenBucket(50.0)
    stop = threading.Event()
    started = time.monotonic()
    for _ in range(75):
        assert bucket.take(stop)
    assert 0.4 <= time.monotonic() - started < 2.0


def test_a_dead_sender_s_claimed_items_are_sent_but_its_handed_over_one_never_again(smtp):
    org = make_org("Hartley")
    mail_setup(org, smtp.port)
    customers(org, 4)
    send_notice(org)
    held = outbox.claim("dead-sender", ["email"], 10)
    outbox.hand_over(held[0], "dead-sender", "<x@y>")
    old = timezone.now() - timedelta(minutes=5)
    OutboxItem.objects.filter(claimed_by="dead-sender").update(claimed_at=old)
    run()
    assert smtp.recipients() == {f"c{i}@example.com": 1 for i in range(1, 4)}
    unknown = OutboxItem.objects.get(pk=held[0].pk)
    assert unknown.state == ItemState.UNKNOWN and unknown.address not in smtp.recipients()


def test_the_sender_refuses_a_drill_message_to_anyone_but_the_drill_s_recipients(smtp):
    org = make_org("Hartley")
    mail_setup(org, smtp.port, drill_recipients="drill@hartley.example")
    customers(org, 2)
    notice = send_notice(org, is_exercise=True)
    # Someone writes a row by hand, past enqueue's rule.
    OutboxItem.objects.create(
        org=org,
        notice=notice,
        channel="email",
        address="c0@example.com",
        subject="[EXERCISE] x",
        body="x",
        is_exercise=True,
    )
    run()
    assert smtp.recipients() == {"drill@hartley.example": 1}
    refused = OutboxItem.objects.get(address="c0@example.com")
    assert refused.state == ItemState.FAILED and refused.last_error == NOT_A_DRILL_RECIPIENT
    [(_, _, content)] = smtp.messages
    email = message_from_bytes(content, policy=default)
    assert email["Subject"].startswith("[EXERCISE] ") and email["X-Fallback-Exercise"] == "yes"


def test_an_exercise_incident_reaches_no_real_audience_on_any_channel(smtp, receiver):
    org = make_org("Hartley")
    mail_setup(org, smtp.port, drill_recipients="drill@hartley.example\n07700 900999")
    customers(org, 5, phones=True)
    preferences.save_channel(org, name="SMS", kind="sms", url=receiver.url("/sms/{phone}"))
    preferences.save_channel(org, name="Room", kind="chat", url=receiver.url("/room"))
    for audience in ("all_customers", "affected_customers", "key_accounts", "suppliers", "staff"):
        send_notice(org, audience, ("email", "sms", "chat"), is_exercise=True)
    run()
    assert set(smtp.recipients()) == {"drill@hartley.example"}
    assert {p for p, _ in receiver.posts} == {"/sms/+447700900999"}
    assert all(body["message"].startswith("EXERCISE") for _, body in receiver.posts)


class Receiver:
    """A loopback aiohttp server recording what apprise's json:// posts to it."""

    def __init__(self):
        self.posts = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    async def _handle(self, request):
        self.posts.append((request.path_qs, json.loads(await request.text())))
        return web.Response(text="ok")

    def _serve(self):
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def url(self, path):
        return f"json://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    assert r.ready.wait(10)
    yield r
    r.loop.call_soon_threadsafe(r.loop.stop)
    r.thread.join(10)


def test_sms_goes_to_each_number_and_chat_once_to_the_room(smtp, receiver):
    org = make_org("Hartley")
    mail_setup(org, smtp.port)
    customers(org, 3, phones=True)
    preferences.save_channel(org, name="SMS", kind="sms", url=receiver.url("/sms/{phone}"))
    preferences.save_channel(org, name="Customers' room", kind="chat", url=receiver.url("/room"))
    notice = send_notice(org, channels=("sms", "chat"))
    run()
    paths = sorted(p for p, _ in receiver.posts)
    assert paths == ["/room", "/sms/+447700900000", "/sms/+447700900001", "/sms/+447700900002"]
    room = next(body for p, body in receiver.posts if p == "/room")
    assert room["message"].startswith("Dear everyone,") and room["title"]
    sms = next(body for p, body in receiver.posts if p.startswith("/sms"))
    assert sms["message"].startswith("Dear Customer ") and "\n" not in sms["message"]
    assert {i.state for i in OutboxItem.objects.filter(notice=notice)} == {ItemState.SENT}


def test_a_gateway_error_is_retried(smtp, receiver):
    org = make_org("Hartley")
    mail_setup(org, smtp.port)
    customers(org, 1, phones=True)
    preferences.save_channel(org, name="SMS", kind="sms", url="json://127.0.0.1:9/sms/{phone}")
    send_notice(org, channels=("sms",))
    run()
    item = OutboxItem.objects.get()
    assert item.state == ItemState.QUEUED and item.attempts == 1 and item.last_error
    assert "127.0.0.1:9" not in item.last_error or "<channel URL>" in item.last_error


def test_stopping_the_sender_gives_back_what_it_had_not_started(smtp):
    org = make_org("Hartley")
    mail_setup(org, smtp.port, email_per_second=5.0)
    customers(org, 40)
    send_notice(org)
    sender = Sender(email_threads=2)
    thread = threading.Thread(target=sender.run)
    thread.start()
    time.sleep(1.5)
    sender.stop()
    thread.join(30)
    states = set(OutboxItem.objects.values_list("state", flat=True))
    assert states <= {ItemState.SENT, ItemState.QUEUED}
    sent = OutboxItem.objects.filter(state=ItemState.SENT).count()
    assert 0 < sent < 40 and len(smtp.messages) == sent
