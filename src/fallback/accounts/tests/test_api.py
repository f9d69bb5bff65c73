from __future__ import annotations

import json

import pytest
from django.test import Client

from fallback.accounts.models import ApiToken, Membership
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme; Bob owns Bravo. Neither belongs to the other's organisation."""
    ann, bob = make_user("ann@acme.test"), make_user("bob@bravo.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    return {"ann": ann, "bob": bob, "acme": acme, "bravo": bravo, "token": token_for(ann)}


def get(client: Client, path: str, token: str | None) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = client.get(path, headers=headers)
    return r.status_code, (r.json() if r.content else None)


def send(
    client: Client, method: str, path: str, token: str, body: object = None
) -> tuple[int, object]:
    r = getattr(client, method)(
        path,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return r.status_code, (r.json() if r.content else None)


def test_request_without_token_is_401(client, world):
    assert get(client, "/api/orgs", None)[0] == 401


def test_revoked_token_is_401(client, world):
    from django.utils import timezone

    ApiToken.objects.update(revoked_at=timezone.now())
    assert get(client, "/api/orgs", world["token"])[0] == 401


def test_lists_only_own_organisations(client, world):
    status, body = get(client, "/api/orgs", world["token"])
    assert status == 200
    assert [o["slug"] for o in body] == [world["acme"].slug]


def test_other_organisation_answers_404(client, world):
    slug = world["bravo"].slug
    for path in (f"/api/orgs/{slug}", f"/api/orgs/{slug}/members", f"/api/orgs/{slug}/audit"):
        assert get(client, path, world["token"])[0] == 404, path


def test_unknown_organisation_and_foreign_one_look_the_same(client, world):
    foreign = client.get(
        f"/api/orgs/{world['bravo'].slug}", headers={"Authorization": f"Bearer {world['token']}"}
    )
    missing = client.get(
        "/api/orgs/no-such-org", headers={"Authorization": f"Bearer {world['token']}"}
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_member_of_other_org_under_own_slug_answers_404(client, world):
    bobs = Membership.objects.get(user=world["bob"])
    path = f"/api/orgs/{world['acme'].slug}/members/{bobs.pk}"
    assert get(client, path, world["token"])[0] == 404
    assert send(client, "patch", path, world["token"], {"role": "viewer"})[0] == 404
    assert send(client, "delete", path, world["token"])[0] == 404
    bobs.refresh_from_db()
    assert bobs.role == Role.OWNER


def test_audit_event_of_other_org_answers_404(client, world):
    event = AuditEvent.objects.filter(org=world["bravo"]).first()
    path = f"/api/orgs/{world['acme'].slug}/audit/{event.pk}"
    assert get(client, path, world["token"])[0] == 404


def test_owner_adds_member_and_gets_one_time_password(client, world):
    status, body = send(
        client,
        "post",
        f"/api/orgs/{world['acme'].slug}/members",
        world["token"],
        {"email": "Carl@Acme.test", "role": "staff", "name": "Carl Jones"},
    )
    assert status == 201
    assert body["email"] == "carl@acme.test"
    assert body["temporary_password"]
    assert AuditEvent.objects.filter(org=world["acme"], action="member.added", via="api").exists()


def test_adding_existing_member_twice_is_409_and_changes_nothing(client, world):
    path = f"/api/orgs/{world['acme'].slug}/members"
    send(client, "post", path, world["token"], {"email": "carl@acme.test", "role": "staff"})
    count = Membership.objects.count()
    status, body = send(
        client, "post", path, world["token"], {"email": "carl@acme.test", "role": "staff"}
    )
    assert status == 409
    assert "already a member" in body["detail"]
    assert Membership.objects.count() == count


def test_viewer_cannot_add_members(client, world):
    viewer = make_user("vera@acme.test")
    join(world["acme"], viewer, Role.VIEWER)
    status, _ = send(
        client,
        "post",
        f"/api/orgs/{world['acme'].slug}/members",
        token_for(viewer),
        {"email": "x@acme.test", "role": "staff"},
    )
    assert status == 403


def test_bad_role_is_422_naming_the_field(client, world):
    status, body = send(
        client,
        "post",
        f"/api/orgs/{world['acme'].slug}/members",
        world["token"],
        {"email": "x@acme.test", "role": "boss"},
    )
    assert status == 422
    assert "role" in json.dumps(body)


def test_last_owner_cannot_be_demoted(client, world):
    ann = Membership.objects.get(user=world["ann"])
    status, body = send(
        client,
        "patch",
        f"/api/orgs/{world['acme'].slug}/members/{ann.pk}",
        world["token"],
        {"role": "staff"},
    )
    assert status == 409
    assert "at least one owner" in body["detail"]


def test_patch_org_records_changes_in_audit(client, world):
    status, body = send(
        client, "patch", f"/api/orgs/{world['acme'].slug}", world["token"], {"name": "Acme Trading"}
    )
    assert status == 200 and body["name"] == "Acme Trading"
    event = AuditEvent.objects.filter(action="organisation.updated").get()
    assert event.changes == {"name": ["Acme", "Acme Trading"]}
    assert event.actor == world["ann"] and event.via == "api"


def test_patch_org_rejects_bad_time_zone(client, world):
    status, body = send(
        client,
        "patch",
        f"/api/orgs/{world['acme'].slug}",
        world["token"],
        {"time_zone": "Mars/Base"},
    )
    assert status == 422
    assert "time_zone" in body["detail"]


def test_openapi_schema_is_served(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    assert "/api/orgs/{slug}/members" in r.json()["paths"]


def test_token_last_used_is_recorded(client, world):
    get(client, "/api/orgs", world["token"])
    assert ApiToken.objects.get().last_used_at is not None
