"""The printing pages: a document's printable page and PDF, blank forms and the price list,
for anyone who may see the organisation, and nothing of another organisation's."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.desk import documents, mode, numbering, printing
from fallback.desk.documents import DocumentInput, LineInput
from fallback.desk.models import Document
from fallback.desk.tests.conftest import put_records
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme (Val views it), Bob owns Bravo; each has an invoice."""
    ann, bob, val = make_user("ann@acme.test"), make_user("bob@bravo.test"), make_user("v@a.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    join(acme, val, Role.VIEWER)
    people = {"ann": ann, "bob": bob, "val": val, "acme": acme, "bravo": bravo}
    for org, owner in [(acme, ann), (bravo, bob)]:
        mode.switch_on(org, owner, "CRM down")
        device = numbering.register_device(org, "Front desk")
        people[f"{org.slug}_invoice"] = documents.create(
            org,
            device,
            DocumentInput(
                kind="invoice",
                party_name="Smith Heating",
                issued_on=date(2026, 3, 5),
                lines=[LineInput(description="Copper pipe", quantity="2", unit_price="12.50")],
            ),
            f"{org.slug}-1",
            owner,
        )[0]
    return people


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, org: Organisation, **kwargs) -> str:
    return reverse(f"desk:{name}", kwargs={"org_slug": org.slug, **kwargs})


def test_the_printable_page_shows_the_document_with_print_and_pdf_buttons(world):
    invoice: Document = world["acme_invoice"]
    response = as_user(world["ann"]).get(url("document-print", world["acme"], pk=invoice.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert invoice.number in page and "Smith Heating" in page
    assert "data-print" in page
    assert f'href="{url("document-pdf", world["acme"], pk=invoice.pk)}"' in page
    assert "no-store" in response["Cache-Control"]


def test_the_pdf_is_inline_and_named_after_the_number(world):
    invoice: Document = world["acme_invoice"]
    response = as_user(world["ann"]).get(url("document-pdf", world["acme"], pk=invoice.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_another_organisations_document_is_not_found(world):
    theirs: Document = world["bravo_invoice"]
    client = as_user(world["ann"])
    for name in ("document-print", "document-pdf"):
        assert client.get(url(name, world["acme"], pk=theirs.pk)).status_code == 404
        assert client.get(url(name, world["bravo"], pk=theirs.pk)).status_code == 404
    assert client.get(url("document-pdf", world["acme"], pk=999999)).status_code == 404


def test_a_viewer_may_print_documents_forms_and_the_price_list(world):
    put_records(world["acme"], "product", [{"key": "P1", "name": "Copper pipe", "price": "8"}])
    client = as_user(world["val"])
    invoice: Document = world["acme_invoice"]
    assert client.get(url("document-pdf", world["acme"], pk=invoice.pk)).status_code == 200
    assert client.get(url("blank-form", world["acme"], kind="work_log")).status_code == 200
    response = client.get(url("price-list", world["acme"], fmt="csv"))
    assert response.status_code == 200
    assert "Copper pipe" in response.content.decode("utf-8-sig")


def test_someone_logged_out_is_sent_to_log_in(world):
    invoice: Document = world["acme_invoice"]
    response = Client().get(url("document-pdf", world["acme"], pk=invoice.pk))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("kind", list(printing.BLANK_FORMS))
def test_every_blank_form_downloads_as_a_pdf(world, kind):
    response = as_user(world["ann"]).get(url("blank-form", world["acme"], kind=kind))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    name = kind.replace("_", "-")
    assert response["Content-Disposition"] == f'inline; filename="acme-blank-{name}.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_an_unknown_blank_form_is_not_found(world):
    response = as_user(world["ann"]).get(url("blank-form", world["acme"], kind="receipt"))
    assert response.status_code == 404


def test_the_price_list_comes_as_csv_or_pdf_with_the_date_in_its_name(world):
    put_records(world["acme"], "product", [{"key": "P1", "name": "Copper pipe", "price": "8"}])
    client = as_user(world["ann"])
    today = timezone.localdate(timezone.now(), timezone=org_zone(world["acme"]))
    csv_response = client.get(url("price-list", world["acme"], fmt="csv"))
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response["Content-Disposition"] == (
        f'attachment; filename="acme-price-list-{today.isoformat()}.csv"'
    )
    assert csv_response.content.startswith(b"\xef\xbb\xbfsku,name,unit,")
    pdf_response = client.get(url("price-list", world["acme"], fmt="pdf"))
    assert pdf_response["Content-Type"] == "application/pdf"
    assert pdf_response["Content-Disposition"] == (
        f'inline; filename="acme-price-list-{today.isoformat()}.pdf"'
    )
    assert pdf_response.content.startswith(b"%PDF-")
    assert client.get(url("price-list", world["acme"], fmt="xlsx")).status_code == 404


def test_the_price_list_holds_only_this_organisations_products(world):
    put_records(world["bravo"], "product", [{"key": "S", "name": "Bravo secret", "price": "1"}])
    response = as_user(world["ann"]).get(url("price-list", world["acme"], fmt="csv"))
    assert "Bravo secret" not in response.content.decode("utf-8-sig")
    assert (
        as_user(world["ann"]).get(url("price-list", world["bravo"], fmt="csv")).status_code == 404
    )
