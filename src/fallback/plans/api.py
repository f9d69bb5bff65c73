"""API for the continuity plan, under /orgs/{slug}/plan.

The whole plan is read and written in the `plan` config section's shape (docs/CONFIG.md):
`PUT /orgs/{slug}/plan` makes the plan match the body as `fallback apply` would (each list
given is complete, a list left out is left as it is), in one transaction, as one plan
version. Bad input answers 422 with `errors`, each naming its place ("activities[0].rto"),
and changes nothing. Reading needs VIEW; changing needs EDIT_SETUP. Another organisation's
plan answers 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, Router, Schema
from ninja.errors import HttpError
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from fallback.accounts.access import membership_or_404, require
from fallback.accounts.models import Membership
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.configfile.errors import format_loc
from fallback.configfile.messages import describe
from fallback.front.http import file_response
from fallback.incidents.lifecycle import IncidentError
from fallback.monitor.api import FieldProblem, Problems
from fallback.plans import (
    actions,
    applying,
    binder,
    drills,
    editing,
    iso22301,
    readiness,
    rpo,
    sections,
    staleness,
)
from fallback.plans.models import (
    BinderCopy,
    Contact,
    CopyKind,
    CorrectiveAction,
    Drill,
    DrillKind,
    Milestone,
    Plan,
    PlanVersion,
)
from fallback.plans.snapshot import take
from fallback.plans.spec import PlanSpec, plan_of

router = Router(tags=["plan"])
_ADAPTER: TypeAdapter[PlanSpec] = TypeAdapter(PlanSpec)


# ---------------------------------------------------------------------- schemas


class SectionOut(Schema):
    key: str
    title: str
    complete: bool
    missing: list[str]


class PlanOut(Schema):
    version: int | None
    progress: int  # percent
    sections: list[SectionOut]
    reviewed_at: datetime | None
    price_list_reviewed_at: datetime | None
    plan: dict[str, Any]  # the `plan` config section's shape


class ApplyOut(PlanOut):
    changes: list[str]
    notices: list[str]


class CheckOut(Schema):
    key: str
    title: str
    weight: int
    done: bool
    points: float
    why: str
    url: str


class ReadinessOut(Schema):
    score: int
    next: CheckOut | None
    checks: list[CheckOut]


class PartOut(Schema):
    key: str
    title: str
    cadence: str
    owner: str | None
    stale: bool
    why: str
    items: list[str]


class VersionBrief(Schema):
    number: int
    created_at: datetime
    created_by: str
    via: str
    summary: str
    changes: list[str]


class VersionOut(VersionBrief):
    data: dict[str, Any]


class ContactOut(Schema):
    id: int
    kind: str
    name: str
    last_verified_on: date | None


class FeedOut(Schema):
    connector: str
    own_rpo_minutes: int
    target_minutes: int
    activities: list[str]


# ---------------------------------------------------------------------- helpers


def _membership(request: HttpRequest, slug: str, capability: Capability) -> Membership:
    m = membership_or_404(request.user, slug)
    try:
        require(m, capability)
    except Exception as exc:
        raise HttpError(403, str(exc)) from exc
    return m


def _plan(m: Membership) -> Plan:
    plan = plan_of(m.org)
    if plan is None:
        raise HttpError(404, "No plan yet: start one with POST /orgs/{slug}/plan/start")
    return plan


def _problems(items: list[tuple[str, str]]) -> tuple[int, Problems]:
    errors = [FieldProblem(field=f or "__all__", message=msg) for f, msg in items]
    detail = "; ".join(f"{f}: {msg}" if f else msg for f, msg in items)
    return 422, Problems(detail=detail, errors=errors)


def _plan_out(plan: Plan) -> dict[str, Any]:
    found = sections.sections(plan)
    latest = plan.versions.order_by("-number").values_list("number", flat=True).first()
    return {
        "version": latest,
        "progress": sections.progress(found),
        "sections": [
            SectionOut(
                key=s.key, title=s.title, complete=s.complete, missing=[m.text for m in s.missing]
            )
            for s in found
        ],
        "reviewed_at": plan.reviewed_at,
        "price_list_reviewed_at": plan.price_list_reviewed_at,
        "plan": take(plan)["plan"],
    }


class _Collected:
    """What applying reports, as the API's list of changes."""

    def __init__(self) -> None:
        self.changes: list[str] = []
        self.notices: list[str] = []

    def created(self, text: str) -> None:
        self.changes.append(f"+ {text}")

    def updated(self, text: str) -> None:
        self.changes.append(f"~ {text}")

    def removed(self, text: str) -> None:
        self.changes.append(f"- {text}")

    def notice(self, text: str) -> None:
        self.notices.append(text)


def _check_out(c: readiness.Check) -> CheckOut:
    return CheckOut(
        key=c.key,
        title=c.title,
        weight=c.weight,
        done=c.done,
        points=round(c.points, 1),
        why=c.why,
        url=c.url,
    )


def _brief(v: PlanVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "created_at": v.created_at,
        "created_by": v.created_by_label,
        "via": v.via,
        "summary": v.summary,
        "changes": list(v.changes),
    }


# ------------------------------------------------------------------- endpoints


@router.get("/orgs/{slug}/plan", response=PlanOut)
def get_plan(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The whole plan (in the config file's shape), how complete each section is."""
    m = _membership(request, slug, Capability.VIEW)
    return _plan_out(_plan(m))


@router.post("/orgs/{slug}/plan/start", response={200: PlanOut, 201: PlanOut})
def start_plan(request: HttpRequest, slug: str) -> tuple[int, Any]:
    """Start the plan with the suggested defaults; an existing plan is left as it is (200)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    existed = plan_of(m.org) is not None
    plan = editing.start(m.org, m.user)
    return (200 if existed else 201), _plan_out(plan)


@router.put("/orgs/{slug}/plan", response={200: ApplyOut, 422: Problems})
def put_plan(
    request: HttpRequest,
    slug: str,
    payload: Body[dict[str, Any]],
) -> tuple[int, Any]:
    """Make the plan match the body (the `plan` config section's shape)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    try:
        spec = _ADAPTER.validate_python(payload)
    except PydanticError as exc:
        return _problems(
            [(format_loc(tuple(d["loc"])), describe(d, PlanSpec)) for d in exc.errors()]
        )
    problems = [(format_loc(loc), msg) for loc, msg in applying.check_plan(spec, {})]
    if problems:
        return _problems(problems)
    report = _Collected()
    try:
        plan = applying.apply_plan(m.org, spec, report, "Changed through the API")
    except applying.PlanRefused as exc:
        return _problems([(format_loc(exc.loc), exc.message)])
    return 200, {**_plan_out(plan), "changes": report.changes, "notices": report.notices}


@router.get("/orgs/{slug}/plan/readiness", response=ReadinessOut)
def get_readiness(request: HttpRequest, slug: str) -> ReadinessOut:
    """The readiness score (0 to 100), each check, and the next most useful thing to do."""
    m = _membership(request, slug, Capability.VIEW)
    result = readiness.readiness(m.org)
    best = result.next_check
    return ReadinessOut(
        score=result.score,
        next=_check_out(best) if best else None,
        checks=[_check_out(c) for c in result.checks],
    )


@router.get("/orgs/{slug}/plan/staleness", response=list[PartOut])
def get_staleness(request: HttpRequest, slug: str) -> list[PartOut]:
    """Each part of the plan with a cadence: stale or not, why, and its owner."""
    m = _membership(request, slug, Capability.VIEW)
    plan = _plan(m)
    return [
        PartOut(
            key=p.key,
            title=p.title,
            cadence=p.cadence,
            owner=p.owner.email if p.owner else None,
            stale=p.stale,
            why=p.why,
            items=p.items,
        )
        for p in staleness.parts(plan)
    ]


@router.post("/orgs/{slug}/plan/review", response=PlanOut)
def review_plan(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The whole plan was reviewed today."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    plan = _plan(m)
    editing.mark_reviewed(plan, m.user, timezone.now())
    return _plan_out(plan)


@router.post("/orgs/{slug}/plan/contacts/{contact_id}/verify", response=ContactOut)
def verify_contact(request: HttpRequest, slug: str, contact_id: int) -> ContactOut:
    """Someone checked this contact is still right, today."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    plan = _plan(m)
    contact = get_for_org_or_404(Contact.objects.filter(plan=plan), m.org, pk=contact_id)
    editing.verify_contacts(plan, [contact], m.user)
    contact.refresh_from_db()
    return ContactOut(
        id=contact.pk,
        kind=contact.kind,
        name=contact.name,
        last_verified_on=contact.last_verified_on,
    )


@router.get("/orgs/{slug}/plan/rpo", response=list[FeedOut])
def rpo_feeds(request: HttpRequest, slug: str) -> list[FeedOut]:
    """The connectors whose freshness target the plan makes stricter than their own RPO."""
    m = _membership(request, slug, Capability.VIEW)
    return [
        FeedOut(
            connector=f.connector.slug,
            own_rpo_minutes=f.own,
            target_minutes=f.needed,
            activities=list(f.activities),
        )
        for f in rpo.feeds(_plan(m))
    ]


@router.get("/orgs/{slug}/plan/versions", response=list[VersionBrief])
def list_versions(
    request: HttpRequest, slug: str, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Plan history, newest first: who changed what, when."""
    m = _membership(request, slug, Capability.VIEW)
    plan = _plan(m)
    limit = max(1, min(limit, 500))
    offset = max(0, offset)
    return [_brief(v) for v in plan.versions.all()[offset : offset + limit]]


@router.get("/orgs/{slug}/plan/versions/{number}", response=VersionOut)
def get_version(request: HttpRequest, slug: str, number: int) -> dict[str, Any]:
    """One past plan, whole (its `data` is what the printable version is made from)."""
    m = _membership(request, slug, Capability.VIEW)
    plan = _plan(m)
    version = get_for_org_or_404(PlanVersion.objects.filter(plan=plan), m.org, number=number)
    return {**_brief(version), "data": version.data}


# ------------------------------------------------------------------ the binder


class CopyOut(Schema):
    kind: str
    at: datetime
    by: str
    via: str
    code: str
    plan_version: int | None


class BinderOut(Schema):
    code: str
    fingerprint: str
    plan_version: int | None
    up_to_date: bool
    why: str
    changed: list[str]
    last_copy: CopyOut | None


def _copy_out(c: BinderCopy) -> CopyOut:
    return CopyOut(
        kind=c.kind,
        at=c.at,
        by=c.by_label,
        via=c.via,
        code=c.fingerprint[:8].upper(),
        plan_version=c.plan_version,
    )


@router.get("/orgs/{slug}/plan/binder", response=BinderOut)
def get_binder(request: HttpRequest, slug: str) -> BinderOut:
    """The current binder's code, and whether the last copy taken is still up to date."""
    m = _membership(request, slug, Capability.VIEW)
    found = binder.status(_plan(m))
    return BinderOut(
        code=found.current.code,
        fingerprint=found.current.fingerprint,
        plan_version=found.current.plan_version,
        up_to_date=found.up_to_date,
        why=found.why,
        changed=found.changed,
        last_copy=_copy_out(found.last_copy) if found.last_copy else None,
    )


@router.post("/orgs/{slug}/plan/binder/download")
def download_binder(request: HttpRequest, slug: str) -> HttpResponse:
    """The binder as a PDF; the copy is recorded (who, when, which binder)."""
    m = _membership(request, slug, Capability.VIEW)
    plan = _plan(m)
    try:
        pdf, made = binder.cached(plan)
    except binder.BinderError as exc:
        raise HttpError(409, str(exc)) from exc
    binder.record_copy(plan, made, CopyKind.DOWNLOADED, m.user)
    return file_response(pdf, binder.filename(m.org, made), inline=False)


@router.post("/orgs/{slug}/plan/binder/printed", response={201: CopyOut})
def binder_printed(request: HttpRequest, slug: str) -> tuple[int, CopyOut]:
    """The current binder was printed."""
    m = _membership(request, slug, Capability.VIEW)
    plan = _plan(m)
    return 201, _copy_out(binder.record_copy(plan, binder.inputs(plan), CopyKind.PRINTED, m.user))


# ------------------------------------------------------------------ drills


class MilestoneOut(Schema):
    key: str
    label: str
    at: datetime | None
    minutes: int | None
    source: str


class StepOut(Schema):
    id: int
    position: int
    who: str
    action: str
    minutes_allowed: int | None
    started_at: datetime | None
    done_at: datetime | None
    skipped: bool
    minutes_taken: int | None
    note: str


class DrillOut(Schema):
    id: int
    scenario: str
    kind: str
    started_at: datetime
    finished_at: datetime | None
    incident: int | None
    passed: bool | None
    milestones: list[MilestoneOut]
    steps: list[StepOut]
    results: dict[str, Any]


class DrillIn(Schema):
    scenario: str  # its title
    kind: str = DrillKind.TABLETOP
    library_key: str = ""
    request_key: str = ""


class StepIn(Schema):
    what: str  # start, done, skip, reset, note
    note: str | None = None


def _drill_out(d: Drill) -> DrillOut:
    measured = drills.stored_results(d)
    return DrillOut(
        id=d.pk,
        scenario=d.scenario_title,
        kind=d.kind,
        started_at=d.started_at,
        finished_at=d.finished_at,
        incident=d.incident_id,
        passed=d.passed,
        milestones=[
            MilestoneOut(
                key=key,
                label=str(label),
                at=d.milestone_at(key),
                minutes=drills.minutes_between(d.started_at, d.milestone_at(key)),
                source=d.sources.get(key, ""),
            )
            for key, label in Milestone.choices
        ],
        steps=[
            StepOut(
                id=s.pk,
                position=s.position,
                who=s.who,
                action=s.action,
                minutes_allowed=s.minutes_allowed,
                started_at=s.started_at,
                done_at=s.done_at,
                skipped=s.skipped,
                minutes_taken=s.minutes_taken,
                note=s.note,
            )
            for s in d.steps.all()
        ],
        results=asdict(measured),
    )


def _drill(m: Membership, plan: Plan, drill_id: int) -> Drill:
    return get_for_org_or_404(Drill.objects.filter(plan=plan), m.org, pk=drill_id)


@router.get("/orgs/{slug}/plan/drills", response=list[DrillOut])
def list_drills(request: HttpRequest, slug: str) -> list[DrillOut]:
    """The drills, newest first, with their milestones, steps and results."""
    m = _membership(request, slug, Capability.VIEW)
    return [_drill_out(d) for d in _plan(m).drills.all()[:100]]


@router.post("/orgs/{slug}/plan/drills", response={201: DrillOut, 422: Problems})
def start_drill(request: HttpRequest, slug: str, payload: DrillIn) -> tuple[int, Any]:
    """Start a drill of a scenario (named by its title): the outage begins now."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    plan = _plan(m)
    scenario = plan.scenarios.filter(title__iexact=payload.scenario.strip()).first()
    if scenario is None:
        titles = ", ".join(plan.scenarios.values_list("title", flat=True))
        return _problems(
            [("scenario", f"no scenario is called {payload.scenario!r}; there are: {titles}")]
        )
    try:
        drill = drills.start(
            plan,
            scenario,
            kind=payload.kind,
            by=m.user,
            library_key=payload.library_key,
            request_key=payload.request_key,
        )
    except editing.PlanInvalid as exc:
        return _problems(exc.errors)
    return 201, _drill_out(drill)


@router.get("/orgs/{slug}/plan/drills/{drill_id}", response=DrillOut)
def get_drill(request: HttpRequest, slug: str, drill_id: int) -> DrillOut:
    m = _membership(request, slug, Capability.VIEW)
    drill = _drill(m, _plan(m), drill_id)
    drills.refresh(drill)
    return _drill_out(drill)


@router.post(
    "/orgs/{slug}/plan/drills/{drill_id}/milestones/{milestone}",
    response={200: DrillOut, 409: Problems},
)
def mark_milestone(
    request: HttpRequest, slug: str, drill_id: int, milestone: str
) -> tuple[int, Any]:
    """A milestone is reached now ("declared" declares the exercise incident)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    drill = _drill(m, _plan(m), drill_id)
    try:
        drills.mark(drill, milestone, m.user)
    except (drills.DrillError, IncidentError) as exc:
        return 409, Problems(
            detail=str(exc), errors=[FieldProblem(field="milestone", message=str(exc))]
        )
    drill.refresh_from_db()
    return 200, _drill_out(drill)


@router.post(
    "/orgs/{slug}/plan/drills/{drill_id}/steps/{step_id}", response={200: DrillOut, 409: Problems}
)
def time_step(
    request: HttpRequest, slug: str, drill_id: int, step_id: int, payload: StepIn
) -> tuple[int, Any]:
    """A step's timer: start, done, skip, reset (or only a note)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    drill = _drill(m, _plan(m), drill_id)
    try:
        drills.time_step(drills.step(drill, step_id), payload.what, m.user, note=payload.note)
    except drills.DrillError as exc:
        return 409, Problems(detail=str(exc), errors=[FieldProblem(field="what", message=str(exc))])
    return 200, _drill_out(drill)


@router.post("/orgs/{slug}/plan/drills/{drill_id}/finish", response=DrillOut)
def finish_drill(request: HttpRequest, slug: str, drill_id: int) -> DrillOut:
    """Finish the drill: its results are measured and kept; the exercise incident is
    resolved (the results say why not, if it cannot be)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    drill = _drill(m, _plan(m), drill_id)
    done = drills.finish(drill, m.user)
    return _drill_out(done.drill)


# ------------------------------------------------------------------ corrective actions


class ActionOut(Schema):
    id: int
    finding: str
    action: str
    plan_part: str
    owner: str | None
    due_on: date | None
    status: str
    source: str
    drill: int | None
    review: int | None


class ActionIn(Schema):
    finding: str
    action: str = ""
    plan_part: str = "other"
    owner: str | None = None  # a member's email
    due_on: date | None = None
    drill: int | None = None
    review: int | None = None
    request_key: str = ""


class DoneIn(Schema):
    note: str = ""


def _action_out(a: CorrectiveAction) -> ActionOut:
    return ActionOut(
        id=a.pk,
        finding=a.finding,
        action=a.action,
        plan_part=a.plan_part,
        owner=a.owner.email if a.owner else None,
        due_on=a.due_on,
        status=a.status,
        source=a.source,
        drill=a.drill_id,
        review=a.review_id,
    )


@router.get("/orgs/{slug}/plan/actions", response=list[ActionOut])
def list_actions(request: HttpRequest, slug: str, status: str = "") -> list[ActionOut]:
    """The corrective actions (open ones first, by due date); `status` filters."""
    m = _membership(request, slug, Capability.VIEW)
    items = CorrectiveAction.objects.filter(plan=_plan(m)).select_related(
        "owner", "drill", "review__incident"
    )
    if status:
        items = items.filter(status=status)
    return [_action_out(a) for a in items[:500]]


@router.post("/orgs/{slug}/plan/actions", response={201: ActionOut, 422: Problems})
def add_action(request: HttpRequest, slug: str, payload: ActionIn) -> tuple[int, Any]:
    """A finding and its corrective action, from a drill, a review, or on its own."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    plan = _plan(m)
    problems: list[tuple[str, str]] = []
    owner = None
    if payload.owner:
        found = Membership.objects.filter(org=m.org, user__email__iexact=payload.owner).first()
        if found is None:
            problems.append(("owner", f"{payload.owner} is not a member of {m.org.name}"))
        else:
            owner = found.user
    drill = plan.drills.filter(pk=payload.drill).first() if payload.drill else None
    if payload.drill and drill is None:
        problems.append(("drill", f"no drill {payload.drill} in this plan"))
    review = plan.reviews.filter(pk=payload.review).first() if payload.review else None
    if payload.review and review is None:
        problems.append(("review", f"no review {payload.review} in this plan"))
    if problems:
        return _problems(problems)
    try:
        item = actions.add(
            plan,
            finding=payload.finding,
            action=payload.action,
            plan_part=payload.plan_part,
            owner=owner,
            due_on=payload.due_on,
            drill=drill,
            review=review,
            by=m.user,
            request_key=payload.request_key,
        )
    except editing.PlanInvalid as exc:
        return _problems(exc.errors)
    return 201, _action_out(item)


@router.post("/orgs/{slug}/plan/actions/{action_id}/done", response=ActionOut)
def action_done(request: HttpRequest, slug: str, action_id: int, payload: DoneIn) -> ActionOut:
    """The action is done (again: nothing changes)."""
    m = _membership(request, slug, Capability.EDIT_SETUP)
    item = get_for_org_or_404(CorrectiveAction.objects.filter(plan=_plan(m)), m.org, pk=action_id)
    try:
        actions.mark_done(item, m.user, payload.note)
    except editing.PlanInvalid as exc:
        raise HttpError(422, "; ".join(msg for _, msg in exc.errors)) from exc
    item.refresh_from_db()
    return _action_out(item)


# ------------------------------------------------------------------ ISO 22301


class TopicOut(Schema):
    clause: str
    title: str
    state: str
    held: str
    add: str
    url: str


class CoverageOut(Schema):
    present: int
    partial: int
    missing: int
    topics: list[TopicOut]


@router.get("/orgs/{slug}/plan/iso22301", response=CoverageOut)
def get_coverage(request: HttpRequest, slug: str) -> CoverageOut:
    """What the organisation has recorded, against the topics of ISO 22301 clauses 4 to 10."""
    m = _membership(request, slug, Capability.VIEW)
    found = iso22301.coverage(m.org)
    return CoverageOut(
        present=found.present,
        partial=found.partial,
        missing=found.missing,
        topics=[
            TopicOut(
                clause=t.clause, title=t.title, state=t.state, held=t.held, add=t.add, url=t.url
            )
            for c in found.clauses
            for t in c.topics
        ],
    )
