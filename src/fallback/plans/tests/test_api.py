"""The plan's API: the whole plan read and written in the config shape, readiness,
staleness and history — scoped to the organisation, refused to roles that may not change
it, and bad input named field by field with nothing changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from fallback.plans import editing
from fallback.plans.models import Contact, ContactKind, Plan, PlanVersion
from fallback.testing.factories import token_for

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")


def put(client: Client, path: str, body: Any):
    return client.put(path, data=json.dumps(body), content_type="application/json")


def test_starting_and_reading_the_plan(world):
    ann = api(world["ann"])
    assert ann.get("/api/orgs/acme/plan").status_code == 404
    response = ann.post("/api/orgs/acme/plan/start")
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1 and 0 < body["progress"] < 100
    assert [s["key"] for s in body["sections"]] == [
        "activities",
        "risks",
        "scenarios",
        "roles",
        "contacts",
    ]
    assert body["plan"]["activities"][0]["name"] == "Taking orders"
    assert ann.post("/api/orgs/acme/plan/start").status_code == 200
    assert api(world["val"]).get("/api/orgs/acme/plan").json()["version"] == 1


def test_writing_the_whole_plan(world):
    ann = api(world["ann"])
    body = {
        "owner": "ann@acme.test",
        "activities": [{"name": "Orders", "systems": ["cloudcrm"], "mtpd": "1d", "rto": "2h"}],
        "contacts": [{"kind": "staff", "name": "Sid", "phones": ["07700 1"]}],
    }
    response = put(ann, "/api/orgs/acme/plan", body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert "+ plan: activity Orders" in result["changes"]
    assert result["plan"]["activities"] == [
        {"name": "Orders", "systems": ["cloudcrm"], "mtpd": "1d", "rto": "2h"}
    ]
    version = PlanVersion.objects.get(plan__org=world["acme"])
    assert (version.summary, version.via) == ("Changed through the API", "api")
    again = put(ann, "/api/orgs/acme/plan", body).json()
    assert again["changes"] == []


def test_bad_input_is_named_and_changes_nothing(world):
    ann = api(world["ann"])
    response = put(
        ann,
        "/api/orgs/acme/plan",
        {"activities": [{"name": "Orders", "mtpd": "2h", "rto": "3h"}], "risks": [{"title": ""}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "risks[0].title", "message": "must not be empty"},
    ]
    response = put(
        ann, "/api/orgs/acme/plan", {"activities": [{"name": "O", "mtpd": "2h", "rto": "3h"}]}
    )
    assert response.json()["errors"][0]["field"] == "activities[0].rto"
    response = put(ann, "/api/orgs/acme/plan", {"owner": "bob@bravo.test"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "owner",
            "message": "bob@bravo.test is not a member of the organisation (add them under "
            "members)",
        }
    ]
    assert not Plan.objects.filter(org=world["acme"]).exists()


def test_only_setup_roles_change_the_plan(world):
    editing.start(world["acme"], world["ann"])
    for name in ("sid", "val"):
        client = api(world[name])
        assert client.get("/api/orgs/acme/plan").status_code == 200
        assert put(client, "/api/orgs/acme/plan", {}).status_code == 403
        assert client.post("/api/orgs/acme/plan/review").status_code == 403
    assert api(world["mo"]).post("/api/orgs/acme/plan/review").status_code == 200


def test_another_organisations_plan_is_not_there(world):
    plan = editing.start(world["acme"], world["ann"])
    contact = editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Sid")
    bob = api(world["bob"])
    assert bob.get("/api/orgs/acme/plan").status_code == 404
    assert bob.get("/api/orgs/acme/plan/readiness").status_code == 404
    assert put(bob, "/api/orgs/acme/plan", {}).status_code == 404
    editing.start(world["bravo"], world["bob"])
    response = bob.post(f"/api/orgs/bravo/plan/contacts/{contact.pk}/verify")
    assert response.status_code == 404
    assert Contact.objects.get(pk=contact.pk).last_verified_on is None


def test_readiness_staleness_and_history(world):
    plan = editing.start(world["acme"], world["ann"])
    contact = editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes")
    ann = api(world["ann"])
    readiness = ann.get("/api/orgs/acme/plan/readiness").json()
    assert 0 <= readiness["score"] <= 100
    assert [c["key"] for c in readiness["checks"]] == [
        "systems",
        "replica",
        "plan",
        "contacts",
        "drill",
        "backups",
    ]
    assert readiness["next"]["key"] == "plan"
    parts = {p["key"]: p for p in ann.get("/api/orgs/acme/plan/staleness").json()}
    assert parts["contacts.supplier"]["stale"] and parts["contacts.supplier"]["items"] == ["Pipes"]
    verified = ann.post(f"/api/orgs/acme/plan/contacts/{contact.pk}/verify").json()
    assert verified["last_verified_on"] is not None
    versions = ann.get("/api/orgs/acme/plan/versions").json()
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert versions[0]["summary"] == "1 contact verified"
    first = ann.get("/api/orgs/acme/plan/versions/1").json()
    assert first["data"]["plan"]["activities"][0]["name"] == "Taking orders"
    assert ann.get("/api/orgs/acme/plan/versions/99").status_code == 404


def test_the_plans_rpo_is_the_replicas_target_in_both_apis(world):
    from fallback.plans.tests.conftest import files_connector

    connector = files_connector(world["acme"], world["crm"])
    plan = editing.start(world["acme"], world["ann"])
    editing.save_activity(plan, plan.activities.get(name="Taking orders"), rpo_minutes=20)
    val = api(world["val"])
    assert val.get("/api/orgs/acme/plan/rpo").json() == [
        {
            "connector": "crm-copy",
            "own_rpo_minutes": 60,
            "target_minutes": 20,
            "activities": ["Taking orders"],
        }
    ]
    body = val.get("/api/orgs/acme/connectors/crm-copy").json()
    assert (body["rpo_minutes"], body["target_minutes"]) == (60, 20)
    assert body["target_from"] == "the plan: “Taking orders”"
    connector.refresh_from_db()
    assert connector.rpo_minutes == 60


# ------------------------------------------------------------------ binder, drills, actions


def post(client: Client, path: str, body: Any = None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def test_the_binder_through_the_api(world, settings, tmp_path):
    settings.FALLBACK_HOME = tmp_path
    editing.start(world["acme"], world["ann"])
    sid = api(world["sid"])
    body = sid.get("/api/orgs/acme/plan/binder").json()
    assert body["up_to_date"] is False and body["last_copy"] is None
    response = sid.post("/api/orgs/acme/plan/binder/download")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert body["code"].lower() in response["Content-Disposition"]
    body = sid.get("/api/orgs/acme/plan/binder").json()
    assert body["up_to_date"] is True and body["last_copy"]["by"] == "sid@acme.test"
    assert body["last_copy"]["via"] == "api"
    assert sid.post("/api/orgs/acme/plan/binder/printed").status_code == 201
    assert api(world["bob"]).get("/api/orgs/acme/plan/binder").status_code == 404


def test_a_drill_through_the_api(world):
    plan = editing.start(world["acme"], world["ann"])
    scenario = plan.scenarios.get(kind="system_lost")
    editing.confirm(scenario)
    ann = api(world["ann"])
    bad = post(ann, "/api/orgs/acme/plan/drills", {"scenario": "Meteor strike"})
    assert bad.status_code == 422 and "there are:" in bad.json()["errors"][0]["message"]
    response = post(
        ann, "/api/orgs/acme/plan/drills", {"scenario": scenario.title, "request_key": "d1"}
    )
    assert response.status_code == 201
    drill = response.json()
    again = post(
        ann, "/api/orgs/acme/plan/drills", {"scenario": scenario.title, "request_key": "d1"}
    )
    assert again.json()["id"] == drill["id"]
    path = f"/api/orgs/acme/plan/drills/{drill['id']}"
    marked = post(ann, f"{path}/milestones/declared").json()
    assert marked["incident"] is not None
    assert [m["key"] for m in marked["milestones"] if m["at"]] == ["declared"]
    step = marked["steps"][0]["id"]
    timed = post(ann, f"{path}/steps/{step}", {"what": "done", "note": "ok"}).json()
    assert timed["steps"][0]["done_at"] is not None and timed["steps"][0]["note"] == "ok"
    assert post(ann, f"{path}/steps/{step}", {"what": "dance"}).status_code == 409
    assert post(ann, f"{path}/milestones/lunch").status_code == 409
    finished = post(ann, f"{path}/finish").json()
    assert finished["finished_at"] is not None and finished["passed"] is False
    assert finished["results"]["why"]
    assert api(world["val"]).get(path).status_code == 200
    assert post(api(world["val"]), f"{path}/finish").status_code == 403


def test_corrective_actions_through_the_api(world):
    editing.start(world["acme"], world["ann"])
    ann = api(world["ann"])
    bad = post(ann, "/api/orgs/acme/plan/actions", {"finding": "x", "owner": "bob@bravo.test"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "owner"
    empty = post(ann, "/api/orgs/acme/plan/actions", {"finding": " "})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "finding"
    made = post(
        ann,
        "/api/orgs/acme/plan/actions",
        {"finding": "Test the backup key", "owner": "MO@acme.test", "due_on": "2026-06-01"},
    )
    assert made.status_code == 201 and made.json()["owner"] == "mo@acme.test"
    item = made.json()["id"]
    done = post(ann, f"/api/orgs/acme/plan/actions/{item}/done", {"note": "Opened one"})
    assert done.json()["status"] == "done"
    assert [a["id"] for a in ann.get("/api/orgs/acme/plan/actions?status=done").json()] == [item]
    assert ann.get("/api/orgs/acme/plan/actions?status=open").json() == []


def test_iso_coverage_through_the_api(world):
    editing.start(world["acme"], world["ann"])
    body = api(world["val"]).get("/api/orgs/acme/plan/iso22301").json()
    assert body["present"] + body["partial"] + body["missing"] == len(body["topics"]) == 27
    assert {t["clause"] for t in body["topics"]} >= {"4.3", "5.2", "8.5", "9.3", "10.1"}
