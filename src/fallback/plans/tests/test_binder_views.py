"""The binder's pages: what is in it and whether the printed copy is up to date, the
download (recorded), "we printed it", the warning on the plan's home; the scope and policy;
the ISO 22301 coverage page and PDF — and only within one organisation."""

from __future__ import annotations

import html
import re

import pytest

from fallback.plans import binder, editing
from fallback.plans.models import BinderCopy, ContactKind
from fallback.plans.tests.conftest import as_user, url

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def plan(world):
    return editing.start(world["acme"], world["ann"])


def test_the_binder_page_says_it_was_never_printed_and_what_is_in_it(world, plan):
    page = text(as_user(world["val"]).get(url("binder", world["acme"])))
    assert "Not printed yet" in page
    assert binder.inputs(plan).code in page
    assert "Roles and the contact tree" in page and "Blank paper forms" in page
    assert "fallback binder acme -o binder.pdf" in page


def test_anyone_in_the_organisation_downloads_it_and_the_copy_is_recorded(world, plan):
    response = as_user(world["sid"]).post(url("binder_download", world["acme"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    made = binder.inputs(plan)
    assert f'filename="acme-grab-binder-{made.code.lower()}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    copy = BinderCopy.objects.get()
    assert (copy.by, copy.kind, copy.fingerprint) == (world["sid"], "downloaded", made.fingerprint)
    page = text(as_user(world["ann"]).get(url("binder", world["acme"])))
    assert "The printed copy is up to date" in page


def test_the_plan_home_warns_when_the_printed_binder_is_out_of_date(world, plan):
    ann = as_user(world["ann"])
    ann.post(url("binder_printed", world["acme"]))
    assert "Print it again" not in text(ann.get(url("home", world["acme"])))
    editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", phones="1")
    page = text(ann.get(url("home", world["acme"])))
    assert "The printed binder is out of date" in page and "the plan (now version" in page
    binder_page = text(ann.get(url("binder", world["acme"])))
    assert "The printed binder is out of date" in binder_page
    dashboard = text(ann.get(f"/o/{world['acme'].slug}/"))
    assert "The printed grab binder" in dashboard


def test_downloads_stay_within_the_organisation(world, plan):
    bob = as_user(world["bob"])
    assert bob.post(url("binder_download", world["acme"])).status_code == 404
    assert bob.get(url("binder", world["acme"])).status_code == 404
    assert not BinderCopy.objects.exists()


def test_downloading_needs_a_post(world, plan):
    assert as_user(world["ann"]).get(url("binder_download", world["acme"])).status_code == 405


def test_scope_and_policy_are_saved_and_kept_in_the_history(world, plan):
    ann = as_user(world["ann"])
    response = ann.post(
        url("statements", world["acme"]),
        {"scope": "The Leeds office and its two systems.", "policy": "We drill twice a year."},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.scope.startswith("The Leeds office")
    latest = plan.versions.order_by("-number").first()
    assert latest.summary == "Scope and policy changed"
    assert "Scope: — → The Leeds office and its two systems." in latest.changes
    assert as_user(world["val"]).get(url("statements", world["acme"])).status_code == 403
    too_long = ann.post(url("statements", world["acme"]), {"scope": "x" * 5001, "policy": ""})
    assert too_long.status_code == 200 and "at most 5000 characters" in too_long.content.decode()


def test_the_iso_page_prints_every_clause_and_links_what_to_add(world, plan):
    page = as_user(world["val"]).get(url("iso22301", world["acme"]))
    body = text(page)
    assert "ISO 22301 coverage" in body and "Download PDF" in body
    for clause in ("4.1", "5.2", "6.1", "7.5", "8.5", "9.3", "10.2"):
        assert clause in body
    assert "Write the policy" in body and url("statements", world["acme"]) in page.content.decode()
    pdf = as_user(world["val"]).get(url("iso22301_pdf", world["acme"]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
