"""The public pages, with no login: the status page as Fallback serves it, the subscribe form
(throttled), confirm and unsubscribe links (a button, not the GET, does it), and mail
programs' one-click unsubscribe (RFC 8058: a POST with no session or CSRF token)."""

import pytest
from django.test import Client
from django.urls import reverse

from fallback.comms import statuspage, subscribers
from fallback.comms.models import Subscriber
from fallback.comms.tests.builders import declare
from fallback.incidents.tests.builders import make_system
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ann = make_user("ann@hartley.example")
    org = make_org("Hartley", owner=ann)
    crm, books = make_system(org, "CloudCRM"), make_system(org, "Books")
    statuspage.save_components(org, [(crm, "Orders", ""), (books, "Invoices", "")])
    return {"ann": ann, "org": org, "crm": crm, "books": books}


def url(name, org, **kw):
    return reverse(f"comms:{name}", kwargs={"org_slug": org.slug, **kw})


def test_an_organisation_without_a_status_page_is_not_found_like_an_unknown_one(world):
    quiet = make_org("Quiet Ltd", owner=world["ann"])
    for path in ["", "summary.json", "subscribe/"]:
        assert Client().get(f"/status/{quiet.slug}/{path}").status_code == 404
        assert Client().get(f"/status/nope/{path}").status_code == 404
    assert Client().get(url("public-status", world["org"])).status_code == 200


def test_the_public_page_needs_no_login_and_never_shows_a_drill(world):
    declare(world["org"], world["ann"], [world["crm"]], title="CRM outage")
    declare(world["org"], world["ann"], [world["books"]], title="Practice", is_exercise=True)
    response = Client().get(url("public-status", world["org"]))
    text = response.content.decode()
    assert response.status_code == 200 and "Orders unavailable" in text
    assert "Invoices unavailable" not in text and "EXERCISE" not in text
    assert Client().get("/status/nope/").status_code == 404
    summary = Client().get(f"/status/{world['org'].slug}/summary.json").json()  # its link
    assert [i["name"] for i in summary["incidents"]] == ["Orders unavailable"]


def test_the_form_offers_the_public_names_and_records_a_request(world):
    client = Client()
    form = client.get(url("subscribe", world["org"])).content.decode()
    assert "Orders" in form and "Invoices" in form and "CloudCRM" not in form
    response = client.post(
        url("subscribe", world["org"]),
        {"email": "Jo@Example.com", "which": "some", "systems": [str(world["crm"].pk)]},
        REMOTE_ADDR="203.0.113.5",
    )
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    sub = Subscriber.objects.get()
    assert sub.email == "jo@example.com" and sub.confirmed_at is None
    assert sub.requested_systems == [world["crm"].pk]
    assert sub.links_base == "http://testserver" and sub.requested_from == "203.0.113.5"


def test_bad_input_answers_400_and_records_nothing(world):
    response = Client().post(url("subscribe", world["org"]), {"email": "jo", "which": "all"})
    assert response.status_code == 400 and not Subscriber.objects.exists()
    response = Client().post(
        url("subscribe", world["org"]), {"email": "jo@example.com", "which": "some"}
    )
    assert response.status_code == 400
    assert "Choose at least one system" in response.content.decode()


def test_too_many_requests_from_one_address_answer_429(world):
    client = Client()
    for i in range(subscribers.REQUESTS_PER_ASKER):
        client.post(url("subscribe", world["org"]), {"email": f"p{i}@example.com", "which": "all"})
    response = client.post(
        url("subscribe", world["org"]), {"email": "x@example.com", "which": "all"}
    )
    assert response.status_code == 429 and "Too many requests" in response.content.decode()


def test_a_page_without_subscribers_takes_none(world):
    statuspage.update_page(world["org"], allow_subscribers=False)
    response = Client().post(url("subscribe", world["org"]), {"email": "jo@example.com"})
    assert response.status_code == 404 and not Subscriber.objects.exists()


def test_confirming_takes_a_button_not_just_opening_the_link(world):
    sub = subscribers.subscribe(world["org"], "jo@example.com", None).subscriber
    token = subscribers._token(sub, "confirm", None)
    client = Client(enforce_csrf_checks=True)
    page = client.get(url("confirm", world["org"], token=token))
    assert page.status_code == 200 and "Confirm" in page.content.decode()
    assert Subscriber.objects.get().confirmed_at is None  # a mail scanner's GET
    csrf = client.cookies["csrftoken"].value
    done = client.post(url("confirm", world["org"], token=token), {"csrfmiddlewaretoken": csrf})
    assert "Subscribed" in done.content.decode()
    assert Subscriber.objects.get().active


def test_a_bad_link_says_so(world):
    response = Client().get(url("confirm", world["org"], token="not-a-token"))
    assert response.status_code == 400 and "not valid" in response.content.decode()
    response = Client().post(url("unsubscribe", world["org"], token="not-a-token"))
    assert response.status_code == 400


def test_one_click_unsubscribe_works_without_a_session(world):
    sub = subscribers.subscribe(world["org"], "jo@example.com", None).subscriber
    subscribers.confirm(world["org"], subscribers._token(sub, "confirm", None))
    token = subscribers._token(sub, "unsubscribe")
    client = Client(enforce_csrf_checks=True)
    assert (
        "Stop the updates"
        in client.get(url("unsubscribe", world["org"], token=token)).content.decode()
    )
    assert Subscriber.objects.get().active
    response = client.post(
        url("unsubscribe", world["org"], token=token), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200 and "Unsubscribed" in response.content.decode()
    assert not Subscriber.objects.get().active
