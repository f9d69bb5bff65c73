import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fallback.accounts.roles import Role
from fallback.incidents.models import Incident, Status
from fallback.monitor import sla_claims
from fallback.monitor.models import ClaimStatus, SlaClaim, State, StateChange, System
from fallback.testing.factories import join, make_org, make_user

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
        vendor="Cloud Ltd",
        sla_percent=Decimal("99.9"),
        credit_tiers="99.9:10",
        state=State.UP,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    now = datetime.now(UTC)
    StateChange.objects.create(
        org=org, system=crm, at=now.replace(day=1, hour=2), from_state="up", to_state="down"
    )
    StateChange.objects.create(
        org=org, system=crm, at=now.replace(day=1, hour=5), from_state="down", to_state="up"
    )
    return {"ann": ann, "bob": bob, "sid": sid, "org": org, "bravo": bravo, "crm": crm}


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(org, name, **kwargs):
    return reverse(f"monitor:{name}", kwargs={"org_slug": org.slug, **kwargs})


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_vendor_report_offers_a_claim_for_a_missed_promise(world):
    page = as_user(world["ann"]).get(url(world["org"], "report")).content.decode()
    assert url(world["org"], "sla_claim_new") + "?system=cloudcrm&amp;month=" in page


def test_make_edit_send_and_answer_a_claim(world):
    client = as_user(world["ann"])
    month = datetime.now(UTC).strftime("%Y-%m")
    response = client.post(
        url(world["org"], "sla_claim_new"),
        {"system": "cloudcrm", "month": month, "incident": "", "request_key": "r1"},
    )
    claim = SlaClaim.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/claims/{claim.pk}/")
    again = client.post(
        url(world["org"], "sla_claim_new"),
        {"system": "cloudcrm", "month": month, "incident": "", "request_key": "r1"},
    )
    assert again.status_code == 302 and SlaClaim.objects.count() == 1
    page = text(client.get(url(world["org"], "sla_claim", pk=claim.pk)))
    assert "3 h 00 min (180 min)" in page and "10% of the monthly fee" in page
    client.post(
        url(world["org"], "sla_claim", pk=claim.pk),
        {"opening": "Dear Cloud,\n\nPlease credit us.", "closing": "Regards."},
    )
    printed = client.get(url(world["org"], "sla_claim_print", pk=claim.pk)).content.decode()
    assert "Please credit us." in printed and claim.reference in printed
    pdf = client.get(url(world["org"], "sla_claim_pdf", pk=claim.pk))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.post(url(world["org"], "sla_claim_sent", pk=claim.pk))
    response = client.post(
        url(world["org"], "sla_claim_answer", pk=claim.pk),
        {"status": "credited", "credited_amount": "", "answer_note": ""},
    )
    assert response.status_code == 400 and "Give the amount credited" in text(response)
    client.post(
        url(world["org"], "sla_claim_answer", pk=claim.pk),
        {"status": "credited", "credited_amount": "9.99", "answer_note": "ok"},
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CREDITED and claim.credited_amount == Decimal("9.99")


def test_a_bad_month_is_named(world):
    response = as_user(world["ann"]).post(
        url(world["org"], "sla_claim_new"), {"system": "cloudcrm", "month": "March"}
    )
    assert response.status_code == 400 and "YYYY-MM" in text(response)
    assert not SlaClaim.objects.exists()


def test_the_incident_page_offers_a_claim_for_each_system(world):
    incident = Incident.objects.create(org=world["org"], title="CRM down", status=Status.RESOLVED)
    incident.systems.add(world["crm"])
    page = as_user(world["ann"]).get(
        reverse(
            "incidents:detail", kwargs={"org_slug": world["org"].slug, "incident_id": incident.pk}
        )
    )
    assert f"?system=cloudcrm&amp;incident={incident.pk}" in page.content.decode()


def test_staff_may_read_but_not_claim_and_another_org_s_claim_is_404(world):
    claim, _ = sla_claims.create(world["crm"], datetime.now(UTC).date())
    staff = as_user(world["sid"])
    assert staff.get(url(world["org"], "sla_claim", pk=claim.pk)).status_code == 200
    assert staff.get(url(world["org"], "sla_claim_new")).status_code == 403
    assert staff.post(url(world["org"], "sla_claim_sent", pk=claim.pk)).status_code == 403
    response = staff.post(
        url(world["org"], "sla_claim", pk=claim.pk), {"opening": "x", "closing": "y"}
    )
    assert response.status_code == 403
    outsider = as_user(world["bob"])
    assert outsider.get(url(world["org"], "sla_claim", pk=claim.pk)).status_code == 404
    assert outsider.get(url(world["bravo"], "sla_claim", pk=claim.pk)).status_code == 404
    assert outsider.get(url(world["bravo"], "sla_claim_pdf", pk=claim.pk)).status_code == 404
