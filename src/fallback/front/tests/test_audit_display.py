from __future__ import annotations

import pytest

from fallback.audit.models import AuditEvent
from fallback.front.audit_display import Change, action_choices, changes_of, events_for
from fallback.testing.factories import make_org


def test_updates_read_as_old_and_new():
    event = AuditEvent(changes={"name": ["Acme", "Acme Ltd"]})
    assert changes_of(event) == [Change("name", "Acme", "Acme Ltd", has_old=True)]


def test_snapshots_read_as_values_without_old():
    event = AuditEvent(changes={"slug": "acme", "currency": "GBP"})
    assert changes_of(event) == [
        Change("slug", None, "acme", has_old=False),
        Change("currency", None, "GBP", has_old=False),
    ]


def test_changes_that_are_not_a_mapping_read_as_none():
    assert changes_of(AuditEvent(changes=["odd"])) == []


@pytest.mark.django_db
def test_action_choices_offer_groups_then_each_action_of_this_org_only():
    acme, bravo = make_org("Acme"), make_org("Bravo")
    AuditEvent.objects.create(org=bravo, action="secret.thing")
    AuditEvent.objects.create(org=acme, action="member.added")
    assert action_choices(acme) == [
        ("member.", "member – all"),
        ("organisation.", "organisation – all"),
        ("member.added", "member.added"),
        ("organisation.created", "organisation.created"),
    ]


@pytest.mark.django_db
def test_events_for_filters_by_prefix_within_the_org():
    acme, bravo = make_org("Acme"), make_org("Bravo")
    AuditEvent.objects.create(org=bravo, action="member.added")
    AuditEvent.objects.create(org=acme, action="member.added")
    assert events_for(acme, "member.").count() == 1
    assert events_for(acme).count() == 2
