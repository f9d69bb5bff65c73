"""The status page's content: Statuspage's v2 summary shape (validated against a strict model
of it), the mapping of system and incident states, posted updates, determinism, and drills
kept off the public page."""

from datetime import timedelta
from typing import Literal

import pytest
from django.utils import timezone
from pydantic import BaseModel, ConfigDict

from fallback.audit.models import AuditEvent
from fallback.comms import statuspage
from fallback.comms.models import PublicStatus, StatusUpdate
from fallback.comms.statuspage import StatusPageProblem
from fallback.comms.tests.builders import declare
from fallback.incidents import lifecycle
from fallback.incidents.models import Status, TimelineEntry
from fallback.incidents.tests.builders import make_system
from fallback.monitor.models import State
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db

Indicator = Literal["none", "minor", "major", "critical"]
ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class PageModel(Loose):
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: str


class StatusModel(Loose):
    indicator: Indicator
    description: str


class ComponentModel(Loose):
    id: str
    name: str
    status: ComponentStatus
    created_at: str
    updated_at: str
    position: int
    description: str | None


class AffectedModel(Loose):
    code: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


class UpdateModel(Loose):
    id: str
    status: IncidentStatus
    body: str
    incident_id: str
    created_at: str
    updated_at: str
    display_at: str
    affected_components: list[AffectedModel] | None


class IncidentModel(Loose):
    id: str
    name: str
    status: IncidentStatus
    created_at: str
    updated_at: str | None
    monitoring_at: str | None
    resolved_at: str | None
    impact: Indicator
    shortlink: str
    started_at: str
    page_id: str
    incident_updates: list[UpdateModel]
    components: list[ComponentModel]


class SummaryModel(Loose):
    """Atlassian Statuspage's public API v2 /summary.json."""

    page: PageModel
    status: StatusModel
    components: list[ComponentModel]
    incidents: list[IncidentModel]
    scheduled_maintenances: list[IncidentModel]


@pytest.fixture
def world():
    ann = make_user("ann@hartley.example")
    org = make_org("Hartley Supplies", owner=ann)
    crm = make_system(org, "CloudCRM", state=State.UP)
    books = make_system(org, "Books", state=State.UP)
    statuspage.update_page(org, public_url="https://status.hartley.example/")
    statuspage.save_components(org, [(crm, "Orders and customers", ""), (books, "Invoices", "")])
    return {"ann": ann, "org": org, "crm": crm, "books": books}


def validated(org, **kw):
    data = statuspage.summary(org, **kw)
    SummaryModel.model_validate(data)
    return data


def test_a_quiet_page_is_all_operational_in_the_statuspage_shape(world):
    data = validated(world["org"])
    assert data["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert [c["name"] for c in data["components"]] == ["Orders and customers", "Invoices"]
    assert {c["status"] for c in data["components"]} == {"operational"}
    assert data["page"]["url"] == "https://status.hartley.example/"
    assert data["incidents"] == [] and data["scheduled_maintenances"] == []


@pytest.mark.parametrize(
    ("crm", "books", "component", "level"),
    [
        (State.DOWN, State.UP, "major_outage", "major"),
        (State.DOWN, State.DOWN, "major_outage", "critical"),
        (State.DEGRADED, State.UP, "degraded_performance", "minor"),
        (State.MAINTENANCE, State.UP, "under_maintenance", "none"),
        (State.UNKNOWN, State.UP, "operational", "none"),
    ],
)
def test_system_states_map_to_component_statuses_and_the_indicator(
    world, crm, books, component, level
):
    world["crm"].state, world["books"].state = crm, books
    world["crm"].save()
    world["books"].save()
    data = validated(world["org"])
    assert data["components"][0]["status"] == component
    assert data["status"]["indicator"] == level


def test_a_declared_outage_makes_its_systems_at_least_a_partial_outage(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    data = validated(world["org"])
    assert data["components"][0]["status"] == "partial_outage"
    assert data["components"][1]["status"] == "operational"
    assert data["status"]["indicator"] == "minor"
    (shown,) = data["incidents"]
    assert shown["id"] == f"i{incident.pk}" and shown["status"] == "investigating"
    assert shown["impact"] == "major"
    assert [c["id"] for c in shown["components"]] == ["cloudcrm"]
    assert shown["shortlink"] == f"https://status.hartley.example/#i{incident.pk}"


def test_posted_updates_make_the_timeline_newest_first_and_set_the_status(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    now = timezone.now()
    statuspage.post_update(incident, "identified", "The host's server failed.", now=now)
    statuspage.post_update(
        incident, "monitoring", "Back; watching.", now=now + timedelta(minutes=5)
    )
    (shown,) = validated(world["org"])["incidents"]
    assert shown["status"] == "monitoring"
    assert [u["status"] for u in shown["incident_updates"]] == ["monitoring", "identified"]
    assert shown["incident_updates"][1]["body"] == "The host's server failed."
    assert shown["monitoring_at"] is not None and shown["resolved_at"] is None
    affected = shown["incident_updates"][0]["affected_components"]
    assert [a["code"] for a in affected] == ["cloudcrm"]


def test_a_resolved_update_moves_the_incident_to_the_history(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    statuspage.post_update(incident, "resolved", "All working again.")
    data = validated(world["org"])
    assert data["incidents"] == [] and data["status"]["indicator"] == "none"
    assert data["components"][0]["status"] == "operational"  # though still declared inside
    assert [h["status"] for h in data["history"]] == ["resolved"]
    assert data["history"][0]["resolved_at"] is not None


def test_resolved_incidents_older_than_the_history_leave_the_page(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    lifecycle.resolve(incident, world["ann"])
    assert [h["id"] for h in validated(world["org"])["history"]] == [f"i{incident.pk}"]
    later = timezone.now() + timedelta(days=15)
    assert validated(world["org"], now=later)["history"] == []


def test_a_suspicion_nobody_confirmed_or_wrote_about_stays_internal(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    incident.status, incident.declared_at = Status.SUSPECTED, None
    incident.save()
    assert validated(world["org"])["incidents"] == []
    statuspage.post_update(incident, "investigating", "Looking into slow orders.")
    (shown,) = validated(world["org"])["incidents"]
    assert shown["impact"] == "minor"


def test_the_public_reads_its_systems_public_names_never_the_internal_title(world):
    incident = declare(world["org"], world["ann"], [world["crm"], world["books"]])
    assert "CloudCRM" in incident.title
    (shown,) = validated(world["org"])["incidents"]
    assert shown["name"] == "Orders and customers and Invoices unavailable"
    assert b"CloudCRM" not in statuspage.render_html(world["org"], validated(world["org"]))


def test_an_outage_of_a_system_kept_off_the_page_stays_internal_unless_posted_about(world):
    router = make_system(world["org"], "Office router", state=State.DOWN)
    incident = declare(world["org"], world["ann"], [router])
    data = validated(world["org"])
    assert data["incidents"] == [] and data["status"]["indicator"] == "none"
    statuspage.post_update(incident, "identified", "Our phone line is down; email us.")
    (shown,) = validated(world["org"])["incidents"]
    assert shown["name"] == "Service disruption" and shown["components"] == []


def test_a_drill_never_appears_on_the_public_page_only_in_the_exercise_preview(world):
    drill = declare(world["org"], world["ann"], [world["crm"]], is_exercise=True)
    update, _ = statuspage.post_update(drill, "identified", "Drill: the CRM is 'down'.")
    assert update.is_exercise
    public = validated(world["org"])
    assert public["incidents"] == [] and public["history"] == []
    assert {c["status"] for c in public["components"]} == {"operational"}
    assert b"Drill" not in statuspage.render_html(world["org"], public)
    preview = validated(world["org"], exercise=True)
    assert preview["incidents"][0]["name"].endswith("(EXERCISE)")
    assert b"EXERCISE PREVIEW" in statuspage.render_html(world["org"], preview)


def test_the_same_records_give_the_same_bytes(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    statuspage.post_update(incident, "identified", "Known cause.")
    first = statuspage.summary(world["org"])
    second = statuspage.summary(world["org"], now=timezone.now() + timedelta(minutes=3))
    assert statuspage.summary_json(first) == statuspage.summary_json(second)
    assert statuspage.render_html(world["org"], first) == statuspage.render_html(
        world["org"], second
    )


def test_the_html_is_one_self_contained_file_for_a_phone(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    statuspage.post_update(incident, "identified", "Known cause <b>now</b>.")
    html = statuspage.render_html(world["org"], statuspage.summary(world["org"])).decode()
    assert 'name="viewport"' in html and "<style>" in html
    assert "<script" not in html and "<link" not in html and "http://" not in html
    assert "Known cause &lt;b&gt;now&lt;/b&gt;." in html  # staff's words are escaped


def test_posting_records_it_on_the_incident_and_a_key_makes_it_once(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    first, created = statuspage.post_update(
        incident, "identified", "Cause found.", world["ann"], request_key="k1"
    )
    again, created_again = statuspage.post_update(
        incident, "identified", "Cause found.", world["ann"], request_key="k1"
    )
    assert created and not created_again and first.pk == again.pk
    assert StatusUpdate.objects.filter(incident=incident).count() == 1
    assert (
        TimelineEntry.objects.filter(incident=incident, text__contains="Cause found.").count() == 1
    )
    assert AuditEvent.objects.filter(action="comms.status_update.posted").count() == 1
    assert first.systems == [world["crm"].pk]


def test_bad_updates_are_refused_naming_the_field_and_change_nothing(world):
    incident = declare(world["org"], world["ann"], [world["crm"]])
    with pytest.raises(StatusPageProblem) as caught:
        statuspage.post_update(incident, "fixed", "  ")
    assert [f for f, _ in caught.value.errors] == ["status", "body"]
    assert not StatusUpdate.objects.exists()
    assert statuspage.default_status(incident) == PublicStatus.INVESTIGATING


def test_page_settings_are_checked_and_bad_ones_change_nothing(world):
    with pytest.raises(StatusPageProblem) as caught:
        statuspage.update_page(
            world["org"],
            s3_bucket="Not A Bucket",
            s3_access_key_env="1BAD",
            folder_path="relative/path",
            history_days=0,
        )
    fields = {f for f, _ in caught.value.errors}
    assert {"s3_bucket", "s3_access_key_env", "folder_path", "history_days"} <= fields
    page = statuspage.page_for(world["org"])
    assert page.s3_bucket == "" and page.history_days == 14


def test_components_are_a_complete_ordered_list(world):
    changes = statuspage.save_components(world["org"], [(world["books"], "Invoices", "Xero")])
    assert "CloudCRM no longer shown" in changes
    data = validated(world["org"])
    assert [(c["id"], c["description"]) for c in data["components"]] == [("books", "Xero")]
    other = make_org("Other")
    with pytest.raises(StatusPageProblem):
        statuspage.save_components(other, [(world["crm"], "Theirs", "")])
