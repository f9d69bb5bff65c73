"""The fallback desk in a real browser: an outage of a covered system is declared, the banner
shows, staff find a misspelt customer with the keyboard, make a quote with two products,
download its PDF, print it and log a call; the system comes back, the way back lists both,
staff tick the quote with its final number, a manager waives the note and the incident
resolves. The desk's pages pass axe-core's WCAG 2.1 AA checks on a desktop and on a phone.

Screenshots of the desk home and the document form are kept in /tmp/desk_*.png for review."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from fallback.accounts.roles import Role
from fallback.desk import documents, mode, notes, numbering
from fallback.desk.models import Document, DocumentKind, WorkNote
from fallback.desk.tests.conftest import put_records
from fallback.incidents import lifecycle
from fallback.incidents.models import Incident, Status
from fallback.monitor import editing as monitor_editing
from fallback.monitor.models import State, StateChange, System
from fallback.replica.models import Connector
from fallback.testing.factories import join, make_org, make_user
from fallback.tests_browser.test_accessibility import violations
from fallback.tests_browser.test_systems_and_incidents import PHONE, log_in, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")  # noqa: S108 (for a person to look at after a run)


@pytest.fixture
def acme() -> dict[str, Any]:
    """Acme Trading: Mo manages, Sid is staff. CloudCRM is the system the desk covers; its
    replica holds customers, contacts, products and orders."""
    ann = make_user("ann@acme.test")
    org = make_org("Acme Trading", owner=ann)
    people: dict[str, Any] = {"org": org, "ann": ann}
    for name, role in [("mo", Role.MANAGER), ("sid", Role.STAFF)]:
        people[name] = make_user(f"{name}@acme.test")
        join(org, people[name], role)
    crm = monitor_editing.create_system(org, name="CloudCRM")
    monitor_editing.create_system(org, name="Website")
    desk = mode.settings_for(org)
    desk.covered_systems.set([crm])
    now = timezone.now()
    put_records(
        org,
        "customer",
        [
            {
                "key": "C1",
                "name": "Smith Plumbing",
                "contact_name": "Jo Smith",
                "email": "office@smith.test",
                "phone": "01632 960123",
                "address": "1 High Street",
                "city": "Leeds",
                "postcode": "LS1 1AA",
            },
            {"key": "C2", "name": "Smithson Roofing", "city": "York"},
            {"key": "C3", "name": "Jones Bakery", "city": "Hull"},
        ],
        at=now - timedelta(hours=1),
    )
    put_records(
        org,
        "contact",
        [{"key": "K1", "name": "Jo Smith", "customer": "C1", "role": "Owner"}],
        at=now - timedelta(hours=1),
    )
    put_records(
        org,
        "product",
        [
            {"key": "P1", "name": "Copper pipe 15mm", "sku": "CP-15", "price": "4.20"},
            {"key": "P2", "name": "Pipe bender", "sku": "PB-1", "price": "38.00", "stock": "3"},
        ],
        at=now - timedelta(hours=1),
    )
    today = timezone.localdate()
    put_records(
        org,
        "order",
        [
            {
                "key": "O1",
                "number": "SO-1001",
                "customer": "C1",
                "customer_name": "Smith Plumbing",
                "status": "open",
                "due_date": today.isoformat(),
                "total": "84.00",
            }
        ],
        at=now - timedelta(hours=1),
    )
    Connector.objects.filter(org=org).update(
        name="CloudCRM copy", system=crm, last_good_at=now - timedelta(minutes=40)
    )
    people["crm"] = crm
    return people


def change_state(system: System, to: str, reason: str) -> Incident | None:
    """What the checks would do: the system's state changes and the incidents follow."""
    now = timezone.now()
    change = StateChange.objects.create(
        org=system.org,
        system=system,
        at=now,
        from_state=system.state,
        to_state=to,
        reason=reason,
    )
    System.objects.filter(pk=system.pk).update(state=to, state_since=now, state_reason=reason)
    system.refresh_from_db()
    return lifecycle.on_system_state_change(system, change)


def test_desk_journey_from_outage_to_resolved(
    page: Page, browser: Browser, live_server: Any, acme: dict[str, Any], artifacts_dir: Path
) -> None:
    base, org, crm = live_server.url, acme["org"], acme["crm"]
    slug = org.slug

    # CloudCRM goes down and the outage is declared: fallback mode comes on.
    incident = change_state(crm, State.DOWN, "Login page: HTTP 503")
    assert incident is not None
    lifecycle.declare(incident, reason="Down for 30 minutes")

    log_in(page, base, "sid@acme.test")
    banner = page.locator(".fallback-strip")
    expect(banner).to_contain_text("Fallback mode: CloudCRM down since")
    banner.get_by_role("link", name="Open the desk").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Desk")
    full = page.locator(".fallback-banner")
    expect(full).to_contain_text("Fallback mode: working without the main system")
    expect(full).to_contain_text(re.compile(r"CloudCRM copy: data as of \d\d:\d\d, 40 min before"))
    expect(page.locator(".fallback-strip")).to_have_count(0)  # the full banner instead

    # Once per computer: its name.
    page.get_by_label("Name this computer").fill("Front desk PC")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("This computer is “Front desk PC” (code A).")).to_be_visible()
    shoot(page, SCREENSHOTS, "desk_home")
    shoot(page, artifacts_dir, "desk-home")

    # Search with the keyboard, name misspelt: "/" comes to the box from anywhere.
    page.locator("h1").click()
    page.keyboard.press("/")
    search = page.get_by_role(
        "combobox", name="Find a customer, supplier, product, order or invoice"
    )
    expect(search).to_be_focused()
    page.keyboard.type("smtih plumbing")
    results = page.locator("#desk-results")
    expect(results.get_by_role("option").first).to_contain_text("Smith Plumbing")
    expect(results).to_contain_text("did you mean?")
    page.keyboard.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "desk-hit-0")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Smith Plumbing")
    expect(page.locator("table.orders")).to_contain_text("SO-1001")
    shoot(page, artifacts_dir, "desk-customer")

    # A quote with two products, found by typing.
    page.get_by_role("link", name="New quote").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New quote")
    expect(page.get_by_role("textbox", name="Customer")).to_have_value("Smith Plumbing")
    expect(page.locator(".party-details")).to_contain_text("office@smith.test")
    product = page.get_by_role("combobox", name="Add a product")
    product.click()
    product.type("copper")
    expect(page.locator("#product-results").get_by_role("option")).to_have_count(1)
    page.keyboard.press("Enter")
    lines = page.locator("#lines-body tr")
    expect(lines).to_have_count(1)
    expect(lines.nth(0).get_by_label("Description")).to_have_value("Copper pipe 15mm")
    expect(lines.nth(0).get_by_label("Quantity")).to_be_focused()
    page.keyboard.type("10")
    product.click()
    product.type("bender")
    expect(page.locator("#product-results").get_by_role("option")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(lines).to_have_count(2)
    expect(lines.nth(1).get_by_label("Price", exact=True)).to_have_value("38.00")
    # 10 x 4.20 + 1 x 38.00 = 80.00, and 20% VAT (the desk's default): 96.00.
    totals = page.locator("#totals")
    expect(totals).to_contain_text("£96.00")
    expect(lines.nth(0).locator("output")).to_have_text("£42.00")
    shoot(page, SCREENSHOTS, "desk_document_form")
    shoot(page, artifacts_dir, "desk-document-form")
    page.get_by_role("button", name="Save quote").click()
    expect(page.get_by_text("Saved: Quote FB1-A-Q0001.")).to_be_visible()
    quote = Document.objects.get(org=org)
    assert quote.kind == DocumentKind.QUOTE and str(quote.total) == "96.00"
    assert [line.description for line in quote.lines.all()] == [
        "Copper pipe 15mm",
        "Pipe bender",
    ]
    shoot(page, artifacts_dir, "desk-document")

    # Its PDF downloads, with the browser's session.
    pdf_link = page.get_by_role("link", name="PDF", exact=True)
    pdf = page.request.get(base + str(pdf_link.get_attribute("href")))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF") and "FB1-A-Q0001.pdf" in pdf.headers.get(
        "content-disposition", ""
    )

    # The print page opens with the quote on it.
    page.get_by_role("link", name="Print", exact=True).click()
    expect(page.get_by_text("FB1-A-Q0001").first).to_be_visible()
    expect(page.get_by_text("Smith Plumbing").first).to_be_visible()
    page.go_back()

    # A call, logged against the customer found by the search.
    # "/" on a desk page without a search box goes to the desk's, ready to type.
    expect(page.get_by_role("heading", level=1)).to_have_text("Quote FB1-A-Q0001")
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Desk")
    expect(
        page.get_by_role("combobox", name=re.compile("^Find a customer, supplier"))
    ).to_be_focused()
    page.get_by_role("navigation", name="Desk").get_by_role("link", name="Work log").click()
    page.get_by_label("What").select_option("call")
    page.get_by_label("Note", exact=True).fill("Jo Smith rang: the pipe bender is urgent.")
    party = page.get_by_role("combobox", name="Find a customer or supplier (optional)")
    party.type("jones")
    expect(page.locator("#party-results").get_by_role("option")).to_have_count(1)
    page.keyboard.press("Enter")
    chosen = page.get_by_role("textbox", name=re.compile("^Customer or supplier"))
    expect(chosen).to_have_value("Jones Bakery")
    page.get_by_role("button", name="Log it").click()
    expect(page.get_by_text("Logged: call taken.")).to_be_visible()
    expect(page.locator(".note-list")).to_contain_text("Jo Smith rang")
    note = WorkNote.objects.get(org=org)
    assert note.party_key == "C3" and note.period is not None

    # CloudCRM is back: the incident is recovering and the desk shows the way back.
    change_state(crm, State.UP, "All checks up")
    incident.refresh_from_db()
    assert incident.status == Status.RECOVERING
    page.get_by_role("navigation", name="Desk").get_by_role("link", name="Desk").click()
    expect(page.locator(".fallback-banner")).to_contain_text("The way back")
    page.get_by_role("link", name="The way back: enter what the desk made (2 open)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("The way back")
    rows = page.locator("table.reconciliation tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Quote FB1-A-Q0001")
    expect(rows.nth(1)).to_contain_text("Call taken note")
    expect(page.locator("#open-count")).to_have_text("2")
    rows.nth(0).get_by_label("Final number").fill("Q-9001")
    rows.nth(0).get_by_role("button", name="Entered").click()
    expect(rows.nth(0)).to_contain_text("Entered as Q-9001")
    expect(page.locator("#open-count")).to_have_text("1")
    shoot(page, artifacts_dir, "desk-way-back")
    # Staff may not waive.
    expect(rows.nth(1).get_by_text("Waive")).to_have_count(0)

    # A manager: resolving is refused while the note is open; waived, it resolves.
    manager = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    mo = manager.new_page()
    mo.set_default_timeout(10_000)
    log_in(mo, base, "mo@acme.test")
    mo.goto(f"{base}/o/{slug}/incidents/{incident.pk}/")
    mo.get_by_label("Closing note").fill("CRM back; desk documents re-entered.")
    mo.get_by_role("button", name="Resolve incident").click()
    expect(mo.get_by_text("1 document or note made at the desk")).to_be_visible()
    mo.goto(f"{base}/o/{slug}/desk/periods/1/")
    note_row = mo.locator("table.reconciliation tbody tr").nth(1)
    note_row.locator("summary", has_text="Waive").click()
    note_row.get_by_label("Why it need not be entered").fill("Only a phone call")
    note_row.get_by_role("button", name="Waive").click()
    expect(note_row).to_contain_text("Waived")
    expect(mo.locator("#open-count")).to_have_text("0")
    expect(mo.get_by_role("link", name="resolve the incident")).to_be_visible()
    mo.get_by_role("link", name="resolve the incident").click()
    mo.get_by_label("Closing note").fill("CRM back; desk documents re-entered.")
    mo.get_by_role("button", name="Resolve incident").click()
    expect(mo.locator("#incident-status")).to_contain_text("Resolved")
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    quote.refresh_from_db()
    note.refresh_from_db()
    assert quote.final_number == "Q-9001" and note.waive_reason == "Only a phone call"
    manager.close()


# ----------------------------------------------------------------- WCAG AA


@pytest.fixture
def desk_pages(live_server: Any, acme: dict[str, Any]) -> tuple[str, list[str]]:
    org = acme["org"]
    period = mode.switch_on(org, acme["mo"], "CRM login broken")
    device = numbering.register_device(org, "Front desk PC")
    invoice, _ = documents.create(
        org,
        device,
        documents.DocumentInput(
            kind=DocumentKind.INVOICE,
            party_key="C1",
            party_name="Smith Plumbing",
            party_details={"email": "office@smith.test"},
            lines=[documents.LineInput("Copper pipe 15mm", "10", "4.20", product_key="P1")],
        ),
        "a11y-invoice",
        acme["mo"],
    )
    note, _ = notes.add(org, "Jo rang about the order", "a11y-note", acme["mo"])
    notes.void(note, acme["mo"], "Wrong customer")
    base, slug = live_server.url, org.slug
    d = f"{base}/o/{slug}/desk"
    return base, [
        f"{base}/o/{slug}/",
        f"{d}/",
        f"{d}/search/?q=smith",
        f"{d}/customers/C1/",
        f"{d}/products/P2/",
        f"{d}/orders/",
        f"{d}/documents/",
        f"{d}/documents/new/invoice/?party_key=C1&product=P1",
        f"{d}/documents/{invoice.pk}/",
        f"{d}/log/",
        f"{d}/periods/",
        f"{d}/periods/{period.number}/",
        f"{d}/settings/",
        f"{d}/device/",
    ]


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_desk_pages_have_no_wcag_aa_violations(
    page: Page,
    desk_pages: tuple[str, list[str]],
    viewport: tuple[int, int],
    artifacts_dir: Path,
) -> None:
    base, urls = desk_pages
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(page, base, "mo@acme.test")
    # This browser becomes a device, so the document form shows instead of the naming page.
    page.goto(urls[-1])
    page.get_by_label("Name this computer").fill("Laptop")
    page.get_by_role("button", name="Save and continue").click()
    found = {}
    too_wide = []
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")
        problems = violations(page)
        if problems:
            found[url.removeprefix(base)] = problems
        if page.evaluate("document.documentElement.scrollWidth") > viewport[0]:
            too_wide.append(url.removeprefix(base))
    # The search results as they show under the box.
    page.goto(urls[1])
    page.get_by_role("combobox").first.type("smith")
    page.locator("#desk-results [role=option]").first.wait_for()
    problems = violations(page)
    if problems:
        found["desk home, with results"] = problems
    name = "desktop" if viewport[0] > 1000 else "phone"
    shoot(page, artifacts_dir, f"desk-home-results-{name}")
    if viewport == (PHONE["width"], PHONE["height"]):
        page.goto(urls[7])
        shoot(page, artifacts_dir, "desk-document-form-phone")
    assert found == {}
    assert too_wide == []
