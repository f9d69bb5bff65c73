"""The review pages: outages waiting for a review, a review filled in from the facts and
completed, its lessons as actions; the management review of the open actions, overdue
highlighted, marked done, and the meeting recorded — and who may do what."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from fallback.incidents import lifecycle
from fallback.plans import actions, editing
from fallback.plans.models import ActionStatus, CorrectiveAction, ManagementReview
from fallback.plans.tests.conftest import as_user, url

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def plan(world):
    return editing.start(world["acme"], world["ann"])


@pytest.fixture
def outage(world):
    incident = lifecycle.declare_manually(world["acme"], [world["crm"]], "CRM down", world["ann"])
    lifecycle.resolve(incident, world["ann"])
    return incident


def test_an_outage_is_reviewed_from_start_to_completion(world, plan, outage):
    ann = as_user(world["ann"])
    page = text(ann.get(url("reviews", world["acme"])))
    assert "CRM down" in page and "Start the review" in page
    response = ann.post(url("review_start", world["acme"], incident_id=outage.pk))
    review = outage.review
    assert response["Location"] == url("review", world["acme"], pk=review.pk)
    page = text(ann.get(response["Location"]))
    assert "What Fallback recorded" in page and "Documents made while down" in page
    ann.post(
        url("review_finding", world["acme"], pk=review.pk),
        {
            "finding": "Nobody had the vendor's number",
            "plan_part": "contacts",
            "owner": world["mo"].pk,
        },
    )
    assert CorrectiveAction.objects.get().review == review
    response = ann.post(
        url("review", world["acme"], pk=review.pk),
        {
            "went_well": "The desk",
            "went_badly": "The phones",
            "lessons": "Keep numbers",
            "complete": "1",
        },
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.completed_at is not None and review.went_badly == "The phones"
    page = text(ann.get(url("reviews", world["acme"])))
    assert "No real outage is waiting for a review" in page
    home = text(ann.get(url("home", world["acme"])))
    assert "not reviewed since the review of the outage “CRM down”" in home


def test_completing_an_empty_review_says_what_to_write(world, plan, outage):
    ann = as_user(world["ann"])
    ann.post(url("review_start", world["acme"], incident_id=outage.pk))
    review = outage.review
    response = ann.post(
        url("review", world["acme"], pk=review.pk),
        {"went_well": "", "went_badly": "", "lessons": "", "complete": "1"},
    )
    assert response.status_code == 422
    assert "before completing" in response.content.decode()


def test_an_open_outage_cannot_be_reviewed_yet(world, plan):
    incident = lifecycle.declare_manually(world["acme"], [world["crm"]], "Still down", world["ann"])
    response = as_user(world["ann"]).post(
        url("review_start", world["acme"], incident_id=incident.pk), follow=True
    )
    assert "Resolve the incident first" in response.content.decode()


def test_viewers_read_reviews_but_change_nothing(world, plan, outage):
    as_user(world["ann"]).post(url("review_start", world["acme"], incident_id=outage.pk))
    review = outage.review
    val = as_user(world["val"])
    page = text(val.get(url("review", world["acme"], pk=review.pk)))
    assert "Save and complete the review" not in page
    val.post(url("review", world["acme"], pk=review.pk), {"went_well": "hacked"})
    review.refresh_from_db()
    assert review.went_well == ""
    assert val.post(url("review_start", world["acme"], incident_id=outage.pk)).status_code == 403
    bob = as_user(world["bob"])
    assert bob.get(url("review", world["acme"], pk=review.pk)).status_code == 404


def test_the_management_review_lists_open_actions_by_owner_overdue_first(world, plan):
    actions.add(plan, finding="Late one", owner=world["mo"], due_on=date(2000, 1, 1))
    actions.add(plan, finding="Later one", owner=world["ann"], due_on=date(2999, 1, 1))
    page = text(as_user(world["ann"]).get(url("actions", world["acme"])))
    assert "2 open, 1 overdue" in page
    assert page.index("Late one") < page.index("Later one")
    assert "overdue" in page


def test_an_action_is_marked_done_and_reopened(world, plan):
    item = actions.add(plan, finding="Fix it")
    ann = as_user(world["ann"])
    ann.post(url("action_done", world["acme"], pk=item.pk), {"note": "Done it"})
    item.refresh_from_db()
    assert (item.status, item.done_note) == (ActionStatus.DONE, "Done it")
    ann.post(url("action_done", world["acme"], pk=item.pk), {"reopen": "1"})
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN
    away = ann.post(url("action_done", world["acme"], pk=item.pk), {"back": "https://evil.test/"})
    assert away["Location"] == url("actions", world["acme"])
    assert (
        as_user(world["sid"]).post(url("action_done", world["acme"], pk=item.pk)).status_code == 403
    )


def test_actions_are_added_and_a_management_review_recorded(world, plan):
    ann = as_user(world["ann"])
    response = ann.post(
        url("action_add", world["acme"]),
        {"finding": "Test the backup key", "plan_part": "other", "request_key": "a1"},
    )
    assert response.status_code == 302
    bad = ann.post(
        url("management_review", world["acme"]), {"held_on": "", "attendees": "", "decisions": ""}
    )
    assert bad.status_code == 422 and not ManagementReview.objects.exists()
    ann.post(
        url("management_review", world["acme"]),
        {"held_on": "2026-01-05", "attendees": "Ann\nMo", "decisions": "Carry on"},
    )
    meeting = ManagementReview.objects.get()
    assert (meeting.open_actions, meeting.recorded_by) == (1, world["ann"])
    page = text(ann.get(url("actions", world["acme"])))
    assert "5 Jan 2026" in page and "Carry on" in page
