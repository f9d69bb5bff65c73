"""axe-core finds no WCAG 2 A/AA violations on the main pages, on a desktop and on a phone.

axe-core is vendored next to this file (tests only; never served): no network needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from fallback.accounts.models import Membership
from fallback.audit.models import AuditEvent
from fallback.testing.factories import PASSWORD, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


@pytest.fixture
def owner_pages(live_server: Any) -> tuple[str, list[str]]:
    ann = make_user("ann@acme.test")
    org = make_org("Acme Trading", owner=ann)
    member = Membership.objects.get(org=org, user=ann)
    event = AuditEvent.objects.filter(org=org).first()
    assert event is not None
    base = live_server.url
    slug = org.slug
    return base, [
        f"{base}/",
        f"{base}/o/{slug}/",
        f"{base}/o/{slug}/audit/",
        f"{base}/o/{slug}/audit/{event.pk}/",
        f"{base}/o/{slug}/settings/",
        f"{base}/o/{slug}/settings/members/",
        f"{base}/o/{slug}/settings/members/{member.pk}/",
        f"{base}/account/",
        f"{base}/account/password/",
        f"{base}/account/tokens/",
    ]


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_main_pages_have_no_wcag_aa_violations(
    page: Page, owner_pages: tuple[str, list[str]], viewport: tuple[int, int]
) -> None:
    base, urls = owner_pages
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(base + "/login/")
    assert violations(page) == [], "login page"
    page.get_by_label("Email").fill("ann@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/o/**")
    found = {}
    for url in urls:
        page.goto(url)
        problems = violations(page)
        if problems:
            found[url.removeprefix(base)] = problems
    assert found == {}
