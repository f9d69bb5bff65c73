"""The grab binder: one PDF with every section (checked by text extraction and by turning its
pages into images with poppler's pdftotext and pdftoppm), its fingerprint, the copies taken
and the warning when the paper copy is out of date, and the PDF kept by fingerprint."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from fallback.desk import printing as desk_printing
from fallback.desk.models import DeskSettings
from fallback.desk.tests.conftest import put_records
from fallback.plans import binder, editing, staleness
from fallback.plans.models import BinderCopy, ContactKind, CopyKind
from fallback.plans.tests.conftest import complete_one_system_plan

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed")


@pytest.fixture
def plan(world):
    with time_machine.travel(START, tick=False):
        plan = complete_one_system_plan(editing.start(world["acme"], world["ann"]), world)
        put_records(
            world["acme"],
            "product",
            [
                {"key": "P1", "name": "Copper pipe", "sku": "CP-15", "price": "8.45"},
                {"key": "P2", "name": "Boiler", "sku": "B-9", "price": "1000"},
            ],
            at=START,
        )
        desk = DeskSettings.objects.create(
            org=world["acme"],
            letterhead_name="Acme Trading Ltd",
            letterhead_address="1 Harbour Road\nLeeds LS1 1AA",
            letterhead_phone="0113 496 0001",
        )
        assert desk.pk
    return plan


def pdf_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page."""
    source = tmp_path / "binder.pdf"
    source.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout
    return out.split("\f")


def page_with(pages: list[str], heading: str) -> int:
    """The first page after the contents with a line that starts or ends with `heading`."""
    for i, page in enumerate(pages[2:], start=2):
        lines = [line.strip() for line in page.splitlines()]
        if any(line.startswith(heading) or line.endswith(heading) for line in lines):
            return i
    raise AssertionError(f"no page has the heading {heading!r}")


@needs_poppler
def test_the_binder_has_every_section_in_order(world, plan, tmp_path):
    made = binder.render(plan)
    pages = pdf_text(made.pdf, tmp_path)
    text = "\n".join(pages)
    cover = pages[0]
    assert "GRAB BINDER" in cover and "Acme" in cover  # the kicker is set in capitals
    assert "If found, please return to" in cover and "1 Harbour Road" in cover
    assert made.inputs.code in cover
    assert "Contents" in pages[1]
    # Each section's heading, in the order people need them.
    headings = [
        "Roles and the contact tree",
        "Scenarios and procedures",
        "What matters",
        "Risks",
        "Notice scripts",
        "Opening a snapshot by hand",
        "PRICE LIST",  # the desk's pages set their titles in capitals
        "WORK LOG",
    ]
    where = [page_with(pages, h) for h in headings]
    assert where == sorted(where), dict(zip(headings, where, strict=True))
    # What each holds.
    assert "Incident lead" in text and "Ann Archer" in text
    assert "CloudCo support" in text and "0800 123 4567" in text
    assert "A system or its data is lost" in text and "Confirm the outage" in text
    assert "When it is over (system back up)" in text
    assert "Taking orders" in text
    assert "Phone script for key accounts" in text and "[what is down]" in text
    assert "Copper pipe" in text and "Boiler" in text
    assert "AGE-SECRET-KEY-1" in text
    for label in desk_printing.BLANK_FORMS.values():
        assert label.lower() in text.lower()
    # The contents give each part's page, and every page after the cover says which it is.
    contents = pages[1]
    for heading, index in zip(headings[:5], where[:5], strict=True):
        line = next(line for line in contents.splitlines() if heading in line)
        assert line.split()[-1] == str(index + 1), line
    assert all(
        f"Page {i + 1}" in page or f"page {i + 1}" in page for i, page in enumerate(pages[1:-1], 1)
    )
    assert len(pages) - 1 == made.pages  # pdftotext ends with a form feed


@needs_poppler
def test_the_binder_pages_turn_into_images(plan, tmp_path):
    made = binder.render(plan)
    source = tmp_path / "binder.pdf"
    source.write_bytes(made.pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(source), str(tmp_path / "page")], check=True
    )
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == made.pages
    assert all(p.stat().st_size > 1000 for p in images)


def test_the_notice_scripts_use_the_organisations_own_words(world, plan):
    comms = pytest.importorskip("fallback.comms.models")  # another app: it may be left out
    comms_defaults = pytest.importorskip("fallback.comms.defaults")
    MessageTemplate, KeyAccount, Phase = comms.MessageTemplate, comms.KeyAccount, comms.Phase
    MessageTemplate.objects.create(
        org=world["acme"],
        audience="staff",
        phase=Phase.FIRST_NOTICE,
        subject="Fallback mode for {{ systems }}",
        notify="Everyone: {{ systems }} is down since {{ since }}.",
    )
    KeyAccount.objects.create(
        org=world["acme"], customer_key="C1", name="Smith & Co", phone="0113 496 0200"
    )
    found = binder.notice_scripts(world["acme"])
    assert found is not None
    staff = next(s for s in found.scripts if s.audiences == ["Staff"] and s.phase == "First notice")
    assert staff.own and staff.subject == "Fallback mode for [what is down]"
    assert staff.parts == [
        ("Notify", "Everyone: [what is down] is down since [when it went down].")
    ]
    customers = next(s for s in found.scripts if "All customers" in s.audiences)
    assert "Key accounts" in customers.audiences  # the same words, printed once
    assert found.key_accounts[0]["name"] == "Smith & Co"
    assert found.call_script[0][0] == "Tell them"
    # Reading the templates makes none.
    assert not MessageTemplate.objects.exclude(audience="staff").exists()
    assert comms_defaults.words_for("customers", Phase.FIRST_NOTICE).subject


def test_the_fingerprint_follows_what_is_in_the_binder(world, plan):
    comms = pytest.importorskip("fallback.comms.models")
    first = binder.inputs(plan)
    assert binder.inputs(plan).fingerprint == first.fingerprint  # nothing changed
    editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", phones="1")
    after_plan = binder.inputs(plan)
    assert after_plan.parts["plan"] != first.parts["plan"]
    put_records(world["acme"], "product", [{"key": "P1", "name": "Copper pipe", "price": "9"}])
    after_prices = binder.inputs(plan)
    assert after_prices.parts["prices"] != after_plan.parts["prices"]
    comms.MessageTemplate.objects.create(
        org=world["acme"], audience="staff", phase="update", subject="Still down"
    )
    assert binder.inputs(plan).parts["notices"] != after_prices.parts["notices"]


def test_making_the_binder_does_not_change_its_fingerprint(world):
    plan = editing.start(world["acme"], world["ann"])  # no desk settings saved yet
    before = binder.inputs(plan).fingerprint
    made = binder.render(plan)
    assert DeskSettings.objects.filter(org=world["acme"]).exists()
    assert made.inputs.fingerprint == before == binder.inputs(plan).fingerprint


def test_the_binder_is_kept_by_fingerprint_and_made_again_after_a_change(world, plan, data_folder):
    pdf, made = binder.cached(plan)
    kept = data_folder / "binders" / str(world["acme"].pk) / f"{made.fingerprint}.pdf"
    assert kept.read_bytes() == pdf
    kept.write_bytes(b"%PDF-kept")  # proves the second call reads the file
    assert binder.cached(plan)[0] == b"%PDF-kept"
    editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", phones="1")
    again, newer = binder.cached(plan)
    assert newer.fingerprint != made.fingerprint and again.startswith(b"%PDF-1")
    assert not kept.exists()  # the old one is dropped
    assert binder.is_cached(plan)


def test_a_copy_records_who_took_which_binder(world, plan):
    made = binder.inputs(plan)
    copy = binder.record_copy(plan, made, CopyKind.DOWNLOADED, world["ann"])
    assert (copy.by, copy.fingerprint, copy.plan_version) == (
        world["ann"],
        made.fingerprint,
        made.plan_version,
    )
    assert binder.status(plan).up_to_date
    with pytest.raises(ValueError):
        binder.record_copy(plan, made, "lost", world["ann"])
    assert BinderCopy.objects.count() == 1


def test_the_printed_copy_is_out_of_date_after_a_change_and_says_what(world, plan):
    assert binder.status(plan).why == "never printed or downloaded"
    with time_machine.travel(START + timedelta(days=1), tick=False):
        binder.record_copy(plan, binder.inputs(plan), CopyKind.PRINTED, world["ann"])
    with time_machine.travel(START + timedelta(days=3), tick=False):
        editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", phones="1")
        put_records(world["acme"], "product", [{"key": "P1", "name": "Copper pipe", "price": "9"}])
    found = binder.status(plan)
    assert not found.up_to_date
    version = plan.versions.order_by("-number").first().number
    assert found.why == (
        f"out of date, since 5 Mar 2026: the plan (now version {version}) and the prices "
        "changed after the copy of 3 Mar 2026"
    )


def test_the_binder_part_is_due_once_a_copy_is_out_of_date(world, plan):
    assert "binder" not in {p.key for p in staleness.parts(plan)}  # never printed: not a part
    binder.record_copy(plan, binder.inputs(plan), CopyKind.PRINTED, world["ann"])
    part = next(p for p in staleness.parts(plan) if p.key == "binder")
    assert not part.stale
    editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", phones="1")
    part = next(p for p in staleness.parts(plan) if p.key == "binder")
    assert part.stale and part.why.startswith("out of date")
    assert part.period == binder.inputs(plan).fingerprint[:16]
    assert part.url.endswith("/plan/binder/")


def test_a_big_price_list_is_cut_and_says_where_the_rest_is(world, plan, tmp_path):
    put_records(
        world["acme"],
        "product",
        [{"key": f"P{i:03}", "name": f"Part {i:03}", "price": "1"} for i in range(30)],
    )
    made = binder.render(plan, price_rows=10)
    text = "\n".join(pdf_text(made.pdf, tmp_path)) if POPPLER else ""
    if POPPLER:
        assert "The first 10 of 32 rows" in text
