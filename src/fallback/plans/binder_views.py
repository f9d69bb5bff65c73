"""Pages of the grab binder (what is in it, the copies taken, the download), the plan's
scope and policy, and the ISO 22301 coverage report (a printable page and a PDF).

Downloading the binder is a POST: it records who took which binder (a BinderCopy), which is
what lets Fallback warn when the paper copy is out of date.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.desk import printing as desk_printing
from fallback.front.http import OrgRequest, file_response
from fallback.plans import binder, editing, iso22301, staleness
from fallback.plans.forms import StatementsForm, apply_errors
from fallback.plans.models import BinderCopy, CopyKind
from fallback.plans.views import _context, _plan
from fallback.replica import history

SETUP = Capability.EDIT_SETUP
COPIES_SHOWN = 20
ISO_TEMPLATE = "plans/print/iso22301.html"


@org_view()
@require_GET
def binder_page(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    found = binder.status(plan)
    copies = list(BinderCopy.objects.filter(org=request.org).select_related("by")[:COPIES_SHOWN])
    latest = plan.versions.order_by("-number").first()
    rows = sum(history.current(request.org, e).count() for e in staleness.PRICE_ENTITIES)
    context = _context(
        request,
        plan,
        status=found,
        copies=copies,
        latest=latest,
        price_rows=rows,
        price_cut=rows > binder.PRICE_ROWS,
        price_limit=binder.PRICE_ROWS,
        forms=list(desk_printing.BLANK_FORMS.values()),
        has_notices=binder.notice_scripts(request.org) is not None,
        has_vault=binder.has_backup_instructions(),
        ready=binder.is_cached(plan),
    )
    return render(request, "plans/binder.html", context)


@org_view()
@require_POST
def binder_download(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    try:
        pdf, made = binder.cached(plan)
    except binder.BinderError as exc:
        messages.error(request, str(exc))
        return redirect("plans:binder", org_slug=request.org.slug)
    binder.record_copy(plan, made, CopyKind.DOWNLOADED, request.user)
    return file_response(pdf, binder.filename(request.org, made), inline=False)


@org_view()
@require_POST
def binder_printed(request: OrgRequest) -> HttpResponse:
    """Someone printed the binder Fallback would make now (from a download or here)."""
    plan = _plan(request)
    made = binder.inputs(plan)
    binder.record_copy(plan, made, CopyKind.PRINTED, request.user)
    messages.success(
        request,
        f"Recorded: the binder {made.code} is printed. Fallback warns when it goes out of date.",
    )
    return redirect("plans:binder", org_slug=request.org.slug)


# ------------------------------------------------------------------ scope and policy


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def statements(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    form = StatementsForm(
        request.POST or None, initial={"scope": plan.scope, "policy": plan.policy}
    )
    if request.method == "POST" and form.is_valid():
        try:
            changes = editing.set_statements(
                plan, form.cleaned_data["scope"], form.cleaned_data["policy"]
            )
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, {})
        else:
            messages.success(request, "Saved." if changes else "Nothing to change.")
            return redirect("plans:iso22301", org_slug=request.org.slug)
    return render(request, "plans/statements.html", _context(request, plan, form=form))


# ------------------------------------------------------------------ ISO 22301


def _iso_html(request: OrgRequest, *, screen: bool) -> str:
    found = iso22301.coverage(request.org)
    css = render_to_string("plans/print/plan.css")
    context = {
        "org": request.org,
        "coverage": found,
        "made": desk_printing.format_moment(found.made_at, request.org),
        "screen": screen,
        "pdf_url": reverse("plans:iso22301_pdf", kwargs={"org_slug": request.org.slug}),
        "base": request.build_absolute_uri("/") if screen else "",
        "css": mark_safe(css.replace("</", "<\\/")) if screen else "",  # noqa: S308
        "lang": request.org.locale or "en-GB",
    }
    return render_to_string(ISO_TEMPLATE, context)


@org_view()
@require_GET
@never_cache
def iso22301_page(request: OrgRequest) -> HttpResponse:
    return HttpResponse(_iso_html(request, screen=True))


@org_view()
@require_GET
@never_cache
def iso22301_pdf(request: OrgRequest) -> HttpResponse:
    css = render_to_string("plans/print/plan.css")
    pdf = desk_printing.html_to_pdf(_iso_html(request, screen=False), [css])
    return file_response(pdf, f"{request.org.slug}-iso22301-coverage.pdf")
