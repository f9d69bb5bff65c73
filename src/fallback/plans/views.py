"""Pages of the continuity plan: the plan home with its sections and progress, a page per
section (what matters, risks, scenarios, roles, contacts) and per item, the plan's history
with a printable version of any past plan, and readiness.

Anyone in the organisation may read the plan; changing it needs EDIT_SETUP. Thin: the rules
are in editing, completeness in sections, staleness and readiness in their modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import OrgRequest, file_response
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.plans import (
    actions,
    binder,
    editing,
    printing,
    readiness,
    reviews,
    rpo,
    sections,
    seeds,
    staleness,
)
from fallback.plans.forms import (
    ACTIVITY_NAMES,
    ROLE_NAMES,
    ActivityForm,
    ContactForm,
    OwnersForm,
    RiskForm,
    RoleForm,
    ScenarioForm,
    StepFormSet,
    SuggestionsForm,
    apply_errors,
    step_initial,
    steps_from,
)
from fallback.plans.models import (
    Activity,
    Contact,
    ContactKind,
    Plan,
    PlanRole,
    PlanVersion,
    Risk,
    Scenario,
)
from fallback.plans.spec import plan_of

SETUP = Capability.EDIT_SETUP
HISTORY_PAGE = 100
# URL word -> the kind of item, and where its section lives.
KINDS: dict[str, tuple[type[Model], str]] = {
    "activities": (Activity, "plans:activities"),
    "risks": (Risk, "plans:risks"),
    "scenarios": (Scenario, "plans:scenarios"),
    "roles": (PlanRole, "plans:roles"),
    "contacts": (Contact, "plans:contacts"),
}


# ------------------------------------------------------------------ helpers


def _can_edit(request: OrgRequest) -> bool:
    return request.membership.can(SETUP)


def _need_edit(request: OrgRequest) -> None:
    if not _can_edit(request):
        role = request.membership.get_role_display()
        raise PermissionDenied(f"Your role ({role}) does not allow this.")


def _plan(request: OrgRequest) -> Plan:
    plan = plan_of(request.org)
    if plan is None:
        raise Http404("No plan yet")
    return plan


def _context(request: OrgRequest, plan: Plan | None, **extra: Any) -> dict[str, Any]:
    found = sections.sections(plan) if plan is not None else []
    return {
        "plan": plan,
        "sections": found,
        "progress": sections.progress(found),
        "complete_count": sum(s.complete for s in found),
        "can_edit": _can_edit(request),
        **extra,
    }


def _section(context: dict[str, Any], key: str) -> sections.Section:
    found: list[sections.Section] = context["sections"]
    return next(s for s in found if s.key == key)


def _onward(request: OrgRequest, plan: Plan, section_url: str) -> HttpResponse:
    """After a save: on to the next missing thing ("Save and continue"), or back."""
    if "continue" in request.POST:
        missing = sections.next_missing(sections.sections(plan))
        if missing is None:
            messages.success(request, "Every section of the plan is complete.")
            return redirect("plans:home", org_slug=request.org.slug)
        return redirect(missing.url)
    return redirect(section_url)


def _url(request: OrgRequest, name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})


def _item_form(
    request: OrgRequest,
    plan: Plan,
    item: Any,
    form: Any,
    save: Callable[[Any], Any],
    kind: str,
    names: dict[str, str] | None = None,
    steps: Any = None,
) -> HttpResponse:
    """One item's form (an activity, risk, scenario, role or contact): save it through
    `save`, with the editing rules' errors shown next to their fields, then go on; or show
    the form with what the item still misses. `steps` is a formset that must be valid too."""
    valid = request.method == "POST" and form.is_valid() and (steps is None or steps.is_valid())
    if valid:
        try:
            # A fresh copy: a refused change must not leave the form's edits on `item`.
            saved = save(type(item).objects.get(pk=item.pk) if item is not None else None)
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, names or {})
        else:
            messages.success(request, f"{_label(saved)} is saved.")
            back = _url(request, f"plans:{ITEM_LISTS[kind]}")
            if isinstance(saved, Contact):
                back += f"#{saved.kind}"
            return _onward(request, plan, back)
    context = _context(request, plan, form=form, item=item)
    if steps is not None:
        context["steps"] = steps
    if item is not None:
        context["item_missing"] = sections.missing_for(
            context["sections"], _url(request, f"plans:{kind}", pk=item.pk)
        )
    return render(request, f"plans/{kind}_form.html", context)


def _label(saved: Any) -> str:
    """How a saved item is named in its message: “Taking orders”; a contact's bare name."""
    if isinstance(saved, Contact):
        return str(saved.name)
    return f"“{getattr(saved, 'name', None) or saved.title}”"


# The list page each item kind goes back to.
ITEM_LISTS = {
    "activity": "activities",
    "risk": "risks",
    "scenario": "scenarios",
    "role": "roles",
    "contact": "contacts",
}


# --------------------------------------------------------------------- home


@org_view()
@require_GET
def home(request: OrgRequest) -> HttpResponse:
    plan = plan_of(request.org)
    if plan is None:
        return render(request, "plans/start.html", _context(request, None))
    now = timezone.now()
    parts = staleness.parts(plan, now)
    context = _context(request, plan)
    context.update(
        parts=parts,
        stale=[p for p in parts if p.stale],
        next_missing=sections.next_missing(context["sections"]),
        latest=plan.versions.order_by("-number").first(),
        price_part=next((p for p in parts if p.key == "price_list"), None),
        whole_part=next((p for p in parts if p.key == "plan"), None),
        binder=binder.status(plan),
        last_drill=plan.drills.filter(finished_at__isnull=False).order_by("-finished_at").first(),
        running_drill=plan.drills.filter(finished_at__isnull=True).order_by("-started_at").first(),
        to_review=len(reviews.reviewable(plan)),
    )
    open_count, overdue = actions.counts(plan, actions.today(plan, now))
    context.update(open_actions=open_count, overdue_actions=overdue)
    return render(request, "plans/home.html", context)


@org_view(SETUP)
@require_POST
def start(request: OrgRequest) -> HttpResponse:
    existed = plan_of(request.org) is not None
    plan = editing.start(request.org, request.user)
    if not existed:
        messages.success(
            request,
            "Your plan is started with suggestions. Confirm what fits, remove what does not, "
            "and fill in what is missing — one step at a time.",
        )
    missing = sections.next_missing(sections.sections(plan))
    return redirect(missing.url if missing else _url(request, "plans:home"))


@org_view()
@require_GET
def continue_plan(request: OrgRequest) -> HttpResponse:
    """The wizard's "Continue": the first thing still missing, section by section."""
    plan = plan_of(request.org)
    if plan is None:
        return redirect("plans:home", org_slug=request.org.slug)
    missing = sections.next_missing(sections.sections(plan))
    if missing is None:
        messages.success(request, "Every section of the plan is complete.")
        return redirect("plans:home", org_slug=request.org.slug)
    return redirect(missing.url)


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def owners(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    form = OwnersForm(request.POST or None, org=request.org, plan=plan)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            changes = editing.set_owners(
                plan, d.get("owner"), d.get("contacts_owner"), d.get("price_list_owner")
            )
        except editing.PlanInvalid as exc:
            apply_errors(form, exc.errors, {})
        else:
            messages.success(request, "Saved." if changes else "Nothing to change.")
            return redirect("plans:home", org_slug=request.org.slug)
    return render(request, "plans/owners.html", _context(request, plan, form=form))


@org_view(SETUP)
@require_POST
def review(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    editing.mark_reviewed(plan, request.user)
    messages.success(request, "The whole plan is marked as reviewed today.")
    return redirect("plans:home", org_slug=request.org.slug)


@org_view(SETUP)
@require_POST
def price_list_checked(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    editing.mark_price_list_checked(plan, request.user)
    messages.success(request, "The price list is marked as checked today.")
    return redirect(_url(request, "plans:home") + "#price-list")


# --------------------------------------------------------- any item: remove, confirm


def _item(request: OrgRequest, plan: Plan, kind: str, pk: int) -> Any:
    if kind not in KINDS:
        raise Http404("No such part of the plan")
    model, _ = KINDS[kind]
    return get_for_org_or_404(model._default_manager.filter(plan=plan), request.org, pk=pk)


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def remove(request: OrgRequest, kind: str, pk: int) -> HttpResponse:
    plan = _plan(request)
    item = _item(request, plan, kind, pk)
    back = _url(request, KINDS[kind][1])
    if request.method == "POST":
        label = str(item)
        editing.remove(item)
        messages.success(request, f"“{label}” is removed from the plan.")
        return _onward(request, plan, back)
    return render(
        request,
        "plans/confirm_remove.html",
        _context(request, plan, what=str(item), back=back),
    )


@org_view(SETUP)
@require_POST
def confirm(request: OrgRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in ("activities", "risks", "scenarios"):
        raise Http404("Only suggested items are confirmed")
    plan = _plan(request)
    item = _item(request, plan, kind, pk)
    editing.confirm(item)
    messages.success(request, f"“{item}” is confirmed.")
    return _onward(request, plan, _url(request, KINDS[kind][1]))


# --------------------------------------------------------------- activities


@org_view()
@require_GET
def activities(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    context = _context(request, plan)
    items = list(plan.activities.prefetch_related("systems", "impacts").select_related("owner"))
    context.update(
        plan_section=_section(context, "activities"),
        items=items,
        feeds=rpo.feeds(plan),
    )
    return render(request, "plans/activities.html", context)


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def activity(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    plan = _plan(request)
    item = _item(request, plan, "activities", pk) if pk is not None else None
    form = ActivityForm(request.POST or None, org=request.org, plan=plan, activity=item)

    def save(target: Activity | None) -> Activity:
        saved = editing.save_activity(
            plan,
            target,
            systems=form.cleaned_data["systems"],
            impacts=form.impacts(),
            **form.saved_fields(),
        )
        for feed in rpo.feeds(plan):
            if saved.name in feed.activities:
                messages.info(request, feed.text + ".")
        return saved

    return _item_form(request, plan, item, form, save, "activity", ACTIVITY_NAMES)


# ------------------------------------------------------------------- risks


@org_view()
@require_GET
def risks(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    context = _context(request, plan)
    items = sorted(plan.risks.select_related("contrarian"), key=lambda r: (-r.score, r.position))
    context.update(plan_section=_section(context, "risks"), items=items)
    return render(request, "plans/risks.html", context)


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def risk(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    plan = _plan(request)
    item = _item(request, plan, "risks", pk) if pk is not None else None
    initial = None if item is not None else {"contrarian": None}
    form = RiskForm(request.POST or None, instance=item, org=request.org, initial=initial)

    def save(target: Risk | None) -> Risk:
        return editing.save_risk(plan, target, **form.saved_fields())

    return _item_form(request, plan, item, form, save, "risk")


# --------------------------------------------------------------- scenarios


@org_view()
@require_GET
def scenarios(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    context = _context(request, plan)
    items = list(plan.scenarios.prefetch_related("systems", "steps__role", "back_up_steps"))
    context.update(plan_section=_section(context, "scenarios"), items=items)
    return render(request, "plans/scenarios.html", context)


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def scenario(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    plan = _plan(request)
    item = _item(request, plan, "scenarios", pk) if pk is not None else None
    data = request.POST or None
    form = ScenarioForm(data, instance=item, org=request.org)
    steps = StepFormSet(
        data, initial=step_initial(item), prefix="steps", form_kwargs={"plan": plan}
    )

    def save(target: Scenario | None) -> Scenario:
        return editing.save_scenario(
            plan,
            target,
            systems=form.cleaned_data["systems"],
            steps=steps_from(steps),
            back_up=form.cleaned_data["back_up"].splitlines(),
            **form.saved_fields(),
        )

    return _item_form(
        request, plan, item, form, save, "scenario", {"steps": "__all__"}, steps=steps
    )


# ------------------------------------------------------------------- roles


@org_view()
@require_GET
def roles(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    context = _context(request, plan)
    items = list(
        plan.roles.select_related("holder_user", "holder_contact").prefetch_related(
            "alternates__user", "alternates__contact"
        )
    )
    context.update(plan_section=_section(context, "roles"), items=items)
    return render(request, "plans/roles.html", context)


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def role(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    plan = _plan(request)
    item = _item(request, plan, "roles", pk) if pk is not None else None
    form = RoleForm(request.POST or None, org=request.org, plan=plan, role=item)

    def save(target: PlanRole | None) -> PlanRole:
        return editing.save_role(
            plan, target, holder=form.holder(), alternates=form.alternates(), **form.saved_fields()
        )

    return _item_form(request, plan, item, form, save, "role", ROLE_NAMES)


# ---------------------------------------------------------------- contacts


@org_view()
@require_GET
def contacts(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    context = _context(request, plan)
    now = timezone.now()
    parts = {p.key: p for p in staleness.parts(plan, now) if p.key.startswith("contacts.")}
    everyone = list(plan.contacts.select_related("system", "member", "verified_by"))
    groups = []
    for kind, label in ContactKind.choices:
        part = parts.get(f"contacts.{kind}")
        due = set(part.items) if part else set()
        groups.append(
            {
                "kind": kind,
                "label": label,
                "cadence": staleness.CONTACT_CADENCE[kind][1],
                "days": staleness.CONTACT_CADENCE[kind][0],
                "rows": [(c, c.name in due) for c in everyone if c.kind == kind],
                "due": len(due),
            }
        )
    found = seeds.suggestions(plan) if _can_edit(request) else []
    suggest_form = SuggestionsForm(
        choices=[(s.token, s.name) for s in found],
        initial={"chosen": [s.token for s in found]},
    )
    context.update(
        plan_section=_section(context, "contacts"),
        groups=groups,
        suggestions=found,
        suggest_form=suggest_form,
        today=timezone.localdate(now, org_zone(request.org)),
    )
    return render(request, "plans/contacts.html", context)


@org_view(SETUP)
@require_POST
def contacts_add(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    found = {s.token: s for s in seeds.suggestions(plan)}
    form = SuggestionsForm(request.POST, choices=[(t, s.name) for t, s in found.items()])
    if not form.is_valid():
        messages.error(request, "Nothing was added: tick the contacts to add.")
        return redirect("plans:contacts", org_slug=request.org.slug)
    added = editing.add_suggested(plan, [found[t] for t in form.cleaned_data["chosen"]])
    messages.success(
        request, f"{len(added)} contact{'s' if len(added) != 1 else ''} added to the plan."
    )
    return _onward(request, plan, _url(request, "plans:contacts"))


@org_view(SETUP)
@require_POST
def contacts_verify(request: OrgRequest) -> HttpResponse:
    """Someone checked contacts today: one (`contact`) or every one of a kind (`kind`)."""
    plan = _plan(request)
    chosen = plan.contacts.all()
    kind = request.POST.get("kind", "")
    contact = request.POST.get("contact", "")
    if contact.isdigit():
        chosen = chosen.filter(pk=int(contact))
    elif kind in ContactKind.values:
        chosen = chosen.filter(kind=kind)
    else:
        raise Http404("Say which contacts were checked")
    count = editing.verify_contacts(plan, list(chosen), request.user)
    messages.success(
        request, f"{count} contact{'s' if count != 1 else ''} marked as checked today."
    )
    anchor = f"#{kind}" if kind else ""
    return redirect(_url(request, "plans:contacts") + anchor)


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def contact(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    plan = _plan(request)
    item = _item(request, plan, "contacts", pk) if pk is not None else None
    initial = None
    if item is None:
        kind = request.GET.get("kind", "")
        # Someone typing a contact in is checking it: today, unless they say otherwise.
        initial = {
            "kind": kind if kind in ContactKind.values else ContactKind.STAFF,
            "last_verified_on": timezone.localdate(timezone.now(), org_zone(request.org)),
        }
    form = ContactForm(request.POST or None, instance=item, org=request.org, initial=initial)

    def save(target: Contact | None) -> Contact:
        return editing.save_contact(plan, target, **form.saved_fields())

    return _item_form(request, plan, item, form, save, "contact")


# ----------------------------------------------------------------- history


@org_view()
@require_GET
def history_list(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    versions = list(plan.versions.select_related("created_by")[:HISTORY_PAGE])
    return render(request, "plans/history.html", _context(request, plan, versions=versions))


def _version(request: OrgRequest, plan: Plan, number: int) -> PlanVersion:
    return get_for_org_or_404(PlanVersion.objects.filter(plan=plan), request.org, number=number)


@org_view()
@require_GET
def version(request: OrgRequest, number: int) -> HttpResponse:
    plan = _plan(request)
    found = _version(request, plan, number)
    latest = plan.versions.order_by("-number").values_list("number", flat=True).first()
    context = _context(request, plan, version=found, is_latest=latest == found.number)
    return render(request, "plans/version.html", context)


@org_view()
@require_GET
@never_cache
def version_print(request: OrgRequest, number: int) -> HttpResponse:
    plan = _plan(request)
    found = _version(request, plan, number)
    pdf_url = _url(request, "plans:version_pdf", number=number)
    return HttpResponse(printing.version_html(found, screen=True, pdf_url=pdf_url))


@org_view()
@require_GET
@never_cache
def version_pdf(request: OrgRequest, number: int) -> HttpResponse:
    plan = _plan(request)
    found = _version(request, plan, number)
    return file_response(
        printing.version_pdf(found), f"{request.org.slug}-plan-v{found.number}.pdf"
    )


@org_view()
@require_GET
def print_latest(request: OrgRequest) -> HttpResponse:
    plan = _plan(request)
    latest = plan.versions.order_by("-number").first()
    if latest is None:
        raise Http404("No version of the plan yet")
    return redirect("plans:version_print", org_slug=request.org.slug, number=latest.number)


# --------------------------------------------------------------- readiness


@org_view()
@require_GET
def readiness_view(request: OrgRequest) -> HttpResponse:
    result = readiness.readiness(request.org)
    context = {
        "readiness": result,
        "next_check": result.next_check,
        "is_admin": request.user.is_superuser,
    }
    return render(request, "plans/readiness.html", context)
