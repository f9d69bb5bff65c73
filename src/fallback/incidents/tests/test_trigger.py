import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from fallback.incidents import trigger
from fallback.incidents.lifecycle import declare_manually
from fallback.incidents.models import (
    AlertDelivery,
    AlertEvent,
    EntryKind,
    Incident,
    Status,
    TimelineEntry,
)
from fallback.incidents.tests.builders import (
    feed,
    make_channel,
    make_check,
    make_system,
    set_status,
)
from fallback.monitor.models import State
from fallback.runtime import schedulers
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday; London is on GMT


@pytest.fixture
def org():
    org = make_org("Acme")
    make_channel(org, "json://127.0.0.1:9/alerts", name="Office")
    return org


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_down_at_ten_is_declared_at_half_past_not_at_twenty_nine(org):
    crm = make_system(org, "CRM")
    set_status(make_check(crm), State.DOWN, T0, "HTTP 503")
    incident = Incident.objects.get()
    assert incident.status == Status.SUSPECTED
    with time_machine.travel(at(29), tick=False):
        assert trigger.evaluate() == []
        incident.refresh_from_db()
        assert incident.status == Status.SUSPECTED
    with time_machine.travel(at(29.99), tick=False):
        assert trigger.evaluate() == []
    with time_machine.travel(at(30), tick=False):
        assert trigger.evaluate() == [incident]
    incident.refresh_from_db()
    assert (incident.status, incident.declared_at, incident.declared_by) == (
        Status.DECLARED,
        at(30),
        None,
    )
    entry = TimelineEntry.objects.get(incident=incident, kind=EntryKind.DECLARED)
    assert entry.actor_label == "Fallback"
    assert entry.text == (
        "Outage declared: CRM has been down since 10:00 (30 min), the trigger of 30 min is met."
    )
    declared = AlertDelivery.objects.get(event=AlertEvent.DECLARED)
    assert declared.title == "[Acme] Outage declared: CRM"


def test_declared_once_however_often_the_trigger_runs(org):
    set_status(make_check(make_system(org)), State.DOWN, T0)
    for minute in (30, 30.2, 31, 45):
        trigger.evaluate(at(minute))
    assert AlertDelivery.objects.filter(event=AlertEvent.DECLARED).count() == 1
    assert TimelineEntry.objects.filter(kind=EntryKind.DECLARED).count() == 1


def test_each_system_has_its_own_trigger(org):
    shop = make_system(org, "Shop", trigger_minutes=5)
    set_status(make_check(shop), State.DOWN, T0)
    assert trigger.evaluate(at(4)) == []
    assert len(trigger.evaluate(at(5))) == 1


def test_a_system_back_up_in_between_restarts_the_clock(org):
    crm = make_system(org)
    check = make_check(crm)
    set_status(check, State.DOWN, T0)
    set_status(check, State.UP, at(10))  # a blip: closed
    set_status(check, State.DOWN, at(12))
    assert trigger.evaluate(at(30)) == []
    assert trigger.evaluate(at(41)) == []
    [declared] = trigger.evaluate(at(42))
    assert declared.opened_at == at(12)


def test_an_unknown_spell_is_not_down_time(org):
    crm = make_system(org)
    check = make_check(crm)
    set_status(check, State.DOWN, T0)
    set_status(check, State.UNKNOWN, at(20))  # we could not tell for a while
    assert trigger.evaluate(at(30)) == []
    set_status(check, State.DOWN, at(25))
    assert trigger.evaluate(at(54)) == []
    assert len(trigger.evaluate(at(55))) == 1


def test_the_earliest_down_system_of_an_incident_meets_the_trigger(org):
    crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
    set_status(make_check(crm), State.DOWN, T0)
    set_status(make_check(shop), State.DOWN, at(20))
    assert Incident.objects.count() == 1
    [incident] = trigger.evaluate(at(30))
    assert {s.name for s in incident.systems.all()} == {"CRM", "Shop"}


def test_reminders_every_n_minutes_while_declared(org):
    make_channel(org, "json://127.0.0.1:9/boss", name="Boss", remind_every_minutes=30)
    make_channel(org, "json://127.0.0.1:9/quiet", name="Quiet", remind_every_minutes=0)
    set_status(make_check(make_system(org)), State.DOWN, T0)
    trigger.evaluate(at(30))  # declared at 10:30

    def reminders(channel: str) -> int:
        return AlertDelivery.objects.filter(
            event=AlertEvent.REMINDER, channel__name=channel
        ).count()

    trigger.evaluate(at(59))
    assert (reminders("Office"), reminders("Boss")) == (0, 0)
    trigger.evaluate(at(60))
    trigger.evaluate(at(61))
    assert (reminders("Office"), reminders("Boss")) == (0, 1)
    trigger.evaluate(at(90))
    assert (reminders("Office"), reminders("Boss")) == (1, 2)
    # Nobody ran the trigger at 11:30 (process down): that reminder is not sent late.
    trigger.evaluate(at(150))
    assert (reminders("Office"), reminders("Boss"), reminders("Quiet")) == (2, 3, 0)
    reminder = AlertDelivery.objects.filter(event=AlertEvent.REMINDER).latest("pk")
    assert reminder.title == "[Acme] Still down: CRM (outage for 2 h)"
    assert Incident.objects.get().last_reminder_at == at(150)


def test_no_reminders_once_recovering(org):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    trigger.evaluate(at(30))
    set_status(check, State.UP, at(40))
    trigger.evaluate(at(120))
    assert not AlertDelivery.objects.filter(event=AlertEvent.REMINDER).exists()


def test_reminders_restart_from_a_reopening(org):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    trigger.evaluate(at(30))
    set_status(check, State.UP, at(80))
    set_status(check, State.DOWN, at(100))  # reopened: declared again at 11:40
    assert Incident.objects.get().status == Status.DECLARED
    trigger.evaluate(at(159))
    assert not AlertDelivery.objects.filter(event=AlertEvent.REMINDER).exists()
    trigger.evaluate(at(160))
    assert AlertDelivery.objects.filter(event=AlertEvent.REMINDER).count() == 1


def test_drills_get_reminders_too_marked_as_drills(org):
    declare_manually(org, [], "Fire drill", make_user("ann@acme.test"), is_exercise=True, now=T0)
    trigger.evaluate(at(60))
    reminder = AlertDelivery.objects.get(event=AlertEvent.REMINDER)
    assert reminder.title.startswith("[DRILL] ")


def test_trigger_is_a_registered_job():
    job = {j.name: j for j in schedulers.registered()}["incidents.trigger"]
    assert job.every <= 15


def test_serve_and_worker_register_the_trigger_alert_and_sweep_jobs():
    # In a fresh interpreter: only what `fallback serve`/`worker` import counts, not this test.
    code = (
        "import django; django.setup()\n"
        "from fallback.runtime import processes, schedulers\n"
        "print(' '.join(sorted(j.name for j in schedulers.registered())))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fallback.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    names = set(out.stdout.split())
    assert {"incidents.trigger", "incidents.send_alerts", "monitor.state_sweep"} <= names


def test_an_outage_from_first_failure_to_recovery(org):
    crm = make_system(org, "CRM")
    check = make_check(crm)
    for minute in (-2, -1, 0):  # three failed runs, a minute apart: down at 10:00
        with time_machine.travel(at(minute), tick=False):
            feed(check, State.DOWN, at(minute), "HTTP 503")
    incident = Incident.objects.get()
    assert incident.opened_at == T0
    with time_machine.travel(at(29), tick=False):
        assert trigger.evaluate() == []
    with time_machine.travel(at(30), tick=False):
        assert trigger.evaluate() == [incident]
    with time_machine.travel(at(45), tick=False):
        feed(check, State.UP, at(45))
        incident.refresh_from_db()
        assert incident.status == Status.DECLARED  # one success is not enough
    with time_machine.travel(at(46), tick=False):
        feed(check, State.UP, at(46))
    incident.refresh_from_db()
    assert (incident.status, incident.recovered_at) == (Status.RECOVERING, at(46))
    assert list(
        AlertDelivery.objects.filter(incident=incident)
        .order_by("pk")
        .values_list("event", flat=True)
    ) == [AlertEvent.SUSPECTED, AlertEvent.DECLARED, AlertEvent.RECOVERED]
