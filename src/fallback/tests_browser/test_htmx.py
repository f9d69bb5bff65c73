"""htmx enhancements work in a real browser, CSRF header included."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from fallback.accounts.models import Membership
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.testing.factories import PASSWORD, join, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme() -> dict[str, Any]:
    ann = make_user("ann@acme.test")
    org = make_org("Acme", owner=ann)
    sam = join(org, make_user("sam@acme.test"), Role.STAFF)
    return {"org": org, "sam": sam}


def log_in(page: Page, base: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Email").fill("ann@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")


def test_inline_role_change_saves_without_leaving_the_page(
    page: Page, live_server: Any, acme: dict[str, Any]
) -> None:
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/o/acme/settings/members/")
    row = page.locator(f"#member-{acme['sam'].pk}")
    row.get_by_label("Role of sam@acme.test").select_option(Role.MANAGER.value)
    with page.expect_request(lambda r: r.method == "POST") as sent:
        row.get_by_role("button", name=re.compile("Change")).click()
    assert sent.value.headers.get("hx-request") == "true"
    assert sent.value.headers.get("x-csrftoken")
    expect(page.locator(f"#member-{acme['sam'].pk}")).to_contain_text("Saved: now Manager")
    expect(page).to_have_url(re.compile(r"/settings/members/$"))
    assert Membership.objects.get(pk=acme["sam"].pk).role == Role.MANAGER


def test_show_older_events_appends_the_next_page(
    page: Page, live_server: Any, acme: dict[str, Any]
) -> None:
    later = timezone.now() + timedelta(minutes=1)
    AuditEvent.objects.bulk_create(
        AuditEvent(org=acme["org"], at=later + timedelta(seconds=i), action=f"test.e{i}")
        for i in range(60)
    )
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/o/acme/audit/")
    rows = page.locator("table.events tbody tr:not(.more-row)")
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="Show older events").click()
    expect(rows).to_have_count(63)  # 60 + the 3 events of setting Acme up
    expect(page).to_have_url(re.compile(r"/audit/$"))  # appended in place
    expect(page.get_by_role("link", name="Show older events")).to_have_count(0)
