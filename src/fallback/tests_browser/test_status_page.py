"""The status page and its subscribers, in a real browser, with real mail (aiosmtpd on
loopback): a customer subscribes to one system from the public page, confirms with the link
in the email, a manager posts an update, the customer's email arrives; the customer follows
its unsubscribe link and gets nothing more. The pages pass axe-core's WCAG 2.1 AA checks.

Screenshots are kept in /tmp/status_*.png for review."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fallback.accounts.roles import Role
from fallback.comms import statuspage, subscribers
from fallback.comms.models import StatusUpdate, Subscriber
from fallback.comms.sender import Sender
from fallback.comms.tests.builders import Sink, mail_setup, sink
from fallback.incidents import lifecycle
from fallback.monitor import editing as monitor_editing
from fallback.testing.factories import join, make_org, make_user
from fallback.tests_browser.test_accessibility import violations
from fallback.tests_browser.test_systems_and_incidents import PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")  # noqa: S108 (for a person to look at after a run)
CUSTOMER = "sam@customer.test"


@pytest.fixture
def smtp() -> Iterator[Sink]:
    with sink() as s:
        yield s


@pytest.fixture
def acme(live_server: Any, smtp: Sink) -> dict[str, Any]:
    ann = make_user("ann@acme.test")
    org = make_org("Acme Trading", owner=ann)
    mo = make_user("mo@acme.test")
    join(org, mo, Role.MANAGER)
    crm = monitor_editing.create_system(org, name="CloudCRM")
    books = monitor_editing.create_system(org, name="Books")
    mail_setup(org, smtp.port)
    statuspage.update_page(org, fallback_url=live_server.url)
    statuspage.save_components(org, [(crm, "Orders", ""), (books, "Invoices", "")])
    incident = lifecycle.declare_manually(org, [crm], "CloudCRM is down", ann)
    return {"org": org, "incident": incident}


def mails_to(smtp: Sink, address: str) -> list[EmailMessage]:
    with smtp.lock:
        raw = [m for _, rcpts, m in smtp.messages if address in rcpts]
    return [message_from_bytes(m, policy=default) for m in raw]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link_in(message: EmailMessage, kind: str) -> str:
    found = re.search(rf"(http://\S+/{kind}/\S+/)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def send_outbox() -> None:
    sender = Sender(email_threads=1)
    thread = threading.Thread(target=lambda: sender.run(until_done=True))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()


def post_update(page: Page, base: str, acme: dict[str, Any], state: str, words: str) -> None:
    page.goto(f"{base}/o/{acme['org'].slug}/comms/incidents/{acme['incident'].pk}/")
    form = page.locator("section", has=page.get_by_role("heading", name="Status page"))
    form.get_by_label(state, exact=True).check()
    form.get_by_label("What people should know").fill(words)
    form.get_by_role("button", name="Post update").click()
    expect(page.get_by_text("Posted to the status page")).to_be_visible()


def test_subscribe_confirm_receive_an_update_then_unsubscribe(
    page: Page, live_server: Any, acme: dict[str, Any], smtp: Sink
) -> None:
    base, slug = live_server.url, acme["org"].slug

    # A customer finds the status page and subscribes to the one system they care about.
    page.goto(f"{base}/status/{slug}/")
    expect(page.get_by_role("status")).to_have_text("Minor Service Outage")
    expect(page.get_by_text("Orders unavailable", exact=True)).to_be_visible()
    page.get_by_role("link", name="Get updates by email").click()
    page.get_by_label("Your email address").fill(CUSTOMER)
    page.get_by_label("Only the systems I choose").check()
    page.get_by_label("Orders").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "status_subscribe.png"), full_page=True)

    # Nothing is sent but the confirmation until its link is followed.
    assert subscribers.send_confirmations() == 1
    (confirmation,) = mails_to(smtp, CUSTOMER)
    assert confirmation["Subject"] == "Confirm your subscription to Acme Trading status"
    page.goto(link_in(confirmation, "confirm"))
    assert not Subscriber.objects.get().active  # opening the link is not confirming
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Subscribed")).to_be_visible()
    assert Subscriber.objects.get().active

    # A manager posts an update; it goes out through the outbox.
    log_in(page, base, "mo@acme.test")
    post_update(page, base, acme, "Identified", "Our CRM host's server failed; orders by phone.")
    page.screenshot(path=str(SCREENSHOTS / "status_post_update.png"), full_page=True)
    send_outbox()
    update_mail = mails_to(smtp, CUSTOMER)[-1]
    assert "Our CRM host's server failed; orders by phone." in text_of(update_mail)
    assert update_mail["List-Unsubscribe"].startswith(f"<{base}/status/{slug}/unsubscribe/")
    page.goto(f"{base}/status/{slug}/")
    expect(page.get_by_text("Our CRM host's server failed; orders by phone.")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "status_public_page.png"), full_page=True)

    # The customer unsubscribes from the email's link: nothing more arrives.
    page.goto(link_in(update_mail, "unsubscribe"))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
    log_in(page, base, "mo@acme.test")
    post_update(page, base, acme, "Resolved", "All working again.")
    send_outbox()
    assert StatusUpdate.objects.count() == 2
    assert len(mails_to(smtp, CUSTOMER)) == 2  # the confirmation and the first update


@pytest.mark.parametrize(
    "viewport", [(1280, 900), (PHONE["width"], PHONE["height"])], ids=["desktop", "phone"]
)
def test_the_status_pages_have_no_wcag_aa_violations(
    page: Page, live_server: Any, acme: dict[str, Any], viewport: tuple[int, int]
) -> None:
    base, slug = live_server.url, acme["org"].slug
    statuspage.post_update(acme["incident"], "identified", "Cause found.")
    sub = subscribers.subscribe(acme["org"], CUSTOMER, None).subscriber
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    found = {}
    public = [
        f"/status/{slug}/",
        f"/status/{slug}/subscribe/",
        f"/status/{slug}/confirm/{subscribers._token(sub, 'confirm', None)}/",
        f"/status/{slug}/unsubscribe/{subscribers._token(sub, 'unsubscribe')}/",
    ]
    for path in public:
        page.goto(base + path)
        problems = violations(page)
        if problems:
            found[path] = problems
    log_in(page, base, "mo@acme.test")
    for path in [
        f"/o/{slug}/comms/status/",
        f"/o/{slug}/comms/status/subscribers/",
        f"/o/{slug}/comms/incidents/{acme['incident'].pk}/",
    ]:
        page.goto(base + path)
        problems = violations(page)
        if problems:
            found[path] = problems
    assert found == {}
