"""The demo's mail in a real browser: a newcomer subscribes on Hartley's status page, finds
the confirmation email on the simulator's Mail page (its real SMTP sink, on a free port),
clicks the link in it and confirms. The Mail pages pass axe-core's WCAG 2.1 AA checks.

Screenshots are kept in /tmp/demo_mail_*.png for review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fallback.comms import subscribers
from fallback.comms.models import Subscriber
from fallback.demo import build_demo
from fallback.simulator.runner import Simulator
from fallback.tests_browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")  # noqa: S108 (for a person to look at after a run)


@pytest.fixture
def demo(live_server: Any, settings: Any, tmp_path: Path) -> Iterator[Simulator]:
    settings.FALLBACK_HOME = tmp_path
    simulator = Simulator("127.0.0.1", 0, home=tmp_path, smtp_port=0).start()
    assert simulator.smtp_port is not None
    build_demo("a long demo password 1", simulator.url, live_server.url, simulator.smtp_port)
    yield simulator
    simulator.stop()


def test_a_newcomer_confirms_a_subscription_from_the_simulator_s_mail_page(
    page: Page, live_server: Any, demo: Simulator
) -> None:
    page.goto(f"{live_server.url}/status/hartley-plumbing/subscribe/")
    page.get_by_label("Your email address").fill("sam@customer.test")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert subscribers.send_confirmations() == 1  # the worker's job, run here

    page.goto(f"{demo.url}/alerts")
    page.get_by_role("navigation").get_by_role("link", name="Mail").click()
    subject = "Confirm your subscription to Hartley & Sons Plumbing Supplies status"
    row = page.get_by_role("row", name="sam@customer.test")
    expect(row).to_contain_text("notices@hartley-backup.test")
    assert violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "demo_mail_list.png"), full_page=True)
    row.get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    assert violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "demo_mail_message.png"), full_page=True)

    page.get_by_role("link", name="/status/hartley-plumbing/confirm/").click()
    assert not Subscriber.objects.get().active  # opening the link is not confirming
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Subscribed")).to_be_visible()
    assert Subscriber.objects.get(email="sam@customer.test").active
