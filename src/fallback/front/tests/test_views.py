from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.membership import update_organisation
from fallback.accounts.models import Membership, Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Ann owns Acme; Bob owns Bravo. Ann is not a member of Bravo."""
    ann, bob = make_user("ann@acme.test"), make_user("bob@bravo.test")
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    return {"ann": ann, "bob": bob, "acme": acme, "bravo": bravo}


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dashboard_url(org: Organisation) -> str:
    return reverse("front:dashboard", kwargs={"org_slug": org.slug})


def audit_url(org: Organisation) -> str:
    return reverse("front:audit", kwargs={"org_slug": org.slug})


def add_events(org: Organisation, n: int) -> None:
    # After the events of setting up, so they come first, newest first.
    start = timezone.now() + timedelta(minutes=1)
    AuditEvent.objects.bulk_create(
        AuditEvent(org=org, at=start + timedelta(seconds=i), actor_label="t", action=f"test.e{i}")
        for i in range(n)
    )


# ---------------------------------------------------------------------- home


def test_home_needs_login(client):
    r = client.get("/")
    assert r.status_code == 302
    assert r.url.startswith(reverse("login"))


def test_home_with_one_organisation_goes_straight_to_it(world):
    r = logged_in(world["ann"]).get("/")
    assert r.status_code == 302
    assert r.url == dashboard_url(world["acme"])


def test_home_with_several_organisations_lists_them_with_role(world):
    join(world["bravo"], world["ann"], Role.VIEWER)
    r = logged_in(world["ann"]).get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Your organisations" in html
    assert dashboard_url(world["acme"]) in html and dashboard_url(world["bravo"]) in html
    assert "Owner" in html and "Viewer" in html


def test_home_with_no_organisation_explains_what_to_do():
    lonely = make_user("lonely@nowhere.test")
    r = logged_in(lonely).get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "no organisation yet" in html
    assert "fallback init" in html
    assert "lonely@nowhere.test" in html


# ------------------------------------------------------------------- layout


def test_layout_is_accessible_and_carries_the_csrf_token_for_htmx(world):
    r = logged_in(world["ann"]).get(dashboard_url(world["acme"]))
    html = r.content.decode()
    assert '<html lang="en-GB">' in html
    assert 'href="#main"' in html and 'id="main"' in html
    assert "<header" in html and "<nav" in html and "<main" in html
    token = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
    assert token and len(token.group(1)) >= 32
    assert "/static/fallback/vendor/htmx-2.0.11.min.js" in html
    assert "/static/fallback/css/fallback.css" in html


def test_layout_logout_is_a_post_form(world):
    html = logged_in(world["ann"]).get(dashboard_url(world["acme"])).content.decode()
    assert re.search(r'<form method="post" action="/logout/"', html)


def test_layout_switcher_lists_the_users_organisations_only(world):
    join(world["bravo"], world["ann"], Role.STAFF)
    other = make_org("Charlie", owner=world["bob"])
    html = logged_in(world["ann"]).get(dashboard_url(world["acme"])).content.decode()
    switcher = html[html.index('class="menu switcher"') : html.index('class="menu account"')]
    assert dashboard_url(world["bravo"]) in switcher
    assert 'aria-current="true"' in switcher
    assert dashboard_url(other) not in switcher


def test_layout_marks_the_current_section(world):
    html = logged_in(world["ann"]).get(audit_url(world["acme"])).content.decode()
    assert f'href="{audit_url(world["acme"])}" aria-current="page"' in html


def test_static_files_are_served_locally(world, client):
    assert client.get("/static/fallback/css/fallback.css").status_code == 200


# ----------------------------------------------------------------- dashboard


def test_dashboard_shows_name_role_counts_and_next_steps(world):
    join(world["acme"], make_user("sam@acme.test"), Role.STAFF)
    r = logged_in(world["ann"]).get(dashboard_url(world["acme"]))
    assert r.status_code == 200
    html = r.content.decode()
    assert "<h1>Acme</h1>" in html
    assert "Owner" in html
    assert r.context["member_count"] == 2
    assert "Getting ready" in html
    assert reverse("accounts:members", kwargs={"org_slug": "acme"}) in html
    assert reverse("accounts:tokens") in html
    assert "fallback export --org acme" in html


def test_dashboard_shows_the_latest_ten_events_newest_first(world):
    add_events(world["acme"], 15)
    r = logged_in(world["ann"]).get(dashboard_url(world["acme"]))
    events = r.context["recent_events"]
    assert len(events) == 10
    assert events[0].action == "test.e14"
    assert all(e.org_id == world["acme"].pk for e in events)


def test_dashboard_shows_times_in_the_organisations_time_zone(world):
    acme = world["acme"]
    update_organisation(acme, time_zone="Asia/Tokyo")
    AuditEvent.objects.create(org=acme, at=datetime(2030, 1, 1, 12, 0, tzinfo=UTC), action="x.y")
    html = logged_in(world["ann"]).get(dashboard_url(acme)).content.decode()
    assert "1 Jan, 21:00" in html


# --------------------------------------------------------------- audit trail


def test_audit_list_is_paginated_fifty_at_a_time_newest_first(world):
    add_events(world["acme"], 120)
    client = logged_in(world["ann"])
    first = client.get(audit_url(world["acme"]))
    page = first.context["page"]
    assert len(page.object_list) == 50
    assert page.object_list[0].action == "test.e119"
    assert "Show older events" in first.content.decode()
    third = client.get(audit_url(world["acme"]) + "?page=3").context["page"]
    assert len(third.object_list) == 120 + 2 - 100  # plus the two events of setting up


def test_audit_list_load_more_with_htmx_returns_rows_only(world):
    add_events(world["acme"], 60)
    r = logged_in(world["ann"]).get(
        audit_url(world["acme"]) + "?page=2", headers={"HX-Request": "true"}
    )
    html = r.content.decode()
    assert "<html" not in html
    assert html.count("<tr") == 62 - 50
    assert "Show older events" not in html


def test_audit_list_filters_by_action_prefix(world):
    add_events(world["acme"], 3)
    r = logged_in(world["ann"]).get(audit_url(world["acme"]) + "?action=member.")
    actions = {e.action for e in r.context["page"].object_list}
    assert actions == {"member.added"}
    html = r.content.decode()
    assert '<option value="member." selected>' in html


def test_audit_list_page_beyond_the_end_shows_the_last_page(world):
    r = logged_in(world["ann"]).get(audit_url(world["acme"]) + "?page=99")
    assert r.status_code == 200


def test_audit_event_shows_changes_as_old_to_new(world):
    acme = world["acme"]
    update_organisation(acme, name="Acme Ltd")
    event = AuditEvent.objects.get(org=acme, action="organisation.updated")
    r = logged_in(world["ann"]).get(
        reverse("front:audit_event", kwargs={"org_slug": acme.slug, "event_id": event.pk})
    )
    html = r.content.decode()
    assert re.search(
        r'change-field">name</span>:\s*<span class="change-old">Acme</span>\s*'
        r'<span aria-hidden="true">→</span>.*?<span class="change-new">Acme Ltd</span>',
        html,
        re.S,
    )


# ------------------------------------------------------------ org isolation


@pytest.mark.parametrize("name", ["dashboard", "audit", "audit_event"])
def test_org_pages_of_another_organisation_answer_404(world, name):
    bravo = world["bravo"]
    kwargs: dict[str, object] = {"org_slug": bravo.slug}
    if name == "audit_event":
        kwargs["event_id"] = AuditEvent.objects.filter(org=bravo).first().pk
    r = logged_in(world["ann"]).get(reverse(f"front:{name}", kwargs=kwargs))
    assert r.status_code == 404
    assert "Bravo" not in r.content.decode()


def test_audit_event_of_another_org_under_own_slug_answers_404(world):
    bravo_event = AuditEvent.objects.filter(org=world["bravo"]).first()
    r = logged_in(world["ann"]).get(
        reverse("front:audit_event", kwargs={"org_slug": "acme", "event_id": bravo_event.pk})
    )
    assert r.status_code == 404


def test_account_level_audit_events_are_in_no_organisations_trail(world):
    AuditEvent.objects.create(org=None, action="api_token.revoked", actor_label="ann")
    r = logged_in(world["ann"]).get(audit_url(world["acme"]))
    assert "api_token.revoked" not in {e.action for e in r.context["page"].object_list}


def test_org_pages_need_login(client, world):
    r = client.get(dashboard_url(world["acme"]))
    assert r.status_code == 302
    assert r.url.startswith(reverse("login"))


def test_a_removed_member_loses_access_at_once(world):
    sam = make_user("sam@acme.test")
    m = join(world["acme"], sam, Role.STAFF)
    client = logged_in(sam)
    assert client.get(dashboard_url(world["acme"])).status_code == 200
    Membership.objects.filter(pk=m.pk).delete()
    assert client.get(dashboard_url(world["acme"])).status_code == 404
