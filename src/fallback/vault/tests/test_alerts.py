"""Backup alerts go to the alert channels of the organisations an installation administrator
owns or manages — or, when there is none, to every organisation's — once per problem."""

from __future__ import annotations

import pytest

from fallback.accounts.roles import Role
from fallback.incidents import channels
from fallback.incidents.models import AlertDelivery, AlertEvent
from fallback.testing.factories import join, make_org, make_user
from fallback.vault import alerts

pytestmark = pytest.mark.django_db


def test_alerts_go_to_the_administrators_organisations():
    admin = make_user("admin@provider.test")
    admin.is_superuser = True
    admin.save()
    provider = make_org("Provider", owner=admin)
    client_org = make_org("Client business")
    join(client_org, admin, Role.STAFF)  # staff there: not the one alerted
    for org in (provider, client_org):
        channels.create_channel(org, name="Phone", url="json://127.0.0.1:9/")
    assert alerts.alerted_organisations() == [provider]
    assert alerts.backup_problem("copy:x:usb", "Snapshot not written to usb", "why") == 1
    assert alerts.backup_problem("copy:x:usb", "Snapshot not written to usb", "why") == 0
    delivery = AlertDelivery.objects.get()
    assert delivery.event == AlertEvent.BACKUP_FAILED and delivery.org == provider
    assert delivery.title == "[Backups] Snapshot not written to usb"


def test_without_an_administrator_every_organisation_is_alerted():
    orgs = [make_org("One"), make_org("Two")]
    assert alerts.alerted_organisations() == orgs


def test_a_channel_that_lists_its_events_gets_backups_only_if_listed():
    org = make_org("Solo")
    channels.create_channel(
        org, name="Outages only", url="json://127.0.0.1:9/", events=["declared"]
    )
    assert alerts.backup_problem("s", "t", "b") == 0
    channels.create_channel(
        org, name="Backups", url="json://127.0.0.1:9/", events=["backup_failed"]
    )
    assert alerts.backup_problem("s2", "t", "b") == 1
