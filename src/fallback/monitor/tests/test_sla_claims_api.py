import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from fallback.accounts.roles import Role
from fallback.monitor.models import SlaClaim, State, StateChange, System
from fallback.testing.factories import join, make_org, make_user, token_for

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world():
    ann, bob = make_user("ann@acme.example"), make_user("bob@bravo.example")
    org, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    sid = make_user("sid@acme.example")
    join(org, sid, Role.STAFF)
    crm = System.objects.create(
        org=org,
        name="CloudCRM",
        slug="cloudcrm",
        sla_percent=Decimal("99.9"),
        credit_tiers="99.9:10",
        monthly_fee=Decimal("50"),
        state=State.UP,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for at, frm, to in [
        (datetime(2026, 3, 2, 9, tzinfo=UTC), "up", "down"),
        (datetime(2026, 3, 2, 11, tzinfo=UTC), "down", "up"),
    ]:
        StateChange.objects.create(org=org, system=crm, at=at, from_state=frm, to_state=to)
    return {
        "org": org,
        "bravo": bravo,
        "ann": token_for(ann),
        "sid": token_for(sid),
        "bob": token_for(bob),
    }


def call(token, method, path, body=None):
    response = getattr(Client(), method)(
        f"/api{path}",
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    is_json = response.get("Content-Type", "").startswith("application/json")
    return response.status_code, (response.json() if is_json else response.content)


def test_make_a_claim_once_and_read_its_figures(world):
    body = {"system": "cloudcrm", "month": "2026-03", "request_key": "a1"}
    status, claim = call(world["ann"], "post", "/orgs/acme/sla-claims", body)
    assert status == 201 and claim["reference"] == "SLA-202603-001"
    assert claim["figures"]["claimed_minutes"] == 120
    assert (
        claim["figures"]["credit_percent"] == "10" and claim["figures"]["credit_amount"] == "5.00"
    )
    status, again = call(world["ann"], "post", "/orgs/acme/sla-claims", body)
    assert status == 200 and again["id"] == claim["id"]
    status, _ = call(
        world["ann"], "patch", f"/orgs/acme/sla-claims/{claim['id']}", {"closing": "Thanks."}
    )
    assert status == 200
    status, sent = call(world["ann"], "post", f"/orgs/acme/sla-claims/{claim['id']}/sent")
    assert status == 200 and sent["status"] == "sent"
    status, answered = call(
        world["ann"],
        "post",
        f"/orgs/acme/sla-claims/{claim['id']}/answer",
        {"status": "credited", "credited_amount": "5.00"},
    )
    assert status == 200 and answered["credited_amount"] == "5.00"
    status, pdf = call(world["ann"], "get", f"/orgs/acme/sla-claims/{claim['id']}/pdf")
    assert status == 200 and pdf.startswith(b"%PDF")


def test_bad_input_names_the_field(world):
    status, problems = call(
        world["ann"], "post", "/orgs/acme/sla-claims", {"system": "cloudcrm", "month": "03/2026"}
    )
    assert status == 422 and problems["errors"][0]["field"] == "month"
    status, problems = call(
        world["ann"], "post", "/orgs/acme/sla-claims", {"system": "nope", "month": "2026-03"}
    )
    assert status == 422 and problems["errors"][0]["field"] == "system"
    assert not SlaClaim.objects.exists()


def test_staff_read_only_and_another_org_is_404(world):
    _, claim = call(
        world["ann"], "post", "/orgs/acme/sla-claims", {"system": "cloudcrm", "month": "2026-03"}
    )
    assert call(world["sid"], "get", f"/orgs/acme/sla-claims/{claim['id']}")[0] == 200
    assert call(world["sid"], "post", f"/orgs/acme/sla-claims/{claim['id']}/sent")[0] == 403
    assert call(world["bob"], "get", f"/orgs/acme/sla-claims/{claim['id']}")[0] == 404
    assert call(world["bob"], "get", f"/orgs/bravo/sla-claims/{claim['id']}")[0] == 404
