from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fallback import __version__
from fallback.accounts.access import org_view
from fallback.accounts.models import Membership
from fallback.accounts.scoping import get_for_org_or_404
from fallback.audit.models import AuditEvent
from fallback.front import audit_display
from fallback.front import dashboard as dashboard_data
from fallback.front.http import OrgRequest, UserRequest

AUDIT_PAGE_SIZE = 50


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For monitors of Fallback itself: no login, 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "error",
            "database": database,
            "version": __version__,
        },
        status=status,
    )


@login_required
@require_GET
def home(request: UserRequest) -> HttpResponse:
    """One organisation: straight to it. Several: choose (the bookkeeper's console)."""
    memberships = list(
        Membership.objects.filter(user=request.user).select_related("org").order_by("org__name")
    )
    if len(memberships) == 1:
        return redirect("front:dashboard", org_slug=memberships[0].org.slug)
    return render(request, "front/home.html", {"memberships": memberships})


@org_view()
@require_GET
def dashboard(request: OrgRequest) -> HttpResponse:
    return render(
        request, "front/dashboard.html", dashboard_data.context(request.membership, request.user)
    )


@org_view()
@require_GET
def audit_list(request: OrgRequest) -> HttpResponse:
    action = request.GET.get("action", "").strip()[:64]
    paginator = Paginator(audit_display.events_for(request.org, action), AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "action": action,
        "action_choices": audit_display.action_choices(request.org),
    }
    # htmx "Show older events" appends the next page's rows in place.
    if request.htmx:
        return render(request, "front/_audit_rows.html", context)
    return render(request, "front/audit_list.html", context)


@org_view()
@require_GET
def audit_event(request: OrgRequest, event_id: int) -> HttpResponse:
    event = get_for_org_or_404(AuditEvent.objects.select_related("actor"), request.org, pk=event_id)
    return render(
        request,
        "front/audit_event.html",
        {"event": event, "changes": audit_display.changes_of(event)},
    )
