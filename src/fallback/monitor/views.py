"""Pages of the systems an organisation depends on: the board, a system, its checks, the
vendor report. Thin: the rules are in monitor.editing, the sums in monitor.availability."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import OrgRequest
from fallback.incidents.models import Incident, Status
from fallback.monitor import availability, charts, editing, kinds
from fallback.monitor.forms import KIND_HELP, CheckForm, MaintenanceForm, SystemForm
from fallback.monitor.models import (
    Check,
    CheckResult,
    Criticality,
    MaintenanceWindow,
    State,
    StateChange,
    System,
    SystemKind,
)
from fallback.simulator import control as simulator

BOARD_POLL_SECONDS = 10
UPTIME_DAYS = 90
RECENT_RESULTS = 20
RECENT_CHANGES = 15

# Worst first on the board: what needs attention is at the top.
SEVERITY = {
    State.DOWN: 0,
    State.DEGRADED: 1,
    State.UNKNOWN: 2,
    State.MAINTENANCE: 3,
    State.PAUSED: 4,
    State.UP: 5,
}
CRITICALITY_RANK = {c.value: n for n, c in enumerate(Criticality)}

# Neutral targets for an internet link's canaries: large public DNS services' addresses,
# which answer on port 53 and are not any vendor a business depends on.
RECOMMENDED_CANARIES = [
    ("Cloudflare DNS (1.1.1.1)", {"host": "1.1.1.1", "port": 53}),
    ("Google DNS (8.8.8.8)", {"host": "8.8.8.8", "port": 53}),
    ("Quad9 DNS (9.9.9.9)", {"host": "9.9.9.9", "port": 53}),
]


def _system(request: OrgRequest, slug: str) -> System:
    return get_for_org_or_404(System.objects.select_related("org"), request.org, slug=slug)


def _check(system: System, check_id: int) -> Check:
    check = get_for_org_or_404(
        Check.objects.select_related("system", "system__org"), system.org, pk=check_id
    )
    if check.system_id != system.pk:
        raise Http404("No such check here")
    return check


def _can(request: OrgRequest, capability: Capability) -> bool:
    return request.membership.can(capability)


# ----------------------------------------------------------------------- board


def board_rows(org_id: int) -> list[dict[str, Any]]:
    systems = list(
        System.objects.filter(org_id=org_id).annotate(last_check=Max("checks__last_run_at"))
    )
    systems.sort(
        key=lambda s: (
            SEVERITY.get(State(s.state), 9),
            CRITICALITY_RANK.get(s.criticality, 9),
            s.name.lower(),
        )
    )
    open_incidents = dict(
        Incident.objects.filter(org_id=org_id)
        .exclude(status=Status.RESOLVED)
        .values_list("systems", "pk")
    )
    return [{"system": s, "incident_id": open_incidents.get(s.pk)} for s in systems]


def _counts(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["system"].state] = counts.get(row["system"].state, 0) + 1
    return [
        (s.value, s.label, counts[s.value])
        for s in sorted(State, key=lambda s: SEVERITY.get(s, 9))
        if s in counts
    ]


@org_view()
@require_GET
def board(request: OrgRequest) -> HttpResponse:
    rows = board_rows(request.org.pk)
    context = {
        "rows": rows,
        "counts": _counts(rows),
        "poll_seconds": BOARD_POLL_SECONDS,
        "can_edit": _can(request, Capability.EDIT_SETUP),
        "can_declare": _can(request, Capability.DECLARE_OUTAGE),
        "now": timezone.now(),
    }
    if request.htmx:
        return render(request, "monitor/_board.html", context)
    return render(request, "monitor/board.html", context)


@org_view()
@require_GET
def card(request: OrgRequest) -> HttpResponse:
    """The dashboard's systems card, loaded (and refreshed) by htmx."""
    rows = board_rows(request.org.pk)
    attention = [r for r in rows if r["system"].state in (State.DOWN, State.DEGRADED)]
    incidents = Incident.objects.filter(org=request.org).exclude(status=Status.RESOLVED)
    context = {
        "rows": rows,
        "counts": _counts(rows),
        "attention": attention,
        "open_incidents": list(incidents.order_by("-opened_at")[:3]),
        "open_count": incidents.count(),
    }
    return render(request, "monitor/_card_body.html", context)


# --------------------------------------------------------------------- systems


def _apply_errors(form: Any, errors: list[tuple[str, str]]) -> None:
    for name, message in errors:
        form.add_error(name if name in form.fields else None, message)


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def system_create(request: OrgRequest) -> HttpResponse:
    form = SystemForm.for_system(None, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            system = editing.create_system(request.org, **form.cleaned_data)
        except editing.SetupInvalid as exc:
            _apply_errors(form, exc.errors)
        else:
            messages.success(
                request, f"{system.name} is added. Now add a check, so Fallback can watch it."
            )
            return redirect("monitor:check_create", org_slug=request.org.slug, slug=system.slug)
    return render(request, "monitor/system_form.html", {"form": form, "system": None})


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def system_edit(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    form = SystemForm.for_system(system, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changes = editing.update_system(system, **form.cleaned_data)
        except editing.SetupInvalid as exc:
            _apply_errors(form, exc.errors)
        else:
            messages.success(request, "Saved." if changes else "Nothing to change.")
            return redirect("monitor:system", org_slug=request.org.slug, slug=system.slug)
    return render(request, "monitor/system_form.html", {"form": form, "system": system})


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def system_delete(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    if request.method == "POST":
        name = system.name
        editing.delete_system(system)
        messages.success(request, f"{name} is removed, with its checks and history.")
        return redirect("monitor:board", org_slug=request.org.slug)
    return render(
        request,
        "monitor/confirm_delete.html",
        {
            "what": system.name,
            "consequence": "Its checks, results, state history and maintenance windows go "
            "with it. Incidents stay. This cannot be undone.",
            "back": reverse("monitor:system", args=[request.org.slug, system.slug]),
        },
    )


@org_view(Capability.EDIT_SETUP)
@require_POST
def system_pause(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    pause = request.POST.get("action") == "pause"
    if editing.set_paused(system, pause):
        if pause:
            messages.success(request, f"{system.name} is paused: no checks, no alerts.")
        else:
            messages.success(request, f"{system.name} is watched again.")
    return redirect("monitor:system", org_slug=request.org.slug, slug=system.slug)


def _simulator_url(system: System) -> str | None:
    """The demo's simulator, when it is running and this system watches it."""
    url = simulator.registered_url(Path(settings.FALLBACK_HOME))
    if url is None:
        return None
    watched = any(
        isinstance(c.config, dict) and str(c.config.get("url", "")).startswith(url)
        for c in system.checks.all()
    )
    return url if watched else None


@org_view()
@require_GET
def system_detail(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    now = timezone.now()
    checks = list(system.checks.all())
    for check in checks:
        try:
            check.kind_label = kinds.get(check.kind).label  # type: ignore[attr-defined]
        except KeyError:
            check.kind_label = check.kind  # type: ignore[attr-defined]
        if check.push_token:
            check.push_url = request.build_absolute_uri(  # type: ignore[attr-defined]
                reverse("api:push", args=[check.push_token])
            )
    days = availability.daily(system, UPTIME_DAYS, now)
    last_30 = days[-30:]
    context = {
        "system": system,
        "sla": availability.percent_text(system.sla_percent),
        "checks": checks,
        "can_edit": _can(request, Capability.EDIT_SETUP),
        "can_declare": _can(request, Capability.DECLARE_OUTAGE),
        "bars": charts.uptime_bars(days),
        "bar_width": charts.BAR_WIDTH,
        "bars_width": UPTIME_DAYS * charts.BAR_STEP,
        "bar_height": charts.BAR_HEIGHT,
        "uptime_90": availability.overall(days),
        "uptime_30": availability.overall(last_30),
        "bad_days": [d for d in reversed(days) if d.measure and d.measure.downtime],
        "series": charts.response_series([c for c in checks if c.enabled], now),
        "results": list(
            CheckResult.objects.filter(org=request.org, for_check__system=system)
            .select_related("for_check")
            .order_by("-at")[:RECENT_RESULTS]
        ),
        "changes": list(
            StateChange.objects.filter(org=request.org, system=system).order_by("-at", "-id")[
                :RECENT_CHANGES
            ]
        ),
        "windows": MaintenanceWindow.objects.filter(org=request.org, system=system),
        "org_windows": MaintenanceWindow.objects.filter(org=request.org, system__isnull=True),
        "maintenance_form": MaintenanceForm(time_zone=request.org.time_zone, auto_id="mw_%s"),
        "incidents": list(system.incidents.order_by("-opened_at")[:10]),
        "open_incident": system.incidents.exclude(status=Status.RESOLVED).first(),
        "simulator_url": _simulator_url(system),
        "is_internet": system.kind == SystemKind.INTERNET,
        "has_canaries": any(c.is_canary for c in checks),
        "now": now,
    }
    return render(request, "monitor/system.html", context)


# ---------------------------------------------------------------------- checks


def _kind_or_404(key: str) -> kinds.CheckKind[Any]:
    try:
        return kinds.get(key)
    except KeyError:
        raise Http404("No such kind of check") from None


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def check_create(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    key = request.GET.get("kind") or request.POST.get("kind")
    if not key:
        choices = [
            {"key": k.key, "label": k.label, "help": KIND_HELP.get(k.key, "")}
            for k in kinds.all_kinds()
        ]
        return render(request, "monitor/check_kind.html", {"system": system, "choices": choices})
    kind = _kind_or_404(key)
    form = CheckForm.for_check(kind, system, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if not form.errors:
            try:
                check = editing.create_check(system, kind=kind.key, **values)
            except editing.SetupInvalid as exc:
                form.add_setup_errors(exc.errors)
            else:
                messages.success(request, f"The check “{check.name}” is added; it runs shortly.")
                return redirect("monitor:system", org_slug=request.org.slug, slug=system.slug)
    return render(
        request,
        "monitor/check_form.html",
        {"system": system, "form": form, "kind": kind, "check": None},
    )


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def check_edit(request: OrgRequest, slug: str, check_id: int) -> HttpResponse:
    system = _system(request, slug)
    check = _check(system, check_id)
    kind = _kind_or_404(check.kind)
    form = CheckForm.for_check(kind, system, check, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if not form.errors:
            try:
                changes = editing.update_check(check, **values)
            except editing.SetupInvalid as exc:
                form.add_setup_errors(exc.errors)
            else:
                messages.success(request, "Saved." if changes else "Nothing to change.")
                return redirect("monitor:system", org_slug=request.org.slug, slug=system.slug)
    push_url = (
        request.build_absolute_uri(reverse("api:push", args=[check.push_token]))
        if check.push_token
        else ""
    )
    return render(
        request,
        "monitor/check_form.html",
        {"system": system, "form": form, "kind": kind, "check": check, "push_url": push_url},
    )


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def check_delete(request: OrgRequest, slug: str, check_id: int) -> HttpResponse:
    system = _system(request, slug)
    check = _check(system, check_id)
    if request.method == "POST":
        editing.delete_check(check)
        messages.success(request, f"The check “{check.name}” is removed.")
        return redirect("monitor:system", org_slug=request.org.slug, slug=system.slug)
    return render(
        request,
        "monitor/confirm_delete.html",
        {
            "what": f"the check “{check.name}” of {system.name}",
            "consequence": "Its recent results and response times go with it; the system's "
            "state history stays.",
            "back": reverse("monitor:system", args=[request.org.slug, system.slug]),
        },
    )


@org_view(Capability.EDIT_SETUP)
@require_POST
def check_new_token(request: OrgRequest, slug: str, check_id: int) -> HttpResponse:
    system = _system(request, slug)
    check = _check(system, check_id)
    if not check.push_token:
        raise Http404("This check has no push address")
    editing.new_push_token(check)
    messages.success(request, "The push address is replaced: update your script or device.")
    return redirect("monitor:check_edit", org_slug=request.org.slug, slug=slug, check_id=check.pk)


@org_view(Capability.EDIT_SETUP)
@require_POST
def add_canaries(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    if system.kind != SystemKind.INTERNET:
        messages.error(request, editing.CANARY_RULE)
        return redirect("monitor:system", org_slug=request.org.slug, slug=slug)
    added = 0
    existing = set(system.checks.values_list("name", flat=True))
    for name, config in RECOMMENDED_CANARIES:
        if name in existing:
            continue
        editing.create_check(
            system, name=name, kind="tcp", config=config, is_canary=True, interval_seconds=60
        )
        added += 1
    messages.success(
        request,
        f"{added} canary check(s) added." if added else "The recommended canaries are there.",
    )
    return redirect("monitor:system", org_slug=request.org.slug, slug=slug)


# ----------------------------------------------------------------- maintenance


@org_view(Capability.EDIT_SETUP)
@require_POST
def maintenance_add(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    form = MaintenanceForm(request.POST, time_zone=request.org.time_zone, auto_id="mw_%s")
    if form.is_valid():
        try:
            editing.add_maintenance(request.org, system, **form.values())
        except editing.SetupInvalid as exc:
            form.add_setup_errors(exc.errors)
        else:
            messages.success(request, "Maintenance window added: no alerts during it.")
            return redirect("monitor:system", org_slug=request.org.slug, slug=slug)
    return render(request, "monitor/maintenance_form.html", {"system": system, "form": form})


@org_view(Capability.EDIT_SETUP)
@require_POST
def maintenance_delete(request: OrgRequest, slug: str, window_id: int) -> HttpResponse:
    system = _system(request, slug)
    window = get_for_org_or_404(MaintenanceWindow.objects.all(), request.org, pk=window_id)
    if window.system_id != system.pk:
        raise Http404("No such window here")
    editing.delete_maintenance(window)
    messages.success(request, f"The maintenance window “{window.title}” is removed.")
    return redirect("monitor:system", org_slug=request.org.slug, slug=slug)


# ------------------------------------------------------------------- the demo


@org_view(Capability.EDIT_SETUP)
@require_POST
def simulator_switch(request: OrgRequest, slug: str) -> HttpResponse:
    system = _system(request, slug)
    url = _simulator_url(system)
    mode = request.POST.get("mode", "")
    if url is None:
        messages.error(request, "The demo's simulated service is not running.")
    else:
        try:
            simulator.set_mode(url, mode)
        except (ValueError, simulator.SimulatorUnreachable) as exc:
            messages.error(request, str(exc))
        else:
            text = {
                "down": "The simulated service is down now. Watch this page: after a few "
                "failed checks the system goes down, and after the trigger time an outage "
                "is declared.",
                "up": "The simulated service is back. After two good checks the system is up.",
                "slow": "The simulated service answers slowly now: the system will be degraded.",
            }.get(mode, "Done.")
            messages.success(request, text)
    return redirect("monitor:system", org_slug=request.org.slug, slug=slug)


# -------------------------------------------------------------- vendor report


def _month(request: OrgRequest) -> date:
    text = request.GET.get("month", "").strip()
    if text:
        try:
            return availability.parse_month(text)
        except ValueError:
            messages.error(request, "The month must be written YYYY-MM, e.g. 2025-03.")
    now = timezone.now().astimezone(availability.zone(request.org))
    return now.date().replace(day=1)


@org_view()
@require_GET
def report(request: OrgRequest) -> HttpResponse:
    month = _month(request)
    now = timezone.now()
    reports = availability.org_report(request.org, month, now)
    current = now.astimezone(availability.zone(request.org)).date().replace(day=1)
    months = []
    m = current
    for _ in range(13):
        months.append(m)
        m = availability.previous_month(m)
    context = {
        "month": month,
        "reports": reports,
        "months": months,
        "previous": availability.previous_month(month),
        "next": (month + timedelta(days=32)).replace(day=1) if month < current else None,
    }
    return render(request, "monitor/report.html", context)


@org_view()
@require_GET
def report_csv(request: OrgRequest) -> HttpResponse:
    month = _month(request)
    reports = availability.org_report(request.org, month, timezone.now())
    outages = request.GET.get("detail") == "outages"
    text = availability.outages_csv(reports) if outages else availability.summary_csv(reports)
    name = f"{request.org.slug}-{'outages' if outages else 'availability'}-{month:%Y-%m}.csv"
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
