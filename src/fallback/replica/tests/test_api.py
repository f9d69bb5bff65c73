"""The replica API: connectors with write-only secrets, syncs, held decisions, records as of."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.accounts.roles import Role
from fallback.monitor.tests.test_api import call
from fallback.replica import editing
from fallback.replica.models import Connector, Record, Sync, SyncStatus
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db

SHOP = {
    "name": "Shop",
    "kind": "shopify",
    "config": {"base_url": "https://harbour.example.com/admin/api/2024-10/"},
    "secrets": {"token": "shpat_top_secret"},
}


@pytest.fixture
def world():
    ann, bob, val = make_user("ann@a.test"), make_user("bob@b.test"), make_user("val@a.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    join(acme, val, Role.VIEWER)
    theirs = editing.create_connector(bravo, name="Theirs", kind="shopify", config=SHOP["config"])
    return {"acme": acme, "token": token_for(ann), "viewer": token_for(val), "theirs": theirs}


def test_secret_is_written_but_never_read_back(client, world):
    status, body = call(client, "post", "/orgs/acme/connectors", world["token"], SHOP)
    assert status == 201, body
    assert body["secrets_set"] == ["token"]
    for path in ("/orgs/acme/connectors", "/orgs/acme/connectors/shop"):
        status, text = call(client, "get", path, world["token"])
        assert "shpat_top_secret" not in str(text)
    stored = Connector.objects.get(org=world["acme"], slug="shop")
    assert "shpat_top_secret" not in stored.sealed_secrets


def test_bad_connector_answers_422_naming_each_field(client, world):
    bad = {
        **SHOP,
        "config": {"base_url": "ftp://x"},
        "mapping": {"customers": {"fields": {"nmae": "x"}}},
    }
    status, body = call(client, "post", "/orgs/acme/connectors", world["token"], bad)
    assert status == 422
    fields = {e["field"] for e in body["errors"]}
    assert "config.base_url" in fields
    assert not Connector.objects.filter(org=world["acme"]).exists()


def test_patch_keeps_secrets_not_given(client, world):
    call(client, "post", "/orgs/acme/connectors", world["token"], SHOP)
    status, body = call(
        client, "patch", "/orgs/acme/connectors/shop", world["token"], {"rpo_minutes": 30}
    )
    assert status == 200
    assert body["rpo_minutes"] == 30
    assert body["secrets_set"] == ["token"]


def test_another_organisations_connector_answers_404(client, world):
    t = world["token"]
    assert call(client, "get", "/orgs/acme/connectors/theirs", t)[0] == 404
    assert call(client, "get", "/orgs/bravo/connectors", t)[0] == 404
    their_sync = Sync.objects.create(org=world["theirs"].org, connector=world["theirs"])
    assert call(client, "post", f"/orgs/acme/syncs/{their_sync.pk}/release", t)[0] == 404


def test_viewer_cannot_change_or_sync(client, world):
    call(client, "post", "/orgs/acme/connectors", world["token"], SHOP)
    v = world["viewer"]
    assert call(client, "get", "/orgs/acme/connectors/shop", v)[0] == 200
    assert call(client, "patch", "/orgs/acme/connectors/shop", v, {"rpo_minutes": 5})[0] == 403
    assert call(client, "post", "/orgs/acme/connectors/shop/sync", v)[0] == 403


def test_sync_now_with_the_same_idempotency_key_queues_once(client, world):
    call(client, "post", "/orgs/acme/connectors", world["token"], SHOP)
    connector = Connector.objects.get(org=world["acme"], slug="shop")
    Sync.objects.create(
        org=world["acme"], connector=connector, request_key=f"api:{world['acme'].pk}:k1"
    )
    r = client.post(
        "/api/orgs/acme/connectors/shop/sync",
        headers={"Authorization": f"Bearer {world['token']}", "Idempotency-Key": "k1"},
    )
    assert r.status_code == 202
    assert r.json()["queued"] is False


def test_discarding_a_sync_that_is_not_held_is_refused(client, world):
    call(client, "post", "/orgs/acme/connectors", world["token"], SHOP)
    connector = Connector.objects.get(org=world["acme"], slug="shop")
    done = Sync.objects.create(org=world["acme"], connector=connector, status=SyncStatus.APPLIED)
    status, body = call(client, "post", f"/orgs/acme/syncs/{done.pk}/discard", world["token"])
    assert status == 409
    assert "not held" in body["detail"]


def test_records_as_of_a_moment_and_their_versions(client, world):
    call(client, "post", "/orgs/acme/connectors", world["token"], SHOP)
    connector = Connector.objects.get(org=world["acme"], slug="shop")
    now = timezone.now()
    common = {
        "org": world["acme"],
        "connector": connector,
        "stream": "products",
        "entity": "product",
        "key": "P1",
        "name": "Pipe",
        "digest": "x",
    }
    old = Record.objects.create(
        **common,
        data={"price": "10.00"},
        valid_from=now - timedelta(days=2),
        valid_to=now - timedelta(days=1),
        ended="changed",
    )
    Record.objects.create(**common, data={"price": "12.00"}, valid_from=now - timedelta(days=1))
    t = world["token"]
    _, current = call(client, "get", "/orgs/acme/records?entity=product", t)
    assert [r["data"]["price"] for r in current] == ["12.00"]
    then = (now - timedelta(days=1, hours=12)).isoformat().replace("+00:00", "Z")
    _, past = call(client, "get", f"/orgs/acme/records?entity=product&as_of={then}", t)
    assert [r["data"]["price"] for r in past] == ["10.00"]
    _, versions = call(client, "get", f"/orgs/acme/records/{old.pk}/versions", t)
    assert [v["data"]["price"] for v in versions] == ["12.00", "10.00"]
    assert call(client, "get", "/orgs/acme/records?entity=spaceship", t)[0] == 422
