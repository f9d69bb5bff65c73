"""The drill pages: start a drill from a scenario, the live page with its milestone buttons
and step timers (plain forms, or htmx swapping only their part), findings, the finish and
the report; the tabletop library adds its scenarios to the plan — and who may do what."""

from __future__ import annotations

import html
import re

import pytest

from fallback.plans import drills, editing
from fallback.plans.models import CorrectiveAction, Drill, Milestone
from fallback.plans.tests.conftest import as_user, complete_one_system_plan, url

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def plan(world):
    return complete_one_system_plan(editing.start(world["acme"], world["ann"]), world)


@pytest.fixture
def scenario(plan):
    return plan.scenarios.get(kind="system_lost")


def test_a_drill_is_started_from_a_scenario_and_opens_its_live_page(world, plan, scenario):
    ann = as_user(world["ann"])
    page = text(ann.get(url("drills", world["acme"])))
    assert "Start a drill" in page and scenario.title in page and "Tabletop library" in page
    response = ann.post(
        url("drill_start", world["acme"]),
        {"scenario": scenario.pk, "kind": "tabletop", "library_key": ""},
    )
    drill = Drill.objects.get()
    assert response["Location"] == url("drill", world["acme"], pk=drill.pk)
    page = text(ann.get(response["Location"]))
    assert "The outage began at" in page
    assert "Declare the drill outage now" in page and "Outage noticed now" in page
    assert "Monday, 8:40" in page  # the ransomware story, with its injects
    assert "Confirm the outage so that fallback mode switches on" in page


def test_a_bad_start_says_what_is_wrong(world, plan, scenario):
    response = as_user(world["ann"]).post(
        url("drill_start", world["acme"]), {"scenario": 999999, "kind": "party"}
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Drill.objects.exists()


def test_buttons_work_without_javascript_and_with_htmx(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    ann = as_user(world["ann"])
    response = ann.post(url("drill_mark", world["acme"], pk=drill.pk), {"milestone": "declared"})
    assert response.status_code == 302 and response["Location"].endswith("#milestones")
    drill.refresh_from_db()
    assert drill.incident is not None and drill.declared_at is not None
    part = ann.post(
        url("drill_mark", world["acme"], pk=drill.pk), {"milestone": "staff_reached"}, **HTMX
    )
    assert part.status_code == 200 and 'id="drill-milestones"' in part.content.decode()
    assert "<html" not in part.content.decode()
    step = drill.steps.first()
    part = ann.post(
        url("drill_step", world["acme"], pk=drill.pk, step_id=step.pk), {"what": "start"}, **HTMX
    )
    assert 'id="drill-steps"' in part.content.decode() and "Running" in part.content.decode()
    polled = ann.get(url("drill", world["acme"], pk=drill.pk) + "?part=steps", **HTMX)
    assert 'id="drill-steps"' in polled.content.decode() and "<html" not in polled.content.decode()


def test_findings_finish_and_report(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    ann = as_user(world["ann"])
    response = ann.post(
        url("drill_finding", world["acme"], pk=drill.pk),
        {
            "finding": "The vendor's line was busy",
            "action": "Add the second number",
            "plan_part": "contacts",
            "owner": world["mo"].pk,
            "due_on": "2026-12-01",
            "request_key": "f1",
        },
    )
    assert response.status_code == 302
    ann.post(
        url("drill_finding", world["acme"], pk=drill.pk),
        {"finding": "x", "plan_part": "contacts", "request_key": "f1"},
    )
    assert CorrectiveAction.objects.filter(drill=drill).count() == 1  # a retried post
    bad = ann.post(
        url("drill_finding", world["acme"], pk=drill.pk), {"finding": "", "plan_part": "contacts"}
    )
    assert bad.status_code == 422 and "This field is required" in bad.content.decode()
    response = ann.post(url("drill_finish", world["acme"], pk=drill.pk), {"notes": "Short run"})
    assert response.status_code == 302
    page = text(ann.get(url("drill", world["acme"], pk=drill.pk)))
    assert "The drill did not pass" in page and "The vendor's line was busy" in page
    report = text(ann.get(url("drill_report", world["acme"], pk=drill.pk)))
    assert "Drill report" in report and "Short run" in report
    pdf = ann.get(url("drill_pdf", world["acme"], pk=drill.pk))
    assert pdf.content.startswith(b"%PDF")


def test_viewers_see_drills_but_do_not_run_them(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    val = as_user(world["val"])
    page = text(val.get(url("drill", world["acme"], pk=drill.pk)))
    assert "Declare the drill outage now" not in page and "Finish the drill" not in page
    assert (
        val.post(
            url("drill_mark", world["acme"], pk=drill.pk), {"milestone": "detected"}
        ).status_code
        == 403
    )
    assert val.post(url("drill_start", world["acme"]), {"scenario": scenario.pk}).status_code == 403
    assert val.post(url("drill_finish", world["acme"], pk=drill.pk)).status_code == 403


def test_another_organisations_drill_is_not_found(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    editing.start(world["bravo"], world["bob"])
    bob = as_user(world["bob"])
    assert bob.get(url("drill", world["acme"], pk=drill.pk)).status_code == 404
    assert bob.get(url("drill", world["bravo"], pk=drill.pk)).status_code == 404
    assert (
        bob.post(
            url("drill_mark", world["bravo"], pk=drill.pk), {"milestone": "detected"}
        ).status_code
        == 404
    )


def test_a_finished_drill_refuses_more_buttons_with_a_message(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    drills.finish(drill, world["ann"])
    ann = as_user(world["ann"])
    response = ann.post(
        url("drill_mark", world["acme"], pk=drill.pk), {"milestone": "detected"}, follow=True
    )
    assert "This drill is finished" in response.content.decode()
    drill.refresh_from_db()
    assert drill.milestone_at(Milestone.DETECTED) is None


def test_the_library_adds_a_scenario_to_the_plan_once(world, plan):
    ann = as_user(world["ann"])
    page = text(ann.get(url("library", world["acme"])))
    assert "Two-week hosting outage" in page and "Add “Two-week hosting outage” to the plan" in page
    response = ann.post(url("library_add", world["acme"], key="hosting-outage"))
    added = plan.scenarios.get(title="Two-week hosting outage")
    assert response["Location"] == url("scenario", world["acme"], pk=added.pk)
    again = ann.post(url("library_add", world["acme"], key="hosting-outage"))
    assert again["Location"] == url("scenario", world["acme"], pk=added.pk)
    assert plan.scenarios.filter(title="Two-week hosting outage").count() == 1
    assert ann.post(url("library_add", world["acme"], key="meteor")).status_code == 404
    assert (
        as_user(world["val"]).post(url("library_add", world["acme"], key="email-down")).status_code
        == 403
    )
