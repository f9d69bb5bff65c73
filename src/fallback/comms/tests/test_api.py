import json

import pytest
from django.test import Client

from fallback.accounts.roles import Role
from fallback.comms.models import KeyAccount, Notice, OptOut, OutboxItem
from fallback.comms.tests.builders import declare, mail_setup, put_records
from fallback.incidents.tests.builders import make_system
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ann = make_user("ann@hartley.example")
    org = make_org("Hartley", owner=ann)
    sid = make_user("sid@hartley.example")
    join(org, sid, Role.STAFF)
    mail_setup(org, 2525)
    put_records(
        org,
        "customer",
        [{"key": f"C{i}", "name": f"Customer {i}", "email": f"c{i}@example.com"} for i in range(3)],
    )
    incident = declare(org, ann, [make_system(org, "CloudCRM")])
    return {
        "org": org,
        "ann": ann,
        "sid": sid,
        "incident": incident,
        "token": token_for(ann),
        "staff": token_for(sid),
    }


def call(world, method, path, body=None, token=None, **headers):
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token or world['token']}"}
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = getattr(client, method)(
        f"/api/orgs/{world['org'].slug}/comms{path}",
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        **auth,
        **extra,
    )
    return response.status_code, (response.json() if response.content else None)


def test_compose_check_and_send_a_notice(world):
    status, notice = call(
        world,
        "post",
        "/notices",
        {"incident": world["incident"].pk, "audience": "all_customers", "request_key": "n1"},
    )
    assert status == 201 and notice["status"] == "draft" and notice["findings"] == []
    status, again = call(
        world,
        "post",
        "/notices",
        {"incident": world["incident"].pk, "audience": "all_customers"},
        **{"Idempotency-Key": "n1"},
    )
    assert status == 200 and again["id"] == notice["id"]
    status, checked = call(world, "post", f"/notices/{notice['id']}/check")
    assert status == 200 and checked["body"].startswith("Dear Sam Taylor,")
    assert checked["audience"]["channels"]["email"]["targets"] == 3
    status, sent = call(world, "post", f"/notices/{notice['id']}/send", {"send_key": "s1"})
    assert status == 202 and sent["queued"] == 3 and sent["notice"]["progress"]["queued"] == 3
    status, repeated = call(world, "post", f"/notices/{notice['id']}/send", {"send_key": "s1"})
    assert status == 200 and repeated["repeated"] and OutboxItem.objects.count() == 3
    status, progress = call(world, "get", f"/notices/{notice['id']}/progress")
    assert progress["total"] == 3 and progress["percent"] == 0
    status, box = call(world, "get", "/outbox")
    assert box["queued"] == 3


def test_findings_stop_a_send_until_acknowledged(world):
    _, notice = call(
        world, "post", "/notices", {"incident": world["incident"].pk, "audience": "all_customers"}
    )
    status, edited = call(world, "patch", f"/notices/{notice['id']}", {"predict": "We are on it."})
    assert status == 200 and [f["code"] for f in edited["findings"]] == ["no_next_update"]
    status, refused = call(world, "post", f"/notices/{notice['id']}/send")
    assert status == 409 and refused["findings"][0]["part"] == "predict"
    key = edited["findings"][0]["key"]
    status, acked = call(world, "post", f"/notices/{notice['id']}/acknowledge", {"findings": [key]})
    assert status == 200 and acked["findings"][0]["acknowledged"] and not acked["blocked"]
    assert call(world, "post", f"/notices/{notice['id']}/send")[0] == 202


def test_a_sent_notice_cannot_be_edited(world):
    _, notice = call(
        world, "post", "/notices", {"incident": world["incident"].pk, "audience": "staff"}
    )
    call(world, "post", f"/notices/{notice['id']}/send")
    status, body = call(world, "patch", f"/notices/{notice['id']}", {"subject": "Changed"})
    assert status == 409 and "sent already" in body["detail"]


def test_bad_input_names_the_field_and_changes_nothing(world):
    status, body = call(
        world, "post", "/notices", {"incident": world["incident"].pk, "audience": "everyone"}
    )
    assert status == 422 and body["errors"][0]["field"] == "audience"
    status, body = call(world, "post", "/notices", {"incident": 999999, "audience": "staff"})
    assert status == 422 and body["errors"][0]["field"] == "incident"
    status, body = call(
        world,
        "post",
        "/notices",
        {"incident": world["incident"].pk, "audience": "staff", "channels": ["fax"]},
    )
    assert status == 422 and body["errors"][0]["field"] == "channels"
    assert not Notice.objects.exists()


def test_staff_may_read_but_not_send(world):
    _, notice = call(
        world, "post", "/notices", {"incident": world["incident"].pk, "audience": "staff"}
    )
    assert call(world, "get", f"/notices/{notice['id']}", token=world["staff"])[0] == 200
    assert call(world, "post", f"/notices/{notice['id']}/send", token=world["staff"])[0] == 403


def test_another_organisation_is_not_found(world):
    bob = make_user("bob@bravo.example")
    make_org("Bravo", owner=bob)
    _, notice = call(
        world, "post", "/notices", {"incident": world["incident"].pk, "audience": "staff"}
    )
    assert call(world, "get", f"/notices/{notice['id']}", token=token_for(bob))[0] == 404


def test_opt_outs_and_key_accounts(world):
    status, opt_out = call(
        world, "post", "/opt-outs", {"address": "C1@Example.com", "reason": "asked"}
    )
    assert status == 201 and opt_out["address"] == "c1@example.com"
    status, body = call(world, "post", "/opt-outs", {"address": "x"})
    assert status == 422 and body["errors"][0]["field"] == "address"
    assert [o["address"] for o in call(world, "get", "/opt-outs")[1]] == ["c1@example.com"]
    assert call(world, "delete", f"/opt-outs/{opt_out['id']}")[0] == 204
    assert not OptOut.objects.exists()
    status, account = call(
        world, "put", "/key-accounts", {"customer_key": "C2", "phone": "07700 900123"}
    )
    assert status == 200 and account["name"] == "Customer 2" and account["call_dont_email"]
    status, account = call(
        world, "put", "/key-accounts", {"customer_key": "C2", "call_dont_email": False}
    )
    assert account["phone"] == "07700 900123" and not account["call_dont_email"]
    assert KeyAccount.objects.count() == 1
    assert call(world, "delete", f"/key-accounts/{account['id']}")[0] == 204


def test_calls_are_listed_and_recorded(world):
    KeyAccount.objects.create(
        org=world["org"], customer_key="C1", name="Customer 1", phone="07700 900123"
    )
    _, notice = call(
        world, "post", "/notices", {"incident": world["incident"].pk, "audience": "all_customers"}
    )
    status, calls = call(world, "get", f"/notices/{notice['id']}/calls")
    assert [c["customer_key"] for c in calls] == ["C1"] and calls[0]["last_outcome"] is None
    status, done = call(
        world,
        "post",
        f"/notices/{notice['id']}/calls",
        {"customer_key": "C1", "outcome": "message"},
        token=world["staff"],
    )
    assert status == 201 and done["last_outcome"] == "message"
    status, body = call(
        world, "post", f"/notices/{notice['id']}/calls", {"customer_key": "C0", "outcome": "spoke"}
    )
    assert status == 422 and body["errors"][0]["field"] == "customer_key"


def test_post_a_status_update_once_and_read_the_summary(world):
    path = f"/incidents/{world['incident'].pk}/status-updates"
    body = {"status": "identified", "body": "The host's disk failed."}
    status, made = call(world, "post", path, body, **{"Idempotency-Key": "s1"})
    assert status == 201 and made["status"] == "identified" and not made["is_exercise"]
    status, again = call(world, "post", path, body, **{"Idempotency-Key": "s1"})
    assert status == 200 and again["id"] == made["id"]
    status, listed = call(world, "get", path)
    assert [u["id"] for u in listed] == [made["id"]]
    status, summary = call(world, "get", "/status-page/summary.json")
    assert (
        status == 200 and summary["incidents"][0]["incident_updates"][0]["status"] == "identified"
    )


def test_a_bad_status_update_names_the_field(world):
    path = f"/incidents/{world['incident'].pk}/status-updates"
    status, problems = call(world, "post", path, {"status": "fixed", "body": "x"})
    assert status == 422 and problems["errors"][0]["field"] == "status"
    status, _ = call(
        world, "post", path, {"status": "identified", "body": "x"}, token=world["staff"]
    )
    assert status == 403


def test_notices_cannot_be_composed_for_status_page_subscribers(world):
    status, problems = call(
        world, "post", "/notices", {"incident": world["incident"].pk, "audience": "subscribers"}
    )
    assert status == 422 and problems["errors"][0]["field"] == "audience"


def test_publish_answers_502_naming_what_failed(world, tmp_path):
    status, done = call(world, "post", "/status-page/publish")
    assert status == 502 and "Nowhere to publish" in done["errors"][0]
    from fallback.comms import statuspage

    statuspage.update_page(world["org"], folder_path=str(tmp_path))
    status, done = call(world, "post", "/status-page/publish")
    assert status == 200 and done["places"] == [f"folder {tmp_path}"]
