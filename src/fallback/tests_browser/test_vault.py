"""Backups in a real browser: the installation's administrator opens Backups from the
account menu, adds a USB-disk folder, takes a snapshot and restore-tests it; the pages pass
axe-core's WCAG 2.1 AA checks on a desktop and on a phone. Screenshots land in
test-artifacts/ for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyrage  # type: ignore[import-untyped]
import pytest
from playwright.sync_api import Page, expect

from fallback import sealing
from fallback.testing.factories import make_org, make_user
from fallback.tests_browser.test_accessibility import violations
from fallback.tests_browser.test_systems_and_incidents import PHONE, log_in, shoot
from fallback.vault.models import Recipient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(settings: Any, tmp_path: Path) -> Any:
    settings.FALLBACK_HOME = tmp_path / "home"
    settings.FALLBACK_HOME.mkdir()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    sealing.forget_identity()
    user = make_user("ann@acme.test")
    user.is_superuser = True
    user.save()
    make_org("Acme Trading", owner=user)
    key = pyrage.x25519.Identity.generate()
    Recipient.objects.create(label="Binder", public_key=str(key.to_public()))
    return user


def test_administrator_adds_a_folder_takes_a_snapshot_and_tests_it(
    page: Page, live_server: Any, admin: Any, artifacts_dir: Path, tmp_path: Path
) -> None:
    base = live_server.url
    disk = tmp_path / "usb"
    disk.mkdir()
    log_in(page, base, "ann@acme.test")
    page.locator("details.account summary").click()
    page.get_by_role("link", name="Backups", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Backups")
    assert violations(page) == [], "backups page, empty"

    page.get_by_role("link", name="Add destination").click()
    assert violations(page) == [], "destination form"
    page.get_by_label("Name", exact=True).fill("usb")
    page.get_by_label("Local folder (USB disk, NAS)").check()
    page.get_by_role("textbox", name="Folder").fill(str(disk))
    page.get_by_role("button", name="Save destination").click()
    expect(page.get_by_text("Destination usb saved and ready.")).to_be_visible()

    page.get_by_role("button", name="Snapshot now").click()
    expect(page.get_by_text("A snapshot is being taken")).to_be_visible()
    page.reload()
    row = page.locator("table").first
    expect(row.get_by_text("fallback-", exact=False)).to_be_visible()
    page.get_by_role("button", name="Verify now").click()
    expect(page.locator("table").first.get_by_text("Passed")).to_be_visible()
    assert len(list(disk.glob("*.tar.zst.age"))) == 1
    page.goto(base + "/vault/")  # without the flash message (base.html's list of messages)
    assert violations(page) == [], "backups page with a snapshot"
    shoot(page, artifacts_dir, "vault-backups")

    page.set_viewport_size(PHONE)
    page.goto(base + "/vault/")
    assert violations(page) == [], "backups page on a phone"
    page.goto(base + "/vault/file-sets/new/")
    assert violations(page) == [], "file set form on a phone"
    shoot(page, artifacts_dir, "vault-file-set-phone")
