"""Drills: a scenario rehearsed with its exercise incident, each milestone recorded (by
Fallback where it can see it, by a button otherwise), a timer per procedure step, the times
compared with the plan's RTO and MTPD, the achieved RPO from the replica's last good sync,
findings that become corrective actions, and the report."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from fallback.desk import documents, numbering, reconciliation
from fallback.desk.documents import DocumentInput
from fallback.desk.models import FallbackPeriod
from fallback.desk.tests.conftest import put_records
from fallback.incidents import alerts
from fallback.incidents.models import AlertChannel, Incident, Status
from fallback.incidents.tests.test_alerts import Receiver, receiver  # noqa: F401 (a fixture)
from fallback.monitor.models import State, StateChange
from fallback.plans import drills, editing, readiness, staleness
from fallback.plans.models import (
    ActionStatus,
    CorrectiveAction,
    Drill,
    DrillKind,
    Milestone,
    PlanPart,
)
from fallback.plans.tests.conftest import complete_one_system_plan, files_connector
from fallback.replica.models import Sync, SyncStatus

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)  # the outage begins


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def plan(world):
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        plan = complete_one_system_plan(editing.start(world["acme"], world["ann"]), world)
    return plan


@pytest.fixture
def scenario(plan):
    return plan.scenarios.get(kind="system_lost")


@pytest.fixture
def replica(world):
    """The replica of CloudCRM: its last good sync 50 minutes before the outage."""
    connector = files_connector(world["acme"], world["crm"])
    for finished, status in [
        (at(-120), SyncStatus.APPLIED),
        (at(-50), SyncStatus.APPLIED),
        (at(-20), SyncStatus.FAILED),  # not good: does not count
        (at(30), SyncStatus.APPLIED),  # after the outage began: does not count
    ]:
        Sync.objects.create(
            org=world["acme"],
            connector=connector,
            status=status,
            started_at=finished - timedelta(minutes=2),
            finished_at=finished,
        )
    return connector


def test_a_drill_run_end_to_end_records_every_milestone_and_reports(
    world,
    plan,
    scenario,
    replica,
    receiver,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    acme, ann = world["acme"], world["ann"]
    AlertChannel.objects.create(org=acme, name="Office chat", url=receiver.url("/staff"))
    put_records(acme, "customer", [{"key": "C1", "name": "Smith & Co", "city": "Leeds"}])
    put_records(acme, "product", [{"key": "P1", "name": "Copper pipe", "price": "8.45"}])

    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, kind=DrillKind.LIVE, by=ann)
    assert [s.action for s in drill.steps.all()] == [s.action for s in scenario.steps.all()]

    # 3 min: the monitor sees CloudCRM go down (a live drill pulls its plug).
    StateChange.objects.create(
        org=acme, system=world["crm"], at=at(3), from_state=State.UP, to_state=State.DOWN
    )
    # 10 min: the incident lead declares the drill's outage.
    with time_machine.travel(at(10), tick=False):
        assert drills.refresh(drill) == [Milestone.DETECTED]
        assert drills.mark(drill, Milestone.DECLARED, ann)
    incident = drill.incident
    assert incident is not None and incident.is_exercise and incident.status == Status.DECLARED
    # 12 min: the staff alert goes out.
    with time_machine.travel(at(12), tick=False):
        assert alerts.send_due() == 1
    assert receiver.paths() == ["/staff"]
    # 15 min: a step is started; 31 min: done (16 minutes, 10 allowed).
    first, second, *_ = drill.steps.all()
    with time_machine.travel(at(15), tick=False):
        drills.time_step(first, "start", ann)
    with time_machine.travel(at(31), tick=False):
        drills.time_step(first, "done", ann, note="Took a while to find the login")
        drills.time_step(second, "done", ann)  # no start pressed: counts from the step before
    # 40 min: the first customer notice is ready (talked through: the button).
    with time_machine.travel(at(40), tick=False):
        drills.mark(drill, Milestone.FIRST_NOTICE_READY, ann)
    # 55 min: the desk makes its first document in the exercise period.
    with time_machine.travel(at(55), tick=False):
        device = numbering.register_device(acme, "Front desk")
        name, details = documents.party_details(acme, "customer", "C1")
        document, _ = documents.create(
            acme,
            device,
            DocumentInput(
                kind="order",
                party_key="C1",
                party_name=name,
                party_details=details,
                lines=[documents.product_line(acme, "P1", 2)],
            ),
            "drill-order-1",
            ann,
        )
        assert FallbackPeriod.objects.get(org=acme, incident=incident).is_exercise
        assert document.period.is_exercise
    # 90 min: back up; the practice document is waived, the exercise incident resolved.
    with time_machine.travel(at(90), tick=False):
        reconciliation.waive(document, ann, "Drill: practice order")
        from fallback.incidents import lifecycle

        lifecycle.resolve(incident, ann)
    for step in drill.steps.all()[2:]:
        drills.time_step(step, "skip", ann)
    with time_machine.travel(at(95), tick=False):
        found = drills.add_finding(
            drill,
            by=ann,
            finding="Nobody knew where the vendor's account number was",
            action="Add it to the vendor contact",
            plan_part=PlanPart.CONTACTS,
            owner=world["mo"],
            due_on=T0.date() + timedelta(days=14),
        )
        done = drills.finish(drill, ann, notes="Good first run")

    drill.refresh_from_db()
    # Every milestone has its time, and says how it was recorded.
    assert {m: drill.milestone_at(m) for m in drills.MILESTONES} == {
        Milestone.DETECTED: at(3),
        Milestone.DECLARED: at(10),
        Milestone.STAFF_REACHED: at(12),
        Milestone.FIRST_NOTICE_READY: at(40),
        Milestone.DESK_PRODUCING: at(55),
        Milestone.RECOVERED: at(90),
    }
    assert drill.sources[Milestone.DETECTED] == "the monitor saw CloudCRM go down"
    assert drill.sources[Milestone.STAFF_REACHED] == "the staff alert went out on Office chat"
    assert drill.sources[Milestone.FIRST_NOTICE_READY] == "marked by ann@acme.test"
    assert drill.sources[Milestone.DESK_PRODUCING] == "the desk made its first document"
    assert drill.sources[Milestone.RECOVERED] == "the exercise incident was resolved"
    # Compared with the targets of "Taking orders" (RTO 4 h, MTPD 1 day, RPO 1 h).
    [orders] = done.results.activities
    assert (orders.rto.state, orders.rto.measured) == ("met", 55)
    assert (orders.mtpd.state, orders.mtpd.measured) == ("met", 90)
    [rpo] = done.results.rpo
    assert (rpo.achieved, rpo.verdict.state, rpo.verdict.target) == (50, "met", 60)
    assert (done.results.steps_done, done.results.steps_over) == (2, 1)
    assert done.results.passed and drill.passed
    assert drill.results["activities"][0]["rto"]["measured"] == 55
    # The finding is a corrective action with its owner and due date.
    assert found.drill == drill and found.owner == world["mo"]
    assert CorrectiveAction.objects.get(drill=drill).status == ActionStatus.OPEN
    # The report: a PDF with the timeline, the steps, the targets, the RPO and the findings.
    pdf = drills.report_pdf(drill)
    assert pdf.startswith(b"%PDF")
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = " ".join(text.split())  # table cells wrap their words
    for words in [
        "Drill report",
        "Passed",
        "Milestones",
        "Outage noticed",
        "Against the plan's targets",
        "Achieved RPO",
        "Procedure steps",
        "Findings and corrective actions",
        "Good first run",
    ]:
        assert words in text, words
    html = drills.report_html(drill)
    for words in [
        "Desk producing documents",
        "the monitor saw CloudCRM go down",
        "Taking orders",
        "55 minutes — met, 3 hours 5 minutes to spare",
        "50 minutes",
        "Took a while to find the login",
        "16 min (over)",
        "Nobody knew where the vendor",
        "mo@acme.test",
    ]:
        assert words in html, words
    # It counts for readiness, and the whole plan is now due for a review.
    with time_machine.travel(at(120), tick=False):
        last = readiness.last_drill(acme)
        assert last is not None and last.passed and last.title == scenario.title
        part = next(p for p in staleness.parts(plan) if p.key == "plan")
    assert part.stale and "drill" in part.why


def test_a_drill_copies_the_steps_and_one_runs_at_a_time(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    assert drill.kind == DrillKind.TABLETOP
    assert drill.library_key == "ransomware"  # the library's for a "system lost" scenario
    assert [s.who for s in drill.steps.all()][:1] == ["Incident lead"]
    assert [s.minutes_allowed for s in drill.steps.all()][:2] == [10, 15]
    with pytest.raises(editing.PlanInvalid) as refused:
        drills.start(plan, scenario, by=world["ann"])
    assert "is running since" in refused.value.errors[0][1]
    assert Drill.objects.count() == 1


def test_a_retried_start_returns_the_same_drill(world, plan, scenario):
    first = drills.start(plan, scenario, by=world["ann"], request_key="k1")
    assert drills.start(plan, scenario, by=world["ann"], request_key="k1") == first


def test_a_drill_of_another_plans_scenario_or_of_a_bad_kind_is_refused(world, plan, scenario):
    other = editing.start(world["bravo"], world["bob"])
    with pytest.raises(editing.PlanInvalid) as refused:
        drills.start(other, scenario, kind="dress rehearsal", library_key="nope")
    fields = [f for f, _ in refused.value.errors]
    assert fields == ["scenario", "kind", "library_key"]
    assert not Drill.objects.exists()


def test_declaring_opens_one_exercise_incident(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    first = drills.declare(drill, world["ann"])
    assert drills.declare(drill, world["ann"]) == first
    assert not drills.mark(drill, Milestone.DECLARED, world["ann"])
    assert Incident.objects.filter(is_exercise=True).count() == 1
    assert list(first.systems.all()) == [world["crm"]]
    assert first.title == f"Drill: {scenario.title}"


def test_a_milestone_is_marked_once_and_a_button_is_never_overwritten(world, plan, scenario):
    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    with time_machine.travel(at(5), tick=False):
        assert drills.mark(drill, Milestone.DETECTED, world["ann"])
    with time_machine.travel(at(6), tick=False):
        assert not drills.mark(drill, Milestone.DETECTED, world["ann"])
    StateChange.objects.create(
        org=world["acme"], system=world["crm"], at=at(2), from_state="up", to_state="down"
    )
    with time_machine.travel(at(7), tick=False):
        assert drills.refresh(drill) == []
    assert drill.detected_at == at(5)
    with pytest.raises(drills.DrillError):
        drills.mark(drill, "coffee", world["ann"])


def test_what_happened_before_the_drill_does_not_count(world, plan, scenario):
    StateChange.objects.create(
        org=world["acme"], system=world["crm"], at=at(-5), from_state="up", to_state="down"
    )
    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    with time_machine.travel(at(5), tick=False):
        assert drills.refresh(drill) == []


def test_notices_sent_for_the_exercise_mark_staff_and_customers_told(world, plan, scenario):
    comms = pytest.importorskip("fallback.comms.models")
    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    with time_machine.travel(at(4), tick=False):
        incident = drills.declare(drill, world["ann"])
    customers = comms.Notice.objects.create(
        org=world["acme"],
        incident=incident,
        audience="all_customers",
        phase="first_notice",
        subject="Down",
        status="sent",
        sent_at=at(20),
    )
    staff = comms.Notice.objects.create(
        org=world["acme"],
        incident=incident,
        audience="staff",
        phase="first_notice",
        subject="Down",
        status="sent",
        sent_at=at(8),
    )
    comms.OutboxItem.objects.create(
        org=world["acme"],
        notice=staff,
        channel="email",
        address="sid@acme.test",
        body="Down",
        state="sent",
        sent_at=at(9),
    )
    assert customers.pk
    with time_machine.travel(at(30), tick=False):
        found = drills.refresh(drill)
    assert set(found) == {Milestone.STAFF_REACHED, Milestone.FIRST_NOTICE_READY}
    assert (drill.staff_reached_at, drill.first_notice_ready_at) == (at(9), at(20))
    assert drill.sources[Milestone.STAFF_REACHED] == "the staff notice was delivered"


def test_a_step_timer_starts_stops_skips_and_resets(world, plan, scenario):
    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    first, second, third, *_ = drill.steps.all()
    with time_machine.travel(at(4), tick=False):
        drills.time_step(first, "done", world["ann"])  # from the drill's start
    assert (first.started_at, first.minutes_taken) == (T0, 4)
    with time_machine.travel(at(5), tick=False):
        drills.time_step(second, "start", world["ann"])
    with time_machine.travel(at(25), tick=False):
        drills.time_step(second, "done", world["ann"])
        drills.time_step(second, "done", world["ann"])  # a second click changes nothing
    assert second.minutes_taken == 20
    drills.time_step(third, "skip", world["ann"], note="No phone in the room")
    assert third.skipped and third.note == "No phone in the room"
    drills.time_step(third, "reset", world["ann"])
    assert not third.skipped and third.started_at is None
    with pytest.raises(drills.DrillError):
        drills.time_step(third, "pause", world["ann"])


def test_missed_targets_say_by_how_much_and_the_drill_does_not_pass(world, plan, scenario):
    orders = plan.activities.get()
    editing.save_activity(plan, orders, rto_minutes=60, mtpd_minutes=120)
    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    with time_machine.travel(at(90), tick=False):
        drills.mark(drill, Milestone.DESK_PRODUCING, world["ann"])
    for step in drill.steps.all():
        drills.time_step(step, "skip", world["ann"])
    with time_machine.travel(at(100), tick=False):
        done = drills.finish(drill, world["ann"])
    [result] = done.results.activities
    assert (result.rto.state, result.rto.by, result.rto.text) == (
        "missed",
        30,
        "missed by 30 minutes",
    )
    assert result.mtpd.state == "unmeasured"
    assert not done.results.passed
    assert done.results.why == [
        "“Taking orders”: RTO missed by 30 minutes",
        "“Taking orders”: MTPD not reached in the drill",
    ]
    last = readiness.last_drill(world["acme"])
    assert last is not None and not last.passed and "RTO missed" in last.why


def test_no_good_copy_before_the_outage_misses_the_rpo(world, plan, scenario):
    files_connector(world["acme"], world["crm"])
    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    [rpo] = drills.results(drill).rpo
    assert (rpo.achieved, rpo.verdict.state) == (None, "unmeasured")
    assert "CRM copy: RPO no good copy before the outage" in drills.results(drill).why


def test_a_finished_drill_keeps_its_results_and_changes_no_more(world, plan, scenario):
    with time_machine.travel(T0, tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    with time_machine.travel(at(30), tick=False):
        drills.mark(drill, Milestone.RECOVERED, world["ann"])
        drills.mark(drill, Milestone.DESK_PRODUCING, world["ann"])
    for step in drill.steps.all():
        drills.time_step(step, "done", world["ann"])
    with time_machine.travel(at(40), tick=False):
        done = drills.finish(drill, world["ann"])
        again = drills.finish(drill, world["ann"])
    assert done.results.passed and again.results.passed
    assert again.drill.finished_at == at(40)
    # The plan changes later: the drill's report still says what was measured then.
    editing.save_activity(plan, plan.activities.get(), rto_minutes=10, mtpd_minutes=20)
    assert drills.stored_results(drill).activities[0].rto.target == 240
    with pytest.raises(drills.DrillError):
        drills.mark(drill, Milestone.DETECTED, world["ann"])


def test_finishing_resolves_the_exercise_incident_or_says_why_not(world, plan, scenario):
    put_records(world["acme"], "customer", [{"key": "C1", "name": "Smith & Co"}])
    put_records(world["acme"], "product", [{"key": "P1", "name": "Pipe", "price": "1"}])
    drill = drills.start(plan, scenario, by=world["ann"])
    incident = drills.declare(drill, world["ann"])
    device = numbering.register_device(world["acme"], "Front desk")
    name, details = documents.party_details(world["acme"], "customer", "C1")
    documents.create(
        world["acme"],
        device,
        DocumentInput(
            kind="quote",
            party_key="C1",
            party_name=name,
            party_details=details,
            lines=[documents.product_line(world["acme"], "P1", 1)],
        ),
        "q1",
        world["ann"],
    )
    done = drills.finish(drill, world["ann"])
    assert "not yet in the main system" in done.incident_problem
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED
    # The drill is finished all the same, and the plan is due for a review.
    assert drill.finished_at is not None
    events = staleness.events_since(plan)
    assert [(e.what, e.key) for e in events] == [("drill", f"drill:{drill.pk}")]


def test_the_report_of_a_running_drill_says_so(world, plan, scenario):
    drill = drills.start(plan, scenario, by=world["ann"])
    html = drills.report_html(drill)
    assert "still running (results so far)" in html and "Not finished yet" in html
