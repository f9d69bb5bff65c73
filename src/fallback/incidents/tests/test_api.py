from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.incidents import lifecycle
from fallback.incidents.models import Incident, Status
from fallback.monitor import editing
from fallback.monitor.models import State, StateChange, System
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme (Val views it); Bob owns Bravo and has an open incident there."""
    ann, bob, val = (
        make_user("ann@acme.test"),
        make_user("bob@bravo.test"),
        make_user("val@acme.test"),
    )
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    join(acme, val, Role.VIEWER)
    crm = editing.create_system(acme, name="CloudCRM")
    theirs = lifecycle.declare_manually(bravo, [], "Bravo's outage", bob)
    return {
        "acme": acme,
        "crm": crm,
        "ann": ann,
        "token": token_for(ann),
        "viewer": token_for(val),
        "theirs": theirs,
    }


def call(client: Client, method: str, path: str, token: str, body: object = None):
    r = getattr(client, method)(
        "/api" + path,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return r.status_code, (r.json() if r.content else None)


def suspected(world) -> Incident:
    crm = world["crm"]
    System.objects.filter(pk=crm.pk).update(state=State.DOWN, state_since=timezone.now())
    crm.refresh_from_db()
    change = StateChange.objects.create(org=crm.org, system=crm, from_state="up", to_state="down")
    incident = lifecycle.on_system_state_change(crm, change)
    assert incident is not None
    return incident


def test_declare_then_note_then_resolve(client, world):
    t = world["token"]
    status, body = call(
        client,
        "post",
        "/orgs/acme/incidents",
        t,
        {"title": "CRM unreachable", "systems": ["cloudcrm"], "summary": "since 9"},
    )
    assert status == 201, body
    incident_id = body["id"]
    assert (body["status"], body["systems"], body["declared_manually"]) == (
        "declared",
        ["cloudcrm"],
        True,
    )
    assert body["timeline"][0]["kind"] == "declared"
    status, entry = call(
        client, "post", f"/orgs/acme/incidents/{incident_id}/notes", t, {"text": "Vendor says 2 h"}
    )
    assert (status, entry["kind"], entry["actor"]) == (201, "note", "ann@acme.test")
    status, body = call(
        client, "post", f"/orgs/acme/incidents/{incident_id}/resolve", t, {"note": "Back"}
    )
    assert (status, body["status"]) == (200, "resolved")
    assert AuditEvent.objects.filter(action="incident.resolved", via="api").exists()


def test_confirm_declares_a_suspected_outage(client, world):
    incident = suspected(world)
    status, body = call(
        client, "post", f"/orgs/acme/incidents/{incident.pk}/confirm", world["token"]
    )
    assert (status, body["status"]) == (200, "declared")
    assert "confirmed" in [e["kind"] for e in body["timeline"]]


def test_list_puts_open_incidents_first_and_filters(client, world):
    old = lifecycle.declare_manually(world["acme"], [], "Old", world["ann"])
    lifecycle.resolve(old, world["ann"])
    current = suspected(world)
    status, body = call(client, "get", "/orgs/acme/incidents", world["token"])
    assert status == 200
    assert [i["id"] for i in body] == [current.pk, old.pk]
    assert [
        i["id"]
        for i in call(client, "get", "/orgs/acme/incidents?status=resolved", world["token"])[1]
    ] == [old.pk]
    assert [
        i["id"] for i in call(client, "get", "/orgs/acme/incidents?status=open", world["token"])[1]
    ] == [current.pk]


def test_get_incident_has_its_timeline(client, world):
    incident = suspected(world)
    status, body = call(client, "get", f"/orgs/acme/incidents/{incident.pk}", world["token"])
    assert status == 200 and body["timeline"][0]["kind"] == "opened"


def test_another_organisations_incident_answers_404(client, world):
    t, their = world["token"], world["theirs"].pk
    assert call(client, "get", f"/orgs/acme/incidents/{their}", t)[0] == 404
    assert call(client, "post", f"/orgs/acme/incidents/{their}/resolve", t, {})[0] == 404
    assert call(client, "post", f"/orgs/acme/incidents/{their}/confirm", t)[0] == 404
    assert call(client, "post", f"/orgs/acme/incidents/{their}/notes", t, {"text": "x"})[0] == 404
    assert call(client, "get", "/orgs/bravo/incidents", t)[0] == 404
    world["theirs"].refresh_from_db()
    assert world["theirs"].status == Status.DECLARED


def test_declaring_with_an_unknown_system_is_422_and_declares_nothing(client, world):
    status, body = call(
        client, "post", "/orgs/acme/incidents", world["token"], {"title": "X", "systems": ["nope"]}
    )
    assert status == 422 and "nope" in body["detail"]
    assert not Incident.objects.filter(org=world["acme"]).exists()


def test_resolving_a_resolved_incident_is_409(client, world):
    incident = lifecycle.declare_manually(world["acme"], [], "Phones", world["ann"])
    lifecycle.resolve(incident, world["ann"])
    status, body = call(
        client, "post", f"/orgs/acme/incidents/{incident.pk}/resolve", world["token"], {}
    )
    assert status == 409 and "already resolved" in body["detail"]


def test_empty_note_is_422(client, world):
    incident = suspected(world)
    status, body = call(
        client, "post", f"/orgs/acme/incidents/{incident.pk}/notes", world["token"], {"text": " "}
    )
    assert status == 422 and body["detail"].startswith("text:")


def test_viewer_cannot_declare_or_resolve(client, world):
    incident = suspected(world)
    v = world["viewer"]
    assert call(client, "post", "/orgs/acme/incidents", v, {"title": "X"})[0] == 403
    assert call(client, "post", f"/orgs/acme/incidents/{incident.pk}/resolve", v, {})[0] == 403
    assert call(client, "get", f"/orgs/acme/incidents/{incident.pk}", v)[0] == 200
