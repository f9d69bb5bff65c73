from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.incidents.models import Incident, Status
from fallback.monitor import editing
from fallback.monitor.models import (
    Check,
    CheckResult,
    CheckRollup,
    MaintenanceWindow,
    Resolution,
    State,
    StateChange,
    System,
    SystemKind,
)
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
    return people


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, org: Organisation, **kwargs) -> str:
    return reverse(f"monitor:{name}", kwargs={"org_slug": org.slug, **kwargs})


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, without tags, collapsed: what a reader sees."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def crm(world):
    return editing.create_system(world["acme"], name="CloudCRM", kind=SystemKind.CRM)


# ----------------------------------------------------------------------- board


def test_board_lists_systems_worst_first_with_state_in_words(world, crm):
    web = editing.create_system(world["acme"], name="Website", kind=SystemKind.WEBSITE)
    System.objects.filter(pk=web.pk).update(state=State.UP)
    System.objects.filter(pk=crm.pk).update(state=State.DOWN, state_reason="Health: HTTP 503")
    html = page(as_user(world["val"]).get(url("board", world["acme"])))
    words = text(html)
    assert words.index("CloudCRM") < words.index("Website")
    assert "Down since" in words and "Health: HTTP 503" in words
    assert 'class="state state-down"' in html
    assert 'hx-trigger="every 10s"' in html  # refreshes itself


def test_board_refresh_returns_only_the_board(world, crm):
    html = page(as_user(world["val"]).get(url("board", world["acme"]), HTTP_HX_REQUEST="true"))
    assert html.lstrip().startswith('<div id="board"')
    assert "<html" not in html


def test_board_shows_since_when_in_the_organisations_time_zone(world, crm):
    world["acme"].time_zone = "America/New_York"
    world["acme"].save()
    System.objects.filter(pk=crm.pk).update(state_since=datetime(2025, 7, 1, 14, 0, tzinfo=UTC))
    html = page(as_user(world["ann"]).get(url("board", world["acme"])))
    assert "1 Jul 10:00" in html


def test_board_shows_only_the_organisations_own_systems(world, crm):
    editing.create_system(world["bravo"], name="Bravo Books")
    html = page(as_user(world["ann"]).get(url("board", world["acme"])))
    assert "CloudCRM" in html and "Bravo Books" not in html


def test_board_of_another_organisation_is_404(world):
    assert as_user(world["ann"]).get(url("board", world["bravo"])).status_code == 404


def test_viewer_is_not_offered_adding_and_cannot_add(world):
    client = as_user(world["val"])
    assert "Add a system" not in page(client.get(url("board", world["acme"])))
    assert client.get(url("system_create", world["acme"])).status_code == 403
    r = client.post(url("system_create", world["acme"]), {"name": "Sneaky"})
    assert r.status_code == 403
    assert not System.objects.exists()


def test_dashboard_has_a_systems_card_that_loads_the_summary(world, crm):
    System.objects.filter(pk=crm.pk).update(state=State.DOWN)
    client = as_user(world["sid"])
    dashboard = page(client.get(reverse("front:dashboard", args=[world["acme"].slug])))
    assert url("card", world["acme"]) in dashboard
    card = page(client.get(url("card", world["acme"])))
    assert "CloudCRM</a>: down" in card


# --------------------------------------------------------------------- systems


SYSTEM_FORM = {
    "name": "Xero accounting",
    "slug": "",
    "kind": "accounting",
    "criticality": "critical",
    "vendor": "Xero Ltd",
    "vendor_contacts": "0800 000 000",
    "account_number": "AC-42",
    "sla_percent": "99.9",
    "credit_terms": "10% per hour down",
    "status_page_url": "https://status.xero.com",
    "notes": "",
    "trigger_minutes": "30",
    "failures_to_down": "3",
    "successes_to_up": "2",
    "flap_changes": "6",
    "flap_window_minutes": "30",
}


def test_manager_adds_a_system_with_a_slug_from_its_name(world):
    r = as_user(world["mo"]).post(url("system_create", world["acme"]), SYSTEM_FORM)
    system = System.objects.get()
    assert r.status_code == 302
    assert r.url == url("check_create", world["acme"], slug="xero-accounting")
    assert (system.org, system.slug, system.sla_percent) == (
        world["acme"],
        "xero-accounting",
        Decimal("99.900"),
    )
    event = AuditEvent.objects.get(action="system.created")
    assert event.actor == world["mo"] and event.changes["name"] == [None, "Xero accounting"]


def test_system_named_like_a_page_gets_another_slug(world):
    as_user(world["mo"]).post(url("system_create", world["acme"]), {**SYSTEM_FORM, "name": "New"})
    assert System.objects.get().slug == "new-system"


def test_bad_promise_is_refused_on_its_field_and_nothing_is_saved(world):
    html = page(
        as_user(world["mo"]).post(
            url("system_create", world["acme"]), {**SYSTEM_FORM, "sla_percent": "120"}
        )
    )
    assert "Nothing was saved" in html
    assert re.search(r"Promised uptime \(%\): An uptime promise is a percentage", html)
    assert (
        not System.objects.exists()
        and not AuditEvent.objects.filter(action="system.created").exists()
    )


def test_a_slug_already_taken_in_the_organisation_is_refused(world, crm):
    html = page(
        as_user(world["mo"]).post(
            url("system_create", world["acme"]), {**SYSTEM_FORM, "slug": "cloudcrm"}
        )
    )
    assert "already has the short name “cloudcrm”" in html
    assert System.objects.count() == 1


def test_same_slug_in_another_organisation_is_fine(world, crm):
    system = editing.create_system(world["bravo"], name="CloudCRM")
    assert system.slug == "cloudcrm"


def test_editing_a_system_saves_and_audits_what_changed(world, crm):
    data = {**SYSTEM_FORM, "name": "CloudCRM", "slug": "cloudcrm", "trigger_minutes": "10"}
    r = as_user(world["mo"]).post(url("system_edit", world["acme"], slug="cloudcrm"), data)
    assert r.status_code == 302
    crm.refresh_from_db()
    assert crm.trigger_minutes == 10 and crm.vendor == "Xero Ltd"
    changes = AuditEvent.objects.get(action="system.updated").changes
    assert changes["trigger_minutes"] == [30, 10]


def test_deleting_a_system_asks_first_then_removes_it(world, crm):
    client = as_user(world["mo"])
    assert "cannot be undone" in page(
        client.get(url("system_delete", world["acme"], slug="cloudcrm"))
    )
    assert System.objects.exists()
    client.post(url("system_delete", world["acme"], slug="cloudcrm"))
    assert not System.objects.exists()
    assert AuditEvent.objects.filter(action="system.deleted").exists()


def test_pausing_stops_watching_and_resuming_restarts_it(world, crm):
    client = as_user(world["mo"])
    client.post(url("system_pause", world["acme"], slug="cloudcrm"), {"action": "pause"})
    crm.refresh_from_db()
    assert crm.paused and crm.state == State.PAUSED
    client.post(url("system_pause", world["acme"], slug="cloudcrm"), {"action": "resume"})
    crm.refresh_from_db()
    assert not crm.paused and crm.state != State.PAUSED
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="system.p")] == [
        "system.paused"
    ]
    assert AuditEvent.objects.filter(action="system.resumed").exists()


def test_staff_cannot_pause(world, crm):
    r = as_user(world["sid"]).post(
        url("system_pause", world["acme"], slug="cloudcrm"), {"action": "pause"}
    )
    assert r.status_code == 403
    crm.refresh_from_db()
    assert not crm.paused


# ---------------------------------------------------------------------- checks


def test_kind_picker_offers_every_kind_with_an_explanation(world, crm):
    words = text(
        page(as_user(world["mo"]).get(url("check_create", world["acme"], slug="cloudcrm")))
    )
    for label in [
        "Web address (HTTP/HTTPS)",
        "Network port (TCP)",
        "Domain name (DNS)",
        "Heartbeat",
        "Vendor status page",
    ]:
        assert label in words
    assert "never as down" in words


def http_form(**over):
    data = {
        "kind": "http",
        "name": "Login page",
        "url": "https://crm.example.com/login",
        "keyword": "Sign in",
        "expected_status": "200-399",
        "max_response_ms": "",
        "method": "GET",
        "headers": "",
        "body": "",
        "keyword_absent": "",
        "json_condition__path": "",
        "json_condition__op": "",
        "json_condition__value": "",
        "follow_redirects": "on",
        "verify_tls": "on",
        "tls_expiry_warn_days": "14",
        "interval_seconds": "60",
        "timeout_seconds": "10",
        "retries": "2",
        "retry_delay_seconds": "3",
        "enabled": "on",
    }
    data.update(over)
    return data


def test_http_check_form_offers_plain_fields_with_the_defaults(world, crm):
    html = page(
        as_user(world["mo"]).get(url("check_create", world["acme"], slug="cloudcrm") + "?kind=http")
    )
    assert "Address (URL)" in html and "The page must contain" in html
    assert 'value="200-399"' in html  # the kind's default
    assert "More options" in html
    assert "Canary" not in html  # only on an internet link


def test_adding_an_http_check_stores_only_what_differs_from_the_defaults(world, crm):
    r = as_user(world["mo"]).post(
        url("check_create", world["acme"], slug="cloudcrm"),
        http_form(expected_status="200, 301-302", headers="X-Api-Key: s3cret"),
    )
    assert r.status_code == 302, r.content.decode()
    check = Check.objects.get()
    assert (check.org, check.system, check.kind) == (world["acme"], crm, "http")
    assert check.config == {
        "url": "https://crm.example.com/login",
        "keyword": "Sign in",
        "expected_status": [200, "301-302"],
        "headers": {"X-Api-Key": "s3cret"},
    }
    assert check.push_token is None
    audited = AuditEvent.objects.get(action="check.created").changes["config"][1]
    assert audited["headers"] == {"X-Api-Key": "•••"}  # secrets stay out of the trail


def test_invalid_url_is_refused_on_the_url_field(world, crm):
    html = page(
        as_user(world["mo"]).post(
            url("check_create", world["acme"], slug="cloudcrm"), http_form(url="ftp://crm")
        )
    )
    assert re.search(r"Address \(URL\): must start with http:// or https://", html)
    assert not Check.objects.exists()


def test_malformed_jsonpath_is_refused_on_its_field(world, crm):
    html = page(
        as_user(world["mo"]).post(
            url("check_create", world["acme"], slug="cloudcrm"),
            http_form(json_condition__path="$.[", json_condition__value="ok"),
        )
    )
    assert "JSON value to test: is not a valid JSONPath" in html
    assert not Check.objects.exists()


def test_json_condition_value_is_read_as_json(world, crm):
    as_user(world["mo"]).post(
        url("check_create", world["acme"], slug="cloudcrm"),
        http_form(
            json_condition__path="$.errors", json_condition__op="<", json_condition__value="5"
        ),
    )
    assert Check.objects.get().config["json_condition"] == {
        "path": "$.errors",
        "op": "<",
        "value": 5,
    }


def test_bad_header_line_is_refused_on_the_headers_field(world, crm):
    html = page(
        as_user(world["mo"]).post(
            url("check_create", world["acme"], slug="cloudcrm"), http_form(headers="no colon here")
        )
    )
    assert "Request headers: line 1: write it as Name: value" in html
    assert not Check.objects.exists()


def test_check_names_are_unique_within_a_system(world, crm):
    client = as_user(world["mo"])
    client.post(url("check_create", world["acme"], slug="cloudcrm"), http_form())
    html = page(client.post(url("check_create", world["acme"], slug="cloudcrm"), http_form()))
    assert "already has a check named “Login page”" in html
    assert Check.objects.count() == 1


def test_heartbeat_check_shows_its_push_address_with_a_curl_example(world, crm):
    client = as_user(world["mo"])
    r = client.post(
        url("check_create", world["acme"], slug="cloudcrm"),
        {
            "kind": "heartbeat",
            "name": "Nightly backup",
            "period_seconds": "86400",
            "grace_seconds": "",
            "interval_seconds": "60",
            "enabled": "on",
        },
    )
    assert r.status_code == 302
    check = Check.objects.get()
    assert check.config == {"period_seconds": 86400} and check.push_token
    push = f"/api/push/{check.push_token}"
    edit = page(client.get(url("check_edit", world["acme"], slug="cloudcrm", check_id=check.pk)))
    assert f"curl -fsS -m 10 --retry 3 http://testserver{push}" in edit
    detail = page(client.get(url("system", world["acme"], slug="cloudcrm")))
    assert push in detail
    # A viewer sees the check but not its secret address.
    assert push not in page(
        as_user(world["val"]).get(url("system", world["acme"], slug="cloudcrm"))
    )


def test_replacing_the_push_address_invalidates_the_old_one(world, crm):
    check = editing.create_check(crm, name="Till", kind="heartbeat", config={"period_seconds": 300})
    old = check.push_token
    as_user(world["mo"]).post(
        url("check_new_token", world["acme"], slug="cloudcrm", check_id=check.pk)
    )
    check.refresh_from_db()
    assert check.push_token and check.push_token != old


def test_editing_a_check_shows_its_settings_and_saves_changes(world, crm):
    check = editing.create_check(
        crm,
        name="Login page",
        kind="http",
        config={"url": "https://crm.example.com/login", "keyword": "Sign in"},
    )
    Check.objects.filter(pk=check.pk).update(next_run_at=timezone.now() + timedelta(hours=1))
    client = as_user(world["mo"])
    edit_url = url("check_edit", world["acme"], slug="cloudcrm", check_id=check.pk)
    html = page(client.get(edit_url))
    assert 'value="https://crm.example.com/login"' in html and 'value="Sign in"' in html
    data = http_form(keyword="Welcome")
    del data["kind"]
    assert client.post(edit_url, data).status_code == 302
    check.refresh_from_db()
    assert check.config["keyword"] == "Welcome"
    assert check.next_run_at <= timezone.now()  # tried again at once
    assert (
        AuditEvent.objects.get(action="check.updated").changes["config"][1]["keyword"] == "Welcome"
    )


def test_check_of_another_system_is_404(world, crm):
    other = editing.create_system(world["acme"], name="Website")
    check = editing.create_check(
        other, name="Home", kind="tcp", config={"host": "example.com", "port": 443}
    )
    r = as_user(world["mo"]).get(
        url("check_edit", world["acme"], slug="cloudcrm", check_id=check.pk)
    )
    assert r.status_code == 404


def test_check_of_another_organisation_is_404(world):
    theirs = editing.create_system(world["bravo"], name="CloudCRM")
    check = editing.create_check(
        theirs, name="Home", kind="tcp", config={"host": "example.com", "port": 443}
    )
    editing.create_system(world["acme"], name="CloudCRM")
    r = as_user(world["ann"]).get(
        url("check_edit", world["acme"], slug="cloudcrm", check_id=check.pk)
    )
    assert r.status_code == 404


def test_deleting_a_check(world, crm):
    check = editing.create_check(
        crm, name="Port", kind="tcp", config={"host": "example.com", "port": 443}
    )
    as_user(world["mo"]).post(
        url("check_delete", world["acme"], slug="cloudcrm", check_id=check.pk)
    )
    assert not Check.objects.exists()
    assert AuditEvent.objects.filter(action="check.deleted").exists()


# -------------------------------------------------------------------- canaries


@pytest.fixture
def link(world):
    return editing.create_system(world["acme"], name="Office internet", kind=SystemKind.INTERNET)


def test_canary_checks_are_offered_on_the_internet_link_ticked_by_default(world, link):
    html = page(
        as_user(world["mo"]).get(url("check_create", world["acme"], slug=link.slug) + "?kind=tcp")
    )
    assert re.search(r'name="is_canary"[^>]*checked', html)


def test_recommended_canaries_are_added_once(world, link):
    client = as_user(world["mo"])
    client.post(url("add_canaries", world["acme"], slug=link.slug))
    client.post(url("add_canaries", world["acme"], slug=link.slug))
    canaries = Check.objects.filter(system=link, is_canary=True)
    assert sorted(c.config["host"] for c in canaries) == ["1.1.1.1", "8.8.8.8", "9.9.9.9"]


def test_a_canary_on_another_system_is_refused(world, crm):
    with pytest.raises(editing.SetupInvalid) as caught:
        editing.create_check(
            crm, name="C", kind="tcp", config={"host": "1.1.1.1", "port": 53}, is_canary=True
        )
    assert caught.value.errors == [("is_canary", editing.CANARY_RULE)]
    r = as_user(world["mo"]).post(url("add_canaries", world["acme"], slug="cloudcrm"))
    assert r.status_code == 302 and not Check.objects.exists()


# ----------------------------------------------------------------- maintenance


def test_one_off_window_is_read_in_the_organisations_time_zone(world, crm):
    r = as_user(world["mo"]).post(
        url("maintenance_add", world["acme"], slug="cloudcrm"),
        {
            "title": "Upgrade",
            "repeat": "once",
            "starts_at": "2025-07-06T02:00",
            "ends_at": "2025-07-06T04:00",
            "time_zone": "Europe/London",
        },
    )
    assert r.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.system, window.starts_at, window.ends_at) == (
        crm,
        datetime(2025, 7, 6, 1, 0, tzinfo=UTC),  # 02:00 BST
        datetime(2025, 7, 6, 3, 0, tzinfo=UTC),
    )
    assert AuditEvent.objects.filter(action="maintenance.created").exists()


def test_weekly_window_keeps_its_weekdays_and_time(world, crm):
    as_user(world["mo"]).post(
        url("maintenance_add", world["acme"], slug="cloudcrm"),
        {
            "title": "Backups",
            "repeat": "weekly",
            "weekdays": ["6", "7"],
            "start_time": "02:00",
            "duration_minutes": "90",
            "time_zone": "Europe/London",
        },
    )
    window = MaintenanceWindow.objects.get()
    assert (window.weekdays, str(window.start_time), window.duration_minutes) == (
        "6,7",
        "02:00:00",
        90,
    )


def test_window_ending_before_it_starts_is_refused_on_the_end(world, crm):
    html = page(
        as_user(world["mo"]).post(
            url("maintenance_add", world["acme"], slug="cloudcrm"),
            {
                "title": "Oops",
                "repeat": "once",
                "starts_at": "2025-07-06T04:00",
                "ends_at": "2025-07-06T02:00",
                "time_zone": "Europe/London",
            },
        )
    )
    assert "Until: The end must come after the start." in html
    assert not MaintenanceWindow.objects.exists()


def test_deleting_a_window(world, crm):
    window = editing.add_maintenance(
        world["acme"],
        crm,
        title="W",
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    as_user(world["mo"]).post(
        url("maintenance_delete", world["acme"], slug="cloudcrm", window_id=window.pk)
    )
    assert not MaintenanceWindow.objects.exists()


# ------------------------------------------------------------------ system page


@time_machine.travel(datetime(2025, 7, 10, 12, 0, tzinfo=UTC), tick=False)
def test_system_page_shows_uptime_response_times_results_and_history(world):
    crm = editing.create_system(world["acme"], name="CloudCRM")
    System.objects.filter(pk=crm.pk).update(
        created_at=datetime(2025, 6, 1, tzinfo=UTC), state=State.UP
    )
    check = editing.create_check(
        crm, name="Health", kind="http", config={"url": "https://crm.example.com/"}
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=datetime(2025, 7, 8, 9, 0, tzinfo=UTC),
        from_state=State.UP,
        to_state=State.DOWN,
        reason="HTTP 503",
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=datetime(2025, 7, 8, 9, 30, tzinfo=UTC),
        from_state=State.DOWN,
        to_state=State.UP,
    )
    for minutes, ms in [(10, 100.0), (5, 300.0)]:
        CheckRollup.objects.create(
            org=crm.org,
            for_check=check,
            resolution=Resolution.MINUTE,
            bucket=datetime(2025, 7, 10, 12, 0, tzinfo=UTC) - timedelta(minutes=minutes),
            up=1,
            timed=1,
            total_ms=ms,
            max_ms=ms,
        )
    CheckResult.objects.create(
        org=crm.org,
        for_check=check,
        slot=1,
        seq=1,
        at=datetime(2025, 7, 10, 11, 59, tzinfo=UTC),
        status=State.UP,
        response_ms=120,
        message="HTTP 200",
    )
    html = page(as_user(world["val"]).get(url("system", world["acme"], slug="cloudcrm")))
    words = text(html)
    assert html.count('class="bar bar-') == 90
    assert "Tue 8 Jul: 97.916% available, 30 min down" in html  # each bar's words
    assert "1 day with downtime in the last 90 days" in words
    assert "Health</strong>: average 200 ms, slowest 300 ms." in html
    assert '<path class="line" d="M' in html
    assert "HTTP 200" in words and "HTTP 503" in words


def test_system_page_of_a_system_without_checks_says_so(world, crm):
    words = text(page(as_user(world["val"]).get(url("system", world["acme"], slug="cloudcrm"))))
    assert "No checks yet" in words
    assert "No response times measured" in words


def test_system_page_lists_its_incidents(world, crm):
    incident = Incident.objects.create(
        org=world["acme"], title="CRM outage", status=Status.DECLARED
    )
    incident.systems.add(crm)
    html = page(as_user(world["val"]).get(url("system", world["acme"], slug="cloudcrm")))
    assert "CRM outage" in html
    assert reverse("incidents:detail", args=[world["acme"].slug, incident.pk]) in html


def test_another_organisations_system_page_is_404(world):
    editing.create_system(world["bravo"], name="Secret")
    assert as_user(world["ann"]).get(url("system", world["acme"], slug="secret")).status_code == 404


# --------------------------------------------------------------------- the demo


@pytest.fixture
def simulator():
    sim = Simulator("127.0.0.1", 0, home=Path(settings.FALLBACK_HOME)).start()
    yield sim
    sim.stop()


def test_demo_button_shows_when_the_simulator_runs_and_takes_it_down(world, crm, simulator):
    editing.create_check(crm, name="Health", kind="http", config={"url": simulator.url + "/health"})
    client = as_user(world["mo"])
    html = page(client.get(url("system", world["acme"], slug="cloudcrm")))
    assert "Take it down" in html
    client.post(url("simulator", world["acme"], slug="cloudcrm"), {"mode": "down"})
    assert simulator.service.mode == "down"
    client.post(url("simulator", world["acme"], slug="cloudcrm"), {"mode": "up"})
    assert simulator.service.mode == "up"


def test_demo_button_is_absent_for_systems_that_do_not_watch_the_simulator(world, crm, simulator):
    editing.create_check(
        crm, name="Health", kind="http", config={"url": "https://crm.example.com/"}
    )
    assert "Take it down" not in page(
        as_user(world["mo"]).get(url("system", world["acme"], slug="cloudcrm"))
    )


def test_demo_button_is_absent_when_no_simulator_runs(world, crm):
    editing.create_check(
        crm, name="Health", kind="http", config={"url": "http://127.0.0.1:8081/health"}
    )
    assert "Take it down" not in page(
        as_user(world["mo"]).get(url("system", world["acme"], slug="cloudcrm"))
    )


# ------------------------------------------------------------------ vendor report


@time_machine.travel(datetime(2025, 8, 2, 12, 0, tzinfo=UTC), tick=False)
def test_vendor_report_shows_each_systems_month_and_whether_the_promise_was_met(world):
    crm = editing.create_system(
        world["acme"], name="CloudCRM", vendor="Cloud Ltd", sla_percent=99.9
    )
    System.objects.filter(pk=crm.pk).update(
        created_at=datetime(2025, 1, 1, tzinfo=UTC), state=State.UP
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=datetime(2025, 7, 8, 9, 0, tzinfo=UTC),
        from_state=State.UP,
        to_state=State.DOWN,
    )
    StateChange.objects.create(
        org=crm.org,
        system=crm,
        at=datetime(2025, 7, 8, 10, 0, tzinfo=UTC),
        from_state=State.DOWN,
        to_state=State.UP,
    )
    words = text(page(as_user(world["val"]).get(url("report", world["acme"]) + "?month=2025-07")))
    assert "July 2025" in words
    assert "99.865%" in words and "60 min" in words
    assert "No: missed" in words
    assert "Claim for CloudCRM" in words


def test_vendor_report_csv_is_a_download_named_after_the_month(world, crm):
    r = as_user(world["val"]).get(url("report_csv", world["acme"]) + "?month=2025-07")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"] == 'attachment; filename="acme-availability-2025-07.csv"'
    assert r.content.decode().splitlines()[0].startswith("system,vendor,account_number,month")
    r = as_user(world["val"]).get(
        url("report_csv", world["acme"]) + "?month=2025-07&detail=outages"
    )
    assert r.content.decode().startswith("system,vendor,down_from")


def test_vendor_report_with_a_bad_month_says_how_to_write_it(world, crm):
    words = text(page(as_user(world["val"]).get(url("report", world["acme"]) + "?month=July")))
    assert "The month must be written YYYY-MM" in words


def test_vendor_report_lists_only_the_organisations_systems(world, crm):
    editing.create_system(world["bravo"], name="Bravo Books")
    words = text(page(as_user(world["ann"]).get(url("report", world["acme"]))))
    assert "CloudCRM" in words and "Bravo Books" not in words
