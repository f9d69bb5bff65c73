"""The work log: notes saved once per request, linked to a customer or document, voided."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.desk import documents, mode, notes, numbering
from fallback.desk.documents import DocumentInput, DocumentProblem, LineInput
from fallback.desk.models import WorkNote
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org("Harbour Plumbing")


@pytest.fixture
def user():
    return make_user("staff@example.com")


def test_a_note_in_fallback_mode_joins_the_open_period(org, user):
    period = mode.switch_on(org, user, "CRM down")
    note, created = notes.add(org, "Promised Smith delivery Friday", "n-1", user, kind="promise")
    assert created and note.period == period and note.kind == "promise"
    again, created = notes.add(org, "Promised Smith delivery Friday", "n-1", user)
    assert again.pk == note.pk and not created
    assert WorkNote.objects.count() == 1


def test_a_note_outside_fallback_mode_belongs_to_no_period(org, user):
    note, _ = notes.add(org, "Called the bank", "n-1", user, kind="call")
    assert note.period is None


def test_a_note_about_a_document_takes_its_customer(org, user):
    mode.switch_on(org, user, "CRM down")
    device = numbering.register_device(org, "PC")
    doc, _ = documents.create(
        org,
        device,
        DocumentInput(
            kind="invoice",
            party_key="C1",
            party_name="Smith Plumbing",
            lines=[LineInput(description="Call-out", quantity=1, unit_price=60)],
        ),
        "d-1",
        user,
    )
    note, _ = notes.add(org, "Goods sent by courier", "n-1", user, document_id=doc.pk)
    assert (note.party, note.party_key, note.party_name) == ("customer", "C1", "Smith Plumbing")


def test_bad_notes_are_refused_naming_each_problem(org, user):
    future = timezone.now() + timedelta(hours=1)
    with pytest.raises(DocumentProblem) as caught:
        notes.add(org, " ", "n-1", user, kind="gossip", at=future, document_id=999)
    assert [w for w, _ in caught.value.problems] == ["text", "kind", "at", "document"]
    assert not WorkNote.objects.exists()


def test_a_voided_note_stays_with_its_reason(org, user):
    note, _ = notes.add(org, "Wrong customer", "n-1", user)
    notes.void(note, user, "Logged against the wrong customer")
    assert WorkNote.objects.get(pk=note.pk).void_reason == "Logged against the wrong customer"
