"""The staff pages of the status page: settings and components, Publish now, previews,
subscribers, and posting an update from an incident — with the roles matrix and org scoping."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.comms import statuspage, subscribers
from fallback.comms.models import StatusComponent, StatusPage, StatusUpdate, Subscriber
from fallback.comms.tests.builders import declare
from fallback.incidents.tests.builders import make_system
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path):
    ann, bob = make_user("ann@hartley.example"), make_user("bob@bravo.example")
    org, bravo = make_org("Hartley", owner=ann), make_org("Bravo", owner=bob)
    sid = make_user("sid@hartley.example")
    join(org, sid, Role.STAFF)
    crm, books = make_system(org, "CloudCRM"), make_system(org, "Books")
    incident = declare(org, ann, [crm])
    return {
        "ann": ann, "bob": bob, "sid": sid, "org": org, "bravo": bravo,
        "crm": crm, "books": books, "incident": incident, "folder": tmp_path / "status",
    }  # fmt: skip


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name, org, **kw):
    return reverse(f"comms:{name}", kwargs={"org_slug": org.slug, **kw})


def test_the_settings_page_saves_the_page_and_its_components(world):
    client = as_user(world["ann"])
    crm, books = world["crm"], world["books"]
    response = client.post(
        url("status", world["org"]),
        {
            "title": "Hartley status",
            "public_url": "status.hartley.example",
            "fallback_url": "https://fallback.hartley.example",
            "allow_subscribers": "on",
            "history_days": "7",
            "folder_path": str(world["folder"]),
            "show": [str(books.pk), str(crm.pk)],
            "order": [str(books.pk), str(crm.pk)],
            f"name_{crm.pk}": "Orders",
            f"description_{crm.pk}": "Taking and tracking orders",
            f"name_{books.pk}": "Invoices",
        },
    )
    assert response.status_code == 302
    page = StatusPage.objects.get(org=world["org"])
    assert page.public_url == "https://status.hartley.example"
    assert page.history_days == 7 and page.publish_due_at is not None
    assert [(c.name, c.description) for c in StatusComponent.objects.filter(org=world["org"])] == [
        ("Invoices", ""),
        ("Orders", "Taking and tracking orders"),
    ]
    assert AuditEvent.objects.filter(action="comms.status_page.changed").exists()
    page_html = client.get(url("status", world["org"])).content.decode()
    assert "Publish now" in page_html and "/status/hartley/subscribe/" in page_html


def test_bad_settings_answer_400_naming_the_field_and_change_nothing(world):
    response = as_user(world["ann"]).post(
        url("status", world["org"]),
        {"history_days": "14", "s3_bucket": "Bad Bucket", "folder_path": "relative"},
    )
    assert response.status_code == 400
    assert "3-63 lower-case letters" in response.content.decode()
    assert StatusPage.objects.get(org=world["org"]).s3_bucket == ""


def test_staff_see_the_settings_but_cannot_change_them(world):
    client = as_user(world["sid"])
    assert client.get(url("status", world["org"])).status_code == 200
    assert client.post(url("status", world["org"]), {"history_days": "3"}).status_code == 403
    assert client.post(url("status-publish", world["org"])).status_code == 403


def test_another_organisation_sees_nothing(world):
    client = as_user(world["bob"])
    assert client.get(url("status", world["org"])).status_code == 404
    incident_url = url("status-update", world["org"], incident_id=world["incident"].pk)
    assert client.post(incident_url, {"status": "identified", "body": "x"}).status_code == 404
    bravo_url = url("status-update", world["bravo"], incident_id=world["incident"].pk)
    assert client.post(bravo_url, {"status": "identified", "body": "x"}).status_code == 404
    assert not StatusUpdate.objects.exists()


def test_publish_now_publishes_and_says_where(world):
    statuspage.update_page(world["org"], folder_path=str(world["folder"]))
    response = as_user(world["ann"]).post(url("status-publish", world["org"]), follow=True)
    assert f"Published to folder {world['folder']}" in response.content.decode()
    assert (world["folder"] / "index.html").exists()
    page = StatusPage.objects.get(org=world["org"])
    assert page.published_at is not None


def test_publish_now_with_nowhere_to_go_says_so(world):
    response = as_user(world["ann"]).post(url("status-publish", world["org"]), follow=True)
    assert "Nowhere to publish" in response.content.decode()


def test_posting_an_update_from_the_incident_page_once(world):
    client = as_user(world["ann"])
    page = client.get(url("incident", world["org"], incident_id=world["incident"].pk))
    assert "Post update" in page.content.decode()
    target = url("status-update", world["org"], incident_id=world["incident"].pk)
    form = {"status": "identified", "body": "The host's disk failed.", "request_key": "r1"}
    assert client.post(target, form).status_code == 302
    assert client.post(target, form).status_code == 302  # a double click
    (update,) = StatusUpdate.objects.all()
    assert update.created_by == world["ann"] and update.body == "The host's disk failed."
    again = client.get(url("incident", world["org"], incident_id=world["incident"].pk))
    assert "The host&#x27;s disk failed." in again.content.decode()


def test_an_update_can_come_with_the_notice_it_was_posted_with(world):
    from fallback.comms import notices

    notice, _ = notices.create(world["incident"], "all_customers", "first_notice")
    client = as_user(world["ann"])
    page = client.get(url("notice", world["org"], pk=notice.pk)).content.decode()
    assert "Also post to the status page" in page
    assert "{{" not in page.split("Also post to the status page")[1]  # filled in
    target = url("status-update", world["org"], incident_id=world["incident"].pk)
    client.post(target, {"status": "investigating", "body": "Looking.", "notice": notice.pk})
    assert StatusUpdate.objects.get().from_notice == notice


def test_a_bad_update_is_refused_with_the_reason(world):
    target = url("status-update", world["org"], incident_id=world["incident"].pk)
    response = as_user(world["ann"]).post(target, {"status": "fixed", "body": ""}, follow=True)
    assert "State" in response.content.decode()
    assert not StatusUpdate.objects.exists()


def test_staff_may_not_post_updates(world):
    target = url("status-update", world["org"], incident_id=world["incident"].pk)
    response = as_user(world["sid"]).post(target, {"status": "identified", "body": "x"})
    assert response.status_code == 403


def test_previews_show_the_page_the_summary_and_drills_marked(world):
    drill = declare(world["org"], world["ann"], [world["crm"]], is_exercise=True, title="Drill")
    statuspage.save_components(world["org"], [(world["crm"], "Orders", "")])
    statuspage.post_update(drill, "identified", "A practice run.")
    client = as_user(world["sid"])
    public = client.get(url("status-preview", world["org"])).content.decode()
    assert "A practice run." not in public and "Orders" in public
    preview = client.get(url("status-preview", world["org"]) + "?exercise=1").content.decode()
    assert "EXERCISE PREVIEW" in preview and "A practice run." in preview
    summary = json.loads(client.get(url("status-summary", world["org"])).content)
    assert summary["components"][0]["name"] == "Orders"


def test_the_subscribers_page_lists_and_removes(world):
    sub = subscribers.subscribe(world["org"], "jo@example.com", None).subscriber
    client = as_user(world["ann"])
    assert "jo@example.com" in client.get(url("status-subscribers", world["org"])).content.decode()
    assert (
        client.post(url("status-subscribers", world["org"]), {"remove": sub.pk}).status_code == 302
    )
    assert Subscriber.objects.get().unsubscribed_at is not None
    assert AuditEvent.objects.filter(action="comms.subscriber.removed").exists()
    other = as_user(world["bob"]).post(
        url("status-subscribers", world["bravo"]), {"remove": sub.pk}
    )
    assert other.status_code == 404
