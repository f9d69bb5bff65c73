"""Public pages (no login): the status page as Fallback serves it, the subscribe form, and
the confirm and unsubscribe links of the emails.

Links in emails only show a page with one button: mail scanners that open every link must
not confirm or unsubscribe anyone. Mail programs' one-click unsubscribe (RFC 8058) POSTs to
the same address, with no session and no CSRF token — the signed token is the proof.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from fallback.accounts.models import Organisation
from fallback.comms import statuspage, subscribers
from fallback.comms.models import StatusComponent
from fallback.comms.status_forms import SubscribeForm


def _org(org_slug: str, *, published: bool = False) -> Organisation:
    """The organisation; `published`: only if it shows systems on a status page. Any other is
    a 404 the same as an unknown name, so the public cannot find out which organisations
    exist here."""
    found = Organisation.objects.filter(slug=org_slug)
    if published:
        found = found.filter(pk__in=StatusComponent.objects.values("org_id"))
    org = found.first()
    if org is None:
        raise Http404("No such status page")
    return org


def _context(org: Organisation) -> dict[str, object]:
    return {"status_org": org, "title": statuspage.title_of(statuspage.page_for(org))}


def _asker(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _base(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@require_GET
def public_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = _org(org_slug, published=True)
    response = HttpResponse(statuspage.render_html(org, statuspage.summary(org)))
    response["Cache-Control"] = "public, max-age=30"
    return response


@require_GET
def public_summary(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = _org(org_slug, published=True)
    data = statuspage.summary_json(statuspage.summary(org))
    response = HttpResponse(data, content_type="application/json")
    response["Cache-Control"] = "public, max-age=30"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = _org(org_slug, published=True)
    page = statuspage.page_for(org)
    shown = [(c.system_id, c.name) for c in statuspage.components(org)]
    form = SubscribeForm(request.POST or None, shown=shown)
    status = 200
    context = {"status_org": org, "title": statuspage.title_of(page), "form": form, "page": page}
    if not page.allow_subscribers:
        return render(request, "comms/status/subscribe.html", context, status=404)
    if request.method == "POST":
        if form.is_valid():
            try:
                subscribers.subscribe(
                    org,
                    form.cleaned_data["email"],
                    form.chosen(),
                    asker=_asker(request),
                    links_base=_base(request),
                )
            except subscribers.Throttled as exc:
                form.add_error(None, str(exc))
                status = 429
            except subscribers.SubscribeProblem as exc:
                for field, message in exc.errors:
                    form.add_error(field if field in form.fields else None, message)
                status = 400
            else:
                context["done"] = form.cleaned_data["email"]
        else:
            status = 400
    return render(request, "comms/status/subscribe.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
    org = _org(org_slug)
    context = _context(org)
    try:
        if request.method == "POST":
            context["confirmed"] = subscribers.confirm(org, token)
        else:
            subscribers._read(org, token, "confirm", None)  # a bad link says so at once
    except subscribers.BadLink as exc:
        context["problem"] = str(exc)
        return render(request, "comms/status/confirm.html", context, status=400)
    return render(request, "comms/status/confirm.html", context)


@csrf_exempt  # the signed token is the proof; RFC 8058 posts come with no session
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
    org = _org(org_slug)
    context = _context(org)
    try:
        sub = subscribers.unsubscribe_token(org, token)
    except subscribers.BadLink as exc:
        context["problem"] = str(exc)
        return render(request, "comms/status/unsubscribe.html", context, status=400)
    context["subscriber"] = sub
    if request.method == "POST":
        subscribers.unsubscribe(sub)
        context["done"] = True
    return render(request, "comms/status/unsubscribe.html", context)
