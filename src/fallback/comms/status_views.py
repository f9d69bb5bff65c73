"""Staff pages of the status page: its settings and components, publishing (state, errors,
Publish now), previews (the public page, summary.json, the drill preview), its subscribers,
and posting an update from an incident's "Tell people" page.

Thin: the rules are in statuspage, publishing and subscribers.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.comms import notices, publishing, rendering, statuspage, subscribers
from fallback.comms.models import Notice, StatusUpdate, Subscriber
from fallback.comms.status_forms import StatusPageForm, UpdateForm
from fallback.front.http import OrgRequest
from fallback.incidents.models import Incident
from fallback.monitor.models import System

SETUP = Capability.EDIT_SETUP
SEND = Capability.SEND_NOTICES


def _rows(request: OrgRequest) -> list[dict[str, Any]]:
    shown = {c.system_id: c for c in statuspage.components(request.org)}
    rows = []
    for system in System.objects.filter(org=request.org).order_by("name"):
        c = shown.get(system.pk)
        rows.append(
            {
                "system": system,
                "shown": c is not None,
                "name": c.name if c else system.name,
                "description": c.description if c else "",
                "position": c.position if c else 1000,
            }
        )
    return sorted(rows, key=lambda r: (not r["shown"], r["position"], r["system"].name))


def _chosen(request: OrgRequest) -> list[tuple[System, str, str]]:
    systems = {s.pk: s for s in System.objects.filter(org=request.org)}
    chosen = []
    for raw in request.POST.getlist("show"):
        system = systems.get(int(raw)) if raw.isdigit() else None
        if system is not None:
            name = request.POST.get(f"name_{system.pk}", "") or system.name
            chosen.append((system, name, request.POST.get(f"description_{system.pk}", "")))
    order = [int(x) for x in request.POST.getlist("order") if x.isdigit()]
    return sorted(chosen, key=lambda c: order.index(c[0].pk) if c[0].pk in order else 1000)


@org_view()
@require_http_methods(["GET", "POST"])
def status_settings(request: OrgRequest) -> HttpResponse:
    page = statuspage.page_for(request.org)
    form = StatusPageForm(request.POST or None, instance=page)
    if request.method == "POST":
        from fallback.comms.views import _form_errors, _need

        _need(request, SETUP)
        if form.is_valid():
            data = dict(form.cleaned_data)
            secret = data.pop("secret_key") or None
            if data.pop("clear_secret_key"):
                secret = ""
            try:
                changes = statuspage.update_page(request.org, secret_key=secret, **data)
                changes_c = statuspage.save_components(request.org, _chosen(request))
            except statuspage.StatusPageProblem as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(
                    request, "Saved." if changes or changes_c else "Nothing to change."
                )
                return redirect("comms:status", org_slug=request.org.slug)
    page.refresh_from_db()
    context = {
        "form": form,
        "page": page,
        "rows": _rows(request),
        "can_setup": request.membership.can(SETUP),
        "places": publishing.destinations(page),
        "subscribe_url": statuspage.subscribe_url(page),
        "counts": {
            "confirmed": subscribers.active(request.org).count(),
            "waiting": Subscriber.objects.filter(
                org=request.org, confirmed_at__isnull=True, unsubscribed_at=None
            ).count(),
        },
        "secret_set": bool(page.s3_secret_key_sealed),
    }
    return render(
        request, "comms/status/settings.html", context, status=400 if form.errors else 200
    )


@org_view(SETUP)
@require_POST
def status_publish(request: OrgRequest) -> HttpResponse:
    """Publish now, in the request: the person sees at once whether it worked."""
    result = publishing.publish(request.org)
    if result.ok:
        messages.success(request, "Published to " + ", ".join(result.places) + ".")
    else:
        messages.error(request, "Not published: " + "; ".join(result.errors))
    return redirect("comms:status", org_slug=request.org.slug)


@org_view()
@require_GET
def status_preview(request: OrgRequest) -> HttpResponse:
    exercise = request.GET.get("exercise") == "1"
    data = statuspage.summary(request.org, exercise=exercise)
    response = HttpResponse(statuspage.render_html(request.org, data))
    response["Cache-Control"] = "no-store"
    return response


@org_view()
@require_GET
def status_summary(request: OrgRequest) -> HttpResponse:
    exercise = request.GET.get("exercise") == "1"
    data = statuspage.summary(request.org, exercise=exercise)
    return HttpResponse(statuspage.summary_json(data), content_type="application/json")


@org_view()
@require_http_methods(["GET", "POST"])
def status_subscribers(request: OrgRequest) -> HttpResponse:
    if request.method == "POST":
        from fallback.comms.views import _need

        _need(request, SEND)
        found = get_for_org_or_404(
            Subscriber.objects.select_related("org"), request.org, pk=request.POST.get("remove")
        )
        subscribers.unsubscribe(found, by_staff=True)
        messages.success(request, f"{found.email} will get no more updates.")
        return redirect("comms:status-subscribers", org_slug=request.org.slug)
    rows = Subscriber.objects.filter(org=request.org).prefetch_related("systems")
    context = {"rows": rows, "can_send": request.membership.can(SEND)}
    return render(request, "comms/status/subscribers.html", context)


@org_view(SEND)
@require_POST
def status_update(request: OrgRequest, incident_id: int) -> HttpResponse:
    """Post an update of an incident to the status page (and its subscribers)."""
    incident = get_for_org_or_404(
        Incident.objects.select_related("org"), request.org, pk=incident_id
    )
    form = UpdateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        notice = None
        if request.POST.get("notice"):
            notice = Notice.objects.filter(
                org=request.org, incident=incident, pk=request.POST["notice"]
            ).first()
        try:
            update, created = statuspage.post_update(
                incident,
                data["status"],
                data["body"],
                request.user,
                request_key=data["request_key"] or "",
                from_notice=notice,
            )
        except statuspage.StatusPageProblem as exc:
            for _, message in exc.errors:
                messages.error(request, message)
        else:
            if created:
                sent = update.notice.counts.get("queued", 0) if update.notice else 0
                drill = " (a drill: not on the public page)" if update.is_exercise else ""
                messages.success(
                    request,
                    f"Posted to the status page{drill}; {sent} subscriber email(s) in the outbox.",
                )
    else:
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form.fields[field].label if field in form.fields else ''}: {errors[0]}"
            )
    return redirect("comms:incident", org_slug=request.org.slug, incident_id=incident.pk)


def incident_context(incident: Incident, notice: Notice | None = None) -> dict[str, Any]:
    """For the incident's "Tell people" page (and a notice's page): the update form and the
    updates posted so far."""
    initial: dict[str, Any] = {"status": statuspage.default_status(incident)}
    if notice is not None:
        # The notice's first part as a customer reads it (its variables filled in).
        values = notices.values(notice, name="everyone")
        initial["body"] = rendering.render(notice.notify, values).text.strip()
    return {
        "update_form": UpdateForm(initial=initial),
        "status_updates": list(StatusUpdate.objects.filter(incident=incident)),
    }
