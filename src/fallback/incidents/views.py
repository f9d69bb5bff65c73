"""Pages of incidents (outages and drills) and of the alert channels. Thin: every change is
one of fallback.incidents.lifecycle's (or channels') functions."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view, require
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import OrgRequest
from fallback.incidents import channels, lifecycle
from fallback.incidents.forms import ChannelForm, DeclareForm, NoteForm, ResolveForm
from fallback.incidents.models import AlertChannel, AlertDelivery, AlertEvent, Incident, Status
from fallback.monitor.models import System

HISTORY_PAGE = 30
DELIVERIES_PAGE = 50
TIMELINE_POLL_SECONDS = 15


def _incident(request: OrgRequest, incident_id: int) -> Incident:
    return get_for_org_or_404(Incident.objects.select_related("org"), request.org, pk=incident_id)


@org_view()
@require_GET
def incident_list(request: OrgRequest) -> HttpResponse:
    incidents = Incident.objects.filter(org=request.org).prefetch_related("systems")
    open_ones = list(incidents.exclude(status=Status.RESOLVED).order_by("-opened_at"))
    history = Paginator(
        incidents.filter(status=Status.RESOLVED).order_by("-opened_at"), HISTORY_PAGE
    ).get_page(request.GET.get("page"))
    context = {
        "open_incidents": open_ones,
        "history": history,
        "can_declare": request.membership.can(Capability.DECLARE_OUTAGE),
    }
    return render(request, "incidents/list.html", context)


@org_view()
@require_GET
def incident_detail(request: OrgRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    context = {
        "incident": incident,
        "systems": list(incident.systems.order_by("name")),
        "timeline": list(incident.timeline.select_related("actor").order_by("at", "id")),
        "can_declare": request.membership.can(Capability.DECLARE_OUTAGE),
        "can_claim": request.membership.can(Capability.EDIT_SETUP),  # SLA credit
        "note_form": NoteForm(),
        "resolve_form": ResolveForm(),
        "poll_seconds": TIMELINE_POLL_SECONDS,
    }
    if request.htmx:
        # The page refreshes its status and its timeline, never the forms being typed in.
        part = "timeline" if request.GET.get("part") == "timeline" else "status_card"
        return render(request, f"incidents/_{part}.html", context)
    return render(request, "incidents/detail.html", context)


def _done(request: OrgRequest, incident: Incident) -> HttpResponse:
    return redirect("incidents:detail", org_slug=request.org.slug, incident_id=incident.pk)


@org_view(Capability.DECLARE_OUTAGE)
@require_POST
def incident_confirm(request: OrgRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    try:
        lifecycle.confirm(incident, request.user)
    except lifecycle.IncidentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "Outage confirmed: it is declared, and the people on duty are alerted."
        )
    return _done(request, incident)


@org_view(Capability.DECLARE_OUTAGE)
@require_POST
def incident_resolve(request: OrgRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return _done(request, incident)
    try:
        lifecycle.resolve(incident, request.user, note=form.cleaned_data["note"])
    except lifecycle.IncidentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Resolved: fallback mode is over for this incident.")
    return _done(request, incident)


@org_view(Capability.DECLARE_OUTAGE)
@require_POST
def incident_note(request: OrgRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.add_note(incident, request.user, form.cleaned_data["text"])
        except lifecycle.IncidentError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, "Note added to the timeline.")
            return _done(request, incident)
    context = {
        "incident": incident,
        "systems": list(incident.systems.order_by("name")),
        "timeline": list(incident.timeline.order_by("at", "id")),
        "can_declare": True,
        "note_form": form,
        "resolve_form": ResolveForm(),
        "poll_seconds": TIMELINE_POLL_SECONDS,
    }
    return render(request, "incidents/detail.html", context, status=400)


@org_view(Capability.DECLARE_OUTAGE)
@require_http_methods(["GET", "POST"])
def incident_declare(request: OrgRequest) -> HttpResponse:
    initial = {}
    preset = request.GET.get("system")
    if preset:
        system = System.objects.filter(org=request.org, slug=preset).first()
        if system is not None:
            initial = {"systems": [system.pk], "title": f"{system.name} is unavailable"}
    form = DeclareForm(request.POST or None, org=request.org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = lifecycle.declare_manually(
                request.org,
                data["systems"],
                data["title"],
                request.user,
                is_exercise=data["is_exercise"],
                summary=data["summary"],
            )
        except lifecycle.IncidentError as exc:
            form.add_error(None, str(exc))
        else:
            what = "Drill" if incident.is_exercise else "Outage"
            messages.success(request, f"{what} declared. The people on duty are being alerted.")
            return _done(request, incident)
    return render(request, "incidents/declare.html", {"form": form})


# -------------------------------------------------------------- alert channels


@org_view()
@require_http_methods(["GET", "POST"])
def channel_list(request: OrgRequest) -> HttpResponse:
    can_edit = request.membership.can(Capability.EDIT_SETUP)
    form = ChannelForm.for_channel(None)
    if request.method == "POST":
        require(request.membership, Capability.EDIT_SETUP)
        form = ChannelForm.for_channel(None, data=request.POST)
        if form.is_valid():
            try:
                channel = channels.create_channel(request.org, **form.cleaned_data)
            except channels.ChannelInvalid as exc:
                for name, message in exc.errors:
                    form.add_error(name if name in form.fields else None, message)
            else:
                messages.success(
                    request, f"Channel “{channel.name}” added. Send a test to make sure it works."
                )
                return redirect("incidents:channels", org_slug=request.org.slug)
    labels = dict(AlertEvent.choices)
    rows = [
        {
            "channel": c,
            "masked": channels.masked(c.url),
            "events": ", ".join(str(labels.get(e, e)) for e in c.events),
        }
        for c in AlertChannel.objects.filter(org=request.org)
    ]
    recent = AlertDelivery.objects.filter(org=request.org).select_related("channel", "incident")
    context = {
        "rows": rows,
        "form": form,
        "can_edit": can_edit,
        "deliveries": list(recent[:10]),
    }
    return render(request, "incidents/channels.html", context)


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def channel_edit(request: OrgRequest, channel_id: int) -> HttpResponse:
    channel = get_for_org_or_404(
        AlertChannel.objects.select_related("org"), request.org, pk=channel_id
    )
    form = ChannelForm.for_channel(channel, data=request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            channels.delete_channel(channel)
            messages.success(request, f"Channel “{channel.name}” removed.")
            return redirect("incidents:channels", org_slug=request.org.slug)
        if form.is_valid():
            try:
                changes = channels.update_channel(channel, **form.cleaned_data)
            except channels.ChannelInvalid as exc:
                for name, message in exc.errors:
                    form.add_error(name if name in form.fields else None, message)
            else:
                messages.success(request, "Saved." if changes else "Nothing to change.")
                return redirect("incidents:channels", org_slug=request.org.slug)
    return render(request, "incidents/channel_form.html", {"form": form, "channel": channel})


@org_view(Capability.EDIT_SETUP)
@require_POST
def channel_test(request: OrgRequest, channel_id: int) -> HttpResponse:
    channel = get_for_org_or_404(
        AlertChannel.objects.select_related("org"), request.org, pk=channel_id
    )
    error = channels.send_test(channel)
    if error is None:
        messages.success(request, f"Test alert sent to “{channel.name}”. Check that it arrived.")
    else:
        messages.error(request, f"The test alert to “{channel.name}” failed: {error}")
    return redirect("incidents:channels", org_slug=request.org.slug)


@org_view()
@require_GET
def delivery_log(request: OrgRequest) -> HttpResponse:
    deliveries = AlertDelivery.objects.filter(org=request.org).select_related("channel", "incident")
    page = Paginator(deliveries.order_by("-created_at", "-pk"), DELIVERIES_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "incidents/deliveries.html", {"page": page})
