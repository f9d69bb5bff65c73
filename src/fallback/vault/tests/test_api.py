"""The vault's API: installation administrators only (anyone else: 404), readiness, the
snapshots with their copies, and starting a snapshot (idempotent) or a restore test."""

from __future__ import annotations

import pytest
from django.test import Client

from fallback.testing.factories import make_org, make_user, token_for
from fallback.vault import snapshots
from fallback.vault.models import Snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def call(token, method, path, body=None, **headers):
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}
    if method == "GET":
        return client.get(f"/api{path}", **auth)
    return client.post(f"/api{path}", body or {}, content_type="application/json", **auth)


@pytest.fixture
def tokens():
    admin = make_user("admin@box.test")
    admin.is_superuser = True
    admin.save()
    owner = make_user("owner@shop.test")
    make_org("Shop", owner=owner)
    return {"admin": token_for(admin), "owner": token_for(owner)}


def test_anyone_but_an_administrator_gets_404(tokens):
    for path in ("/vault/status", "/vault/snapshots", "/vault/destinations"):
        assert call(tokens["owner"], "GET", path).status_code == 404
    assert call(tokens["owner"], "POST", "/vault/snapshots").status_code == 404


def test_status_and_snapshots_with_their_copies(tokens, identity, usb):
    done = snapshots.take("test")
    status = call(tokens["admin"], "GET", "/vault/status").json()
    assert status["last_snapshot_at"] is not None and status["verified_ok"] is None
    listed = call(tokens["admin"], "GET", "/vault/snapshots?destination=usb").json()
    assert [s["name"] for s in listed] == [done.name]
    assert listed[0]["copies"][0]["destination"] == "usb"
    assert listed[0]["row_counts"]["accounts_organisation"] == 1
    assert call(tokens["admin"], "GET", "/vault/snapshots?destination=nope").status_code == 404
    [destination] = call(tokens["admin"], "GET", "/vault/destinations").json()
    assert destination["name"] == "usb" and "secret" not in str(destination).lower()


def test_starting_a_snapshot_is_idempotent_on_its_key(tokens, identity, usb, immediate_tasks):
    first = call(tokens["admin"], "POST", "/vault/snapshots", {"request_key": "nightly-1"})
    assert first.status_code == 202
    again = call(tokens["admin"], "POST", "/vault/snapshots", {}, HTTP_IDEMPOTENCY_KEY="nightly-1")
    assert again.status_code == 202 and again.json()["request_key"] == "nightly-1"
    assert Snapshot.objects.count() == 1
    assert call(tokens["admin"], "POST", "/vault/verify").status_code == 202
    assert Snapshot.objects.get().copies.get().verify_ok is True


def test_starting_a_snapshot_before_set_up_says_what_is_missing(tokens):
    answer = call(tokens["admin"], "POST", "/vault/snapshots")
    assert answer.status_code == 409
    assert "no key" in answer.json()["detail"]
