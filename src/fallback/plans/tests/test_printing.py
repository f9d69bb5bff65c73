"""The printable plan: any past version as a page and a PDF, from its JSON alone."""

from __future__ import annotations

import pytest

from fallback.plans import editing, printing
from fallback.plans.models import Band, ContactKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(world):
    plan = editing.start(world["acme"], world["ann"])
    orders = plan.activities.get(name="Taking orders")
    editing.save_activity(
        plan,
        orders,
        impacts={Band.HOURS_8_24: editing.ImpactInput(money=12500, customers=40, note="peak")},
    )
    it = editing.save_contact(
        plan, None, kind=ContactKind.VENDOR_SUPPORT, name="IT Partner", phones="0113 496 0000"
    )
    editing.save_role(plan, plan.roles.get(), holder=world["ann"], alternates=[it])
    return plan


def test_a_version_prints_every_part_of_the_plan(world, plan):
    html = printing.version_html(plan.versions.first(), screen=True, pdf_url="/x.pdf")
    assert "Continuity plan" in html and "Acme" in html
    assert "Incident lead" in html and "Ann Archer (ann@acme.test)" in html
    assert "IT Partner (0113 496 0000)" in html  # an alternate from the contacts, reachable
    assert "GBP 12,500" in html and "peak" in html
    assert "1 day" in html and "4 hours" in html  # MTPD and RTO in words
    assert "A system or its data is lost" in html and "CloudCRM" in html
    assert "Download PDF" in html and "/x.pdf" in html


def test_an_old_version_prints_as_it_was(world, plan):
    old = plan.versions.get(number=1)
    editing.remove(plan.activities.get(name="Taking orders"))
    html = printing.version_html(old)
    assert "Taking orders" in html
    assert "IT Partner" not in html  # added later
    assert f"version {old.number}" in html


def test_the_pdf_is_a_pdf(world, plan):
    pdf = printing.version_pdf(plan.versions.first())
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
