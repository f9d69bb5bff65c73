"""Pages for telling people: an incident's "Tell people" page, a notice with its five parts,
the checker's findings (live, as they are typed), who will be told, a preview, sending and
its progress; the call list; the outbox; and the comms settings.

Thin: the rules are in notices, outbox, preferences and call_list.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.audit.trail import record as audit
from fallback.comms import (
    audiences,
    call_list,
    checker,
    defaults,
    mail,
    notices,
    outbox,
    preferences,
    status_views,
    subscribers,
)
from fallback.comms.forms import (
    CallForm,
    ChannelForm,
    ComposeForm,
    KeyAccountForm,
    NoticeForm,
    OptOutForm,
    SettingsForm,
    TestMailForm,
    WordsForm,
    new_key,
)
from fallback.comms.models import (
    CallOutcome,
    Channel,
    ItemState,
    KeyAccount,
    MessageTemplate,
    Notice,
    NoticeStatus,
    OptOut,
    OutboxItem,
    Phase,
)
from fallback.comms.rendering import PARTS, VARIABLES
from fallback.front.http import OrgRequest, file_response
from fallback.incidents.models import Incident, Status

SEND = Capability.SEND_NOTICES
SETUP = Capability.EDIT_SETUP
POLL_SECONDS = 3
ITEMS_SHOWN = 200


def _can(request: OrgRequest, capability: Capability) -> bool:
    return request.membership.can(capability)


def _need(request: OrgRequest, capability: Capability) -> None:
    if not _can(request, capability):
        raise PermissionDenied(
            f"Your role ({request.membership.get_role_display()}) does not allow this."
        )


def _notice(request: OrgRequest, pk: int) -> Notice:
    return get_for_org_or_404(Notice.objects.select_related("incident", "org"), request.org, pk=pk)


def _to_notice(notice: Notice) -> HttpResponse:
    return redirect("comms:notice", org_slug=notice.org.slug, pk=notice.pk)


def _context(request: OrgRequest, **extra: Any) -> dict[str, Any]:
    context = {
        "can_send": _can(request, SEND),
        "can_setup": _can(request, SETUP),
        "can_call": _can(request, Capability.WORK_DESK),
    }
    context.update(extra)
    return context


# ------------------------------------------------------------------ notices


@org_view()
@require_GET
def index(request: OrgRequest) -> HttpResponse:
    open_incidents = list(
        Incident.objects.filter(org=request.org)
        .exclude(status=Status.RESOLVED)
        .order_by("-opened_at")
    )
    recent = list(
        Notice.objects.filter(org=request.org)
        .select_related("incident")
        .order_by("-created_at", "-pk")[:30]
    )
    rows = [
        {
            "notice": n,
            "progress": outbox.progress(notice=n) if n.status != NoticeStatus.DRAFT else None,
        }
        for n in recent
    ]
    return render(
        request,
        "comms/index.html",
        _context(
            request, open_incidents=open_incidents, rows=rows, labels=dict(audiences.choices())
        ),
    )


@org_view()
@require_http_methods(["GET", "POST"])
def incident(request: OrgRequest, incident_id: int) -> HttpResponse:
    found = get_for_org_or_404(Incident.objects.select_related("org"), request.org, pk=incident_id)
    form = ComposeForm(
        request.POST or None, initial={"audience": "affected_customers", "phase": _phase(found)}
    )
    if request.method == "POST":
        _need(request, SEND)
        if form.is_valid():
            data = form.cleaned_data
            try:
                notice, _ = notices.create(
                    found,
                    data["audience"],
                    data["phase"],
                    data["channels"],
                    by=request.user,
                    request_key=data["request_key"] or None,
                )
            except (notices.NoticeError, ValueError) as exc:
                form.add_error(None, str(exc))
            else:
                return _to_notice(notice)
    rows = [
        {
            "notice": n,
            "progress": outbox.progress(notice=n) if n.status != NoticeStatus.DRAFT else None,
        }
        for n in notices.for_incident(request.org, found)
    ]
    context = _context(
        request,
        incident=found,
        form=form,
        rows=rows,
        labels=dict(audiences.choices()),
        **status_views.incident_context(found),
    )
    return render(request, "comms/incident.html", context)


def _phase(incident: Incident) -> str:
    if incident.status == Status.RESOLVED:
        return Phase.FOLLOW_UP
    if incident.status == Status.RECOVERING:
        return Phase.RESOLVED
    told = Notice.objects.filter(org=incident.org, incident=incident).exclude(
        status=NoticeStatus.DRAFT
    )
    # The status page's emails to its subscribers are not a first notice to anyone else.
    if told.exclude(audience=subscribers.AUDIENCE).exists():
        return Phase.UPDATE
    return Phase.FIRST_NOTICE


def _notice_form(notice: Notice, data: Any = None) -> NoticeForm:
    initial = {
        name: getattr(notice, name)
        for name in ("subject", *PARTS, "expected_return", "next_update_by")
    }
    initial["channels"] = list(notice.channels)
    return NoticeForm(data, initial=initial)


def _checked(notice: Notice) -> dict[str, Any]:
    settings = preferences.settings_for(notice.org)
    found = notices.findings(notice, settings)
    open_keys = {f.key for f in checker.blocking(found, notice.acknowledged)}
    return {
        "findings": found,
        "open_keys": open_keys,
        "blocked": bool(open_keys),
        "preview": notices.preview(notice, settings),
    }


def _notice_page(
    request: OrgRequest, notice: Notice, form: NoticeForm, status: int = 200
) -> HttpResponse:
    settings = preferences.settings_for(notice.org)
    context = _context(
        request,
        notice=notice,
        incident=notice.incident,
        form=form,
        audience_label=audiences.kind(notice.audience).label,
        selection=notices.selection(notice, settings),
        variables=VARIABLES,
        send_key=new_key(),
        mail_problem=preferences.mail_ready(settings) if "email" in notice.channels else None,
        poll_seconds=POLL_SECONDS,
        **_checked(notice),
        **status_views.incident_context(notice.incident, notice),
    )
    if notice.status != NoticeStatus.DRAFT:
        context.update(_progress_context(notice))
    return render(request, "comms/notice.html", context, status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def notice_view(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    if request.method == "POST":
        _need(request, SEND)
        form = _notice_form(notice, request.POST)
        if form.is_valid():
            try:
                notices.edit(notice, by=request.user, **form.cleaned_data)
            except notices.NoticeError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Saved. The checker's findings are below.")
                return _to_notice(notice)
        return _notice_page(request, notice, form, status=400)
    return _notice_page(request, notice, _notice_form(notice))


@org_view(SEND)
@require_POST
def notice_check(request: OrgRequest, pk: int) -> HttpResponse:
    """The findings and preview of the words as typed, not yet saved (htmx)."""
    notice = _notice(request, pk)
    form = _notice_form(notice, request.POST)
    form.is_valid()
    for name in ("subject", *PARTS, "expected_return", "next_update_by"):
        if name in form.cleaned_data:
            setattr(notice, name, form.cleaned_data[name])
    if "channels" in form.cleaned_data:
        notice.channels = list(form.cleaned_data["channels"])
    notice.acknowledged = [] if form.has_changed() else notice.acknowledged
    return render(
        request,
        "comms/_check.html",
        _context(request, notice=notice, live=True, **_checked(notice)),
    )


@org_view(SEND)
@require_POST
def notice_acknowledge(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    keys = request.POST.getlist("finding")
    if not keys:
        messages.error(request, "Tick the findings you have read and decided to send anyway.")
        return _to_notice(notice)
    try:
        notices.acknowledge(notice, keys, request.user)
    except notices.NoticeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Noted: those findings will not stop this notice.")
    return _to_notice(notice)


@org_view(SEND)
@require_POST
def notice_send(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    try:
        sent = notices.send(notice, request.user, send_key=request.POST.get("send_key", ""))
    except notices.NoticeBlocked as exc:
        messages.error(request, "Not sent: fix or acknowledge the findings first.")
        for finding in exc.findings[:5]:
            messages.error(request, f"{finding.part_label}: {finding.message}")
    except notices.NoticeError as exc:
        messages.error(request, str(exc))
    else:
        if sent.repeated:
            messages.info(request, "This notice was already sent; nothing more was sent.")
        elif sent.enqueued.is_exercise:
            messages.success(
                request,
                f"Exercise: {sent.enqueued.created} message(s) queued for the drill's test "
                "recipients only.",
            )
        else:
            messages.success(
                request, f"{sent.enqueued.created:,} message(s) queued. Progress below."
            )
    return _to_notice(notice)


def _progress_context(notice: Notice) -> dict[str, Any]:
    problems = OutboxItem.objects.filter(
        notice=notice, state__in=[ItemState.FAILED, ItemState.BOUNCED, ItemState.UNKNOWN]
    ).order_by("state", "address")
    return {
        "progress": outbox.progress(notice=notice),
        "problems": list(problems[:ITEMS_SHOWN]),
    }


@org_view()
@require_GET
@never_cache
def notice_progress(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    context = _context(
        request, notice=notice, poll_seconds=POLL_SECONDS, **_progress_context(notice)
    )
    return render(request, "comms/_progress.html", context)


@org_view(SEND)
@require_POST
def notice_stop(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    try:
        stopped = notices.stop(notice, request.user)
    except notices.NoticeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Stopped: {stopped:,} message(s) will not be sent.")
    return _to_notice(notice)


@org_view(SEND)
@require_POST
def notice_resend(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    state = request.POST.get("state", "")
    try:
        n = notices.resend(notice, [state], request.user)
    except notices.NoticeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{n:,} message(s) queued again.")
    return _to_notice(notice)


@org_view(SEND)
@require_POST
def notice_mark_sent(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    n = notices.mark_unknown_sent(notice, request.user)
    messages.success(request, f"{n:,} message(s) marked as sent.")
    return _to_notice(notice)


@org_view()
@require_GET
@never_cache
def card(request: OrgRequest) -> HttpResponse:
    """The dashboard card's body (htmx)."""
    drafts = Notice.objects.filter(org=request.org, status=NoticeStatus.DRAFT).count()
    context = {"progress": outbox.progress(request.org), "drafts": drafts}
    return render(request, "comms/_card_body.html", context)


# ------------------------------------------------------------------ the call list


@org_view()
@require_http_methods(["GET", "POST"])
def calls(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    form = CallForm(request.POST or None)
    if request.method == "POST":
        _need(request, Capability.WORK_DESK)
        if form.is_valid():
            data = form.cleaned_data
            try:
                call_list.record_call(
                    notice,
                    data["customer_key"],
                    data["outcome"],
                    spoke_to=data["spoke_to"],
                    notes=data["notes"],
                    by=request.user,
                    request_key=data["request_key"],
                )
            except call_list.CallProblem as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Call recorded.")
                return redirect("comms:calls", org_slug=request.org.slug, pk=notice.pk)
        else:
            messages.error(request, "Choose what happened on the call.")
    context = _context(
        request,
        notice=notice,
        incident=notice.incident,
        rows=call_list.rows(notice),
        script=call_list.script(notice),
        outcomes=CallOutcome.choices,
        request_key=new_key(),
    )
    return render(request, "comms/calls.html", context)


@org_view()
@require_GET
@never_cache
def calls_print(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    pdf_url = reverse("comms:calls-pdf", kwargs={"org_slug": request.org.slug, "pk": pk})
    return HttpResponse(call_list.call_list_html(notice, screen=True, pdf_url=pdf_url))


@org_view()
@require_GET
@never_cache
def calls_pdf(request: OrgRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    return file_response(call_list.call_list_pdf(notice), f"call-list-{notice.pk}.pdf")


# ------------------------------------------------------------------ the outbox


@org_view()
@require_GET
@never_cache
def outbox_view(request: OrgRequest) -> HttpResponse:
    sent = (
        Notice.objects.filter(org=request.org)
        .exclude(status=NoticeStatus.DRAFT)
        .order_by("-sent_at", "-pk")
    )
    rows = [
        {"notice": n, "progress": outbox.progress(notice=n)}
        for n in sent.select_related("incident")[:50]
    ]
    problems = (
        OutboxItem.objects.filter(
            org=request.org, state__in=[ItemState.FAILED, ItemState.BOUNCED, ItemState.UNKNOWN]
        )
        .select_related("notice")
        .order_by("-pk")
    )
    context = _context(
        request,
        total=outbox.progress(request.org),
        rows=rows,
        problems=list(problems[:ITEMS_SHOWN]),
        labels=dict(audiences.choices()),
        poll_seconds=POLL_SECONDS,
    )
    if request.htmx:
        return render(request, "comms/_outbox_body.html", context)
    return render(request, "comms/outbox.html", context)


# ------------------------------------------------------------------ settings


def _form_errors(form: Any, errors: list[tuple[str, str]]) -> None:
    for name, message in errors:
        form.add_error(name if name in form.fields else None, message)


@org_view()
@require_http_methods(["GET", "POST"])
def settings_view(request: OrgRequest) -> HttpResponse:
    settings = preferences.settings_for(request.org)
    form = SettingsForm(request.POST or None, instance=settings, org=request.org)
    test_form = TestMailForm(initial={"to": request.user.email})
    if request.method == "POST":
        _need(request, SETUP)
        if form.is_valid():
            data = dict(form.cleaned_data)
            password = data.pop("password") or None
            if data.pop("clear_password"):
                password = ""
            email_systems = list(data.pop("email_systems"))
            phone_systems = list(data.pop("phone_systems"))
            try:
                changes = preferences.update_settings(
                    request.org,
                    password=password,
                    email_systems=email_systems,
                    phone_systems=phone_systems,
                    **data,
                )
            except preferences.SetupProblem as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(request, "Saved." if changes else "Nothing to change.")
                return redirect("comms:settings", org_slug=request.org.slug)
    context = _context(
        request,
        form=form,
        test_form=test_form,
        password_set=preferences.password_is_set(settings),
        password_env=settings.smtp_password_env,
    )
    return render(request, "comms/settings.html", context, status=400 if form.errors else 200)


@org_view(SETUP)
@require_POST
def settings_test(request: OrgRequest) -> HttpResponse:
    form = TestMailForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give an email address to send the test to.")
    else:
        to = form.cleaned_data["to"]
        error = mail.send_test(preferences.settings_for(request.org), to)
        audit(
            request.org,
            "comms.settings.tested",
            preferences.settings_for(request.org),
            {"result": [None, "sent" if error is None else f"failed: {error[:200]}"]},
        )
        if error is None:
            messages.success(
                request, f"The mail server took the test message to {to}. Check it arrived."
            )
        else:
            messages.error(request, f"The test failed: {error}")
    return redirect("comms:settings", org_slug=request.org.slug)


@org_view()
@require_http_methods(["GET", "POST"])
def channels(request: OrgRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST":
        _need(request, SETUP)
        if form.is_valid():
            try:
                channel = preferences.save_channel(request.org, **form.cleaned_data)
            except preferences.SetupProblem as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(request, f"Channel “{channel.name}” added.")
                return redirect("comms:channels", org_slug=request.org.slug)
    rows = [
        {"channel": c, "masked": preferences.masked(c.url)}
        for c in Channel.objects.filter(org=request.org)
    ]
    return render(request, "comms/channels.html", _context(request, form=form, rows=rows))


@org_view(SETUP)
@require_http_methods(["GET", "POST"])
def channel_edit(request: OrgRequest, pk: int) -> HttpResponse:
    channel = get_for_org_or_404(Channel.objects.select_related("org"), request.org, pk=pk)
    initial = {
        "name": channel.name,
        "kind": channel.kind,
        "url": channel.url,
        "enabled": channel.enabled,
    }
    form = ChannelForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            preferences.delete_channel(channel)
            messages.success(request, f"Channel “{channel.name}” removed.")
            return redirect("comms:channels", org_slug=request.org.slug)
        if form.is_valid():
            try:
                preferences.save_channel(request.org, channel, **form.cleaned_data)
            except preferences.SetupProblem as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(request, "Saved.")
                return redirect("comms:channels", org_slug=request.org.slug)
    return render(request, "comms/channel_form.html", _context(request, form=form, channel=channel))


@org_view()
@require_http_methods(["GET", "POST"])
def opt_outs(request: OrgRequest) -> HttpResponse:
    form = OptOutForm(request.POST or None)
    if request.method == "POST":
        _need(request, SEND)
        remove = request.POST.get("remove")
        if remove:
            found = get_for_org_or_404(OptOut.objects.select_related("org"), request.org, pk=remove)
            preferences.remove_opt_out(found)
            messages.success(request, f"{found.address} will be sent notices again.")
            return redirect("comms:opt-outs", org_slug=request.org.slug)
        if form.is_valid():
            data = form.cleaned_data
            try:
                preferences.add_opt_out(
                    request.org, data["address"], data["channel"], data["reason"], request.user
                )
            except preferences.SetupProblem as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(request, "Opt-out recorded: no notice will go to that address.")
                return redirect("comms:opt-outs", org_slug=request.org.slug)
    rows = OptOut.objects.filter(org=request.org).select_related("created_by")
    return render(request, "comms/opt_outs.html", _context(request, form=form, rows=rows))


@org_view()
@require_http_methods(["GET", "POST"])
def key_accounts(request: OrgRequest) -> HttpResponse:
    form = KeyAccountForm(request.POST or None)
    if request.method == "POST":
        _need(request, SEND)
        remove = request.POST.get("remove")
        if remove:
            found = get_for_org_or_404(
                KeyAccount.objects.select_related("org"), request.org, pk=remove
            )
            preferences.remove_key_account(found)
            messages.success(request, f"{found} is no longer a key account.")
            return redirect("comms:key-accounts", org_slug=request.org.slug)
        if form.is_valid():
            data = dict(form.cleaned_data)
            key = data.pop("customer_key")
            try:
                account = preferences.save_key_account(request.org, key, **data)
            except preferences.SetupProblem as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(request, f"{account} saved as a key account.")
                return redirect("comms:key-accounts", org_slug=request.org.slug)
    rows = KeyAccount.objects.filter(org=request.org)
    return render(request, "comms/key_accounts.html", _context(request, form=form, rows=rows))


@org_view()
@require_GET
def templates(request: OrgRequest) -> HttpResponse:
    defaults.seed(request.org)
    labels = dict(audiences.choices())
    rows = [
        {"template": t, "audience": labels.get(t.audience, t.audience)}
        for t in MessageTemplate.objects.filter(org=request.org).order_by("audience", "phase")
    ]
    return render(request, "comms/templates.html", _context(request, rows=rows))


@org_view()
@require_http_methods(["GET", "POST"])
def template_edit(request: OrgRequest, pk: int) -> HttpResponse:
    template = get_for_org_or_404(MessageTemplate.objects.select_related("org"), request.org, pk=pk)
    initial = {name: getattr(template, name) for name in ("subject", *PARTS)}
    form = WordsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        _need(request, SETUP)
        if form.is_valid():
            changes = preferences.save_template(template, **form.cleaned_data)
            messages.success(
                request,
                "Saved. New notices start from these words." if changes else "Nothing to change.",
            )
            return redirect("comms:templates", org_slug=request.org.slug)
    context = _context(
        request,
        form=form,
        template=template,
        audience_label=dict(audiences.choices()).get(template.audience, template.audience),
        variables=VARIABLES,
    )
    return render(request, "comms/template_form.html", context)
