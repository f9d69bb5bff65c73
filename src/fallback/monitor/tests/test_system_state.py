from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from fallback.incidents.models import AlertDelivery, Incident
from fallback.incidents.tests.builders import (
    feed,
    make_channel,
    make_check,
    make_system,
    set_status,
)
from fallback.monitor import system_state
from fallback.monitor.models import MaintenanceWindow, State, StateChange, System, SystemKind
from fallback.monitor.system_state import LINK_DOWN_REASON, refresh_system, sweep
from fallback.runtime import schedulers
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def org():
    return make_org("Acme")


def state_of(system: System) -> str:
    system.refresh_from_db()
    return system.state


def test_worst_check_wins(org):
    crm = make_system(org)
    a, b, c = (make_check(crm, name) for name in ("A", "B", "C"))
    set_status(a, State.UP, T0)
    assert state_of(crm) == State.UP
    set_status(b, State.DEGRADED, T0)
    assert state_of(crm) == State.DEGRADED
    set_status(c, State.DOWN, T0, "HTTP 500")
    assert state_of(crm) == State.DOWN
    assert crm.state_reason == "1 of 3 checks down: C: HTTP 500"


def test_checks_that_cannot_tell_are_outvoted_but_all_unknown_is_unknown(org):
    crm = make_system(org)
    a, b = make_check(crm, "A"), make_check(crm, "B")
    assert refresh_system(crm.pk, T0) is None  # starts UNKNOWN, stays UNKNOWN
    set_status(a, State.UP, T0)
    assert state_of(crm) == State.UP
    assert crm.state_reason == "1 checks up (1 cannot tell)"
    set_status(a, State.UNKNOWN, T0)
    assert state_of(crm) == State.UNKNOWN
    assert b.status == State.UNKNOWN


def test_disabled_checks_and_no_checks(org):
    crm = make_system(org)
    down = make_check(crm, "Old", enabled=False, status=State.DOWN)
    assert refresh_system(crm.pk, T0) is None
    crm.refresh_from_db()
    assert (crm.state, crm.state_reason) == (State.UNKNOWN, "No enabled checks")
    set_status(make_check(crm, "New"), State.UP, T0)
    assert state_of(crm) == State.UP
    assert down.status == State.DOWN


def test_change_writes_state_change_and_since(org):
    crm = make_system(org)
    check = make_check(crm)
    change = set_status(check, State.DOWN, T0, "refused")
    assert (change.from_state, change.to_state, change.at) == (State.UNKNOWN, State.DOWN, T0)
    assert change.reason == "Down: Home page: refused"
    crm.refresh_from_db()
    assert (crm.state, crm.state_since) == (State.DOWN, T0)
    # Nothing changed: no second row, since untouched.
    assert refresh_system(crm.pk, T0 + timedelta(minutes=5)) is None
    assert StateChange.objects.filter(system=crm).count() == 1
    crm.refresh_from_db()
    assert crm.state_since == T0


def test_state_survives_a_restart_without_new_changes_or_incidents(org):
    crm = make_system(org)
    set_status(make_check(crm), State.DOWN, T0)
    # A new process recomputes from the same database rows: nothing moves.
    fresh = System.objects.get(pk=crm.pk)
    assert fresh.state == State.DOWN
    assert refresh_system(fresh.pk, T0 + timedelta(minutes=1)) is None
    assert StateChange.objects.count() == 1
    assert Incident.objects.count() == 1


def test_up_again_after_two_successes_in_time(org):
    crm = make_system(org)
    check = make_check(crm)
    for minute in range(3):
        feed(check, State.DOWN, T0 + timedelta(minutes=minute))
    assert state_of(crm) == State.DOWN
    assert crm.state_since == T0 + timedelta(minutes=2)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        feed(check, State.UP, T0 + timedelta(minutes=5))
        assert state_of(crm) == State.DOWN
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        feed(check, State.UP, T0 + timedelta(minutes=6))
        assert state_of(crm) == State.UP
        assert crm.state_since == T0 + timedelta(minutes=6)


def test_paused_system_is_paused_whatever_its_checks_say(org):
    crm = make_system(org)
    set_status(make_check(crm), State.DOWN, T0)
    System.objects.filter(pk=crm.pk).update(paused=True)
    MaintenanceWindow.objects.create(
        org=org, title="Work", starts_at=T0, ends_at=T0 + timedelta(hours=1)
    )
    refresh_system(crm.pk, T0 + timedelta(minutes=1))
    assert state_of(crm) == State.PAUSED
    assert crm.state_reason == "Paused: not being watched"


def test_maintenance_suppresses_incidents_and_alerts(org):
    make_channel(org, "json://127.0.0.1:9/alerts")
    crm = make_system(org)
    check = make_check(crm)
    MaintenanceWindow.objects.create(
        org=org, system=crm, title="Vendor upgrade", starts_at=T0, ends_at=T0 + timedelta(hours=2)
    )
    for minute in range(3):
        feed(check, State.DOWN, T0 + timedelta(minutes=minute))
    crm.refresh_from_db()
    assert (crm.state, crm.state_reason) == (State.MAINTENANCE, "Maintenance: Vendor upgrade")
    assert Incident.objects.count() == 0
    assert AlertDelivery.objects.count() == 0


def test_sweep_moves_systems_into_and_out_of_maintenance(org):
    crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
    set_status(make_check(crm), State.DOWN, T0 - timedelta(hours=1))
    set_status(make_check(shop), State.UP, T0 - timedelta(hours=1))
    Incident.objects.all().delete()  # the CRM's earlier outage is not this test's business
    MaintenanceWindow.objects.create(
        org=org, title="Office move", weekdays="1", start_time=time(10), duration_minutes=60,
        time_zone="UTC",
    )  # fmt: skip
    assert sweep(T0 - timedelta(minutes=1)) == 0
    assert sweep(T0) == 2  # Monday 10:00: the org-wide window opens
    assert (state_of(crm), state_of(shop)) == (State.MAINTENANCE, State.MAINTENANCE)
    assert sweep(T0 + timedelta(minutes=30)) == 0
    assert sweep(T0 + timedelta(hours=1)) == 2
    assert (state_of(crm), state_of(shop)) == (State.DOWN, State.UP)
    # The CRM is still down after the window: now an outage is suspected, from 11:00.
    incident = Incident.objects.get()
    assert list(incident.systems.all()) == [crm]
    assert crm.state_since == T0 + timedelta(hours=1)


def test_sweep_applies_the_pause_switch(org):
    crm = make_system(org)
    set_status(make_check(crm), State.UP, T0)
    System.objects.filter(pk=crm.pk).update(paused=True)
    assert sweep(T0) == 1
    assert state_of(crm) == State.PAUSED
    System.objects.filter(pk=crm.pk).update(paused=False)
    assert sweep(T0) == 1
    assert state_of(crm) == State.UP


def test_sweep_is_a_registered_job():
    assert "monitor.state_sweep" in {j.name for j in schedulers.registered()}
    assert system_state.SWEEP_EVERY <= 60


class TestOurOwnLinkFirst:
    """Canary failure blames our link, not the vendor."""

    def test_vendor_is_unknown_not_down_while_our_link_is_down(self, org):
        make_channel(org, "json://127.0.0.1:9/alerts")
        link = make_system(org, "Office internet", kind=SystemKind.INTERNET)
        canary = make_check(link, "Canary", is_canary=True)
        crm = make_system(org, "CRM")
        vendor = make_check(crm)
        set_status(canary, State.UP, T0)
        set_status(vendor, State.UP, T0)
        # Everything fails at once; the canaries reach DOWN first, then the CRM's checks.
        set_status(canary, State.DOWN, T0 + timedelta(minutes=3), "3 canaries unreachable")
        set_status(vendor, State.DOWN, T0 + timedelta(minutes=3), "timeout")
        assert state_of(link) == State.DOWN
        crm.refresh_from_db()
        assert (crm.state, crm.state_reason) == (State.UNKNOWN, LINK_DOWN_REASON)
        # The link is blamed; no incident names the vendor.
        incident = Incident.objects.get()
        assert [s.name for s in incident.systems.all()] == ["Office internet"]
        assert not Incident.objects.filter(systems=crm).exists()

    def test_vendor_down_before_the_link_turns_unknown_when_the_link_goes_down(self, org):
        link = make_system(org, "Office internet", kind=SystemKind.INTERNET)
        canary = make_check(link, "Canary", is_canary=True)
        crm = make_system(org, "CRM")
        set_status(canary, State.UP, T0)
        set_status(make_check(crm), State.DOWN, T0 + timedelta(minutes=1))
        assert state_of(crm) == State.DOWN
        set_status(canary, State.DOWN, T0 + timedelta(minutes=2))
        assert state_of(crm) == State.UNKNOWN
        assert crm.state_since == T0 + timedelta(minutes=2)

    def test_vendor_comes_back_to_its_own_state_when_the_link_returns(self, org):
        link = make_system(org, "Office internet", kind=SystemKind.INTERNET)
        canary = make_check(link, "Canary", is_canary=True)
        crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
        crm_check, shop_check = make_check(crm), make_check(shop)
        set_status(canary, State.DOWN, T0)
        set_status(crm_check, State.DOWN, T0)
        set_status(shop_check, State.UNKNOWN, T0)
        assert (state_of(crm), state_of(shop)) == (State.UNKNOWN, State.UNKNOWN)
        set_status(shop_check, State.UP, T0 + timedelta(minutes=1))
        set_status(canary, State.UP, T0 + timedelta(minutes=2))
        # Really down (its checks still fail with our link up): now it is the vendor.
        assert (state_of(crm), state_of(shop)) == (State.DOWN, State.UP)

    def test_a_system_whose_checks_succeed_stays_up_while_the_link_is_down(self, org):
        link = make_system(org, "Office internet", kind=SystemKind.INTERNET)
        crm = make_system(org, "CRM")
        set_status(make_check(crm), State.UP, T0)
        set_status(make_check(link, "Canary", is_canary=True), State.DOWN, T0)
        assert state_of(crm) == State.UP

    def test_another_orgs_link_does_not_matter(self, org):
        other = make_org("Other")
        set_status(
            make_check(make_system(other, "Their internet", kind=SystemKind.INTERNET)),
            State.DOWN,
            T0,
        )
        crm = make_system(org, "CRM")
        set_status(make_check(crm), State.DOWN, T0)
        assert state_of(crm) == State.DOWN
