"""Drills: rehearse a scenario and measure it.

The outage begins when the drill starts. The drill opens an exercise incident when the
outage is declared (incidents.lifecycle, is_exercise=True: the desk works in an exercise
period, notices go only to the drill's test recipients), walks the scenario's procedure with
a timer per step, and records when each milestone was reached:

    detected → declared → staff reached → first customer notice ready → desk producing
    documents → recovered

Fallback fills a milestone in by itself where it can see it — the monitor sees the
scenario's system go down; the exercise incident is declared; a staff alert or a staff
notice goes out; a customer notice is sent to the outbox; the desk makes its first document
in the exercise period; the incident recovers or is resolved — and a person presses its
button otherwise (a tabletop drill talks most of them through).

At the finish the times are compared with the plan's targets, per activity of the
scenario's systems: work resumed (the desk producing, or recovery if sooner) within the RTO,
recovered within the MTPD; and the achieved RPO — the outage start minus the last good
replica sync before it — within the RPO. The results are kept with the drill (the report
prints them as they were measured, whatever the plan says later), the exercise incident is
resolved, and the whole plan becomes due for a review.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from fallback.accounts.models import User
from fallback.audit.trail import record as audit
from fallback.desk import printing as desk_printing
from fallback.desk.models import Document
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.incidents import lifecycle, timeline
from fallback.incidents.models import (
    AlertDelivery,
    DeliveryStatus,
    EntryKind,
    Incident,
    Status,
)
from fallback.monitor.models import State, StateChange, System
from fallback.plans import actions, durations, library
from fallback.plans.editing import PlanInvalid
from fallback.plans.models import (
    Activity,
    CorrectiveAction,
    Drill,
    DrillKind,
    DrillStep,
    Milestone,
    Plan,
    Scenario,
)
from fallback.replica.models import Connector, Sync, SyncStatus

log = logging.getLogger("fallback.plans")

MILESTONES: list[str] = list(Milestone.values)
NOTES_MAX = 10_000
REPORT_TEMPLATE = "plans/print/drill.html"
CSS_TEMPLATE = "plans/print/plan.css"
COMMS = "fallback.comms"


class DrillError(Exception):
    """What a person asked cannot be done; says why."""


def _person(by: Any) -> User | None:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def minutes_between(start: datetime, end: datetime | None) -> int | None:
    if end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60))


# ------------------------------------------------------------------ starting


def start(
    plan: Plan,
    scenario: Scenario,
    *,
    kind: str = DrillKind.TABLETOP,
    by: User | None = None,
    library_key: str = "",
    now: datetime | None = None,
    request_key: str = "",
) -> Drill:
    """Start a drill of `scenario`: the outage begins now. Its procedure steps are copied
    (with who does them and the minutes allowed) for their timers."""
    if request_key:
        found = Drill.objects.filter(org_id=plan.org_id, request_key=request_key).first()
        if found is not None:
            return found
    errors: list[tuple[str, str]] = []
    if scenario.plan_id != plan.pk:
        errors.append(("scenario", "choose a scenario of this plan"))
    if kind not in DrillKind.values:
        errors.append(("kind", f"choose one of: {', '.join(DrillKind.values)}"))
    if library_key:
        try:
            library.get(library_key)
        except library.NotInLibrary as exc:
            errors.append(("library_key", str(exc.args[0])))
    elif kind == DrillKind.TABLETOP:
        entry = library.matching(scenario)
        library_key = entry.key if entry else ""
    running = Drill.objects.filter(plan=plan, scenario=scenario, finished_at__isnull=True).first()
    if running is not None:
        errors.append(
            (
                "scenario",
                f"a drill of “{scenario.title}” is running since "
                f"{timeline.local_time(running.started_at, plan.org)}: finish it first",
            )
        )
    if errors:
        raise PlanInvalid(errors)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            drill = Drill.objects.create(
                org_id=plan.org_id,
                plan=plan,
                scenario=scenario,
                scenario_title=scenario.title,
                kind=kind,
                library_key=library_key,
                started_at=now,
                started_by=_person(by),
                request_key=request_key[:80],
            )
            for i, step in enumerate(scenario.steps.select_related("role"), start=1):
                DrillStep.objects.create(
                    org_id=plan.org_id,
                    drill=drill,
                    position=i,
                    procedure_step=step,
                    who=step.role.name if step.role else "",
                    action=step.action,
                    minutes_allowed=step.minutes,
                )
            audit(
                plan.org,
                "plans.drill.started",
                drill,
                {"scenario": [None, scenario.title], "kind": [None, kind]},
            )
    except IntegrityError:
        found = Drill.objects.filter(org_id=plan.org_id, request_key=request_key).first()
        if not request_key or found is None:
            raise
        return found
    return drill


def _running(drill: Drill) -> None:
    if drill.finished_at is not None:
        raise DrillError("This drill is finished: start a new one to drill again.")


# ------------------------------------------------------------------ milestones


def scenario_systems(drill: Drill) -> list[System]:
    if drill.scenario is None:
        return list(drill.incident.systems.all()) if drill.incident else []
    return list(drill.scenario.systems.order_by("name"))


def declare(drill: Drill, by: Any = None, now: datetime | None = None) -> Incident:
    """Declare the drill's outage: an exercise incident (the desk enters an exercise
    period, staff on duty are alerted that a drill is on). Idempotent."""
    _running(drill)
    if drill.incident is not None:
        return drill.incident
    now = now or timezone.now()
    with transaction.atomic():
        locked = Drill.objects.select_for_update().get(pk=drill.pk)
        if locked.incident_id is not None:
            drill.refresh_from_db()
            assert drill.incident is not None
            return drill.incident
        incident = lifecycle.declare_manually(
            drill.plan.org,
            scenario_systems(drill),
            f"Drill: {drill.scenario_title}"[: lifecycle.TITLE_MAX],
            by,
            is_exercise=True,
            summary=f"A {drill.get_kind_display().split(' (')[0].lower()} drill of the plan's "
            f"scenario “{drill.scenario_title}”.",
            now=now,
        )
        drill.incident = incident
        drill.declared_at = incident.declared_at or now
        drill.sources = {**drill.sources, Milestone.DECLARED: "the exercise incident was declared"}
        drill.save(update_fields=["incident", "declared_at", "sources"])
    return incident


def mark(drill: Drill, milestone: str, by: Any = None, now: datetime | None = None) -> bool:
    """A person says a milestone is reached now; False when it already was."""
    _running(drill)
    if milestone not in MILESTONES:
        raise DrillError(f"No milestone {milestone!r}; there are: {', '.join(MILESTONES)}.")
    if milestone == Milestone.DECLARED:
        had = drill.incident_id is not None
        declare(drill, by, now)
        return not had
    if drill.milestone_at(milestone) is not None:
        return False
    now = now or timezone.now()
    with transaction.atomic():
        updated = Drill.objects.filter(pk=drill.pk, **{f"{milestone}_at__isnull": True}).update(
            **{f"{milestone}_at": now}
        )
        if not updated:
            drill.refresh_from_db()
            return False
        drill.refresh_from_db()
        drill.sources = {**drill.sources, milestone: f"marked by {timeline.actor_label(by)}"}
        drill.save(update_fields=["sources"])
        if drill.incident is not None:
            label = Milestone(milestone).label
            timeline.add(drill.incident, EntryKind.NOTE, f"Drill: {label}.", by=by, at=now)
        audit(drill.plan.org, "plans.drill.milestone", drill, {milestone: [None, now.isoformat()]})
    return True


def _comms_models() -> Any | None:
    """fallback.comms.models when the comms app is installed (it may not be)."""
    if not apps.is_installed(COMMS):
        return None
    try:
        return importlib.import_module(f"{COMMS}.models")
    except ImportError:
        return None


def _staff_audiences() -> set[str]:
    try:
        audiences = importlib.import_module(f"{COMMS}.audiences")
    except ImportError:
        return {"staff"}
    return {k.key for k in audiences.registered() if k.wording == "staff"} or {"staff"}


def _seen(drill: Drill, now: datetime) -> dict[str, tuple[datetime, str]]:
    """What Fallback itself saw of each milestone: (when, how)."""
    seen: dict[str, tuple[datetime, str]] = {}
    begin = drill.started_at
    systems = scenario_systems(drill)
    if systems:
        down = (
            StateChange.objects.filter(
                org_id=drill.org_id,
                system__in=systems,
                to_state=State.DOWN,
                at__gte=begin,
                at__lte=now,
            )
            .select_related("system")
            .order_by("at")
            .first()
        )
        if down is not None:
            seen[Milestone.DETECTED] = (down.at, f"the monitor saw {down.system.name} go down")
    # Fresh from the database: the incident moves on without this drill's copy knowing.
    incident = Incident.objects.filter(pk=drill.incident_id).first() if drill.incident_id else None
    if incident is None:
        return seen
    if incident.declared_at is not None:
        seen[Milestone.DECLARED] = (incident.declared_at, "the exercise incident was declared")
    alert = (
        AlertDelivery.objects.filter(
            org_id=drill.org_id, incident=incident, status=DeliveryStatus.SENT
        )
        .select_related("channel")
        .order_by("sent_at")
        .first()
    )
    reached: list[tuple[datetime, str]] = []
    if alert is not None and alert.sent_at is not None:
        reached.append((alert.sent_at, f"the staff alert went out on {alert.channel.name}"))
    comms = _comms_models()
    if comms is not None:
        staff = _staff_audiences()
        item = (
            comms.OutboxItem.objects.filter(
                org_id=drill.org_id,
                notice__incident=incident,
                notice__audience__in=staff,
                state=comms.ItemState.SENT,
                sent_at__isnull=False,
            )
            .order_by("sent_at")
            .first()
        )
        if item is not None:
            reached.append((item.sent_at, "the staff notice was delivered"))
        notice = (
            comms.Notice.objects.filter(
                org_id=drill.org_id, incident=incident, sent_at__isnull=False
            )
            .exclude(audience__in=staff)
            .order_by("sent_at")
            .first()
        )
        if notice is not None:
            seen[Milestone.FIRST_NOTICE_READY] = (
                notice.sent_at,
                f"the notice “{notice.get_phase_display()}” to {notice.audience.replace('_', ' ')}"
                " went to the outbox",
            )
    if reached:
        seen[Milestone.STAFF_REACHED] = min(reached)
    first_document = Document.objects.filter(
        org_id=drill.org_id, period__incident=incident
    ).aggregate(first=Min("created_at"))["first"]
    if first_document is not None:
        seen[Milestone.DESK_PRODUCING] = (first_document, "the desk made its first document")
    if incident.recovered_at is not None:
        seen[Milestone.RECOVERED] = (incident.recovered_at, "the systems were back up")
    elif incident.status == Status.RESOLVED and incident.resolved_at is not None:
        seen[Milestone.RECOVERED] = (incident.resolved_at, "the exercise incident was resolved")
    return seen


def refresh(drill: Drill, now: datetime | None = None) -> list[str]:
    """Fill in the milestones Fallback can see and nobody has marked yet; returns which.
    Only a running drill changes: a finished one keeps what it measured."""
    if drill.finished_at is not None:
        return []
    now = now or timezone.now()
    found = []
    sources = dict(drill.sources)
    for milestone, (at, how) in _seen(drill, now).items():
        if drill.milestone_at(milestone) is None and at >= drill.started_at:
            setattr(drill, f"{milestone}_at", at)
            sources[milestone] = how
            found.append(milestone)
    if found:
        drill.sources = sources
        # Only the milestones still empty: a person's button press is never overwritten.
        with transaction.atomic():
            for milestone in found:
                Drill.objects.filter(pk=drill.pk, **{f"{milestone}_at__isnull": True}).update(
                    **{f"{milestone}_at": drill.milestone_at(milestone)}
                )
            Drill.objects.filter(pk=drill.pk).update(sources=sources)
        drill.refresh_from_db()
    return found


# ------------------------------------------------------------------ steps


def step(drill: Drill, step_id: int) -> DrillStep:
    found = drill.steps.filter(pk=step_id).first()
    if found is None:
        raise DrillError("No such step in this drill.")
    return found


def _previous_done(item: DrillStep) -> datetime | None:
    found: datetime | None = (
        DrillStep.objects.filter(drill_id=item.drill_id, position__lt=item.position)
        .exclude(done_at=None)
        .order_by("-done_at")
        .values_list("done_at", flat=True)
        .first()
    )
    return found


def time_step(
    item: DrillStep, what: str, by: Any = None, now: datetime | None = None, note: str | None = None
) -> DrillStep:
    """A step's timer: "start", "done" (started, if nobody pressed start, when the step
    before it was done or the drill began), "skip", or "reset"; `note` kept with it."""
    drill = item.drill
    _running(drill)
    now = now or timezone.now()
    if note is not None:
        if len(note) > NOTES_MAX:
            raise DrillError(f"The note is too long: at most {NOTES_MAX} characters.")
        item.note = note.strip()
    if what == "start":
        if item.started_at is None:
            item.started_at = now
        item.skipped = False
    elif what == "done":
        if item.done_at is None:
            item.started_at = item.started_at or _previous_done(item) or drill.started_at
            item.done_at = max(now, item.started_at)
        item.skipped = False
    elif what == "skip":
        item.skipped, item.done_at = True, None
    elif what == "reset":
        item.started_at = item.done_at = None
        item.skipped = False
    elif what != "note":
        raise DrillError(f"Unknown step action {what!r}.")
    item.save(update_fields=["started_at", "done_at", "skipped", "note"])
    return item


# ------------------------------------------------------------------ findings


def add_finding(drill: Drill, by: Any = None, **fields: Any) -> CorrectiveAction:
    """A finding of the drill, and the corrective action it becomes."""
    return actions.add(drill.plan, drill=drill, by=_person(by), **fields)


# ------------------------------------------------------------------ results


@dataclass
class Verdict:
    target: int | None  # minutes
    measured: int | None  # minutes
    state: str  # met, missed, unmeasured, none (no target)
    by: int | None = None  # minutes missed by

    @property
    def text(self) -> str:
        if self.state == "none":
            return "no target"
        if self.state == "unmeasured":
            return "not reached in the drill"
        if self.state == "met":
            spare = (self.target or 0) - (self.measured or 0)
            return f"met, {durations.words(spare)} to spare" if spare else "met, just"
        return f"missed by {durations.words(self.by)}"


def _verdict(target: int | None, measured: int | None) -> Verdict:
    if target is None:
        return Verdict(None, measured, "none")
    if measured is None:
        return Verdict(target, None, "unmeasured")
    if measured <= target:
        return Verdict(target, measured, "met")
    return Verdict(target, measured, "missed", measured - target)


@dataclass
class ActivityResult:
    name: str
    rto: Verdict
    mtpd: Verdict


@dataclass
class RpoResult:
    connector: str
    system: str
    last_good_at: str | None  # ISO
    achieved: int | None  # minutes
    verdict: Verdict


@dataclass
class MilestoneResult:
    key: str
    label: str
    at: str | None  # ISO
    minutes: int | None
    source: str


@dataclass
class Results:
    outage_start: str
    milestones: list[MilestoneResult] = field(default_factory=list)
    resumed: int | None = None  # minutes until work resumed
    recovered: int | None = None
    activities: list[ActivityResult] = field(default_factory=list)
    rpo: list[RpoResult] = field(default_factory=list)
    steps_done: int = 0
    steps_skipped: int = 0
    steps_open: int = 0
    steps_over: int = 0
    passed: bool = False
    why: list[str] = field(default_factory=list)


def drilled_activities(drill: Drill) -> list[Activity]:
    """The plan's confirmed activities the scenario stops: those on its systems, or all of
    them when the scenario names no system (the office, the people, the line)."""
    systems = {s.pk for s in scenario_systems(drill)}
    found = list(drill.plan.activities.filter(suggested=False).prefetch_related("systems"))
    if not systems:
        return found
    return [a for a in found if systems & {s.pk for s in a.systems.all()}]


def achieved_rpo(
    org_id: int, systems: list[System], outage_start: datetime
) -> list[tuple[Connector, datetime | None]]:
    """Per connector of `systems`: its last good (applied) sync before the outage began."""
    found = []
    connectors = Connector.objects.filter(org_id=org_id, system__in=systems).order_by("name")
    for connector in connectors:
        last: datetime | None = (
            Sync.objects.filter(
                org_id=org_id,
                connector=connector,
                status=SyncStatus.APPLIED,
                finished_at__lte=outage_start,
            )
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        found.append((connector, last))
    return found


def results(drill: Drill) -> Results:
    """The drill measured against the plan's targets, as things stand."""
    start_at = drill.started_at
    result = Results(outage_start=start_at.isoformat())
    for key, label in Milestone.choices:
        at = drill.milestone_at(key)
        result.milestones.append(
            MilestoneResult(
                key, label, _iso(at), minutes_between(start_at, at), drill.sources.get(key, "")
            )
        )
    ends = [t for t in (drill.desk_producing_at, drill.recovered_at) if t is not None]
    result.resumed = minutes_between(start_at, min(ends)) if ends else None
    result.recovered = minutes_between(start_at, drill.recovered_at)
    activities = drilled_activities(drill)
    for a in activities:
        result.activities.append(
            ActivityResult(
                a.name,
                _verdict(a.rto_minutes, result.resumed),
                _verdict(a.mtpd_minutes, result.recovered),
            )
        )
    needed: dict[int, int] = {}
    for a in activities:
        if a.rpo_minutes is None:
            continue
        for s in a.systems.all():
            needed[s.pk] = min(needed.get(s.pk, a.rpo_minutes), a.rpo_minutes)
    for connector, last in achieved_rpo(drill.org_id, scenario_systems(drill), start_at):
        target = needed.get(connector.system_id or 0, connector.rpo_minutes)
        achieved = minutes_between(last, start_at) if last is not None else None
        result.rpo.append(
            RpoResult(
                connector.name,
                connector.system.name if connector.system else "",
                _iso(last),
                achieved,
                _verdict(target, achieved),
            )
        )
    for item in drill.steps.all():
        if item.skipped:
            result.steps_skipped += 1
        elif item.done_at is not None:
            result.steps_done += 1
            taken = item.minutes_taken
            allowed = item.minutes_allowed
            if allowed is not None and taken is not None and taken > allowed:
                result.steps_over += 1
        else:
            result.steps_open += 1
    why = []
    for done in result.activities:
        for name, v in (("RTO", done.rto), ("MTPD", done.mtpd)):
            if v.state in ("missed", "unmeasured"):
                why.append(f"“{done.name}”: {name} {v.text}")
    for r in result.rpo:
        if r.verdict.state in ("missed", "unmeasured"):
            what = "no good copy before the outage" if r.achieved is None else r.verdict.text
            why.append(f"{r.connector}: RPO {what}")
    if result.steps_open:
        why.append(f"{result.steps_open} procedure step(s) not done")
    if not result.activities and result.recovered is None:
        why.append("the drill never reached recovery")
    result.why = why
    result.passed = not why
    return result


def stored_results(drill: Drill) -> Results:
    """A finished drill's results as measured at its finish (a running one's as they are)."""
    data = drill.results
    if drill.finished_at is None or not data:
        return results(drill)

    def verdict(d: dict[str, Any]) -> Verdict:
        return Verdict(d.get("target"), d.get("measured"), d.get("state", "none"), d.get("by"))

    return Results(
        outage_start=data["outage_start"],
        milestones=[MilestoneResult(**m) for m in data.get("milestones", [])],
        resumed=data.get("resumed"),
        recovered=data.get("recovered"),
        activities=[
            ActivityResult(a["name"], verdict(a["rto"]), verdict(a["mtpd"]))
            for a in data.get("activities", [])
        ],
        rpo=[
            RpoResult(
                r["connector"], r["system"], r["last_good_at"], r["achieved"], verdict(r["verdict"])
            )
            for r in data.get("rpo", [])
        ],
        steps_done=data.get("steps_done", 0),
        steps_skipped=data.get("steps_skipped", 0),
        steps_open=data.get("steps_open", 0),
        steps_over=data.get("steps_over", 0),
        passed=bool(data.get("passed")),
        why=list(data.get("why", [])),
    )


# ------------------------------------------------------------------ finishing


@dataclass
class Finished:
    drill: Drill
    results: Results
    incident_problem: str = ""  # why the exercise incident could not be resolved


def finish(
    drill: Drill, by: Any = None, now: datetime | None = None, notes: str | None = None
) -> Finished:
    """End the drill: measure it against the targets (kept with it), resolve its exercise
    incident, and so make the whole plan due for a review. Idempotent."""
    if drill.finished_at is not None:
        return Finished(drill, stored_results(drill))
    now = now or timezone.now()
    refresh(drill, now)
    if notes is not None:
        if len(notes) > NOTES_MAX:
            raise DrillError(f"The notes are too long: at most {NOTES_MAX} characters.")
        drill.notes = notes.strip()
    measured = results(drill)
    with transaction.atomic():
        done = Drill.objects.filter(pk=drill.pk, finished_at__isnull=True).update(
            finished_at=now,
            finished_by=_person(by),
            passed=measured.passed,
            results=asdict(measured),
            notes=drill.notes,
        )
        drill.refresh_from_db()
        if not done:
            return Finished(drill, stored_results(drill))
        audit(
            drill.plan.org,
            "plans.drill.finished",
            drill,
            {"passed": [None, measured.passed], "finished_at": [None, now.isoformat()]},
        )
    problem = ""
    incident = Incident.objects.filter(pk=drill.incident_id).first() if drill.incident_id else None
    if incident is not None and incident.status != Status.RESOLVED:
        try:
            lifecycle.resolve(incident, by, now, note="The drill is finished.")
        except lifecycle.IncidentError as exc:
            problem = str(exc)
    return Finished(drill, measured, problem)


# ------------------------------------------------------------------ the report


def _moment(value: str | datetime | None, drill: Drill) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return desk_printing.format_moment(moment, drill.plan.org)


def _clock(value: datetime | None, drill: Drill) -> str:
    """10:15 on the drill's day, the whole moment on another."""
    if value is None:
        return ""
    zone = org_zone(drill.plan.org)
    local = value.astimezone(zone)
    if local.date() == drill.started_at.astimezone(zone).date():
        return local.strftime("%H:%M")
    return _moment(value, drill)


def report_context(drill: Drill) -> dict[str, Any]:
    measured = stored_results(drill)
    org = drill.plan.org
    steps = list(drill.steps.all())
    entries = list(drill.incident.timeline.all()) if drill.incident is not None else []
    findings = list(drill.actions.select_related("owner").order_by("pk"))
    start_at = drill.started_at
    return {
        "drill": drill,
        "org": org,
        "r": measured,
        "started": _moment(start_at, drill),
        "finished": _moment(drill.finished_at, drill),
        "milestones": [
            {**asdict(m), "when": _moment(m.at, drill), "after": durations.words(m.minutes)}
            for m in measured.milestones
        ],
        "steps": [
            {
                "s": s,
                "started": _clock(s.started_at, drill),
                "done": _clock(s.done_at, drill),
                "over": s.minutes_allowed is not None
                and s.minutes_taken is not None
                and s.minutes_taken > s.minutes_allowed,
            }
            for s in steps
        ],
        "timeline": [
            {
                "when": _moment(e.at, drill),
                "after": durations.words(minutes_between(start_at, e.at)),
                "e": e,
            }
            for e in entries
        ],
        "rpo": [
            {**asdict(r), "last": _moment(r.last_good_at, drill), "text": r.verdict.text}
            for r in measured.rpo
        ],
        "findings": findings,
        "printed": _moment(timezone.now(), drill),
        "lang": org.locale or "en-GB",
    }


def _css() -> str:
    return render_to_string(CSS_TEMPLATE)


def report_html(drill: Drill, *, screen: bool = False, pdf_url: str = "") -> str:
    context = report_context(drill)
    context.update(screen=screen, pdf_url=pdf_url)
    if screen:
        # Inside <style> only "</" could end the element early; "<\/" is the same CSS.
        context["css"] = mark_safe(_css().replace("</", "<\\/"))  # noqa: S308
    return render_to_string(REPORT_TEMPLATE, context)


def report_pdf(drill: Drill) -> bytes:
    return desk_printing.html_to_pdf(report_html(drill), [_css()])


def minutes_running(drill: Drill, now: datetime | None = None) -> int:
    end = drill.finished_at or now or timezone.now()
    return max(0, int((end - drill.started_at) / timedelta(minutes=1)))
