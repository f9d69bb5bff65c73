import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from fallback.incidents import alerts
from fallback.incidents.lifecycle import declare_manually
from fallback.incidents.models import (
    AlertDelivery,
    AlertEvent,
    DeliveryStatus,
    EntryKind,
    TimelineEntry,
)
from fallback.incidents.tests.builders import make_channel, make_system
from fallback.runtime import schedulers
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Receiver:
    """A loopback aiohttp server that records what apprise's json:// posts to it.

    `status[path]` sets the answer (default 200), `delay[path]` makes it slow."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict, float]] = []
        self.status: dict[str, int] = {}
        self.delay: dict[str, float] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        payload = json.loads(await request.text())
        if request.path in self.delay:
            await asyncio.sleep(self.delay[request.path])
        self.posts.append((request.path, payload, time.monotonic()))
        return web.Response(status=self.status.get(request.path, 200), text="ok")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r._thread.start()
    assert r._ready.wait(10)
    yield r
    r._loop.call_soon_threadsafe(r._loop.stop)
    r._thread.join(10)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def org():
    return make_org("Acme")


def drill_or_outage(org, is_exercise: bool = False, now: datetime = T0):
    return declare_manually(
        org, [make_system(org, "CRM")], "CRM unreachable", make_user("ann@acme.test"),
        is_exercise=is_exercise, now=now,
    )  # fmt: skip


def test_queue_alert_makes_one_delivery_per_enabled_on_duty_channel_that_takes_the_event(org):
    make_channel(org, "json://127.0.0.1:9/a", name="All events")
    make_channel(org, "json://127.0.0.1:9/b", name="Declared only", events=["declared"])
    make_channel(org, "json://127.0.0.1:9/c", name="Recovered only", events=["recovered"])
    make_channel(org, "json://127.0.0.1:9/d", name="Off duty", on_duty=False)
    make_channel(org, "json://127.0.0.1:9/e", name="Disabled", enabled=False)
    make_channel(make_org("Other"), "json://127.0.0.1:9/f", name="Another org")
    incident = drill_or_outage(org)
    names = set(
        AlertDelivery.objects.filter(incident=incident).values_list("channel__name", flat=True)
    )
    assert names == {"All events", "Declared only"}


def test_queue_alert_is_idempotent(org):
    make_channel(org, "json://127.0.0.1:9/a")
    incident = drill_or_outage(org)
    assert alerts.queue_alert(AlertEvent.DECLARED, incident, n=1) == []
    assert len(alerts.queue_alert(AlertEvent.DECLARED, incident, n=2)) == 1
    assert AlertDelivery.objects.count() == 2


def test_alert_says_what_since_when_where_and_what_next(org):
    make_channel(org, "json://127.0.0.1:9/a")
    incident = drill_or_outage(org)
    delivery = AlertDelivery.objects.get()
    assert delivery.title == "[Acme] Outage declared: CRM"
    assert "An outage was declared at 10:00" in delivery.body
    assert "Outage declared by ann@acme.test: CRM unreachable." in delivery.body
    assert "What to do next" in delivery.body
    assert delivery.body.endswith(f"Incident page: /o/{org.slug}/incidents/{incident.pk}/")


def test_drill_alerts_are_marked_as_drills(org):
    make_channel(org, "json://127.0.0.1:9/a")
    drill_or_outage(org, is_exercise=True)
    delivery = AlertDelivery.objects.get()
    assert delivery.title.startswith("[DRILL] [Acme] Outage declared")
    assert delivery.body.startswith("[DRILL] This is a drill, not a real outage.")


def test_send_due_delivers_through_apprise_and_logs_it_on_the_timeline(org, receiver):
    make_channel(org, receiver.url("/office"), name="Office chat")
    incident = drill_or_outage(org)
    assert alerts.send_due(T0) == 1
    [(path, payload, _)] = receiver.posts
    assert path == "/office"
    assert payload["title"] == "[Acme] Outage declared: CRM"
    assert f"/o/{org.slug}/incidents/{incident.pk}/" in payload["message"]
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == (DeliveryStatus.SENT, 1, T0)
    entry = TimelineEntry.objects.get(incident=incident, kind=EntryKind.ALERT)
    assert entry.text == "Alert \u201cOutage declared\u201d sent to Office chat."
    # Sent once: running again sends nothing.
    assert alerts.send_due(T0 + timedelta(minutes=5)) == 0
    assert len(receiver.posts) == 1


def test_send_due_sends_email_through_a_loopback_smtp_server(org, smtp):
    box, port = smtp
    make_channel(
        org,
        f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&mode=insecure"
        "&from=fallback@acme.test&to=duty@acme.test",
        name="Duty email",
    )
    drill_or_outage(org)
    assert alerts.send_due(T0) == 1
    [(sender, recipients, content)] = box.messages
    assert (sender, recipients) == ("fallback@acme.test", ["duty@acme.test"])
    mail = message_from_bytes(content)
    assert mail["Subject"] == "[Acme] Outage declared: CRM"
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    assert "What to do next" in text.get_payload(decode=True).decode()


def test_failed_delivery_is_retried_with_backoff_then_marked_failed(org, receiver):
    receiver.status["/broken"] = 500
    make_channel(org, receiver.url("/broken"), name="Broken hook")
    incident = drill_or_outage(org)
    now = T0
    waits = []
    for attempt in range(1, alerts.MAX_ATTEMPTS + 1):
        delivery = AlertDelivery.objects.get()
        # Not before it is due.
        if attempt > 1:
            assert alerts.send_due(delivery.next_attempt_at - timedelta(seconds=1)) == 0
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
        assert alerts.send_due(now) == 0
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert "error=500" in delivery.last_error
    assert waits == [timedelta(seconds=30 * 2**k) for k in range(alerts.MAX_ATTEMPTS - 1)]
    assert len(receiver.posts) == alerts.MAX_ATTEMPTS
    delivery = AlertDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    failed = TimelineEntry.objects.get(incident=incident, kind=EntryKind.ALERT_FAILED)
    assert "to Broken hook failed 8 times" in failed.text
    assert "error=500" in failed.text
    assert alerts.send_due(now + timedelta(days=1)) == 0


def test_a_receiver_that_recovers_gets_the_alert_on_retry(org, receiver):
    receiver.status["/flaky"] = 500
    make_channel(org, receiver.url("/flaky"))
    drill_or_outage(org)
    alerts.send_due(T0)
    receiver.status["/flaky"] = 200
    alerts.send_due(T0 + timedelta(seconds=30))
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 2, "")


def test_a_slow_channel_does_not_hold_up_the_others(org, receiver):
    receiver.delay["/slow"] = 1.5
    make_channel(org, receiver.url("/slow"), name="Slow")
    for i in range(3):
        make_channel(org, receiver.url(f"/fast{i}"), name=f"Fast {i}")
    drill_or_outage(org)
    started = time.monotonic()
    assert alerts.send_due(T0) == 4
    arrived = {path: at - started for path, _, at in receiver.posts}
    assert all(arrived[f"/fast{i}"] < 1.0 for i in range(3))
    assert arrived["/slow"] >= 1.5


def test_invalid_channel_url_is_an_error_not_a_crash(org):
    make_channel(org, "nonsense://what", name="Typo")
    drill_or_outage(org)
    alerts.send_due(T0)
    delivery = AlertDelivery.objects.get()
    assert delivery.last_error == (
        "The channel's address is not a valid apprise URL; check its settings."
    )
    assert delivery.status == DeliveryStatus.PENDING


def test_a_claimed_delivery_is_not_claimed_again(org):
    make_channel(org, "json://127.0.0.1:9/a")
    drill_or_outage(org)
    assert len(alerts._claim(T0)) == 1
    assert alerts._claim(T0) == []  # another worker, same moment: nothing left to take
    # A worker that died mid-send: the lease runs out and another one takes it.
    assert len(alerts._claim(T0 + alerts.CLAIM_LEASE)) == 1


def test_backoff_doubles_up_to_an_hour():
    assert [alerts.backoff(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600
    ]  # fmt: skip


def test_sending_is_a_registered_job():
    assert "incidents.send_alerts" in {j.name for j in schedulers.registered()}
