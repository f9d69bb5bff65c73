"""Telling people, in a real browser: a manager opens the incident, presses Tell people,
composes a first notice to affected customers, watches the checker react to an extra
apology as it is typed, fixes it, sends, and sees the outbox's progress; the call list and
the settings page. The pages pass axe-core's WCAG 2.1 AA checks on a desktop and a phone.

Screenshots of the notice and the call list are kept in /tmp/comms_*.png for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fallback.accounts.roles import Role
from fallback.comms import preferences
from fallback.comms.models import KeyAccount, Notice, OutboxItem
from fallback.comms.tests.builders import put_records
from fallback.incidents import lifecycle
from fallback.monitor import editing as monitor_editing
from fallback.testing.factories import join, make_org, make_user
from fallback.tests_browser.test_accessibility import violations
from fallback.tests_browser.test_systems_and_incidents import PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")  # noqa: S108 (for a person to look at after a run)


@pytest.fixture
def acme() -> dict[str, Any]:
    ann = make_user("ann@acme.test")
    org = make_org("Acme Trading", owner=ann)
    mo = make_user("mo@acme.test")
    join(org, mo, Role.MANAGER)
    crm = monitor_editing.create_system(org, name="CloudCRM")
    preferences.update_settings(
        org,
        smtp_host="127.0.0.1",
        smtp_port=2525,
        smtp_security="none",
        from_address="notices@backup.test",
        phone_numbers="01632 960123",
        backup_email="help@backup.test",
    )
    put_records(
        org,
        "customer",
        [
            {
                "key": "C1",
                "name": "Smith Plumbing",
                "contact_name": "Jo Smith",
                "email": "jo@smith.test",
            },
            {
                "key": "C2",
                "name": "Jones Bakery",
                "email": "hello@jones.test",
                "phone": "01632 960555",
            },
        ],
    )
    put_records(org, "order", [{"key": "O1", "number": "SO-1", "customer": "C1", "status": "open"}])
    put_records(
        org,
        "invoice",
        [{"key": "I1", "number": "INV-1", "customer": "C2", "issue_date": "2099-01-01"}],
    )
    KeyAccount.objects.create(org=org, customer_key="C2", name="Jones Bakery", phone="01632 960555")
    incident = lifecycle.declare_manually(org, [crm], "CloudCRM is down", ann)
    return {"org": org, "incident": incident}


def test_a_manager_composes_checks_and_sends_a_first_notice(
    page: Page, live_server: Any, acme: dict[str, Any]
) -> None:
    base, slug = live_server.url, acme["org"].slug
    log_in(page, base, "mo@acme.test")
    page.goto(f"{base}/o/{slug}/incidents/{acme['incident'].pk}/")
    page.get_by_role("link", name="Tell people").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell people")
    page.get_by_label("Affected customers").check()
    page.get_by_label("First notice").check()
    page.get_by_role("button", name="Compose").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("First notice to affected customers")
    expect(page.get_by_role("heading", name="The checker")).to_be_visible()
    expect(page.get_by_text("All five laws are there")).to_be_visible()
    expect(page.get_by_text("Dear Sam Taylor,")).to_be_visible()

    # The checker reads the words as they are typed.
    apologise = page.get_by_label("Apologise", exact=True)
    apologise.fill("We are so sorry. We apologise again.")
    expect(page.get_by_text("2 apologies")).to_be_visible()
    expect(page.get_by_text("As typed, not yet saved")).to_be_visible()
    apologise.fill("We are sorry for the trouble this causes you.")
    expect(page.get_by_text("All five laws are there")).to_be_visible()
    page.get_by_label("Expected back").fill("by 3pm today")
    expect(page.locator("#preview")).to_contain_text("Expected back: by 3pm today.")
    page.get_by_role("button", name="Save the words").click()
    expect(page.get_by_text("Saved. The checker's findings are below.")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "comms_notice.png"), full_page=True)

    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("1 message(s) queued")).to_be_visible()
    expect(page.get_by_role("heading", name="Sending")).to_be_visible()
    notice = Notice.objects.get()
    assert [i.address for i in OutboxItem.objects.filter(notice=notice)] == ["jo@smith.test"]

    page.get_by_role("link", name="Call list: 1 key account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Call list")
    page.get_by_label("Left a message").check()
    page.get_by_role("textbox", name="Spoke to").fill("voicemail")
    page.get_by_role("button", name="Record the call to Jones Bakery").click()
    expect(page.get_by_text("Call recorded.")).to_be_visible()
    expect(page.get_by_role("cell", name="Left a message: voicemail", exact=False)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "comms_calls.png"), full_page=True)
    page.goto(f"{base}/o/{slug}/comms/notices/{notice.pk}/calls/print/")
    page.screenshot(path=str(SCREENSHOTS / "comms_call_list_print.png"), full_page=True)


@pytest.mark.parametrize(
    "viewport", [(1280, 900), (PHONE["width"], PHONE["height"])], ids=["desktop", "phone"]
)
def test_the_comms_pages_have_no_wcag_aa_violations(
    page: Page, live_server: Any, acme: dict[str, Any], viewport: tuple[int, int]
) -> None:
    from fallback.comms import notices

    notice, _ = notices.create(acme["incident"], "all_customers", "first_notice")
    base, slug = live_server.url, acme["org"].slug
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(page, base, "mo@acme.test")
    found = {}
    for path in [
        f"/o/{slug}/comms/",
        f"/o/{slug}/comms/incidents/{acme['incident'].pk}/",
        f"/o/{slug}/comms/notices/{notice.pk}/",
        f"/o/{slug}/comms/notices/{notice.pk}/calls/",
        f"/o/{slug}/comms/outbox/",
        f"/o/{slug}/comms/settings/",
        f"/o/{slug}/comms/templates/",
        f"/o/{slug}/comms/key-accounts/",
        f"/o/{slug}/comms/opt-outs/",
        f"/o/{slug}/comms/channels/",
    ]:
        page.goto(base + path)
        problems = violations(page)
        if problems:
            found[path] = problems
    assert found == {}
