"""Systems and incidents in a real browser: a manager adds a system and its check, sees it on
the board, declares an outage and resolves it; and the pages pass axe-core's WCAG 2.1 AA
checks on a desktop and on a phone. Screenshots land in test-artifacts/ for review."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from fallback.accounts.roles import Role
from fallback.incidents import lifecycle
from fallback.incidents.models import AlertChannel, Incident, Status
from fallback.monitor import editing
from fallback.monitor.models import State, StateChange, System, SystemKind
from fallback.testing.factories import PASSWORD, join, make_org, make_user
from fallback.tests_browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def acme() -> dict[str, Any]:
    ann = make_user("ann@acme.test")
    org = make_org("Acme Trading", owner=ann)
    mo = make_user("mo@acme.test")
    join(org, mo, Role.MANAGER)
    for user, name in ((ann, "Ann"), (mo, "Mo")):
        user.first_name = name
        user.save()
    return {"org": org, "ann": ann, "mo": mo}


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Trading")


def shoot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_manager_adds_a_system_declares_an_outage_and_resolves_it(
    page: Page, live_server: Any, acme: dict[str, Any], artifacts_dir: Path
) -> None:
    base = live_server.url
    log_in(page, base, "mo@acme.test")
    page.get_by_role("navigation", name="Acme Trading").get_by_role("link", name="Systems").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Systems")
    page.get_by_role("link", name="Add your first system").click()

    page.get_by_label("Name", exact=True).fill("CloudCRM")
    page.get_by_label("What kind of system").select_option("crm")
    page.get_by_label("How critical").select_option("critical")
    page.locator("#id_vendor").fill("Cloud Ltd")
    page.get_by_label("Promised uptime (%)").fill("99.9")
    page.get_by_role("button", name="Add system").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add a check to CloudCRM")
    page.get_by_role("link", name=re.compile("Web address")).click()
    page.get_by_label("Name", exact=True).fill("Login page")
    page.get_by_label("Address (URL)").fill("ftp://crm.example.com")
    page.get_by_label("The page must contain").fill("Sign in")
    page.get_by_role("button", name="Add check").click()
    # A bad address is refused where it was typed, and nothing is saved.
    expect(page.get_by_text("Address (URL): must start with http:// or https://")).to_be_visible()
    page.get_by_label("Address (URL)").fill(base + "/login/")
    page.get_by_role("button", name="Add check").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("CloudCRM")
    expect(page.get_by_role("heading", name="Login page")).to_be_visible()
    crm = System.objects.get(org=acme["org"], slug="cloudcrm")
    assert crm.checks.get().config == {"url": base + "/login/", "keyword": "Sign in"}

    # What the checks would have recorded: down this morning for half an hour.
    now = timezone.now()
    # Half an hour down at noon yesterday: one day with downtime whatever the time of the run.
    outage = (now - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=now - timedelta(days=20),
        from_state=State.UNKNOWN,
        to_state=State.UP,
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=outage,
        from_state=State.UP,
        to_state=State.DOWN,
        reason="Login page: HTTP 503",
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=outage + timedelta(minutes=30),
        from_state=State.DOWN,
        to_state=State.UP,
        reason="All checks up",
    )
    System.objects.filter(pk=crm.pk).update(
        state=State.UP,
        state_since=outage + timedelta(minutes=30),
        state_reason="All checks up",
        created_at=now - timedelta(days=20),
    )

    page.get_by_role("link", name="← Systems").click()
    board = page.locator("#board")
    expect(board.get_by_role("link", name="CloudCRM")).to_be_visible()
    expect(board).to_contain_text("Up")
    expect(board).to_contain_text("Critical")
    shoot(page, artifacts_dir, "systems-board")

    board.get_by_role("link", name="CloudCRM").click()
    expect(page.get_by_role("heading", name="Uptime, last 90 days")).to_be_visible()
    expect(page.get_by_text("1 day with downtime in the last 90 days")).to_be_visible()
    shoot(page, artifacts_dir, "system-page")

    page.get_by_role("link", name="Declare an outage").click()
    expect(page.get_by_label(re.compile("CloudCRM"))).to_be_checked()
    page.get_by_label("What is down").fill("CloudCRM: nobody can log in")
    page.get_by_label("What is known so far").fill("Since 09:10. The vendor's phone line is busy.")
    page.get_by_role("button", name="Declare").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("CloudCRM: nobody can log in")
    expect(page.locator("#incident-status")).to_contain_text("Declared")
    page.get_by_role("textbox", name="Note", exact=True).fill(
        "Taking orders by phone from the price list."
    )
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#incident-timeline")).to_contain_text("Taking orders by phone")
    shoot(page, artifacts_dir, "incident-page")

    page.get_by_label("Closing note").fill("Vendor fixed it; orders re-entered.")
    page.get_by_role("button", name="Resolve incident").click()
    expect(page.locator("#incident-status")).to_contain_text("Resolved")
    incident = Incident.objects.get(org=acme["org"])
    assert incident.status == Status.RESOLVED and incident.resolved_by == acme["mo"]

    page.set_viewport_size(PHONE)
    page.goto(f"{base}/o/{acme['org'].slug}/systems/")
    expect(page.locator("#board")).to_contain_text("CloudCRM")
    shoot(page, artifacts_dir, "systems-board-phone")
    page.goto(f"{base}/o/{acme['org'].slug}/systems/cloudcrm/")
    shoot(page, artifacts_dir, "system-page-phone")
    page.goto(f"{base}/o/{acme['org'].slug}/incidents/{incident.pk}/")
    shoot(page, artifacts_dir, "incident-page-phone")


def test_board_refreshes_itself_when_a_state_changes(
    page: Page, live_server: Any, acme: dict[str, Any]
) -> None:
    crm = editing.create_system(acme["org"], name="CloudCRM")
    System.objects.filter(pk=crm.pk).update(state=State.UP)
    log_in(page, live_server.url, "mo@acme.test")
    page.goto(f"{live_server.url}/o/{acme['org'].slug}/systems/")
    expect(page.locator("#board .board-item")).to_contain_text("Up")
    System.objects.filter(pk=crm.pk).update(state=State.DOWN, state_reason="Login page: HTTP 503")
    # No reload: htmx polls every 10 seconds.
    expect(page.locator("#board .board-item")).to_contain_text("Down", timeout=15_000)
    expect(page.locator("#board")).to_contain_text("Login page: HTTP 503")


# ----------------------------------------------------------------- WCAG AA


@pytest.fixture
def monitor_pages(live_server: Any, acme: dict[str, Any]) -> tuple[str, list[str]]:
    org = acme["org"]
    crm = editing.create_system(org, name="CloudCRM", kind=SystemKind.CRM, sla_percent=99.9)
    check = editing.create_check(
        crm, name="Login page", kind="http", config={"url": "https://crm.example.com/login"}
    )
    link = editing.create_system(org, name="Office internet", kind=SystemKind.INTERNET)
    editing.create_check(link, name="Backup", kind="heartbeat", config={"period_seconds": 3600})
    now = timezone.now()
    System.objects.filter(pk=crm.pk).update(created_at=now - timedelta(days=40))
    StateChange.objects.create(
        org=org,
        system=crm,
        at=now - timedelta(days=2),
        from_state=State.UP,
        to_state=State.DOWN,
        reason="HTTP 503",
    )
    StateChange.objects.create(
        org=org,
        system=crm,
        at=now - timedelta(days=2) + timedelta(minutes=50),
        from_state=State.DOWN,
        to_state=State.UP,
    )
    incident = lifecycle.declare_manually(
        org, [crm], "CloudCRM unavailable", acme["ann"], summary="Since 9"
    )
    lifecycle.add_note(incident, acme["ann"], "Called the vendor.")
    channel = AlertChannel.objects.create(org=org, name="Office phone", url="json://127.0.0.1:9/")
    base, slug = live_server.url, org.slug
    return base, [
        f"{base}/o/{slug}/",
        f"{base}/o/{slug}/systems/",
        f"{base}/o/{slug}/systems/new/",
        f"{base}/o/{slug}/systems/cloudcrm/",
        f"{base}/o/{slug}/systems/cloudcrm/edit/",
        f"{base}/o/{slug}/systems/cloudcrm/checks/new/",
        f"{base}/o/{slug}/systems/cloudcrm/checks/new/?kind=http",
        f"{base}/o/{slug}/systems/cloudcrm/checks/{check.pk}/",
        f"{base}/o/{slug}/systems/office-internet/",
        f"{base}/o/{slug}/systems/report/",
        f"{base}/o/{slug}/incidents/",
        f"{base}/o/{slug}/incidents/declare/",
        f"{base}/o/{slug}/incidents/{incident.pk}/",
        f"{base}/o/{slug}/incidents/alerts/",
        f"{base}/o/{slug}/incidents/alerts/{channel.pk}/",
        f"{base}/o/{slug}/incidents/alerts/log/",
    ]


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_systems_and_incident_pages_have_no_wcag_aa_violations(
    page: Page, monitor_pages: tuple[str, list[str]], viewport: tuple[int, int]
) -> None:
    base, urls = monitor_pages
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(page, base, "ann@acme.test")
    found = {}
    too_wide = []
    for url in urls:
        page.goto(url)
        # Open every disclosure, so that what is folded away is checked too.
        page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")
        problems = violations(page)
        if problems:
            found[url.removeprefix(base)] = problems
        if page.evaluate("document.documentElement.scrollWidth") > viewport[0]:
            too_wide.append(url.removeprefix(base))
    assert found == {}
    assert too_wide == []  # nothing makes the page scroll sideways
