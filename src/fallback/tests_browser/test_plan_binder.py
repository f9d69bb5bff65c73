"""The plan's "done when", in a real browser.

A new owner starts from an empty organisation (only themselves in it), adds a colleague
and the one system the business runs on, writes a complete one-system plan by following
the guide, and downloads the grab binder — with the clicks, fields typed and pages loaded
counted and turned into a person's time, against the goal of well under 15 minutes.

Then a drill is run on its live page (the htmx timers and buttons), and every new page of
the plan passes axe-core's WCAG 2.1 AA checks. Screenshots of the key screens are kept in
/tmp/plan_binder_*.png for a person to look at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fallback.incidents import lifecycle
from fallback.plans import actions, drills, editing
from fallback.plans.models import BinderCopy, CorrectiveAction, Drill, Plan
from fallback.plans.tests.conftest import complete_one_system_plan
from fallback.testing.factories import join, make_org, make_user
from fallback.tests_browser.test_accessibility import violations
from fallback.tests_browser.test_systems_and_incidents import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")  # noqa: S108 (for a person to look at after a run)
# A person's time per thing done: reading a page and finding the button, a click, a field.
SECONDS_PER_PAGE = 15
SECONDS_PER_CLICK = 5
SECONDS_PER_FIELD = 20
BUDGET_SECONDS = 15 * 60


class Tally:
    """What a person did: clicks, fields typed, pages loaded."""

    def __init__(self, page: Page) -> None:
        self.clicks = self.fields = self.pages = 0
        page.on("framenavigated", lambda frame: self._loaded(frame, page))

    def _loaded(self, frame: Any, page: Page) -> None:
        if frame == page.main_frame:
            self.pages += 1

    @property
    def seconds(self) -> int:
        return (
            self.pages * SECONDS_PER_PAGE
            + self.clicks * SECONDS_PER_CLICK
            + self.fields * SECONDS_PER_FIELD
        )


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"plan_binder_{name}.png"), full_page=True)


@pytest.fixture
def empty() -> dict[str, Any]:
    """Acme Trading, just created: its owner Ann and nothing else."""
    ann = make_user("ann@acme.test")
    return {"org": make_org("Acme Trading", owner=ann), "ann": ann}


def test_a_new_owner_goes_from_an_empty_organisation_to_a_printed_binder(
    page: Page, live_server: Any, empty: dict[str, Any], settings: Any, tmp_path: Path
) -> None:
    settings.FALLBACK_HOME = tmp_path
    base = live_server.url
    slug = empty["org"].slug
    log_in(page, base, "ann@acme.test")
    started = time.monotonic()
    tally = Tally(page)

    def click(locator: Any) -> None:
        locator.click()
        tally.clicks += 1

    def fill(locator: Any, value: str) -> None:
        locator.fill(value)
        tally.fields += 1

    # A colleague, to stand in for the incident lead.
    page.goto(f"{base}/o/{slug}/settings/members/")
    fill(page.get_by_label("Email"), "mo@acme.test")
    fill(page.locator("#id_name"), "Mo Manager")
    page.get_by_label("Role", exact=True).select_option("manager")
    tally.fields += 1
    click(page.get_by_role("button", name="Add member"))

    # The one system the business runs on.
    page.goto(f"{base}/o/{slug}/")
    shoot(page, "dashboard_empty")
    click(page.get_by_role("navigation", name="Acme Trading").get_by_role("link", name="Systems"))
    click(page.get_by_role("link", name="Add your first system"))
    fill(page.get_by_label("Name", exact=True), "CloudCRM")
    page.get_by_label("What kind of system").select_option("crm")
    page.get_by_label("How critical").select_option("critical")
    tally.fields += 2
    fill(page.locator("#id_vendor"), "CloudCo Ltd")
    fill(page.locator("#id_vendor_contacts"), "0800 123 4567\nsupport@cloudco.test")
    click(page.get_by_role("button", name="Add system"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a check to CloudCRM")

    # The plan: start it from the menu and follow "Continue".
    click(page.get_by_role("navigation", name="Acme Trading").get_by_role("link", name="Plan"))
    click(page.get_by_role("button", name="Start the plan"))
    plan_url = f"/o/{slug}/plan/"
    for _ in range(60):
        path = _path(page)
        heading = page.get_by_role("heading", level=1).inner_text()
        if path == plan_url:
            break
        if path.endswith("/activities/"):
            extra = page.get_by_role("button", name=re.compile(r"remove (Payroll|Answering)"))
            if extra.count():
                click(extra.first)
            else:
                click(page.get_by_role("button", name=re.compile("^Confirm")).first)
        elif re.search(r"/activities/\d+/$", path):
            fill(page.get_by_label("Money lost, 8–24 hours"), "2000")
            fill(page.get_by_label("Customers affected, 8–24 hours"), "30")
            click(page.get_by_role("button", name="Save and continue"))
        elif re.search(r"/(risks|scenarios)/$", path):
            click(page.get_by_role("button", name=re.compile("^Confirm")).first)
        elif re.search(r"/(risks|scenarios)/\d+/$", path):
            click(page.get_by_role("button", name="Save and continue"))
        elif re.search(r"/roles/\d+/$", path):
            page.get_by_label("Alternate 1").select_option(label="Mo Manager (mo@acme.test)")
            tally.fields += 1
            click(page.get_by_role("button", name="Save and continue"))
        elif path.endswith("/contacts/"):
            click(page.get_by_role("button", name="Add the ticked contacts"))
        else:
            raise AssertionError(f"the guide led to {path} ({heading})")
        expect(page.locator(".field-errors")).to_have_count(0)
    else:
        raise AssertionError("the guide never reached a complete plan")
    expect(page.get_by_role("heading", name="Every section is complete")).to_be_visible()
    shoot(page, "plan_home")

    # The binder, from the plan's home.
    with page.expect_download() as download:
        click(page.get_by_role("button", name="Download the binder"))
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert download.value.suggested_filename.startswith("acme-trading-grab-binder-")
    elapsed = time.monotonic() - started

    print(
        f"\nEmpty organisation to a downloaded binder: {tally.pages} pages loaded, "
        f"{tally.clicks} clicks, {tally.fields} fields; about {tally.seconds // 60} min "
        f"{tally.seconds % 60} s of a person's time ({elapsed:.0f} s in the browser)"
    )
    assert tally.seconds < BUDGET_SECONDS
    assert tally.clicks <= 40 and tally.fields <= 15
    plan = Plan.objects.get(org=empty["org"])
    assert [c.kind for c in BinderCopy.objects.filter(org=empty["org"])] == ["downloaded"]
    assert plan.contacts.filter(kind="vendor_support").count() == 1

    # The binder page says the copy is current; the dashboard shows the plan complete.
    click(page.get_by_role("link", name="What is in it"))
    expect(page.get_by_role("heading", name="The printed copy is up to date")).to_be_visible()
    shoot(page, "binder_page")
    page.goto(f"{base}/o/{slug}/")
    expect(page.locator(".plan-checks")).to_contain_text("5 of 5 sections complete")
    shoot(page, "dashboard")


@pytest.fixture
def acme() -> dict[str, Any]:
    """Acme Trading with a complete one-system plan; Ann owns it, Mo manages."""
    from fallback.monitor import editing as monitor_editing

    ann = make_user("ann@acme.test")
    ann.first_name, ann.last_name = "Ann", "Archer"
    ann.save()
    org = make_org("Acme Trading", owner=ann)
    mo = make_user("mo@acme.test")
    join(org, mo, "manager")
    crm = monitor_editing.create_system(
        org, name="CloudCRM", kind="crm", criticality="critical", vendor="CloudCo Ltd"
    )
    world = {"acme": org, "ann": ann, "mo": mo, "crm": crm}
    plan = complete_one_system_plan(editing.start(org, ann), world)
    return {**world, "plan": plan}


def test_a_drill_is_run_on_its_live_page(
    page: Page, live_server: Any, acme: dict[str, Any]
) -> None:
    base = live_server.url
    slug = acme["acme"].slug
    log_in(page, base, "ann@acme.test")
    page.goto(f"{base}/o/{slug}/plan/drills/")
    page.get_by_label("Scenario").select_option(label="A system or its data is lost")
    page.get_by_role("button", name="Start the drill now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drill: A system or its data is lost")
    drill = Drill.objects.get()
    # htmx: the buttons swap only their part of the page.
    page.get_by_role("button", name="Declare the drill outage now").click()
    expect(page.locator("#milestone-declared")).to_contain_text(
        "The exercise incident was declared"
    )
    steps = page.locator("#drill-steps")
    steps.get_by_role("button", name="Start").first.click()
    expect(steps.locator("tbody tr").first).to_contain_text("Running")
    steps.get_by_role("button", name="Done").first.click()
    expect(steps.locator("tbody tr").first).to_contain_text("Done")
    page.get_by_role("button", name="Desk producing documents now").click()
    expect(page.locator("#milestone-desk_producing")).to_contain_text("Marked by ann@acme.test")
    page.get_by_label("Finding", exact=True).fill("Nobody knew the vendor's account number")
    page.get_by_label("Owner").select_option(label="mo@acme.test")
    page.get_by_role("button", name="Add the finding").click()
    expect(page.locator("#findings")).to_contain_text("Nobody knew the vendor's account number")
    shoot(page, "drill_live")
    page.get_by_role("button", name="Finish the drill").click()
    expect(
        page.get_by_role("heading", name=re.compile("The drill (passed|did not pass)"))
    ).to_be_visible()
    shoot(page, "drill_finished")
    drill.refresh_from_db()
    assert drill.finished_at is not None and drill.incident is not None
    assert CorrectiveAction.objects.get().drill == drill
    # The report prints.
    page.get_by_role("link", name="Drill report").click()
    expect(page.get_by_role("heading", name="Drill report")).to_be_visible()
    shoot(page, "drill_report")


def test_the_new_plan_pages_pass_wcag_aa(
    page: Page, live_server: Any, acme: dict[str, Any]
) -> None:
    plan, ann = acme["plan"], acme["ann"]
    scenario = plan.scenarios.get(kind="system_lost")
    drill = drills.start(plan, scenario, by=ann)
    drills.declare(drill, ann)
    done_drill = drills.start(plan, plan.scenarios.get(kind="people"), by=ann)
    drills.finish(done_drill, ann)
    outage = lifecycle.declare_manually(acme["acme"], [acme["crm"]], "CRM down", ann)
    lifecycle.resolve(outage, ann)
    from fallback.plans import reviews

    review = reviews.start(plan, outage, ann)
    actions.add(plan, finding="Check the vendor number", owner=acme["mo"])
    base = f"{live_server.url}/o/{acme['acme'].slug}/plan/"
    pages = [
        "",
        "binder/",
        "statements/",
        "drills/",
        "drills/library/",
        f"drills/{drill.pk}/",
        f"drills/{done_drill.pk}/",
        "reviews/",
        f"reviews/{review.pk}/",
        "actions/",
    ]
    log_in(page, live_server.url, "ann@acme.test")
    found = {}
    for path in pages:
        page.goto(base + path)
        if path in ("drills/library/", f"reviews/{review.pk}/", "drills/"):
            shoot(page, path.strip("/").replace("/", "_").rstrip("_0123456789") or "home")
        problems = violations(page)
        if problems:
            found[path] = problems
    assert found == {}
    page.goto(base + "actions/")
    shoot(page, "actions")
