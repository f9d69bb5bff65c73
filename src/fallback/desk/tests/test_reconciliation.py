"""The way back: every document and note of a period ticked with its final number or waived,
and the incident held open until then."""

import pytest

from fallback.desk import documents, mode, notes, numbering, reconciliation
from fallback.desk.documents import DocumentInput, DocumentProblem, LineInput
from fallback.desk.models import Device
from fallback.incidents import lifecycle
from fallback.incidents.lifecycle import IncidentError
from fallback.incidents.models import Status
from fallback.monitor.models import System
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org("Harbour Plumbing")


@pytest.fixture
def user():
    return make_user("staff@example.com")


@pytest.fixture
def incident(org, user):
    crm = System.objects.create(org=org, name="CRM", slug="crm")
    return lifecycle.declare_manually(org, [crm], "CRM down", user)


def make_invoice(org, user, key):
    device = Device.objects.filter(org=org).first() or numbering.register_device(org, "PC")
    data = DocumentInput(
        kind="invoice",
        party_name="Smith Plumbing",
        lines=[LineInput(description="Call-out", quantity=1, unit_price=60)],
    )
    return documents.create(org, device, data, key, user)[0]


def test_every_document_and_note_is_a_line(org, user, incident):
    doc = make_invoice(org, user, "d-1")
    note, _ = notes.add(org, "Called Smith", "n-1", user, kind="call")
    period = mode.state(org).period
    lines = reconciliation.lines(period)
    assert [(line.item, line.status) for line in lines] == [(doc, "open"), (note, "open")]
    assert reconciliation.open_count(period) == 2


def test_the_incident_cannot_be_resolved_while_lines_are_open(org, user, incident):
    doc = make_invoice(org, user, "d-1")
    note, _ = notes.add(org, "Called Smith", "n-1", user)
    with pytest.raises(IncidentError, match="2 documents or notes"):
        lifecycle.resolve(incident, user)
    reconciliation.tick(doc, "INV-1043", user)
    with pytest.raises(IncidentError, match="1 document or note made at the desk"):
        lifecycle.resolve(incident, user)
    reconciliation.waive(note, user, "Nothing to enter for a call")
    lifecycle.resolve(incident, user)
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED


def test_a_document_needs_its_final_number_and_numbers_do_not_repeat(org, user, incident):
    first, second = make_invoice(org, user, "d-1"), make_invoice(org, user, "d-2")
    with pytest.raises(DocumentProblem, match="give the number"):
        reconciliation.tick(first, " ", user)
    reconciliation.tick(first, "INV-1043", user)
    with pytest.raises(DocumentProblem, match="already given to FB1-A-INV0001"):
        reconciliation.tick(second, "INV-1043", user)
    assert first.final_number == "INV-1043" and first.reconciled_at is not None


def test_a_voided_document_is_not_open_and_cannot_be_ticked(org, user, incident):
    doc = make_invoice(org, user, "d-1")
    documents.void(doc, user, "Typed twice")
    assert reconciliation.open_count(mode.state(org).period) == 0
    assert reconciliation.lines(mode.state(org).period)[0].status == "void"
    with pytest.raises(DocumentProblem, match="void"):
        reconciliation.tick(doc, "INV-1", user)


def test_a_waiver_needs_a_reason_and_can_be_undone(org, user, incident):
    doc = make_invoice(org, user, "d-1")
    with pytest.raises(DocumentProblem, match="say why"):
        reconciliation.waive(doc, user, "")
    reconciliation.waive(doc, user, "Customer paid cash, entered by accountant")
    assert doc.waive_reason.startswith("Customer paid")
    reconciliation.reopen(doc, user)
    assert doc.is_open


def test_the_checklist_comes_from_the_settings_or_the_defaults(org, user, incident):
    make_invoice(org, user, "d-1")
    period = mode.state(org).period
    assert reconciliation.checklist(period) == list(reconciliation.DEFAULT_CHECKLIST)
    desk = mode.settings_for(org)
    desk.system_back_checklist = "Log in to the CRM\n\nEnter the orders\n"
    desk.save()
    assert reconciliation.checklist(period) == ["Log in to the CRM", "Enter the orders"]


def test_an_incident_without_desk_work_resolves_at_once(org, user, incident):
    lifecycle.resolve(incident, user)
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
