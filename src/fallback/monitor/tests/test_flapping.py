from datetime import UTC, datetime, timedelta

import pytest

from fallback.incidents.models import AlertDelivery, AlertEvent, Incident, Status
from fallback.incidents.tests.builders import make_channel, make_check, make_system, set_status
from fallback.monitor import flapping
from fallback.monitor.models import State, System
from fallback.monitor.system_state import refresh_system, sweep
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def org():
    org = make_org("Acme")
    make_channel(org, "json://127.0.0.1:9/alerts")
    return org


def flip(check, count: int, start: datetime, first: str = State.UP) -> datetime:
    """`count` state changes, one a minute, alternating from `first`; returns the last time."""
    at = start
    states = [first, State.DOWN if first == State.UP else State.UP]
    for i in range(count):
        at = start + timedelta(minutes=i)
        set_status(check, states[i % 2], at)
    return at


def alerts(event: str | None = None) -> int:
    qs = AlertDelivery.objects.all()
    return qs.filter(event=event).count() if event else qs.count()


def test_more_than_k_changes_in_the_window_marks_flapping(org):
    crm = make_system(org, flap_changes=6, flap_window_minutes=30)
    check = make_check(crm)
    flip(check, 6, T0)
    crm.refresh_from_db()
    assert crm.flapping_since is None
    set_status(check, State.UP, T0 + timedelta(minutes=6))  # the 7th change
    crm.refresh_from_db()
    assert crm.flapping_since == T0 + timedelta(minutes=6)


def test_changes_spread_wider_than_the_window_are_not_flapping(org):
    crm = make_system(org, flap_changes=3, flap_window_minutes=10)
    check = make_check(crm)
    for i in range(8):
        set_status(check, State.UP if i % 2 == 0 else State.DOWN, T0 + timedelta(minutes=4 * i))
    crm.refresh_from_db()
    assert crm.flapping_since is None


def test_flapping_sends_one_notice_not_a_storm(org):
    crm = make_system(org, flap_changes=6, flap_window_minutes=30)
    check = make_check(crm)
    flip(check, 7, T0)  # the 7th change starts the flapping
    assert alerts(AlertEvent.FLAPPING) == 1
    before = alerts()
    flip(check, 20, T0 + timedelta(minutes=7), first=State.DOWN)
    assert alerts(AlertEvent.FLAPPING) == 1
    assert alerts() == before  # twenty more changes, not one more alert
    notice = AlertDelivery.objects.get(event=AlertEvent.FLAPPING)
    assert notice.title == "[Acme] CRM is flapping"
    assert "changed state 7 times in the last 30 min" in notice.body
    # One incident carries the whole episode.
    assert Incident.objects.filter(status=Status.SUSPECTED).count() == 1


def test_stable_for_a_whole_window_clears_flapping_and_settles_the_incident(org):
    crm = make_system(org, flap_changes=6, flap_window_minutes=30)
    check = make_check(crm)
    last = flip(check, 9, T0)  # ends UP at minute 8, flapping since minute 6
    crm.refresh_from_db()
    assert crm.state == State.UP
    incident = Incident.objects.get(status=Status.SUSPECTED)
    sweep(last + timedelta(minutes=29))
    crm.refresh_from_db()
    assert crm.flapping_since is not None
    sweep(last + timedelta(minutes=30))
    crm.refresh_from_db()
    assert crm.flapping_since is None
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    # Its SUSPECTED alert went out before the flapping, so people hear it is over.
    assert AlertDelivery.objects.filter(incident=incident, event=AlertEvent.RECOVERED).exists()


def test_settled_down_after_flapping_announces_the_suspected_outage(org):
    crm = make_system(org, flap_changes=2, flap_window_minutes=10)
    check = make_check(crm)
    set_status(check, State.UP, T0)
    set_status(check, State.DOWN, T0 + timedelta(minutes=1))
    Incident.objects.all().delete()  # start from a clean slate: only the flapping counts now
    AlertDelivery.objects.all().delete()
    set_status(check, State.UP, T0 + timedelta(minutes=2))  # 3rd change: flapping
    set_status(check, State.DOWN, T0 + timedelta(minutes=3))  # quiet: no SUSPECTED alert
    incident = Incident.objects.get()
    assert alerts(AlertEvent.SUSPECTED) == 0
    sweep(T0 + timedelta(minutes=13))
    assert AlertDelivery.objects.filter(incident=incident, event=AlertEvent.SUSPECTED).count() == 1


def test_flapping_of_one_system_does_not_mute_another(org):
    crm = make_system(org, "CRM", flap_changes=2, flap_window_minutes=30)
    shop = make_system(org, "Shop")
    flip(make_check(crm), 3, T0)
    crm.refresh_from_db()
    assert crm.flapping_since is not None
    Incident.objects.all().delete()
    set_status(make_check(shop), State.DOWN, T0 + timedelta(minutes=5))
    assert alerts(AlertEvent.SUSPECTED) >= 1
    assert AlertDelivery.objects.filter(event=AlertEvent.SUSPECTED, incident__systems=shop).exists()


def test_pause_and_maintenance_changes_do_not_count(org):
    crm = make_system(org, flap_changes=2, flap_window_minutes=30)
    set_status(make_check(crm), State.UP, T0)
    for i in range(3):
        System.objects.filter(pk=crm.pk).update(paused=i % 2 == 0)
        refresh_system(crm.pk, T0 + timedelta(minutes=i + 1))
    crm.refresh_from_db()
    assert crm.flapping_since is None
    assert flapping.counted_changes(crm, T0 - timedelta(minutes=1)).count() == 1


def test_a_later_episode_sends_its_own_notice(org):
    crm = make_system(org, flap_changes=2, flap_window_minutes=10)
    check = make_check(crm)
    last = flip(check, 3, T0)
    sweep(last + timedelta(minutes=10))
    crm.refresh_from_db()
    assert crm.flapping_since is None
    flip(check, 3, last + timedelta(hours=1), first=State.DOWN)
    assert alerts(AlertEvent.FLAPPING) == 2


def test_the_incident_timeline_says_when_flapping_began(org):
    crm = make_system(org, flap_changes=2, flap_window_minutes=10)
    flip(make_check(crm), 4, T0)  # up, down (incident), up (flapping: kept open), down
    incident = Incident.objects.get(status=Status.SUSPECTED)
    notes = list(incident.timeline.filter(kind="note").values_list("text", flat=True))
    assert notes[0] == (
        "CRM is flapping: its changes are recorded here but send no alerts until it has been "
        "stable for 10 min."
    )
