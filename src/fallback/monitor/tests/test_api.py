from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.monitor import editing
from fallback.monitor.models import Check, State, StateChange, System
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme (Val views it); Bob owns Bravo, whose CloudCRM Ann must never reach."""
    ann, bob, val = (
        make_user("ann@acme.test"),
        make_user("bob@bravo.test"),
        make_user("val@acme.test"),
    )
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    join(acme, val, Role.VIEWER)
    theirs = editing.create_system(bravo, name="CloudCRM")
    their_check = editing.create_check(
        theirs, name="Port", kind="tcp", config={"host": "example.com", "port": 443}
    )
    return {
        "acme": acme,
        "bravo": bravo,
        "token": token_for(ann),
        "viewer": token_for(val),
        "their_check": their_check,
    }


def call(client: Client, method: str, path: str, token: str | None, body: object = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = getattr(client, method)(
        "/api" + path,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers=headers,
    )
    return r.status_code, (
        r.json()
        if r.content and r["Content-Type"].startswith("application/json")
        else r.content.decode()
    )


# --------------------------------------------------------------------- systems


def test_create_read_update_and_delete_a_system(client, world):
    t = world["token"]
    status, body = call(
        client,
        "post",
        "/orgs/acme/systems",
        t,
        {"name": "Xero", "kind": "accounting", "sla_percent": "99.9"},
    )
    assert status == 201, body
    assert (body["slug"], body["kind"], body["sla_percent"], body["state"]) == (
        "xero",
        "accounting",
        99.9,
        "unknown",
    )
    status, body = call(client, "patch", "/orgs/acme/systems/xero", t, {"vendor": "Xero Ltd"})
    assert (status, body["vendor"], body["kind"]) == (200, "Xero Ltd", "accounting")
    status, body = call(client, "get", "/orgs/acme/systems/xero", t)
    assert status == 200 and body["checks"] == []
    status, listed = call(client, "get", "/orgs/acme/systems", t)
    assert [s["slug"] for s in listed] == ["xero"]
    assert call(client, "delete", "/orgs/acme/systems/xero", t)[0] == 204
    assert not System.objects.filter(org=world["acme"]).exists()
    actions = list(
        AuditEvent.objects.filter(org=world["acme"], via="api").values_list("action", flat=True)
    )
    assert sorted(actions) == ["system.created", "system.deleted", "system.updated"]


def test_bad_system_answers_422_naming_the_field(client, world):
    status, body = call(
        client, "post", "/orgs/acme/systems", world["token"], {"name": "X", "kind": "spaceship"}
    )
    assert status == 422
    assert body["errors"][0]["field"] == "kind"
    assert "spaceship" in body["errors"][0]["message"]
    assert not System.objects.filter(org=world["acme"]).exists()


def test_another_organisations_systems_answer_404(client, world):
    t = world["token"]
    assert call(client, "get", "/orgs/bravo/systems", t)[0] == 404
    assert call(client, "get", "/orgs/acme/systems/cloudcrm", t)[0] == 404
    assert call(client, "patch", "/orgs/acme/systems/cloudcrm", t, {"vendor": "x"})[0] == 404
    assert call(client, "delete", "/orgs/bravo/systems/cloudcrm", t)[0] == 404
    assert System.objects.filter(org=world["bravo"], vendor="").count() == 1


def test_viewer_reads_but_cannot_change(client, world):
    editing.create_system(world["acme"], name="CloudCRM")
    v = world["viewer"]
    assert call(client, "get", "/orgs/acme/systems/cloudcrm", v)[0] == 200
    assert call(client, "post", "/orgs/acme/systems", v, {"name": "X"})[0] == 403
    assert call(client, "post", "/orgs/acme/systems/cloudcrm/pause", v)[0] == 403


def test_pause_and_resume(client, world):
    editing.create_system(world["acme"], name="CloudCRM")
    status, body = call(client, "post", "/orgs/acme/systems/cloudcrm/pause", world["token"])
    assert (status, body["paused"], body["state"]) == (200, True, "paused")
    status, body = call(client, "post", "/orgs/acme/systems/cloudcrm/resume", world["token"])
    assert (status, body["paused"]) == (200, False) and body["state"] != "paused"


def test_history_lists_state_changes_newest_first(client, world):
    crm = editing.create_system(world["acme"], name="CloudCRM")
    now = timezone.now()
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=now - timedelta(hours=2),
        from_state="up",
        to_state="down",
        reason="HTTP 503",
    )
    StateChange.objects.create(
        org=crm.org, system=crm, at=now - timedelta(hours=1), from_state="down", to_state="up"
    )
    status, body = call(client, "get", "/orgs/acme/systems/cloudcrm/history", world["token"])
    assert status == 200
    assert [(c["from_state"], c["to_state"]) for c in body] == [("down", "up"), ("up", "down")]


# ---------------------------------------------------------------------- checks


def test_checks_crud_with_the_config_validated(client, world):
    editing.create_system(world["acme"], name="CloudCRM")
    t = world["token"]
    base = "/orgs/acme/systems/cloudcrm/checks"
    status, body = call(
        client,
        "post",
        base,
        t,
        {
            "name": "Login",
            "kind": "http",
            "config": {"url": "https://crm.example.com/login", "keyword": "Sign in"},
        },
    )
    assert status == 201, body
    check_id = body["id"]
    assert body["config"] == {"url": "https://crm.example.com/login", "keyword": "Sign in"}
    status, body = call(client, "patch", f"{base}/{check_id}", t, {"interval_seconds": 30})
    assert (status, body["interval_seconds"]) == (200, 30)
    assert [c["name"] for c in call(client, "get", base, t)[1]] == ["Login"]
    assert call(client, "get", f"{base}/{check_id}", t)[1]["kind"] == "http"
    assert call(client, "delete", f"{base}/{check_id}", t)[0] == 204
    assert not Check.objects.filter(org=world["acme"]).exists()


@pytest.mark.parametrize(
    ("check", "field", "words"),
    [
        ({"name": "A", "kind": "smoke", "config": {}}, "kind", "unknown check kind 'smoke'"),
        (
            {"name": "A", "kind": "http", "config": {"url": "not a url"}},
            "config.url",
            "must not contain spaces",
        ),
        (
            {
                "name": "A",
                "kind": "http",
                "config": {
                    "url": "https://x.example",
                    "json_condition": {"path": "$.[", "value": 1},
                },
            },
            "config.json_condition.path",
            "not a valid JSONPath",
        ),
        (
            {"name": "A", "kind": "http", "config": {"url": "https://x.example", "colour": "red"}},
            "config.colour",
            "unknown key",
        ),
        (
            {
                "name": "A",
                "kind": "tcp",
                "config": {"host": "x.example", "port": 80},
                "interval_seconds": 1,
            },
            "interval_seconds",
            "Between 5 seconds",
        ),
    ],
    ids=["unknown-kind", "invalid-url", "malformed-jsonpath", "unknown-setting", "too-often"],
)
def test_bad_check_answers_422_with_field_errors(client, world, check, field, words):
    editing.create_system(world["acme"], name="CloudCRM")
    status, body = call(client, "post", "/orgs/acme/systems/cloudcrm/checks", world["token"], check)
    assert status == 422, body
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert field in fields and words in fields[field]
    assert not Check.objects.filter(org=world["acme"]).exists()


def test_another_organisations_check_answers_404(client, world):
    editing.create_system(world["acme"], name="CloudCRM")
    check_id = world["their_check"].pk
    t = world["token"]
    assert call(client, "get", f"/orgs/acme/systems/cloudcrm/checks/{check_id}", t)[0] == 404
    assert (
        call(
            client, "patch", f"/orgs/acme/systems/cloudcrm/checks/{check_id}", t, {"enabled": False}
        )[0]
        == 404
    )
    assert call(client, "delete", f"/orgs/acme/systems/cloudcrm/checks/{check_id}", t)[0] == 404
    assert Check.objects.get(pk=check_id).enabled


def test_viewer_sees_no_secrets(client, world):
    crm = editing.create_system(world["acme"], name="CloudCRM")
    editing.create_check(
        crm,
        name="API",
        kind="http",
        config={"url": "https://x.example", "headers": {"Authorization": "Bearer s3cret"}},
    )
    editing.create_check(crm, name="Backup", kind="heartbeat", config={"period_seconds": 3600})
    checks = {
        c["name"]: c
        for c in call(client, "get", "/orgs/acme/systems/cloudcrm/checks", world["viewer"])[1]
    }
    assert checks["API"]["config"]["headers"] == {"Authorization": "•••"}
    assert checks["Backup"]["push_url"] is None
    owner = {
        c["name"]: c
        for c in call(client, "get", "/orgs/acme/systems/cloudcrm/checks", world["token"])[1]
    }
    assert owner["Backup"]["push_url"].startswith("http://testserver/api/push/")


# ---------------------------------------------------------------------- report


@time_machine.travel(datetime(2025, 8, 2, 12, 0, tzinfo=UTC), tick=False)
def test_vendor_report_json(client, world):
    crm = editing.create_system(world["acme"], name="CloudCRM", sla_percent=99.9)
    System.objects.filter(pk=crm.pk).update(
        created_at=datetime(2025, 1, 1, tzinfo=UTC), state=State.UP
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=datetime(2025, 7, 8, 9, 0, tzinfo=UTC),
        from_state="up",
        to_state="down",
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=datetime(2025, 7, 8, 10, 0, tzinfo=UTC),
        from_state="down",
        to_state="up",
    )
    status, body = call(client, "get", "/orgs/acme/report?month=2025-07", world["token"])
    assert status == 200
    [row] = body
    assert (
        row["system"],
        row["month"],
        row["downtime_minutes"],
        row["availability_percent"],
        row["sla_met"],
    ) == ("cloudcrm", "2025-07", 60.0, 99.865, False)
    assert row["outages"][0]["minutes"] == 60.0


def test_vendor_report_with_a_bad_month_is_422(client, world):
    status, body = call(client, "get", "/orgs/acme/report?month=July", world["token"])
    assert status == 422 and "YYYY-MM" in body["detail"]


def test_vendor_report_of_another_organisation_is_404(client, world):
    assert call(client, "get", "/orgs/bravo/report", world["token"])[0] == 404


# ----------------------------------------------------------------------- push


def test_push_needs_no_token_and_records_the_ping(client, world):
    crm = editing.create_system(world["acme"], name="Backups")
    check = editing.create_check(
        crm, name="Nightly", kind="heartbeat", config={"period_seconds": 86400}
    )
    status, body = call(client, "post", f"/push/{check.push_token}", None)
    assert (status, body) == (200, "ok")
    check.refresh_from_db()
    assert check.last_ping_at is not None
    assert call(client, "get", f"/push/{check.push_token}", None)[:2] == (200, "ok")


def test_push_with_an_unknown_token_is_404(client, world):
    assert call(client, "post", "/push/no-such-token", None)[0] == 404
