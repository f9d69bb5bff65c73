"""The plan's pages: starting it, each section and item with inline errors naming the field,
"Save and continue" through what is missing, contacts suggested and checked, history and
printable past versions, readiness on the dashboard — and who may do what, always within
one organisation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from fallback.plans import editing
from fallback.plans.models import Activity, ContactKind, Plan, ScenarioKind
from fallback.plans.tests.conftest import as_user, files_connector, url

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def plan(world):
    return editing.start(world["acme"], world["ann"])


def test_an_owner_starts_the_plan_and_lands_on_the_first_thing_missing(world):
    ann = as_user(world["ann"])
    page = text(ann.get(url("home", world["acme"])))
    assert "No plan yet" in page and "Start the plan" in page
    response = ann.post(url("start", world["acme"]))
    assert response.status_code == 302
    assert response["Location"] == url("activities", world["acme"])
    assert Plan.objects.filter(org=world["acme"]).exists()
    page = text(ann.get(url("home", world["acme"])))
    assert "0 of 5 sections complete" in page and "Continue" in page


def test_only_setup_roles_start_or_change_the_plan(world, plan):
    for name in ("sid", "val"):
        client = as_user(world[name])
        assert client.post(url("start", world["acme"])).status_code == 403
        assert client.get(url("activity_new", world["acme"])).status_code == 403
        assert client.post(url("review", world["acme"])).status_code == 403
        activity = plan.activities.first()
        assert (
            client.post(url("remove", world["acme"], kind="activities", pk=activity.pk)).status_code
            == 403
        )
        page = text(client.get(url("activities", world["acme"])))
        assert "Taking orders" in page and "Add an activity" not in page
    assert as_user(world["mo"]).get(url("activity_new", world["acme"])).status_code == 200


def test_a_viewer_without_a_plan_is_told_who_can_start_it(world):
    page = text(as_user(world["val"]).get(url("home", world["acme"])))
    assert "Ask an owner or a manager to start it" in page


def test_another_organisations_plan_is_not_there(world, plan):
    bob = as_user(world["bob"])
    assert bob.get(url("home", world["acme"])).status_code == 404
    assert bob.get(url("activities", world["acme"])).status_code == 404
    editing.start(world["bravo"], world["bob"])
    theirs = plan.activities.first()
    for name in ("activity", "risk", "scenario", "role"):
        pk = {
            "activity": theirs.pk,
            "risk": plan.risks.first().pk,
            "scenario": plan.scenarios.first().pk,
            "role": plan.roles.first().pk,
        }[name]
        assert bob.get(url(name, world["bravo"], pk=pk)).status_code == 404
    response = bob.post(url("remove", world["bravo"], kind="activities", pk=theirs.pk))
    assert response.status_code == 404
    assert Activity.objects.filter(pk=theirs.pk).exists()
    assert bob.get(url("version", world["bravo"], number=99)).status_code == 404


def test_rto_not_shorter_than_mtpd_is_shown_at_the_field_and_nothing_is_saved(world, plan):
    orders = plan.activities.get(name="Taking orders")
    response = as_user(world["ann"]).post(
        url("activity", world["acme"], pk=orders.pk),
        {"name": "Taking orders", "mtpd": "2h", "rto": "3 hours", "rpo": "15m"},
    )
    page = text(response)
    assert "Nothing was saved" in page
    assert (
        "Resume within (RTO): must be shorter than the MTPD (2 hours): work has to resume "
        "before the outage becomes intolerable (got 3 hours)" in page
    )
    orders.refresh_from_db()
    assert (orders.mtpd_minutes, orders.rto_minutes, orders.suggested) == (1440, 240, True)


def test_a_bad_duration_or_amount_names_its_field(world, plan):
    orders = plan.activities.get(name="Taking orders")
    page = text(
        as_user(world["ann"]).post(
            url("activity", world["acme"], pk=orders.pk),
            {"name": "Taking orders", "mtpd": "soon", "money_under_1h": "-3"},
        )
    )
    assert "Longest it can stop (MTPD): is not a duration" in page
    assert "Money lost, under 1 hour: Ensure this value is greater than or equal to 0." in page


def test_save_and_continue_walks_through_what_is_missing(world, plan):
    ann = as_user(world["ann"])
    orders = plan.activities.get(name="Taking orders")
    response = ann.post(
        url("activity", world["acme"], pk=orders.pk),
        {
            "name": "Taking orders",
            "owner": world["ann"].pk,
            "systems": [world["crm"].pk],
            "mtpd": "1 day",
            "rto": "4h",
            "rpo": "1h",
            "money_hours_1_8": "800",
            "customers_hours_1_8": "25",
            "continue": "1",
        },
    )
    orders.refresh_from_db()
    assert not orders.suggested
    assert [i.money for i in orders.impacts.all()] == [800]
    nxt = plan.activities.get(name="Invoicing")
    assert response["Location"] == url("activity", world["acme"], pk=nxt.pk)
    # "Not for us" on the suggested ones that do not fit.
    for name in ("Invoicing", "Dispatch", "Payroll", "Answering the phone"):
        a = plan.activities.get(name=name)
        response = ann.post(url("remove", world["acme"], kind="activities", pk=a.pk))
        assert response.status_code == 302
    assert response["Location"] == url("activities", world["acme"])
    response = ann.get(url("continue", world["acme"]))
    assert response["Location"] == url("risks", world["acme"])


def test_confirming_a_suggested_item_goes_on_to_the_next(world, plan):
    risk = plan.risks.first()
    response = as_user(world["ann"]).post(
        url("confirm", world["acme"], kind="risks", pk=risk.pk), {"continue": "1"}
    )
    risk.refresh_from_db()
    assert not risk.suggested
    assert response.status_code == 302
    assert (
        as_user(world["ann"])
        .post(url("confirm", world["acme"], kind="roles", pk=plan.roles.get().pk))
        .status_code
        == 404
    )


def test_a_risk_form(world, plan):
    ann = as_user(world["ann"])
    response = ann.post(
        url("risk_new", world["acme"]),
        {
            "title": "Flood in the warehouse",
            "likelihood": "2",
            "severity": "4",
            "treatment": "Stock on shelves",
            "unthinkable": "on",
            "contrarian": world["mo"].pk,
        },
    )
    assert response.status_code == 302
    risk = plan.risks.get(title="Flood in the warehouse")
    assert (risk.score, risk.contrarian, risk.unthinkable) == (8, world["mo"], True)
    page = text(
        ann.post(url("risk_new", world["acme"]), {"title": risk.title.upper(), "likelihood": "9"})
    )
    assert "How likely: Select a valid choice" in page


def test_a_scenario_with_its_steps_and_checklist(world, plan):
    lead = plan.roles.get()
    scenario = plan.scenarios.get(kind=ScenarioKind.LINE_DOWN)
    ann = as_user(world["ann"])
    page = ann.get(url("scenario", world["acme"], pk=scenario.pk)).content.decode()
    assert 'value="Divert the office number to the mobile of whoever answers the phone"' in page
    data = {
        "kind": "line_down",
        "title": "Phones dead",
        "trigger": "No dial tone",
        "details": "Divert to 07700 900123",
        "back_up": "Cancel the diversion\n\nTell staff",
        "steps-TOTAL_FORMS": "3",
        "steps-INITIAL_FORMS": "0",
        "steps-0-role": lead.pk,
        "steps-0-action": "Call the provider",
        "steps-0-minutes": "10",
        "steps-1-action": "",
        "steps-2-action": "Tell customers",
        "steps-2-place": "Email",
    }
    assert ann.post(url("scenario", world["acme"], pk=scenario.pk), data).status_code == 302
    scenario.refresh_from_db()
    assert (scenario.title, scenario.suggested) == ("Phones dead", False)
    assert [(s.action, s.role, s.minutes) for s in scenario.steps.all()] == [
        ("Call the provider", lead, 10),
        ("Tell customers", None, None),
    ]
    assert [b.text for b in scenario.back_up_steps.all()] == ["Cancel the diversion", "Tell staff"]
    page = text(ann.get(url("scenarios", world["acme"])))
    assert "Tell customers Where: Email" in page  # who, does what, where, how, minutes
    assert "(10 min) Where: Phone · How: Roles and their alternates are in the plan." in page
    bad = {**data, "steps-1-place": "Office", "steps-1-action": ""}
    page = text(ann.post(url("scenario", world["acme"], pk=scenario.pk), bad))
    assert "Step 2, does what: say what is done in this step" in page


def test_a_role_with_its_holder_and_alternates(world, plan):
    lead = plan.roles.get()
    it = editing.save_contact(plan, None, kind=ContactKind.VENDOR_SUPPORT, name="IT Partner")
    ann = as_user(world["ann"])
    data = {
        "name": "Incident lead",
        "is_incident_lead": "on",
        "holder": f"u{world['ann'].pk}",
        "alternate_1": f"c{it.pk}",
        "alternate_2": f"u{world['mo'].pk}",
    }
    assert ann.post(url("role", world["acme"], pk=lead.pk), data).status_code == 302
    assert [(a.user, a.contact) for a in lead.alternates.all()] == [(None, it), (world["mo"], None)]
    page = text(
        ann.post(
            url("role", world["acme"], pk=lead.pk), {**data, "alternate_1": f"u{world['ann'].pk}"}
        )
    )
    assert "alternate 1 holds the role already" in page


def test_contacts_suggested_added_and_checked(world, plan):
    ann = as_user(world["ann"])
    page = text(ann.get(url("contacts", world["acme"])))
    assert "Suggested contacts" in page and "CloudCo Ltd support" in page
    tokens = re.findall(
        r'name="chosen" value="([^"]+)"', ann.get(url("contacts", world["acme"])).content.decode()
    )
    assert ann.post(url("contacts_add", world["acme"]), {"chosen": tokens}).status_code == 302
    assert plan.contacts.count() == len(tokens)
    assert "Suggested contacts" not in text(ann.get(url("contacts", world["acme"])))
    assert ann.post(url("contacts_add", world["acme"]), {}).status_code == 302  # nothing ticked
    vendor = plan.contacts.get(kind=ContactKind.VENDOR_SUPPORT)
    ann.post(url("contacts_verify", world["acme"]), {"contact": vendor.pk})
    vendor.refresh_from_db()
    assert vendor.last_verified_on is not None and vendor.verified_by == world["ann"]
    ann.post(url("contacts_verify", world["acme"]), {"kind": "staff"})
    assert not plan.contacts.filter(kind="staff", last_verified_on__isnull=True).exists()
    assert ann.post(url("contacts_verify", world["acme"]), {}).status_code == 404


def test_a_contact_form_names_a_bad_email(world, plan):
    page = text(
        as_user(world["ann"]).post(
            url("contact_new", world["acme"]), {"kind": "supplier", "name": "Pipes", "email": "x@"}
        )
    )
    assert "Email: Enter a valid email address." in page
    assert not plan.contacts.exists()


def test_the_plans_rpo_feeding_the_replica_is_shown(world, plan):
    files_connector(world["acme"], world["crm"])
    ann = as_user(world["ann"])
    activity = plan.activities.get(name="Taking orders")
    response = ann.post(
        url("activity", world["acme"], pk=activity.pk),
        {
            "name": "Taking orders",
            "owner": world["ann"].pk,
            "systems": [world["crm"].pk],
            "mtpd": "1 day",
            "rto": "4h",
            "rpo": "15 min",
        },
        follow=True,
    )
    page = text(response)
    assert "The replica of CRM copy warns when its copy is older than 15 minutes" in page
    page = text(ann.get(url("activities", world["acme"])))
    assert "The plan sets the replica's alerts" in page
    assert "“Taking orders” needs data no older than that" in page


def test_owners_and_reviews(world, plan):
    ann = as_user(world["ann"])
    response = ann.post(
        url("owners", world["acme"]), {"owner": world["mo"].pk, "contacts_owner": world["sid"].pk}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.owner, plan.contacts_owner) == (world["mo"], world["sid"])
    ann.post(url("review", world["acme"]))
    ann.post(url("price_list_checked", world["acme"]))
    plan.refresh_from_db()
    assert plan.reviewed_by == world["ann"] and plan.price_list_reviewed_at is not None


def test_history_and_printable_past_versions(world, plan):
    editing.remove(plan.activities.get(name="Payroll"))
    val = as_user(world["val"])
    page = text(val.get(url("history", world["acme"])))
    assert "Activity removed: Payroll" in page and "Plan started" in page
    page = text(val.get(url("version", world["acme"], number=2)))
    assert "Version 2" in page and "Activity removed: Payroll" in page
    old = val.get(url("version_print", world["acme"], number=1)).content.decode()
    assert "Payroll" in old and "Continuity plan" in old
    pdf = val.get(url("version_pdf", world["acme"], number=1))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "acme-plan-v1.pdf" in pdf["Content-Disposition"]
    latest = val.get(url("print", world["acme"]))
    assert latest["Location"] == url("version_print", world["acme"], number=2)


def test_readiness_is_the_first_card_of_the_dashboard(world, plan):
    page = as_user(world["ann"]).get(f"/o/{world['acme'].slug}/").content.decode()
    assert page.index("How ready are we?") < page.index("systems-card-heading")
    assert "out of 100" in page and "Next:" in page
    assert 'href="/o/acme/plan/"' in page  # the Plan tab
    assert "Plan" in text(as_user(world["val"]).get(url("readiness", world["acme"])))


def test_the_plan_card_lists_what_is_due_with_its_owner(world, plan):
    editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd")
    page = text(as_user(world["ann"]).get(f"/o/{world['acme'].slug}/"))
    assert "Due for a check: Supplier contacts — 1 never checked. Owner: you" in page
    page = text(as_user(world["mo"]).get(f"/o/{world['acme'].slug}/"))
    assert "Owner: Ann Archer" in page


def test_stale_contacts_and_prices_changed_since_the_printed_binder_are_on_the_dashboard(
    world, plan
):
    from fallback.desk.tests.conftest import put_records
    from fallback.plans import binder
    from fallback.plans.models import CopyKind

    start = timezone.now() - timedelta(days=100)
    with time_machine.travel(start, tick=False):
        editing.save_contact(
            plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", last_verified_on=start.date()
        )
        editing.mark_price_list_checked(plan, world["ann"])
        binder.record_copy(plan, binder.inputs(plan), CopyKind.PRINTED, world["ann"])
    page = text(as_user(world["ann"]).get(f"/o/{world['acme'].slug}/"))
    assert "Supplier contacts — 1 not checked for over 30 days" in page
    assert "price list" not in page.lower().split("due for a check:")[1].split("open the plan")[0]
    put_records(world["acme"], "product", [{"key": "P1", "name": "Copper pipe", "price": "9"}])
    page = text(as_user(world["ann"]).get(f"/o/{world['acme'].slug}/"))
    due = page.split("Due for a check:")[1].split("Open the plan")[0]
    assert "Supplier contacts — 1 not checked for over 30 days" in due
    assert "Printed price list — prices changed on" in due
    assert "The printed grab binder — out of date" in due and "the prices changed" in due


def test_each_section_page_says_what_is_still_missing(world, plan):
    val = as_user(world["val"])
    for name, first in [
        ("activities", "Confirm or remove the suggested activity “Taking orders”"),
        ("risks", "Confirm or remove the suggested risk"),
        ("scenarios", "Confirm or remove the suggested scenario “A system or its data is lost”"),
        ("roles", "Name who stands in for the incident lead"),
        ("contacts", "Add the staff to the contact tree"),
    ]:
        page = text(val.get(url(name, world["acme"])))
        assert "Still missing here:" in page and first in page, name
    editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Sid", phones="07700 1")
    page = text(val.get(url("contacts", world["acme"])))
    assert "Complete Nothing missing in this section." in page
    assert "Staff contacts due for a check: 1 never checked." in page
