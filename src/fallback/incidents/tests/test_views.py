from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.incidents import lifecycle
from fallback.incidents.models import (
    AlertChannel,
    AlertDelivery,
    DeliveryStatus,
    EntryKind,
    Incident,
    Status,
)
from fallback.monitor import editing
from fallback.monitor.models import State, StateChange, System, SystemKind
from fallback.simulator.runner import Simulator
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme (Mo manages, Sid is staff, Val views); Bob owns Bravo."""
    ann, bob = make_user("ann@acme.test"), make_user("bob@bravo.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    people = {"ann": ann, "bob": bob, "acme": acme, "bravo": bravo}
    for name, role in [("mo", Role.MANAGER), ("sid", Role.STAFF), ("val", Role.VIEWER)]:
        people[name] = make_user(f"{name}@acme.test")
        join(acme, people[name], role)
    people["crm"] = editing.create_system(acme, name="CloudCRM", kind=SystemKind.CRM)
    return people


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, org: Organisation, **kwargs) -> str:
    return reverse(f"incidents:{name}", kwargs={"org_slug": org.slug, **kwargs})


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def suspected(world) -> Incident:
    """CloudCRM went down: the checks opened a suspected incident."""
    crm = world["crm"]
    System.objects.filter(pk=crm.pk).update(state=State.DOWN, state_since=timezone.now())
    crm.refresh_from_db()
    change = StateChange.objects.create(
        org=crm.org, system=crm, from_state=State.UP, to_state=State.DOWN, reason="HTTP 503"
    )
    incident = lifecycle.on_system_state_change(crm, change)
    assert incident is not None and incident.status == Status.SUSPECTED
    return incident


# ------------------------------------------------------------------------ list


def test_list_shows_open_incidents_first_then_history(world):
    old = lifecycle.declare_manually(world["acme"], [], "Phones down last week", world["ann"])
    lifecycle.resolve(old, world["ann"])
    current = suspected(world)
    html = page(as_user(world["val"]).get(url("list", world["acme"])))
    words = text(html)
    assert words.index("Open") < words.index(current.title) < words.index("History")
    assert words.index("History") < words.index("Phones down last week")
    assert "Declare an outage" not in html  # a viewer cannot


def test_list_shows_only_the_organisations_incidents(world):
    lifecycle.declare_manually(world["bravo"], [], "Bravo's outage", world["bob"])
    assert "Bravo's outage" not in page(as_user(world["ann"]).get(url("list", world["acme"])))


def test_another_organisations_incident_is_404(world):
    theirs = lifecycle.declare_manually(world["bravo"], [], "Theirs", world["bob"])
    client = as_user(world["ann"])
    assert client.get(url("detail", world["acme"], incident_id=theirs.pk)).status_code == 404
    r = client.post(url("resolve", world["acme"], incident_id=theirs.pk))
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.DECLARED


# ---------------------------------------------------------------------- detail


def test_incident_page_shows_status_systems_and_timeline(world):
    incident = suspected(world)
    html = page(as_user(world["val"]).get(url("detail", world["acme"], incident_id=incident.pk)))
    words = text(html)
    assert "Suspected" in words and "CloudCRM" in words
    assert incident.timeline.first().text in words
    assert "Confirm outage" not in html  # viewers cannot act
    assert 'hx-trigger="every 15s"' in html  # an open incident keeps itself up to date
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert incident.title in title and "<" not in title  # the title, not the timeline


def test_staff_confirms_a_suspected_outage_and_it_is_declared(world):
    incident = suspected(world)
    client = as_user(world["sid"])
    html = page(client.get(url("detail", world["acme"], incident_id=incident.pk)))
    assert "Confirm outage" in html
    r = client.post(url("confirm", world["acme"], incident_id=incident.pk))
    assert r.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED and incident.declared_by == world["sid"]
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert EntryKind.CONFIRMED in kinds and EntryKind.DECLARED in kinds
    assert AuditEvent.objects.filter(action="incident.confirmed", actor=world["sid"]).exists()


def test_viewer_cannot_confirm(world):
    incident = suspected(world)
    r = as_user(world["val"]).post(url("confirm", world["acme"], incident_id=incident.pk))
    assert r.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.SUSPECTED


def test_note_is_added_to_the_timeline(world):
    incident = suspected(world)
    as_user(world["sid"]).post(
        url("note", world["acme"], incident_id=incident.pk), {"text": "Called Cloud Ltd: 2 hours"}
    )
    entry = incident.timeline.get(kind=EntryKind.NOTE)
    assert (entry.text, entry.actor) == ("Called Cloud Ltd: 2 hours", world["sid"])


def test_empty_note_is_refused_on_its_field(world):
    incident = suspected(world)
    r = as_user(world["sid"]).post(
        url("note", world["acme"], incident_id=incident.pk), {"text": "  "}
    )
    assert r.status_code == 400
    assert "Note: This field is required." in r.content.decode()
    assert not incident.timeline.filter(kind=EntryKind.NOTE).exists()


def test_resolving_closes_the_incident_with_the_note(world):
    incident = lifecycle.declare_manually(world["acme"], [world["crm"]], "CRM down", world["sid"])
    r = as_user(world["sid"]).post(
        url("resolve", world["acme"], incident_id=incident.pk), {"note": "All re-entered."}
    )
    assert r.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED and incident.resolved_by == world["sid"]
    assert "All re-entered." in incident.timeline.get(kind=EntryKind.RESOLVED).text


def test_resolving_twice_says_it_is_already_resolved(world):
    incident = lifecycle.declare_manually(world["acme"], [], "Phones", world["sid"])
    client = as_user(world["sid"])
    client.post(url("resolve", world["acme"], incident_id=incident.pk))
    r = client.post(url("resolve", world["acme"], incident_id=incident.pk), follow=True)
    assert "already resolved" in r.content.decode()


def test_refreshes_return_only_the_status_or_the_timeline(world):
    incident = suspected(world)
    client = as_user(world["val"])
    detail = url("detail", world["acme"], incident_id=incident.pk)
    status = page(client.get(detail + "?part=status", HTTP_HX_REQUEST="true"))
    assert status.lstrip().startswith('<div id="incident-status"') and "<html" not in status
    timeline = page(client.get(detail + "?part=timeline", HTTP_HX_REQUEST="true"))
    assert timeline.lstrip().startswith('<div id="incident-timeline"') and "Timeline" in timeline
    assert "Add a note" not in status + timeline  # typing is never interrupted


# --------------------------------------------------------------------- declare


def test_declare_form_preselects_the_system_it_came_from(world):
    html = page(as_user(world["sid"]).get(url("declare", world["acme"]) + "?system=cloudcrm"))
    assert re.search(r'value="' + str(world["crm"].pk) + r'"[^>]*checked', html)
    assert 'value="CloudCRM is unavailable"' in html


def test_declaring_an_outage_by_hand(world):
    r = as_user(world["sid"]).post(
        url("declare", world["acme"]),
        {
            "title": "Accounts server unreachable",
            "systems": [world["crm"].pk],
            "summary": "Since 9",
        },
    )
    incident = Incident.objects.get()
    assert r.status_code == 302 and r.url == url("detail", world["acme"], incident_id=incident.pk)
    assert (incident.status, incident.declared_manually, incident.is_exercise) == (
        Status.DECLARED,
        True,
        False,
    )
    assert list(incident.systems.all()) == [world["crm"]]


def test_declaring_a_drill(world):
    as_user(world["sid"]).post(
        url("declare", world["acme"]), {"title": "Quarterly drill", "is_exercise": "on"}
    )
    assert Incident.objects.get().is_exercise


def test_declaring_without_a_title_is_refused_on_the_title(world):
    html = page(as_user(world["sid"]).post(url("declare", world["acme"]), {"title": ""}))
    assert "What is down: This field is required." in html
    assert not Incident.objects.exists()


def test_another_organisations_system_cannot_be_named(world):
    theirs = editing.create_system(world["bravo"], name="Theirs")
    html = page(
        as_user(world["sid"]).post(
            url("declare", world["acme"]), {"title": "X", "systems": [theirs.pk]}
        )
    )
    assert "Select a valid choice" in html
    assert not Incident.objects.exists()


def test_declaring_twice_for_the_same_system_points_at_the_open_incident(world):
    client = as_user(world["sid"])
    client.post(url("declare", world["acme"]), {"title": "A", "systems": [world["crm"].pk]})
    html = page(
        client.post(url("declare", world["acme"]), {"title": "B", "systems": [world["crm"].pk]})
    )
    assert "An open incident already covers CloudCRM" in html
    assert Incident.objects.count() == 1


def test_viewer_cannot_declare(world):
    client = as_user(world["val"])
    assert client.get(url("declare", world["acme"])).status_code == 403
    assert client.post(url("declare", world["acme"]), {"title": "X"}).status_code == 403
    assert not Incident.objects.exists()


# -------------------------------------------------------------- alert channels


@pytest.fixture
def receiver(tmp_path):
    sim = Simulator("127.0.0.1", 0, home=tmp_path).start()
    yield sim
    sim.stop()


def test_manager_adds_a_channel_and_the_list_hides_its_secret(world):
    client = as_user(world["mo"])
    r = client.post(
        url("channels", world["acme"]),
        {
            "name": "Mo's mail",
            "url": "mailto://mo:hunter2@example.com",
            "remind_every_minutes": "30",
            "on_duty": "on",
            "enabled": "on",
            "events": ["declared", "recovered"],
        },
    )
    assert r.status_code == 302
    channel = AlertChannel.objects.get()
    assert (channel.org, channel.events, channel.remind_every_minutes) == (
        world["acme"],
        ["declared", "recovered"],
        30,
    )
    html = page(as_user(world["val"]).get(url("channels", world["acme"])))
    assert "Mo&#x27;s mail" in html and "mailto://…" in html and "hunter2" not in html
    audit = AuditEvent.objects.get(action="alert_channel.created")
    assert "hunter2" not in str(audit.changes)


def test_a_url_apprise_does_not_know_is_refused_on_its_field(world):
    html = page(
        as_user(world["mo"]).post(
            url("channels", world["acme"]),
            {"name": "Bad", "url": "nonsense://x", "remind_every_minutes": "60", "enabled": "on"},
        )
    )
    assert "Apprise URL: Apprise does not recognise this URL" in html
    assert not AlertChannel.objects.exists()


def test_staff_see_channels_but_cannot_add_or_edit(world):
    channel = AlertChannel.objects.create(org=world["acme"], name="Ops", url="json://127.0.0.1:9/")
    client = as_user(world["sid"])
    assert "Add a channel" not in page(client.get(url("channels", world["acme"])))
    r = client.post(url("channels", world["acme"]), {"name": "X", "url": "json://127.0.0.1:9/"})
    assert r.status_code == 403
    assert client.get(url("channel", world["acme"], channel_id=channel.pk)).status_code == 403


def test_editing_a_channel_and_removing_it(world):
    channel = AlertChannel.objects.create(org=world["acme"], name="Ops", url="json://127.0.0.1:9/")
    client = as_user(world["mo"])
    edit = url("channel", world["acme"], channel_id=channel.pk)
    client.post(
        edit,
        {
            "name": "Ops desk",
            "url": "json://127.0.0.1:9/",
            "remind_every_minutes": "0",
            "enabled": "on",
        },
    )
    channel.refresh_from_db()
    assert (channel.name, channel.remind_every_minutes, channel.on_duty) == ("Ops desk", 0, False)
    client.post(edit, {"action": "delete"})
    assert not AlertChannel.objects.exists()


def test_channel_of_another_organisation_is_404(world):
    theirs = AlertChannel.objects.create(
        org=world["bravo"], name="Theirs", url="json://127.0.0.1:9/"
    )
    client = as_user(world["ann"])
    assert client.get(url("channel", world["acme"], channel_id=theirs.pk)).status_code == 404
    assert client.post(url("channel_test", world["acme"], channel_id=theirs.pk)).status_code == 404


def test_test_send_reaches_the_channel(world, receiver):
    url_ = receiver.url.replace("http://", "json://") + "/alerts"
    channel = AlertChannel.objects.create(org=world["acme"], name="Receiver", url=url_)
    r = as_user(world["mo"]).post(
        url("channel_test", world["acme"], channel_id=channel.pk), follow=True
    )
    assert "Test alert sent to “Receiver”" in r.content.decode()
    assert [a.title for a in receiver.service.alerts] == ["[Acme] Test alert from Fallback"]
    assert AuditEvent.objects.get(action="alert_channel.tested").changes["result"] == [None, "sent"]


def test_failed_test_send_says_what_went_wrong(world):
    channel = AlertChannel.objects.create(
        org=world["acme"], name="Nowhere", url="json://127.0.0.1:9/"
    )
    r = as_user(world["mo"]).post(
        url("channel_test", world["acme"], channel_id=channel.pk), follow=True
    )
    assert "The test alert to “Nowhere” failed" in r.content.decode()


def test_delivery_log_shows_status_attempts_and_last_error(world):
    channel = AlertChannel.objects.create(org=world["acme"], name="Ops", url="json://127.0.0.1:9/")
    incident = lifecycle.declare_manually(world["acme"], [], "Phones down", world["sid"])
    AlertDelivery.objects.filter(incident=incident).delete()
    AlertDelivery.objects.create(
        org=world["acme"],
        channel=channel,
        incident=incident,
        event="declared",
        key="k1",
        title="Outage declared: phones",
        body="…",
        status=DeliveryStatus.FAILED,
        attempts=8,
        last_error="Connection refused",
    )
    words = text(page(as_user(world["val"]).get(url("deliveries", world["acme"]))))
    assert "Outage declared: phones" in words
    assert "Failed (gave up)" in words and "Connection refused" in words and "8" in words


def test_delivery_log_shows_only_the_organisations_alerts(world):
    channel = AlertChannel.objects.create(
        org=world["bravo"], name="Theirs", url="json://127.0.0.1:9/"
    )
    AlertDelivery.objects.create(
        org=world["bravo"],
        channel=channel,
        event="declared",
        key="k2",
        title="Bravo alert",
        body="…",
    )
    assert "Bravo alert" not in page(as_user(world["ann"]).get(url("deliveries", world["acme"])))
