"""Pages of the reviews: post-incident reviews of real outages (filled in from what Fallback
recorded), and the management review — every open corrective action by owner, overdue
first, marked done one by one, and the record of each management review held."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import OrgRequest
from fallback.incidents.models import Incident
from fallback.plans import actions, editing, reviews
from fallback.plans.forms import (
    ActionDoneForm,
    ActionForm,
    ManagementReviewForm,
    ReviewForm,
    apply_errors,
)
from fallback.plans.models import ActionStatus, CorrectiveAction, Plan, PostIncidentReview
from fallback.plans.views import _context, _plan

SETUP = Capability.EDIT_SETUP
DONE_SHOWN = 30


def _url(request: OrgRequest, name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})


def _in_two_weeks(plan: Plan) -> Any:
    return actions.today(plan) + timedelta(days=14)


# ------------------------------------------------------------ post-incident reviews


@org_view()
@require_GET
def review_list(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    waiting = reviews.reviewable(plan)
    started = {r.incident_id: r for r in PostIncidentReview.objects.filter(plan=plan)}
    done = list(
        PostIncidentReview.objects.filter(plan=plan, completed_at__isnull=False).select_related(
            "incident", "completed_by"
        )
    )
    context = _context(
        request,
        plan,
        waiting=[(i, started.get(i.pk)) for i in waiting],
        done=done,
    )
    return render(request, "plans/reviews.html", context)


@org_view(SETUP)
@require_POST
def review_start(request: OrgRequest, incident_id: int) -> HttpResponse:
    plan = _plan(request)
    incident = get_for_org_or_404(Incident.objects.all(), request.org, pk=incident_id)
    try:
        review = reviews.start(plan, incident, request.user)
    except reviews.ReviewError as exc:
        messages.error(request, str(exc))
        return redirect("plans:reviews", org_slug=request.org.slug)
    return redirect("plans:review", org_slug=request.org.slug, pk=review.pk)


def _review(request: OrgRequest, plan: Plan, pk: int) -> PostIncidentReview:
    return get_for_org_or_404(
        PostIncidentReview.objects.filter(plan=plan).select_related("incident", "completed_by"),
        request.org,
        pk=pk,
    )


def _review_context(
    request: OrgRequest, plan: Plan, review: PostIncidentReview, **extra: Any
) -> dict[str, Any]:
    timeline = [
        {**e, "at": datetime.fromisoformat(e["at"])} for e in review.facts.get("timeline", [])
    ]
    return _context(
        request,
        plan,
        review=review,
        f=review.facts,
        timeline=timeline,
        request_key=uuid.uuid4().hex,
        findings=list(review.actions.select_related("owner").order_by("pk")),
        **extra,
    )


@org_view()
@require_http_methods(["GET", "POST"])
def review_detail(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    review = _review(request, plan, pk)
    initial = {"went_well": review.went_well, "went_badly": review.went_badly}
    initial["lessons"] = review.lessons
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.membership.can(SETUP):
            messages.error(request, "Your role does not allow changing the review.")
            return redirect("plans:review", org_slug=request.org.slug, pk=review.pk)
        if form.is_valid():
            try:
                reviews.save(review, **form.cleaned_data)
                if "complete" in request.POST:
                    reviews.complete(review, request.user)
                    messages.success(
                        request,
                        "The review is completed. The whole plan is now due for a review: "
                        "bring its lessons into it.",
                    )
                else:
                    messages.success(request, "Saved.")
            except editing.PlanInvalid as exc:
                apply_errors(form, exc.errors, {})
            else:
                return redirect("plans:review", org_slug=request.org.slug, pk=review.pk)
    context = _review_context(
        request,
        plan,
        review,
        form=form,
        action_form=ActionForm(org=request.org, initial={"due_on": _in_two_weeks(plan)}),
    )
    return render(request, "plans/review.html", context, status=422 if form.errors else 200)


@org_view(SETUP)
@require_POST
def review_refresh(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    review = _review(request, plan, pk)
    try:
        reviews.refresh_facts(review)
    except reviews.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The facts are filled in again from what Fallback recorded.")
    return redirect("plans:review", org_slug=request.org.slug, pk=review.pk)


@org_view(SETUP)
@require_POST
def review_finding(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    review = _review(request, plan, pk)
    form = ActionForm(request.POST, org=request.org)
    if form.is_valid():
        try:
            actions.add(
                plan,
                review=review,
                by=request.user,
                request_key=request.POST.get("request_key", ""),
                **form.cleaned_data,
            )
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, {})
        else:
            messages.success(request, "The lesson is recorded as a corrective action.")
            return redirect(_url(request, "plans:review", pk=review.pk) + "#findings")
    initial = {"went_well": review.went_well, "went_badly": review.went_badly}
    initial["lessons"] = review.lessons
    context = _review_context(
        request, plan, review, form=ReviewForm(initial=initial), action_form=form
    )
    return render(request, "plans/review.html", context, status=422)


# ------------------------------------------------------------ actions and management review


def _actions_context(request: OrgRequest, plan: Plan, **extra: Any) -> dict[str, Any]:
    today = actions.today(plan)
    open_count, overdue = actions.counts(plan, today)
    done = list(
        CorrectiveAction.objects.filter(plan=plan, status=ActionStatus.DONE)
        .select_related("owner", "done_by", "drill", "review__incident")
        .order_by("-done_at")[:DONE_SHOWN]
    )
    return _context(
        request,
        plan,
        groups=actions.open_by_owner(plan, today),
        today=today,
        open_count=open_count,
        overdue_count=overdue,
        done=done,
        meetings=list(plan.management_reviews.select_related("recorded_by")[:20]),
        request_key=uuid.uuid4().hex,
        **extra,
    )


@org_view()
@require_GET
def action_list(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    context = _actions_context(
        request,
        plan,
        action_form=ActionForm(org=request.org, initial={"due_on": _in_two_weeks(plan)}),
        meeting_form=ManagementReviewForm(initial={"held_on": actions.today(plan)}),
    )
    return render(request, "plans/actions.html", context)


@org_view(SETUP)
@require_POST
def action_add(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    form = ActionForm(request.POST, org=request.org)
    if form.is_valid():
        try:
            actions.add(
                plan,
                by=request.user,
                request_key=request.POST.get("request_key", ""),
                **form.cleaned_data,
            )
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, {})
        else:
            messages.success(request, "The action is added.")
            return redirect("plans:actions", org_slug=request.org.slug)
    context = _actions_context(
        request,
        plan,
        action_form=form,
        meeting_form=ManagementReviewForm(initial={"held_on": actions.today(plan)}),
    )
    return render(request, "plans/actions.html", context, status=422)


@org_view(SETUP)
@require_POST
def action_done(request: OrgRequest, pk: int) -> HttpResponse:
    plan = _plan(request)
    item = get_for_org_or_404(CorrectiveAction.objects.filter(plan=plan), request.org, pk=pk)
    form = ActionDoneForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if request.POST.get("reopen"):
        actions.reopen(item)
        messages.success(request, "The action is open again.")
    elif actions.mark_done(item, request.user, note):
        messages.success(request, "Marked done.")
    back = request.POST.get("back", "")
    # Only back to a page of this plan: never a redirect to anywhere a form says.
    if not back.startswith(_url(request, "plans:home")) or "//" in back:
        back = _url(request, "plans:actions")
    return redirect(back)


@org_view(SETUP)
@require_POST
def management_review(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    form = ManagementReviewForm(request.POST)
    if form.is_valid():
        try:
            actions.record_management_review(plan, by=request.user, **form.cleaned_data)
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, {})
        else:
            messages.success(request, "The management review is recorded.")
            return redirect(_url(request, "plans:actions") + "#meetings")
    context = _actions_context(
        request,
        plan,
        action_form=ActionForm(org=request.org, initial={"due_on": _in_two_weeks(plan)}),
        meeting_form=form,
    )
    return render(request, "plans/actions.html", context, status=422)
