"""The continuity plan in a real browser: a new owner of a one-system business goes from no
plan to a complete plan by following "Continue" — confirming or removing what Fallback
suggests and filling in only what it cannot know — then prints it. The run is timed and its
clicks counted, against the goal of a one-system plan in well under 15 minutes of a
person's clicks. The plan's pages pass axe-core's WCAG 2.1 AA checks.

Screenshots of the plan home and an activity are kept in /tmp/plan_*.png for review."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fallback.accounts.roles import Role
from fallback.monitor import editing as monitor_editing
from fallback.plans.models import Plan
from fallback.testing.factories import join, make_org, make_user
from fallback.tests_browser.test_accessibility import violations
from fallback.tests_browser.test_systems_and_incidents import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")  # noqa: S108 (for a person to look at after a run)
MAX_ACTIONS = 40  # page actions a person takes; at ~20 s each, well under 15 minutes


@pytest.fixture
def acme() -> dict[str, Any]:
    """Acme Trading runs on CloudCRM; Ann owns it, Mo manages. No plan yet."""
    ann = make_user("ann@acme.test")
    org = make_org("Acme Trading", owner=ann)
    mo = make_user("mo@acme.test")
    join(org, mo, Role.MANAGER)
    monitor_editing.create_system(
        org,
        name="CloudCRM",
        kind="crm",
        criticality="critical",
        vendor="CloudCo Ltd",
        vendor_contacts="0800 123 4567\nsupport@cloudco.test",
        account_number="ACME-991",
    )
    return {"org": org, "ann": ann, "mo": mo}


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def test_a_new_owner_writes_a_one_system_plan_by_following_continue(
    page: Page, live_server: Any, acme: dict[str, Any]
) -> None:
    base = live_server.url
    slug = acme["org"].slug
    plan_url = f"/o/{slug}/plan/"
    log_in(page, base, "ann@acme.test")
    started = time.monotonic()
    actions = 0

    # The dashboard's first card: readiness, and the next thing to do.
    card = page.locator("section", has=page.get_by_role("heading", name="How ready are we?"))
    expect(card).to_contain_text("out of 100")
    card.get_by_role("link", name="Start the plan").click()
    page.get_by_role("button", name="Start the plan").click()
    actions += 2

    for _ in range(60):
        path = _path(page)
        heading = page.get_by_role("heading", level=1).inner_text()
        if path == plan_url:
            break
        if path.endswith("/activities/"):
            # Only the work that depends on CloudCRM here: the rest is "not for us".
            extra = page.get_by_role("button", name=re.compile(r"remove (Payroll|Answering)"))
            if extra.count():
                extra.first.click()
            else:
                page.get_by_role("button", name=re.compile("^Confirm")).first.click()
        elif re.search(r"/activities/\d+/$", path):
            page.get_by_label("Money lost, 8–24 hours").fill("2000")
            page.get_by_label("Customers affected, 8–24 hours").fill("30")
            if heading == "Taking orders":
                SCREENSHOTS.joinpath("plan_activity.png").parent.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "plan_activity.png"), full_page=True)
            page.get_by_role("button", name="Save and continue").click()
            actions += 2  # two numbers typed
        elif re.search(r"/(risks|scenarios)/$", path):
            page.get_by_role("button", name=re.compile("^Confirm")).first.click()
        elif re.search(r"/(risks|scenarios)/\d+/$", path):
            page.get_by_role("button", name="Save and continue").click()
        elif re.search(r"/roles/\d+/$", path):
            page.get_by_label("Alternate 1").select_option(label="mo@acme.test")
            page.get_by_role("button", name="Save and continue").click()
            actions += 1
        elif path.endswith("/contacts/"):
            page.get_by_role("button", name="Add the ticked contacts").click()
        else:
            raise AssertionError(f"the guide led to {path} ({heading})")
        actions += 1
        expect(page.locator(".field-errors")).to_have_count(0)
    else:
        raise AssertionError("the guide never reached a complete plan")
    elapsed = time.monotonic() - started

    expect(page.get_by_role("heading", name="Every section is complete")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Every section of the plan is complete")
    page.screenshot(path=str(SCREENSHOTS / "plan_home.png"), full_page=True)
    print(f"\nOne-system plan: {actions} page actions, {elapsed:.1f} s in the browser")
    assert actions <= MAX_ACTIONS
    plan = Plan.objects.get(org=acme["org"])
    assert plan.activities.count() == 3  # orders, invoicing, dispatch on CloudCRM
    assert plan.contacts.filter(kind="vendor_support").count() == 1

    # Printable, and as a PDF.
    page.get_by_role("link", name="Printable plan").click()
    expect(page.get_by_role("heading", name="Continuity plan")).to_be_visible()
    expect(page.locator("body")).to_contain_text("CloudCo Ltd support")
    with page.expect_download() as download:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.download = ''; "
            "document.body.appendChild(a); a.click(); }",
            page.get_by_role("link", name="Download PDF").get_attribute("href"),
        )
    assert download.value.path().read_bytes().startswith(b"%PDF")

    # Back on the dashboard, the plan counts as complete.
    page.goto(f"{base}/o/{slug}/")
    expect(page.locator(".plan-checks")).to_contain_text("5 of 5 sections complete")


def test_the_plans_pages_pass_wcag_aa(page: Page, live_server: Any, acme: dict[str, Any]) -> None:
    from fallback.plans import editing

    plan = editing.start(acme["org"], acme["ann"])
    base = f"{live_server.url}/o/{acme['org'].slug}/plan/"
    pages = [
        "",
        "activities/",
        f"activities/{plan.activities.values_list('pk', flat=True)[0]}/",
        "risks/",
        f"risks/{plan.risks.values_list('pk', flat=True)[0]}/",
        "scenarios/",
        f"scenarios/{plan.scenarios.values_list('pk', flat=True)[0]}/",
        "roles/",
        f"roles/{plan.roles.values_list('pk', flat=True)[0]}/",
        "contacts/",
        "contacts/new/",
        "history/",
        "history/1/",
        "readiness/",
        "owners/",
    ]
    log_in(page, live_server.url, "ann@acme.test")
    found = {}
    for path in pages:
        page.goto(base + path)
        problems = violations(page)
        if problems:
            found[path] = problems
    assert found == {}
