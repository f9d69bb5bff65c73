from datetime import UTC, datetime, timedelta

import pytest

from fallback.audit.models import AuditEvent
from fallback.incidents import lifecycle
from fallback.incidents.lifecycle import IncidentError
from fallback.incidents.models import (
    AlertDelivery,
    AlertEvent,
    EntryKind,
    Incident,
    Status,
    TimelineEntry,
)
from fallback.incidents.tests.builders import make_channel, make_check, make_system, set_status
from fallback.monitor.models import State
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def org():
    org = make_org("Acme")
    make_channel(org, "json://127.0.0.1:9/alerts", name="Office")
    return org


@pytest.fixture
def ann():
    return make_user("ann@acme.test")


def kinds(incident: Incident) -> list[str]:
    return list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))


def events(incident: Incident) -> list[str]:
    return list(
        AlertDelivery.objects.filter(incident=incident)
        .order_by("pk")
        .values_list("event", flat=True)
    )


def test_system_going_down_opens_a_suspected_incident_and_alerts(org):
    crm = make_system(org, "CRM")
    set_status(make_check(crm), State.DOWN, T0, "HTTP 503")
    incident = Incident.objects.get()
    assert (incident.title, incident.status, incident.opened_at) == (
        "CRM is down",
        Status.SUSPECTED,
        T0,
    )
    assert list(incident.systems.all()) == [crm]
    opened = TimelineEntry.objects.get(incident=incident)
    assert opened.kind == EntryKind.OPENED
    assert opened.text == (
        "CRM went down: Down: Home page: HTTP 503. If it is still down at 10:30, "
        "the outage is declared."
    )
    alert = AlertDelivery.objects.get()
    assert (alert.event, alert.title) == (AlertEvent.SUSPECTED, "[Acme] Suspected outage: CRM")
    assert "If it is still down at 10:30, Fallback declares an outage" in alert.body
    assert "- CRM: down since 10:00. Down: Home page: HTTP 503" in alert.body


def test_another_system_going_down_joins_the_open_incident(org):
    crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
    set_status(make_check(crm), State.DOWN, T0)
    set_status(make_check(shop), State.DOWN, at(3))
    incident = Incident.objects.get()
    assert {s.name for s in incident.systems.all()} == {"CRM", "Shop"}
    joined = TimelineEntry.objects.get(incident=incident, kind=EntryKind.STATE)
    assert joined.text.startswith("Shop went down too: ")
    assert events(incident) == [AlertEvent.SUSPECTED]


def test_a_system_joining_a_declared_outage_is_announced(org):
    crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
    set_status(make_check(crm), State.DOWN, T0)
    incident = lifecycle.declare(Incident.objects.get(), now=at(30))
    set_status(make_check(shop), State.DOWN, at(40))
    assert events(incident) == [AlertEvent.SUSPECTED, AlertEvent.DECLARED, AlertEvent.DECLARED]
    latest = AlertDelivery.objects.latest("pk")
    assert latest.title == "[Acme] Outage declared: CRM, Shop"
    assert "Shop went down too." in latest.body


def test_no_duplicate_incident_when_the_same_system_goes_down_again(org):
    crm = make_system(org)
    check = make_check(crm)
    set_status(check, State.DOWN, T0)
    set_status(check, State.UNKNOWN, at(1))
    set_status(check, State.DOWN, at(2))
    assert Incident.objects.count() == 1


def test_another_orgs_incident_is_never_joined(org):
    other = make_org("Other")
    set_status(make_check(make_system(other, "CRM")), State.DOWN, T0)
    set_status(make_check(make_system(org, "CRM")), State.DOWN, T0)
    assert Incident.objects.filter(org=org).count() == 1
    assert Incident.objects.filter(org=other).count() == 1


def test_a_blip_is_closed_automatically_and_people_told_it_is_over(org):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    set_status(check, State.UP, at(4))
    incident = Incident.objects.get()
    assert (incident.status, incident.resolved_at, incident.declared_at) == (
        Status.RESOLVED,
        at(4),
        None,
    )
    resolved = TimelineEntry.objects.get(incident=incident, kind=EntryKind.RESOLVED)
    assert resolved.text == (
        "A blip: back up after 4 min, before an outage was declared. Closed automatically."
    )
    assert events(incident) == [AlertEvent.SUSPECTED, AlertEvent.RECOVERED]
    recovered = AlertDelivery.objects.get(event=AlertEvent.RECOVERED)
    assert recovered.title == "[Acme] Back up: CRM"
    assert "Nothing to do: the incident is closed." in recovered.body


def test_a_blip_nobody_was_told_about_sends_no_recovered_alert():
    org = make_org("Acme")
    make_channel(org, "json://127.0.0.1:9/a", events=["declared", "recovered"])
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    set_status(check, State.UP, at(4))
    assert Incident.objects.get().status == Status.RESOLVED
    assert AlertDelivery.objects.count() == 0


def test_unknown_is_not_back_up(org):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    set_status(check, State.UNKNOWN, at(4))
    incident = Incident.objects.get()
    assert incident.status == Status.SUSPECTED
    assert TimelineEntry.objects.filter(incident=incident, kind=EntryKind.STATE).exists()


def test_degraded_counts_as_back_up(org):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    set_status(check, State.DEGRADED, at(4))
    assert Incident.objects.get().status == Status.RESOLVED


def test_declared_incident_recovers_when_all_its_systems_are_back(org):
    crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
    crm_check, shop_check = make_check(crm), make_check(shop)
    set_status(crm_check, State.DOWN, T0)
    set_status(shop_check, State.DOWN, at(1))
    incident = lifecycle.declare(Incident.objects.get(), now=at(30))
    set_status(crm_check, State.UP, at(60))
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED  # the shop is still down
    set_status(shop_check, State.UP, at(70))
    incident.refresh_from_db()
    assert (incident.status, incident.recovered_at) == (Status.RECOVERING, at(70))
    recovering = TimelineEntry.objects.get(incident=incident, kind=EntryKind.RECOVERING)
    assert recovering.text.startswith("All systems back up after 40 min of declared outage.")
    assert events(incident)[-1] == AlertEvent.RECOVERED
    assert (
        AlertDelivery.objects.get(event=AlertEvent.RECOVERED).title == "[Acme] Back up: CRM, Shop"
    )


def test_recovering_incident_whose_system_goes_down_again_is_declared_again(org):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    incident = lifecycle.declare(Incident.objects.get(), now=at(30))
    set_status(check, State.UP, at(60))
    set_status(check, State.DOWN, at(65))
    incident.refresh_from_db()
    assert (incident.status, incident.recovered_at) == (Status.DECLARED, None)
    reopened = TimelineEntry.objects.get(incident=incident, kind=EntryKind.REOPENED)
    assert (reopened.actor, reopened.text) == (None, "CRM is down again.")
    assert events(incident) == [
        AlertEvent.SUSPECTED,
        AlertEvent.DECLARED,
        AlertEvent.RECOVERED,
        AlertEvent.DECLARED,
    ]
    assert Incident.objects.count() == 1


def test_person_confirms_a_suspected_incident_declared_at_once(org, ann):
    set_status(make_check(make_system(org)), State.DOWN, T0)
    incident = lifecycle.confirm(Incident.objects.get(), ann, now=at(5))
    assert (incident.status, incident.declared_at, incident.declared_by) == (
        Status.DECLARED,
        at(5),
        ann,
    )
    confirmed = TimelineEntry.objects.get(incident=incident, kind=EntryKind.CONFIRMED)
    assert (confirmed.actor, confirmed.text) == (ann, "ann@acme.test confirmed the outage.")
    declared = TimelineEntry.objects.get(incident=incident, kind=EntryKind.DECLARED)
    assert declared.actor == ann
    audit = AuditEvent.objects.get(action="incident.confirmed")
    assert (audit.actor, audit.changes) == (ann, {"status": ["suspected", "declared"]})


def test_confirming_a_system_nobody_saw_down_opens_a_manual_declared_incident(org, ann):
    crm = make_system(org, "CRM")
    set_status(make_check(crm), State.UP, T0)
    incident = lifecycle.confirm(crm, ann, now=at(1))
    assert (incident.status, incident.declared_manually) == (Status.DECLARED, True)
    assert list(incident.systems.all()) == [crm]
    assert kinds(incident) == [EntryKind.OPENED, EntryKind.CONFIRMED, EntryKind.DECLARED]
    # Confirming the same system again finds that incident, not a new one.
    assert lifecycle.confirm(crm, ann, now=at(2)) == incident


def test_person_confirming_a_recovering_incident_reopens_it(org, ann):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    incident = lifecycle.declare(Incident.objects.get(), now=at(30))
    set_status(check, State.UP, at(40))
    lifecycle.confirm(incident, ann, now=at(45))
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED
    reopened = TimelineEntry.objects.get(incident=incident, kind=EntryKind.REOPENED)
    assert (reopened.actor, reopened.text) == (ann, "ann@acme.test says it is still not working.")


def test_person_resolves(org, ann):
    check = make_check(make_system(org))
    set_status(check, State.DOWN, T0)
    incident = lifecycle.declare(Incident.objects.get(), now=at(30))
    set_status(check, State.UP, at(40))
    lifecycle.resolve(incident, ann, now=at(50), note="Vendor confirmed the fix.")
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at, incident.resolved_by) == (
        Status.RESOLVED,
        at(50),
        ann,
    )
    entry = TimelineEntry.objects.get(incident=incident, kind=EntryKind.RESOLVED)
    assert entry.text == "Resolved by ann@acme.test. Vendor confirmed the fix."
    assert AuditEvent.objects.get(action="incident.resolved").changes == {
        "status": ["recovering", "resolved"]
    }
    # From RECOVERING the RECOVERED alert went out already: no second one.
    assert events(incident).count(AlertEvent.RECOVERED) == 1
    with pytest.raises(IncidentError, match="already resolved"):
        lifecycle.resolve(incident, ann)


def test_resolving_a_declared_incident_tells_people_the_outage_is_over(org, ann):
    incident = lifecycle.declare_manually(org, [], "Phones dead", ann, now=T0)
    lifecycle.resolve(incident, ann, now=at(90))
    alert = AlertDelivery.objects.get(event=AlertEvent.RECOVERED)
    assert alert.title == "[Acme] Outage over: a system the checks cannot see"
    assert "Resolved by ann@acme.test." in alert.body


def test_declare_manually_is_declared_at_once_and_audited(org, ann):
    crm = make_system(org, "CRM")
    incident = lifecycle.declare_manually(
        org, [crm], "  Accounts server unreachable ", ann, summary="Host fire", now=T0
    )
    assert (incident.status, incident.declared_manually, incident.declared_at) == (
        Status.DECLARED,
        True,
        T0,
    )
    assert (incident.title, incident.summary, incident.declared_by) == (
        "Accounts server unreachable",
        "Host fire",
        ann,
    )
    entry = TimelineEntry.objects.get(incident=incident)
    assert (entry.kind, entry.actor, entry.text) == (
        EntryKind.DECLARED,
        ann,
        "Outage declared by ann@acme.test: Accounts server unreachable",
    )
    audit = AuditEvent.objects.get(action="incident.declared")
    assert audit.changes["systems"] == [None, ["CRM"]]
    assert events(incident) == [AlertEvent.DECLARED]


def test_manual_incident_is_not_closed_by_the_checks(org, ann):
    crm = make_system(org)
    check = make_check(crm)
    set_status(check, State.UP, T0)
    incident = lifecycle.declare_manually(org, [crm], "Orders vanish", ann, now=at(1))
    set_status(check, State.DOWN, at(2))
    set_status(check, State.UP, at(3))
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED
    assert Incident.objects.count() == 1  # the down event joined it


def test_declare_manually_refuses_bad_input_and_changes_nothing(org, ann):
    crm = make_system(org, "CRM")
    theirs = make_system(make_org("Other"), "CRM")
    with pytest.raises(IncidentError, match="Give the outage a title"):
        lifecycle.declare_manually(org, [crm], "   ", ann)
    with pytest.raises(IncidentError, match="at most 200 characters"):
        lifecycle.declare_manually(org, [crm], "x" * 201, ann)
    with pytest.raises(IncidentError, match=f"System #{theirs.pk} is not a system of Acme"):
        lifecycle.declare_manually(org, [crm, theirs], "Down", ann)
    assert Incident.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="incident.").count() == 0


def test_declare_manually_points_at_the_open_incident_instead_of_a_duplicate(org, ann):
    crm = make_system(org, "CRM")
    set_status(make_check(crm), State.DOWN, T0)
    existing = Incident.objects.get()
    with pytest.raises(IncidentError, match=f"#{existing.pk}\\). Confirm that one instead"):
        lifecycle.declare_manually(org, [crm], "CRM down", ann)
    assert Incident.objects.count() == 1


def test_drills_never_take_in_real_events(org, ann):
    crm = make_system(org, "CRM")
    drill = lifecycle.declare_manually(org, [crm], "Drill: CRM gone", ann, is_exercise=True, now=T0)
    set_status(make_check(crm), State.DOWN, at(1))
    real = Incident.objects.exclude(pk=drill.pk).get()
    assert (real.is_exercise, real.status) == (False, Status.SUSPECTED)
    assert kinds(drill) == [EntryKind.DECLARED]


def test_add_note(org, ann):
    incident = lifecycle.declare_manually(org, [], "Phones dead", ann, now=T0)
    entry = lifecycle.add_note(incident, ann, "  Called the carrier: ticket 4711. ", now=at(5))
    assert (entry.kind, entry.actor, entry.text, entry.at) == (
        EntryKind.NOTE,
        ann,
        "Called the carrier: ticket 4711.",
        at(5),
    )
    assert AuditEvent.objects.filter(action="incident.note_added", actor=ann).count() == 1
    with pytest.raises(IncidentError, match="A note needs some text"):
        lifecycle.add_note(incident, ann, "   ")


def test_declare_is_idempotent_and_refuses_a_resolved_incident(org, ann):
    set_status(make_check(make_system(org)), State.DOWN, T0)
    incident = Incident.objects.get()
    lifecycle.declare(incident, now=at(30))
    lifecycle.declare(Incident.objects.get(), now=at(31))
    assert kinds(incident).count(EntryKind.DECLARED) == 1
    lifecycle.resolve(incident, ann, now=at(40))
    with pytest.raises(IncidentError, match="resolved"):
        lifecycle.declare(incident, ann)


def test_paused_system_opens_no_incident(org):
    crm = make_system(org, paused=True)
    set_status(make_check(crm), State.DOWN, T0)
    crm.refresh_from_db()
    assert crm.state == State.PAUSED
    assert Incident.objects.count() == 0
