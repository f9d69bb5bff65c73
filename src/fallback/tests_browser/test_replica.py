"""The replica in a real browser: a manager adds a connector for CSV exports, maps its
columns, uploads an export, previews it, syncs it and looks the customers up, now and as they
were; and the replica pages pass axe-core's WCAG 2.1 AA checks on a desktop and on a phone.
Screenshots land in test-artifacts/ for review."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from fallback.accounts.roles import Role
from fallback.monitor import editing as monitor_editing
from fallback.replica import editing, sync
from fallback.replica.models import Connector, Record, SyncStatus
from fallback.testing.factories import join, make_org, make_user
from fallback.tests_browser.test_accessibility import violations
from fallback.tests_browser.test_systems_and_incidents import PHONE, log_in, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMERS = "id,name,email,balance\n" + "".join(
    f"{n},Customer {n:02d},c{n}@example.test,{n}0.5\n" for n in range(1, 13)
)


@pytest.fixture
def acme() -> dict[str, Any]:
    ann = make_user("ann@acme.test")
    org = make_org("Acme Trading", owner=ann)
    mo = make_user("mo@acme.test")
    join(org, mo, Role.MANAGER)
    return {"org": org, "ann": ann, "mo": mo}


def test_manager_adds_a_files_connector_uploads_syncs_and_browses(
    page: Page, live_server: Any, acme: dict[str, Any], artifacts_dir: Path, tmp_path: Path
) -> None:
    base = live_server.url
    log_in(page, base, "mo@acme.test")
    page.get_by_role("navigation", name="Acme Trading").get_by_role("link", name="Replica").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Replica")
    page.get_by_role("link", name="Add your first connector").click()
    page.get_by_role("link", name=re.compile("CSV . XLSX exports")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a connector: CSV / XLSX exports")

    page.get_by_label("Name", exact=True).fill("Customer export")
    page.get_by_label("What it holds").select_option("customer")
    page.get_by_label("File name").fill("customers*.csv")
    page.get_by_label("Column that identifies a row").fill("id")
    # Saying which file refreshes the mapping in place (htmx): the customer's fields appear.
    mapping = page.locator("#mapping")
    expect(mapping.get_by_label("Name (customers)")).to_be_visible()
    mapping.get_by_label("Name (customers)").fill("name")
    mapping.get_by_label("Email (customers)").fill("email")
    mapping.get_by_label("Balance (customers)").fill("balance")
    shoot(page, artifacts_dir, "replica-connector-form")
    page.get_by_role("button", name="Add connector").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Customer export")
    connector = Connector.objects.get(org=acme["org"])
    assert connector.mapping == {
        "customers": {"fields": {"name": "name", "email": "email", "balance": "balance"}}
    }
    export = tmp_path / "customers-2025-03.csv"
    export.write_text(CUSTOMERS)
    page.get_by_label("File", exact=True).set_input_files(str(export))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("customers-2025-03.csv is saved. Sync now")).to_be_visible()
    assert (sync.uploads_folder(connector) / export.name).read_text() == CUSTOMERS

    # The preview on the edit page reads the uploaded file, without saving anything.
    page.get_by_role("link", name="Edit").click()
    page.get_by_role("button", name="Preview the first records").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Customer 01")
    expect(preview).to_contain_text("10.50")
    shoot(page, artifacts_dir, "replica-preview")
    page.get_by_role("link", name="Cancel").click()

    # The worker would run the queued sync; here the test runs it.
    done = sync.run(connector, trigger="manual")
    assert done.status == SyncStatus.APPLIED and done.created == 12
    page.reload()
    expect(page.locator(".syncs")).to_contain_text("Applied")
    expect(page.locator(".fresh-line")).to_contain_text(re.compile(r"as of \d\d:\d\d, .* old"))
    shoot(page, artifacts_dir, "replica-connector")

    page.get_by_role("link", name="Browse the records").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Replica: customers")
    table = page.locator("table.records")
    expect(table).to_contain_text("Customer 12")
    page.get_by_label("Name or key").fill("Customer 07")
    page.get_by_role("button", name="Show").click()
    expect(table.get_by_role("link")).to_have_count(1)
    table.get_by_role("link", name="Customer 07").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer 07")
    expect(page.locator(".record-fields")).to_contain_text("c7@example.test")
    shoot(page, artifacts_dir, "replica-record")

    page.set_viewport_size(PHONE)
    page.goto(f"{base}/o/{acme['org'].slug}/replica/browse/?entity=customer")
    expect(page.locator("table.records")).to_contain_text("Customer 01")
    shoot(page, artifacts_dir, "replica-browse-phone")
    page.goto(f"{base}/o/{acme['org'].slug}/replica/")
    shoot(page, artifacts_dir, "replica-list-phone")


# ----------------------------------------------------------------- WCAG AA


@pytest.fixture
def replica_pages(live_server: Any, acme: dict[str, Any]) -> tuple[str, list[str]]:
    org = acme["org"]
    crm = monitor_editing.create_system(org, name="Shop system")
    export = editing.create_connector(
        org,
        name="Customer export",
        kind="files",
        system=crm,
        config={
            "streams": [
                {
                    "name": "customers",
                    "pattern": "customers*.csv",
                    "entity": "customer",
                    "key": "id",
                }
            ]
        },
        mapping={"customers": {"fields": {"name": "name", "email": "email", "balance": "balance"}}},
    )
    editing.create_connector(
        org,
        name="Shop",
        kind="shopify",
        config={"base_url": "https://shop.example.com/admin/api/2024-10/"},
        secrets={"token": "not-shown"},
    )
    folder = sync.uploads_folder(export)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "customers.csv"
    path.write_text(CUSTOMERS)
    sync.run(export)
    path.write_text("id,name,email,balance\n1,Customer 01 Renamed,c1@example.test,1\n")
    held = sync.run(export)
    assert held.status == SyncStatus.HELD
    Connector.objects.filter(pk=export.pk).update(last_good_at=timezone.now() - timedelta(hours=2))
    record = Record.objects.filter(org=org, entity="customer").order_by("pk").first()
    assert record is not None
    base, slug = live_server.url, org.slug
    then = (timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    return base, [
        f"{base}/o/{slug}/",
        f"{base}/o/{slug}/replica/",
        f"{base}/o/{slug}/replica/new/",
        f"{base}/o/{slug}/replica/new/?kind=shopify",
        f"{base}/o/{slug}/replica/new/?kind=files",
        f"{base}/o/{slug}/replica/new/?kind=rest",
        f"{base}/o/{slug}/replica/new/?kind=kept_files",
        f"{base}/o/{slug}/replica/customer-export/",
        f"{base}/o/{slug}/replica/customer-export/edit/",
        f"{base}/o/{slug}/replica/shop/edit/",
        f"{base}/o/{slug}/replica/customer-export/syncs/{held.pk}/",
        f"{base}/o/{slug}/replica/browse/",
        f"{base}/o/{slug}/replica/browse/?entity=customer&as_of={then}",
        f"{base}/o/{slug}/replica/record/{record.pk}/",
        f"{base}/o/{slug}/systems/{crm.slug}/",
    ]


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_replica_pages_have_no_wcag_aa_violations(
    page: Page,
    replica_pages: tuple[str, list[str]],
    viewport: tuple[int, int],
    artifacts_dir: Path,
) -> None:
    base, urls = replica_pages
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(page, base, "ann@acme.test")
    found = {}
    too_wide = []
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("networkidle")  # the dashboard's cards load by htmx
        page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")
        problems = violations(page)
        if problems:
            found[url.removeprefix(base)] = problems
        if page.evaluate("document.documentElement.scrollWidth") > viewport[0]:
            too_wide.append(url.removeprefix(base))
    name = "desktop" if viewport[0] > 1000 else "phone"
    page.goto(urls[1])
    shoot(page, artifacts_dir, f"replica-list-{name}")
    assert found == {}
    assert too_wide == []  # nothing makes the page scroll sideways
