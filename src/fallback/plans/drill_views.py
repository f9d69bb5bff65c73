"""Pages of the drills: the list with a form to start one, the tabletop library, the live
drill (milestones with their buttons, the procedure's steps with a timer each, the injects,
findings) and its report.

The live page works without JavaScript (every button is a form that comes back to the
page); with htmx the milestones and steps refresh themselves and the buttons swap only
their part. Reading needs VIEW; running a drill needs EDIT_SETUP.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import OrgRequest, file_response
from fallback.incidents.lifecycle import IncidentError
from fallback.plans import actions, drills, durations, editing, library
from fallback.plans.forms import ActionForm, DrillNotesForm, DrillStartForm, apply_errors
from fallback.plans.models import Drill, Milestone, Plan
from fallback.plans.views import _context, _plan

SETUP = Capability.EDIT_SETUP

# What Fallback watches for, per milestone (shown next to a milestone not reached yet).
WATCHES = {
    Milestone.DETECTED: "the monitor seeing the scenario's system go down",
    Milestone.DECLARED: "the exercise incident being declared (the button declares it)",
    Milestone.STAFF_REACHED: "a staff alert or a staff notice going out",
    Milestone.FIRST_NOTICE_READY: "a notice to customers or suppliers going to the outbox",
    Milestone.DESK_PRODUCING: "the desk's first document in the drill's exercise period",
    Milestone.RECOVERED: "the exercise incident recovering or being resolved",
}


def _drill(request: OrgRequest, plan: Plan, pk: int) -> Drill:
    return get_for_org_or_404(
        Drill.objects.filter(plan=plan).select_related("scenario", "incident", "plan__org"),
        request.org,
        pk=pk,
    )


def _url(request: OrgRequest, name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})


# -------------------------------------------------------------------- list and start


@org_view()
@require_GET
def drill_list(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    found = list(plan.drills.select_related("started_by", "scenario")[:100])
    form = DrillStartForm(plan=plan)
    context = _context(
        request,
        plan,
        drills=found,
        form=form,
        has_scenarios=bool(form.fields["scenario"].queryset.exists()),  # type: ignore[attr-defined]
        library=library.LIBRARY,
    )
    return render(request, "plans/drills.html", context)


@org_view(SETUP)
@require_POST
def drill_start(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    form = DrillStartForm(request.POST, plan=plan)
    if form.is_valid():
        d = form.cleaned_data
        try:
            drill = drills.start(
                plan,
                d["scenario"],
                kind=d["kind"],
                by=request.user,
                library_key=d["library_key"],
                request_key=request.POST.get("request_key", ""),
            )
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, {})
        else:
            messages.success(
                request,
                "The drill has started: the outage begins now. Mark each milestone as it "
                "comes and time each step.",
            )
            return redirect("plans:drill", org_slug=request.org.slug, pk=drill.pk)
    found = list(plan.drills.select_related("started_by", "scenario")[:100])
    context = _context(
        request, plan, drills=found, form=form, has_scenarios=True, library=library.LIBRARY
    )
    return render(request, "plans/drills.html", context, status=422)


# -------------------------------------------------------------------- the library


@org_view()
@require_GET
def library_view(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    entries = [
        {
            "e": e,
            "in_plan": library.in_plan(plan, e),
            "systems": e.systems_text(request.org),
        }
        for e in library.LIBRARY
    ]
    return render(request, "plans/library.html", _context(request, plan, entries=entries))


@org_view(SETUP)
@require_POST
def library_add(request: OrgRequest, key: str) -> HttpResponse:
    plan = _plan(request)
    try:
        entry = library.get(key)
    except library.NotInLibrary as exc:
        raise Http404(str(exc)) from None
    existing = library.in_plan(plan, entry)
    if existing is not None:
        messages.info(request, f"“{existing.title}” is already in the plan.")
        return redirect("plans:scenario", org_slug=request.org.slug, pk=existing.pk)
    try:
        scenario = library.add_to_plan(plan, entry)
    except editing.PlanInvalid as exc:
        messages.error(request, "; ".join(m for _, m in exc.errors))
        return redirect("plans:library", org_slug=request.org.slug)
    messages.success(
        request, f"“{scenario.title}” is added to the plan's scenarios: check its steps."
    )
    return redirect("plans:scenario", org_slug=request.org.slug, pk=scenario.pk)


# -------------------------------------------------------------------- the live drill


def _milestones(drill: Drill, can_run: bool) -> list[dict[str, Any]]:
    rows = []
    for key, label in Milestone.choices:
        at = drill.milestone_at(key)
        rows.append(
            {
                "key": key,
                "label": label,
                "at": at,
                "after": durations.words(drills.minutes_between(drill.started_at, at)),
                "source": drill.sources.get(key, ""),
                "watches": WATCHES[Milestone(key)],
                "can_mark": can_run and drill.is_running and at is None,
            }
        )
    return rows


def _steps(drill: Drill) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for s in drill.steps.all():
        running = s.started_at is not None and s.done_at is None and not s.skipped
        taken = s.minutes_taken
        if running and s.started_at is not None:
            taken = int((now - s.started_at) / timedelta(minutes=1))
        rows.append(
            {
                "s": s,
                "running": running,
                "taken": taken,
                "over": s.minutes_allowed is not None
                and taken is not None
                and taken > s.minutes_allowed,
                "state": "skipped"
                if s.skipped
                else "done"
                if s.done_at
                else "running"
                if running
                else "to do",
            }
        )
    return rows


def _injects(drill: Drill) -> tuple[list[dict[str, Any]], list[str], str]:
    if not drill.library_key:
        return [], [], ""
    try:
        entry = library.get(drill.library_key)
    except library.NotInLibrary:
        return [], [], ""
    now = timezone.now()
    rows = [
        {
            "minute": i.minute,
            "at": drill.started_at + timedelta(minutes=i.minute),
            "text": i.text,
            "due": drill.started_at + timedelta(minutes=i.minute) <= now,
        }
        for i in entry.injects
    ]
    return rows, list(entry.questions), entry.story


def _drill_context(request: OrgRequest, plan: Plan, drill: Drill, **extra: Any) -> dict[str, Any]:
    can_run = request.membership.can(SETUP)
    injects, questions, story = _injects(drill)
    return _context(
        request,
        plan,
        drill=drill,
        can_run=can_run,
        milestones=_milestones(drill, can_run),
        steps=_steps(drill),
        injects=injects,
        questions=questions,
        story=story,
        results=drills.stored_results(drill),
        findings=list(drill.actions.select_related("owner").order_by("pk")),
        running_minutes=drills.minutes_running(drill),
        request_key=uuid.uuid4().hex,
        **extra,
    )


@org_view()
@require_GET
@never_cache
def drill_detail(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    drill = _drill(request, plan, pk)
    drills.refresh(drill)
    part = request.GET.get("part", "")
    if request.htmx and part in ("milestones", "steps"):
        context = _drill_context(request, plan, drill)
        return render(request, f"plans/_drill_{part}.html", context)
    context = _drill_context(
        request,
        plan,
        drill,
        action_form=ActionForm(org=request.org, initial={"due_on": _in_two_weeks(plan)}),
        notes_form=DrillNotesForm(initial={"notes": drill.notes}),
    )
    return render(request, "plans/drill.html", context)


def _in_two_weeks(plan: Plan) -> Any:
    return actions.today(plan) + timedelta(days=14)


def _back(request: OrgRequest, plan: Plan, drill: Drill, part: str, anchor: str) -> HttpResponse:
    if request.htmx:
        return render(request, f"plans/_drill_{part}.html", _drill_context(request, plan, drill))
    return redirect(_url(request, "plans:drill", pk=drill.pk) + anchor)


@org_view(SETUP)
@require_POST
def drill_mark(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    drill = _drill(request, plan, pk)
    milestone = request.POST.get("milestone", "")
    try:
        drills.mark(drill, milestone, request.user)
    except (drills.DrillError, IncidentError) as exc:
        messages.error(request, str(exc))
    drill.refresh_from_db()
    return _back(request, plan, drill, "milestones", "#milestones")


@org_view(SETUP)
@require_POST
def drill_step(request: OrgRequest, pk: int, step_id: int) -> HttpResponse:
    plan = _plan(request)
    drill = _drill(request, plan, pk)
    what = request.POST.get("what", "note")
    note = request.POST.get("note")
    try:
        drills.time_step(drills.step(drill, step_id), what, request.user, note=note)
    except drills.DrillError as exc:
        messages.error(request, str(exc))
    return _back(request, plan, drill, "steps", f"#step-{step_id}")


@org_view(SETUP)
@require_POST
def drill_finding(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    drill = _drill(request, plan, pk)
    form = ActionForm(request.POST, org=request.org)
    if form.is_valid():
        try:
            drills.add_finding(
                drill,
                by=request.user,
                request_key=request.POST.get("request_key", ""),
                **form.cleaned_data,
            )
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, {})
        else:
            messages.success(request, "The finding is recorded, with its corrective action.")
            return redirect(_url(request, "plans:drill", pk=drill.pk) + "#findings")
    context = _drill_context(
        request,
        plan,
        drill,
        action_form=form,
        notes_form=DrillNotesForm(initial={"notes": drill.notes}),
    )
    return render(request, "plans/drill.html", context, status=422)


@org_view(SETUP)
@require_POST
def drill_finish(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    drill = _drill(request, plan, pk)
    form = DrillNotesForm(request.POST)
    notes = form.cleaned_data["notes"] if form.is_valid() else None
    try:
        done = drills.finish(drill, request.user, notes=notes)
    except drills.DrillError as exc:
        messages.error(request, str(exc))
        return redirect("plans:drill", org_slug=request.org.slug, pk=drill.pk)
    verdict = "passed" if done.results.passed else "did not pass"
    messages.success(
        request,
        f"The drill is finished and {verdict}. The whole plan is now due for a review: "
        "bring the findings into it.",
    )
    if done.incident_problem:
        messages.warning(request, f"Its exercise incident stays open: {done.incident_problem}")
    return redirect("plans:drill", org_slug=request.org.slug, pk=drill.pk)


@org_view()
@require_GET
@never_cache
def drill_report(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    drill = _drill(request, plan, pk)
    pdf_url = _url(request, "plans:drill_pdf", pk=drill.pk)
    return HttpResponse(drills.report_html(drill, screen=True, pdf_url=pdf_url))


@org_view()
@require_GET
@never_cache
def drill_pdf(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    drill = _drill(request, plan, pk)
    name = f"{request.org.slug}-drill-{drill.pk}-report.pdf"
    return file_response(drills.report_pdf(drill), name)
