"""A bookkeeper with two organisations logs in, opens one, switches to the other; on a phone too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fallback.accounts.roles import Role
from fallback.testing.factories import PASSWORD, join, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bookkeeper() -> str:
    """Jo owns Alpha Traders and is staff at Bravo Bakery."""
    jo = make_user("jo@books.test")
    jo.first_name = "Jo"
    jo.save()
    make_org("Alpha Traders", owner=jo)
    bravo = make_org("Bravo Bakery", owner=make_user("bea@bravo.test"))
    join(bravo, jo, Role.STAFF)
    return jo.email


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_login_choose_and_switch_organisation(
    page: Page, live_server: Any, bookkeeper: str, artifacts_dir: Path
) -> None:
    base = live_server.url
    log_in(page, base, bookkeeper)

    # Two organisations: the chooser, each with the role.
    expect(page.get_by_role("heading", name="Your organisations")).to_be_visible()
    choices = page.locator(".org-list")
    expect(choices.get_by_role("link", name=re.compile("Alpha Traders"))).to_contain_text("Owner")
    expect(choices.get_by_role("link", name=re.compile("Bravo Bakery"))).to_contain_text("Staff")

    choices.get_by_role("link", name=re.compile("Alpha Traders")).click()
    expect(page).to_have_url(f"{base}/o/alpha-traders/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Traders")
    expect(page.get_by_role("heading", name="Getting ready")).to_be_visible()

    # The switcher is a <details> menu: no JavaScript needed to open it.
    switcher = page.locator("details.switcher")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name=re.compile("Bravo Bakery")).click()
    expect(page).to_have_url(f"{base}/o/bravo-bakery/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bravo Bakery")
    expect(page.get_by_text("Your role here: Staff")).to_be_visible()
    expect(page.locator("details.switcher summary")).to_contain_text("Bravo Bakery")

    page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)


def test_phone_viewport_keeps_navigation_usable(
    page: Page, live_server: Any, bookkeeper: str, artifacts_dir: Path
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    base = live_server.url
    log_in(page, base, bookkeeper)
    page.goto(f"{base}/o/alpha-traders/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Traders")

    # Nothing sticks out sideways: the page fits the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    nav = page.get_by_role("navigation", name="Alpha Traders")
    for name in ["Dashboard", "Audit trail", "Settings"]:
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] >= 24  # big enough to tap

    nav.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    expect(nav.get_by_role("link", name="Audit trail")).to_have_attribute("aria-current", "page")

    # The account menu opens inside the screen and logging out works from it.
    account = page.locator("details.account")
    account.locator("summary").click()
    panel = account.locator(".menu-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(artifacts_dir / "phone-menu.png"))
    account.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_skip_link_is_the_first_thing_the_keyboard_reaches(
    page: Page, live_server: Any, bookkeeper: str
) -> None:
    log_in(page, live_server.url, bookkeeper)
    expect(page.get_by_role("heading", name="Your organisations")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))


def test_long_email_and_organisation_name_still_fit_a_phone(page: Page, live_server: Any) -> None:
    # No first name: the account menu shows the whole email address.
    user = make_user("margaret.hartley-worthington@hartley-plumbing-supplies.test")
    make_org("Hartley & Sons Plumbing and Heating Supplies Limited", owner=user)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hartley & Sons")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
