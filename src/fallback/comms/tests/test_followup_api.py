import json

import pytest
from django.test import Client

from fallback.accounts.roles import Role
from fallback.comms import compensation, notices
from fallback.comms.models import DiscountCode
from fallback.comms.tests.builders import declare, mail_setup, put_records
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ann, bob = make_user("ann@hartley.example"), make_user("bob@bravo.example")
    org = make_org("Hartley", owner=ann)
    make_org("Bravo", owner=bob)
    sid = make_user("sid@hartley.example")
    join(org, sid, Role.STAFF)
    mail_setup(org, 2525)
    put_records(org, "customer", [{"key": "C1", "name": "Smith", "email": "jo@smith.example"}])
    incident = declare(org, ann)
    return {
        "org": org,
        "incident": incident,
        "ann": ann,
        "token": token_for(ann),
        "sid": token_for(sid),
        "bob": token_for(bob),
    }


def call(world, method, path, body=None, token=None, org="hartley"):
    response = getattr(Client(), method)(
        f"/api/orgs/{org}/comms/incidents/{world['incident'].pk}{path}",
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token or world['token']}",
    )
    return response.status_code, (response.json() if response.content else None)


def test_offer_codes_and_the_record(world):
    assert call(world, "get", "/offer")[0] == 404
    status, offer = call(world, "put", "/offer", {"kind": "list", "description": "10% off"})
    assert status == 200 and offer["codes"] == 0
    status, problems = call(world, "post", "/offer/codes", {"text": "AAA-1\nAAA-1"})
    assert status == 422 and problems["errors"][0]["field"] == "line 2"
    assert not DiscountCode.objects.exists()
    status, added = call(world, "post", "/offer/codes", {"text": "AAA-1\nAAA-2"})
    assert status == 201 and added == {"added": 2, "codes_left": 2}
    notice, _ = notices.create(world["incident"], "all_customers", "follow_up")
    notices.edit(
        notice,
        explain="What happened: a fault.",
        predict="What changes: a spare.",
        solve=notice.solve + " " + compensation.LEAD_IN,
    )
    notices.send(notice, world["ann"])
    status, rows = call(world, "get", "/compensation")
    assert status == 200 and [(r["customer_key"], r["code"]) for r in rows] == [("C1", "AAA-1")]
    status, done = call(world, "post", f"/compensation/{rows[0]['id']}/redeem", {})
    assert status == 200 and done == {"redeemed": True, "changed": True}


def test_staff_cannot_change_and_another_org_is_404(world):
    status, _ = call(
        world, "put", "/offer", {"kind": "text", "description": "x"}, token=world["sid"]
    )
    assert status == 403
    assert call(world, "get", "/compensation", token=world["bob"])[0] == 404
    assert call(world, "get", "/compensation", token=world["bob"], org="bravo")[0] == 404
