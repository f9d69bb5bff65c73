"""The demo's telling-people set-up: a backup mail account on the simulator's SMTP sink, the
routes customers can use meanwhile, and a status page that publishes into the demo's data
folder. The sink is real (aiosmtpd in the simulator, on a free port) and so is the sender."""

import html
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.accounts.models import Organisation, User
from fallback.comms import notices, preferences, publishing, statuspage, subscribers, watch
from fallback.comms.models import ItemState, OutboxItem
from fallback.comms.sender import Sender
from fallback.comms.tests.builders import declare, put_records
from fallback.demo import build_demo
from fallback.incidents.models import AlertDelivery, AlertEvent
from fallback.simulator import control
from fallback.simulator.runner import Simulator
from fallback.simulator.tests.client import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    yield simulator
    simulator.stop()


def test_the_demo_businesses_can_tell_people_and_publish_a_status_page(sim, settings, tmp_path):
    settings.FALLBACK_HOME = tmp_path
    build_demo("a long demo password 1", sim.url, site_url="http://127.0.0.1:9090")
    hartley = Organisation.objects.get(slug="hartley-plumbing")
    comms = preferences.settings_for(hartley)
    assert (comms.smtp_host, comms.smtp_port, comms.smtp_security) == ("127.0.0.1", 1025, "none")
    assert comms.backup_email and comms.phone_numbers.count("\n") == 1
    assert preferences.mail_ready(comms) is None
    page = statuspage.page_for(hartley)
    assert page.fallback_url == "http://127.0.0.1:9090"
    assert (
        statuspage.subscribe_url(page) == "http://127.0.0.1:9090/status/hartley-plumbing/subscribe/"
    )
    assert [c.name for c in statuspage.components(hartley)] == [
        "Orders and customer accounts",
        "Invoices and statements",
    ]
    assert publishing.publish(hartley).ok
    published = tmp_path / "status" / "hartley-plumbing"
    summary = json.loads((published / "summary.json").read_text())
    assert summary["page"]["name"] == "Hartley & Sons Plumbing Supplies status"
    build_demo("a long demo password 1", sim.url)  # again: nothing changes
    assert statuspage.page_for(hartley).fallback_url == "http://127.0.0.1:9090"


# ------------------------------------------------------------------ the demo's mail sink


@pytest.fixture
def mailsim(tmp_path, settings):
    """The simulator with its SMTP sink on a free port, and the demo built to send there."""
    settings.FALLBACK_HOME = tmp_path
    simulator = Simulator("127.0.0.1", 0, home=tmp_path, smtp_port=0).start()
    build_demo(
        "a long demo password 1", simulator.url, "http://127.0.0.1:9090", simulator.smtp_port
    )
    yield simulator
    simulator.stop()


def _notice_to_customers(org, n):
    put_records(
        org,
        "customer",
        [
            {"key": f"C{i}", "name": f"Customer {i}", "email": f"c{i}@customer.test"}
            for i in range(n)
        ],
    )
    notice, _ = notices.create(declare(org), "all_customers", "first_notice", ("email",))
    notices.send(notice, User.objects.get(email="margaret.hartley@hartley-plumbing.test"))
    return notice


@pytest.mark.django_db(transaction=True)
def test_the_outbox_s_mail_reaches_the_simulator_s_sink_and_shows_on_its_mail_page(mailsim):
    hartley = Organisation.objects.get(slug="hartley-plumbing")
    notice = _notice_to_customers(hartley, 2)
    assert Sender(email_threads=1).run(until_done=True).sent == 2
    assert {i.state for i in OutboxItem.objects.filter(notice=notice)} == {ItemState.SENT}
    mails = mailsim.service.mailbox.mails()
    assert sorted(r for m in mails for r in m.rcpt_tos) == ["c0@customer.test", "c1@customer.test"]
    assert {m.mail_from for m in mails} == {"notices@hartley-backup.test"}
    page = call(mailsim.url + "/mail").body.decode()
    subject = html.escape(mails[0].header("Subject"))
    assert page.count(subject) == 2 and "c0@customer.test" in page
    shown = call(mailsim.url + f"/mail/{mails[0].number}").body.decode()
    assert "<th>X-Fallback-Notice</th>" in shown and "01632 960123" in shown


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_confirms_from_the_link_on_the_mail_page(mailsim):
    hartley = Organisation.objects.get(slug="hartley-plumbing")
    sub = subscribers.subscribe(hartley, "sam@subscriber.test", None).subscriber
    assert subscribers.send_confirmations() == 1
    [message] = json.loads(call(mailsim.url + "/mail.json").body)["messages"]
    assert message["rcpt_tos"] == ["sam@subscriber.test"]
    page = call(mailsim.url + f"/mail/{message['id']}").body.decode()
    link = re.search(
        r'<a href="(http://127\.0\.0\.1:9090/status/hartley-plumbing/confirm/[^"]+)"', page
    )
    assert link is not None
    token = link.group(1).rstrip("/").rsplit("/", 1)[1]
    assert subscribers.confirm(hartley, html.unescape(token)).pk == sub.pk
    sub.refresh_from_db()
    assert sub.active


@pytest.mark.django_db(transaction=True)
def test_mail_down_makes_sending_fail_so_the_outbox_retries_and_its_stall_alarm_goes_off(
    mailsim,
):
    hartley = Organisation.objects.get(slug="hartley-plumbing")
    control.set_fault(mailsim.url, "mail_down")
    notice = _notice_to_customers(hartley, 2)
    assert Sender(email_threads=1).run(until_done=True).sent == 0
    items = list(OutboxItem.objects.filter(notice=notice))
    assert {(i.state, i.attempts) for i in items} == {(ItemState.QUEUED, 1)}
    assert all(i.last_error.startswith("451 4.3.0") for i in items)
    assert all(i.next_attempt_at > timezone.now() for i in items)  # backed off
    assert mailsim.service.mailbox.mails() == []
    later = timezone.now() + timedelta(minutes=10)
    [stall] = watch.stalls(later)
    assert stall.org == hartley and stall.waiting == 2 and "mail_down" in stall.last_error
    assert watch.watch(later) == 1  # to the demo's alerts page, the staff's phones
    alert = AlertDelivery.objects.get(event=AlertEvent.OUTBOX_STALLED)
    assert alert.channel.url == mailsim.url.replace("http://", "json://") + "/alerts"
    # Back up: the retries go through.
    control.clear_fault(mailsim.url, "mail_down")
    OutboxItem.objects.filter(notice=notice).update(next_attempt_at=timezone.now())
    assert Sender(email_threads=1).run(until_done=True).sent == 2
    assert len(mailsim.service.mailbox.mails()) == 2
