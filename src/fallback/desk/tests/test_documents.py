"""Documents: filled from the replica, totalled, numbered, saved once per request, voided not
deleted, refused with every problem named and nothing saved."""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from fallback.accounts.models import Organisation
from fallback.audit.models import AuditEvent
from fallback.desk import documents, mode, numbering
from fallback.desk.documents import DocumentInput, DocumentProblem, LineInput
from fallback.desk.models import Document, DocumentLine
from fallback.desk.tests.conftest import put_records
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org = make_org("Harbour Plumbing")
    put_records(
        org,
        "customer",
        [{"key": "C1", "name": "Smith Plumbing", "city": "Leeds", "email": "a@smith.test"}],
    )
    put_records(
        org,
        "product",
        [
            {"key": "P1", "name": "Copper pipe", "sku": "CP", "price": "4.50", "tax_rate": "20"},
            {"key": "P2", "name": "Gas meter", "sku": "GM", "price": "80.00", "tax_rate": "5"},
        ],
    )
    return org


@pytest.fixture
def user():
    return make_user("staff@example.com")


@pytest.fixture
def device(org):
    return numbering.register_device(org, "Front desk")


@pytest.fixture
def on(org, user):
    return mode.switch_on(org, user, "CRM down")


def invoice(org, lines=None, **extra):
    name, details = documents.party_details(org, "customer", "C1")
    fields = {
        "kind": "invoice",
        "party_key": "C1",
        "party_name": name,
        "party_details": details,
        "lines": lines
        if lines is not None
        else [documents.product_line(org, "P1", 3), documents.product_line(org, "P2", 1)],
    }
    return DocumentInput(**(fields | extra))


def test_an_invoice_is_filled_from_the_replica_and_totalled(org, user, device, on):
    doc, created = documents.create(org, device, invoice(org), "key-1", user)
    assert created and doc.number == "FB1-A-INV0001"
    assert doc.party_details == {"city": "Leeds", "email": "a@smith.test"}
    assert (doc.subtotal, doc.tax, doc.total) == (D("93.50"), D("6.70"), D("100.20"))
    lines = list(doc.lines.all())
    assert [(x.sku, x.quantity, x.unit_price, x.tax_rate) for x in lines] == [
        ("CP", D("3"), D("4.50"), D("20")),
        ("GM", D("1"), D("80"), D("5")),
    ]
    assert doc.due_on is not None and doc.currency == org.currency
    assert AuditEvent.objects.filter(action="desk.document.created").count() == 1


def test_the_same_request_key_returns_the_same_document(org, user, device, on):
    first, _ = documents.create(org, device, invoice(org), "key-1", user)
    again, created = documents.create(org, device, invoice(org), "key-1", user)
    assert again.pk == first.pk and not created
    assert Document.objects.count() == 1 and DocumentLine.objects.count() == 2


def test_every_problem_is_named_and_nothing_is_saved(org, user, device, on):
    bad = invoice(
        org,
        lines=[
            LineInput(description="Pipe", quantity="2", unit_price="1"),
            LineInput(description="", quantity="two", unit_price="1"),
            LineInput(description="Fee", quantity="1", unit_price="5", tax_rate="120"),
        ],
        party_name=" ",
    )
    with pytest.raises(DocumentProblem) as caught:
        documents.create(org, device, bad, "key-1", user)
    places = [where for where, _ in caught.value.problems]
    assert places == [
        "party_name",
        "lines[2].description",
        "lines[2].quantity",
        "lines[3].tax_rate",
    ]
    assert "the quantity is not a number: 'two'" in str(caught.value)
    assert Document.objects.count() == 0


def test_no_document_outside_fallback_mode(org, user, device):
    with pytest.raises(DocumentProblem, match="fallback mode is off"):
        documents.create(org, device, invoice(org), "key-1", user)


def test_a_device_of_another_organisation_is_refused(org, user, on):
    stranger = numbering.register_device(make_org("Other"), "PC")
    with pytest.raises(DocumentProblem, match="another organisation"):
        documents.create(org, stranger, invoice(org), "key-1", user)


def test_a_purchase_order_is_addressed_to_a_supplier(org, user, device, on):
    data = DocumentInput(
        kind="purchase_order",
        party_name="Pipe Supplies Ltd",
        lines=[LineInput(description="15mm pipe, 100 m", quantity="1", unit_price="120")],
    )
    doc, _ = documents.create(org, device, data, "po-1", user)
    assert doc.party == "supplier" and doc.number == "FB1-A-PO0001"


def test_an_order_made_from_a_quote_keeps_its_customer_and_lines(org, user, device, on):
    quote, _ = documents.create(org, device, invoice(org, kind="quote"), "q-1", user)
    order, _ = documents.create(org, device, documents.derive(quote, "order"), "o-1", user)
    assert order.source_id == quote.pk and order.party_key == "C1"
    assert order.total == quote.total and order.number == "FB1-A-SO0001"


def test_voiding_keeps_the_document_with_the_reason(org, user, device, on):
    doc, _ = documents.create(org, device, invoice(org), "key-1", user)
    with pytest.raises(DocumentProblem, match="say why"):
        documents.void(doc, user, "")
    documents.void(doc, user, "Customer cancelled")
    doc.refresh_from_db()
    assert doc.is_void and doc.void_reason == "Customer cancelled"
    assert Document.objects.filter(pk=doc.pk).exists()


def test_issue_date_is_today_in_the_organisations_time_zone(org, user, device, on):
    Organisation.objects.filter(pk=org.pk).update(time_zone="Pacific/Auckland")
    org.refresh_from_db()
    evening_in_london = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 2 March in Auckland
    doc, _ = documents.create(org, device, invoice(org), "key-1", user, now=evening_in_london)
    assert doc.issued_on == date(2026, 3, 2)


def test_a_quote_is_valid_for_the_desks_days(org, user, device, on):
    data = invoice(org, kind="quote", issued_on=date(2026, 3, 1))
    doc, _ = documents.create(org, device, data, "q-1", user)
    assert doc.due_on == date(2026, 3, 31)


def test_a_line_naming_a_product_the_replica_lacks_is_refused(org, user, device, on):
    lines = [
        documents.product_line(org, "P1", 1),
        LineInput(description="Ghost", quantity=1, unit_price=1, product_key="P404"),
    ]
    with pytest.raises(DocumentProblem) as caught:
        documents.create(org, device, invoice(org, lines=lines), "key-1", user)
    assert caught.value.problems == [("lines[2].product_key", "no product 'P404' in the replica")]
    assert not Document.objects.exists()
