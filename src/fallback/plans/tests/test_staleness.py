"""Staleness: each part of the plan on its cadence (supplier contacts monthly, the others
quarterly, the price list after every change of prices, the whole plan yearly and after
every incident or drill), and reminders to each part's owner at most once per period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from fallback.desk.tests.conftest import put_records
from fallback.incidents import lifecycle
from fallback.incidents.models import AlertChannel, AlertDelivery, AlertEvent
from fallback.plans import editing, staleness
from fallback.plans.models import ContactKind, Reminder

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def plan(world):
    with time_machine.travel(START, tick=False):
        plan = editing.start(world["acme"], world["ann"])
        editing.save_contact(
            plan, None, kind=ContactKind.SUPPLIER, name="Pipes Ltd", last_verified_on=START.date()
        )
        editing.save_contact(
            plan, None, kind=ContactKind.STAFF, name="Sid", last_verified_on=START.date()
        )
    return plan


def parts_at(plan, moment):
    with time_machine.travel(moment, tick=False):
        return {p.key: p for p in staleness.parts(plan)}


def test_supplier_contacts_are_checked_monthly_and_staff_quarterly(plan):
    fresh = parts_at(plan, START + timedelta(days=30))
    assert not fresh["contacts.supplier"].stale and not fresh["contacts.staff"].stale
    month = parts_at(plan, START + timedelta(days=31))
    assert month["contacts.supplier"].stale
    assert month["contacts.supplier"].why == "1 not checked for over 30 days"
    assert month["contacts.supplier"].items == ["Pipes Ltd"]
    assert not month["contacts.staff"].stale
    quarter = parts_at(plan, START + timedelta(days=92))
    assert quarter["contacts.staff"].stale
    assert quarter["contacts.staff"].cadence == "quarterly (every 91 days)"


def test_a_contact_never_checked_is_due_at_once(plan):
    editing.save_contact(plan, None, kind=ContactKind.KEY_CUSTOMER, name="Smith")
    part = parts_at(plan, START)["contacts.key_customer"]
    assert (part.stale, part.why) == (True, "1 never checked")


def test_the_contacts_owner_owns_the_contact_parts(world, plan):
    part = parts_at(plan, START)["contacts.supplier"]
    assert part.owner == world["ann"]
    editing.set_owners(plan, world["ann"], world["sid"], None)
    assert parts_at(plan, START)["contacts.supplier"].owner == world["sid"]


def test_the_price_list_is_due_after_every_change_of_prices(world, plan):
    assert "price_list" not in parts_at(plan, START)  # no products: no price list to keep
    put_records(
        world["acme"], "product", [{"key": "P1", "name": "Widget", "price": "5.00"}], at=START
    )
    part = parts_at(plan, START + timedelta(hours=1))["price_list"]
    assert (part.stale, part.why) == (True, "never checked since the replica has products")
    with time_machine.travel(START + timedelta(days=1), tick=False):
        editing.mark_price_list_checked(plan, world["ann"])
    assert not parts_at(plan, START + timedelta(days=2))["price_list"].stale
    changed = START + timedelta(days=3)
    put_records(
        world["acme"], "product", [{"key": "P1", "name": "Widget", "price": "6.00"}], at=changed
    )
    part = parts_at(plan, START + timedelta(days=4))["price_list"]
    assert part.stale
    assert part.why == "prices changed on 5 Mar 2026 since the last check"
    assert part.period == "2026-03-05"


def test_a_price_list_entry_changing_counts_too(world, plan):
    with time_machine.travel(START, tick=False):
        editing.mark_price_list_checked(plan, world["ann"])
    put_records(
        world["acme"], "price_list", [{"key": "L1", "name": "Trade"}], at=START + timedelta(days=1)
    )
    assert parts_at(plan, START + timedelta(days=2))["price_list"].stale


def test_the_whole_plan_is_due_yearly(plan):
    part = parts_at(plan, START + timedelta(days=364))["plan"]
    assert not part.stale
    assert part.why == "next review by 2 Mar 2027"
    part = parts_at(plan, START + timedelta(days=366))["plan"]
    assert (part.stale, part.why) == (True, "not reviewed since it was started, over a year ago")


def test_the_whole_plan_is_due_after_an_incident_or_drill(world, plan):
    later = START + timedelta(days=10)
    with time_machine.travel(later, tick=False):
        drill = lifecycle.declare_manually(
            world["acme"], [world["crm"]], "Spring drill", world["ann"], is_exercise=True
        )
        assert not parts_at(plan, later)["plan"].stale  # not over yet
        lifecycle.resolve(drill, world["ann"])
    part = parts_at(plan, later + timedelta(hours=1))["plan"]
    assert (part.stale, part.why) == (True, "not reviewed since the drill “Spring drill”")
    assert part.period == f"incident:{drill.pk}"
    with time_machine.travel(later + timedelta(days=1), tick=False):
        editing.mark_reviewed(plan, world["ann"])
    assert not parts_at(plan, later + timedelta(days=2))["plan"].stale


# ------------------------------------------------------------------- reminders


@pytest.fixture
def channel(world):
    return AlertChannel.objects.create(
        org=world["acme"], name="Office email", url="json://127.0.0.1:9/"
    )


def test_a_reminder_goes_once_per_part_and_period(world, plan, channel):
    moment = START + timedelta(days=40)  # the supplier contact is due
    assert staleness.remind(moment) == 1
    [delivery] = AlertDelivery.objects.filter(org=world["acme"], event=AlertEvent.PLAN_STALE)
    assert delivery.title == "[Acme] Plan: supplier contacts due for a check (Ann Archer)"
    assert "Pipes Ltd" in delivery.body and "/o/acme/plan/contacts/#supplier" in delivery.body
    assert AlertEvent(delivery.event).label  # the sender can label it
    assert staleness.remind(moment + timedelta(hours=1)) == 0
    assert staleness.remind(moment + timedelta(days=5)) == 0  # the same 30-day window
    [reminder] = Reminder.objects.filter(plan=plan)
    assert (reminder.part, reminder.owner) == ("contacts.supplier", world["ann"])
    assert staleness.remind(moment + timedelta(days=30)) == 1  # the next window
    assert AlertDelivery.objects.filter(event=AlertEvent.PLAN_STALE).count() == 2


def test_a_reminder_is_recorded_even_without_alert_channels(world, plan):
    assert staleness.remind(START + timedelta(days=40)) == 1
    assert not AlertDelivery.objects.exists()
    assert Reminder.objects.filter(plan=plan, part="contacts.supplier").exists()


def test_reminders_name_the_parts_owner(world, plan, channel):
    editing.set_owners(plan, world["ann"], world["mo"], None)
    staleness.remind(START + timedelta(days=40))
    delivery = AlertDelivery.objects.get(event=AlertEvent.PLAN_STALE)
    assert delivery.title.endswith("(mo@acme.test)")
    assert delivery.body.startswith("For mo@acme.test: Supplier contacts")


def test_the_reminder_job_is_registered():
    from fallback.runtime import schedulers

    assert "plans.reminders" in {j.name for j in schedulers.registered()}


def test_day_text_is_portable():
    assert staleness.day_text(date(2026, 5, 3)) == "3 May 2026"
    assert staleness.day_text(timezone.datetime(2026, 12, 25, tzinfo=UTC)) == "25 Dec 2026"
