import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fallback.accounts.roles import Role
from fallback.comms import compensation, notices
from fallback.comms.models import Compensation, DiscountCode, Notice, Offer
from fallback.comms.tests.builders import declare, mail_setup, put_records
from fallback.incidents import lifecycle
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ann, bob = make_user("ann@hartley.example"), make_user("bob@bravo.example")
    org, bravo = make_org("Hartley", owner=ann), make_org("Bravo", owner=bob)
    sid = make_user("sid@hartley.example")
    join(org, sid, Role.STAFF)
    mail_setup(org, 2525)
    put_records(org, "customer", [{"key": "C1", "name": "Smith", "email": "jo@smith.example"}])
    put_records(org, "order", [{"key": "O1", "number": "O1", "customer": "C1", "status": "open"}])
    incident = declare(org, ann)
    lifecycle.resolve(incident, ann)
    return {"ann": ann, "bob": bob, "sid": sid, "org": org, "bravo": bravo, "incident": incident}


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(world, name="followup"):
    return reverse(
        f"comms:{name}",
        kwargs={"org_slug": world["org"].slug, "incident_id": world["incident"].pk},
    )


def text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_incident_pages_lead_to_the_follow_up_once_it_is_over(world):
    client = as_user(world["ann"])
    comms = client.get(
        reverse(
            "comms:incident",
            kwargs={"org_slug": world["org"].slug, "incident_id": world["incident"].pk},
        )
    )
    assert url(world) in comms.content.decode()
    detail = client.get(
        reverse(
            "incidents:detail",
            kwargs={"org_slug": world["org"].slug, "incident_id": world["incident"].pk},
        )
    )
    assert url(world) in detail.content.decode()


def test_choose_an_offer_add_codes_compose_and_send(world):
    client = as_user(world["ann"])
    response = client.post(
        url(world), {"action": "offer", "kind": "list", "description": "15% off your next order"}
    )
    assert response.status_code == 302
    upload = SimpleUploadedFile("codes.csv", b"Code\r\nSHOP-0001\r\nSHOP-0002\r\n")
    response = client.post(url(world), {"action": "codes", "file": upload})
    assert response.status_code == 302 and DiscountCode.objects.count() == 2
    response = client.post(url(world), {"action": "compose", "request_key": "c1"})
    notice = Notice.objects.get()
    assert response.status_code == 302 and notice.audience == "affected_customers"
    assert "{{ compensation }}" in notice.solve
    notices.edit(notice, explain="What happened: a power cut.", predict="What changes: a UPS.")
    notices.send(notice, world["ann"])
    page = text(client.get(url(world)))
    assert "SHOP-0001" in page and "1 of 2 codes left" in page
    csv = client.get(url(world, "followup-csv")).content.decode()
    assert csv.splitlines()[1].startswith("C1,Smith,SHOP-0001,15% off your next order,")


def test_a_bad_list_is_refused_naming_the_line(world):
    client = as_user(world["ann"])
    client.post(url(world), {"action": "offer", "kind": "list", "description": "10% off"})
    response = client.post(url(world), {"action": "codes", "codes": "AAA-1\nBB B\nAAA-1"})
    assert response.status_code == 400
    page = text(response)
    assert "line 2: “BB B” is not a code" in page and "line 3: AAA-1 is listed twice" in page
    assert not DiscountCode.objects.exists()


def test_marking_redeemed(world):
    compensation.save_offer(world["incident"], "generated", "10% off")
    notice, _ = notices.create(world["incident"], "affected_customers", "follow_up")
    notices.edit(
        notice,
        explain="What happened: a power cut.",
        predict="What changes: a UPS.",
        solve=notice.solve + " " + compensation.LEAD_IN,
    )
    notices.send(notice, world["ann"])
    given = Compensation.objects.get()
    client = as_user(world["ann"])
    client.post(url(world, "followup-redeem"), {"compensation": given.pk})
    given.refresh_from_db()
    assert given.redeemed_at is not None and given.redeemed_by == world["ann"]


def test_staff_see_but_cannot_change_and_another_org_gets_404(world):
    staff = as_user(world["sid"])
    assert staff.get(url(world)).status_code == 200
    response = staff.post(url(world), {"action": "offer", "kind": "text", "description": "x"})
    assert response.status_code == 403 and not Offer.objects.exists()
    assert staff.post(url(world, "followup-redeem"), {"codes": "X-1"}).status_code == 403
    outsider = as_user(world["bob"])
    foreign = reverse(
        "comms:followup",
        kwargs={"org_slug": world["bravo"].slug, "incident_id": world["incident"].pk},
    )
    assert outsider.get(foreign).status_code == 404
    assert outsider.get(url(world)).status_code == 404
