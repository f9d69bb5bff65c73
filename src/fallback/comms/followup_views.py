"""The "Follow up" page of an incident: the offer that makes up for the outage, the list of
discount codes, composing the follow-up apology with each customer's own code, and the
record of who got what (CSV for the shop, codes marked redeemed).

Thin: the rules are in fallback.comms.compensation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.comms import compensation, notices
from fallback.comms.forms import new_key
from fallback.comms.models import ChannelKind, Compensation, Offer, OfferKind, Phase
from fallback.comms.views import _need
from fallback.front.http import OrgRequest, file_response
from fallback.incidents.models import Incident

SEND = Capability.SEND_NOTICES
ROWS_SHOWN = 500
UPLOAD_MAX = 2 * 1024 * 1024  # a CSV of codes; far more than any shop's list


class OfferForm(forms.Form):
    kind = forms.ChoiceField(
        label="What to give", choices=OfferKind.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label="What it is",
        max_length=compensation.DESCRIPTION_MAX,
        required=False,
        help_text="As the customer reads it, e.g. “15% off your next order, until 31 "
        "January”. The message says: To make up for it: 15% off your next order, until 31 "
        "January with the code SORRY-7KQ2M9XHAB.",
    )
    code_prefix = forms.CharField(
        label="Codes start with",
        max_length=20,
        required=False,
        help_text="For codes made by Fallback: e.g. SORRY makes SORRY-7KQ2M9XHAB.",
    )


class CodesForm(forms.Form):
    codes = forms.CharField(
        label="Paste the codes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text="One per line, as the shop made them.",
    )
    file = forms.FileField(
        label="…or upload a CSV file",
        required=False,
        help_text="The column headed “code” (or the first column).",
    )


class RedeemForm(forms.Form):
    codes = forms.CharField(
        label="Codes used",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="Paste the shop's list of used codes, one per line.",
    )


def _incident(request: OrgRequest, incident_id: int) -> Incident:
    return get_for_org_or_404(Incident.objects.select_related("org"), request.org, pk=incident_id)


def _to_page(incident: Incident) -> HttpResponse:
    return redirect("comms:followup", org_slug=incident.org.slug, incident_id=incident.pk)


def _errors(form: forms.Form, exc: compensation.CompensationError) -> None:
    for name, message in exc.errors:
        name = "code_prefix" if name == "prefix" else name
        form.add_error(name if name in form.fields else None, message)


def _codes_text(form: CodesForm) -> str:
    upload = form.cleaned_data.get("file")
    if upload is None:
        return str(form.cleaned_data.get("codes") or "")
    if upload.size > UPLOAD_MAX:
        raise compensation.CompensationError(
            "The file is larger than 2 MB; is it the list of codes?", [("file", "Too large.")]
        )
    try:
        return str(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise compensation.CompensationError(
            "The file is not text (UTF-8): save it from the spreadsheet as CSV.",
            [("file", "Not a CSV text file.")],
        ) from None


@org_view()
@require_http_methods(["GET", "POST"])
def followup(request: OrgRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    offer = compensation.offer_for(incident)
    initial: dict[str, Any] = {"kind": OfferKind.GENERATED}
    if offer is not None:
        initial = {"kind": offer.kind, "description": offer.description}
        initial["code_prefix"] = offer.prefix
    offer_form = OfferForm(initial=initial)
    codes_form = CodesForm()
    status = 200
    if request.method == "POST":
        _need(request, SEND)
        action = request.POST.get("action", "")
        if action == "offer":
            offer_form = OfferForm(request.POST)
            if offer_form.is_valid():
                data = offer_form.cleaned_data
                try:
                    compensation.save_offer(
                        incident,
                        data["kind"],
                        data["description"],
                        data["code_prefix"],
                        by=request.user,
                    )
                except compensation.CompensationError as exc:
                    _errors(offer_form, exc)
                else:
                    messages.success(request, "The offer is saved.")
                    return _to_page(incident)
        elif action == "codes" and offer is not None:
            codes_form = CodesForm(request.POST, request.FILES)
            if codes_form.is_valid():
                try:
                    added = compensation.add_codes(offer, _codes_text(codes_form), request.user)
                except compensation.CompensationError as exc:
                    _errors(codes_form, exc)
                else:
                    messages.success(request, f"{added:,} codes added to the list.")
                    return _to_page(incident)
        elif action == "remove_unused" and offer is not None:
            n = compensation.remove_unused(offer, request.user)
            messages.success(request, f"{n:,} unused codes taken off the list.")
            return _to_page(incident)
        elif action == "compose":
            return _compose(request, incident)
        status = 400
    return _page(request, incident, offer, offer_form, codes_form, status=status)


def _compose(request: OrgRequest, incident: Incident) -> HttpResponse:
    """The follow-up apology to affected customers, with the offer in its Solve part."""
    try:
        notice, created = notices.create(
            incident,
            "affected_customers",
            Phase.FOLLOW_UP,
            [ChannelKind.EMAIL],
            by=request.user,
            request_key=request.POST.get("request_key") or None,
        )
        if (
            created
            and compensation.offer_for(incident)
            and not compensation.uses_compensation(notice)
        ):
            notices.edit(
                notice, by=request.user, solve=f"{notice.solve} {compensation.LEAD_IN}".strip()
            )
    except (notices.NoticeError, ValueError) as exc:
        messages.error(request, str(exc))
        return _to_page(incident)
    return redirect("comms:notice", org_slug=incident.org.slug, pk=notice.pk)


def _page(
    request: OrgRequest,
    incident: Incident,
    offer: Offer | None,
    offer_form: OfferForm,
    codes_form: CodesForm,
    status: int = 200,
) -> HttpResponse:
    rows = compensation.rows(request.org, incident)
    context: dict[str, Any] = {
        "incident": incident,
        "offer": offer,
        "offer_form": offer_form,
        "codes_form": codes_form,
        "redeem_form": RedeemForm(),
        "summary": compensation.summary(request.org, incident, offer),
        "rows": rows[:ROWS_SHOWN],
        "more_rows": max(0, len(rows) - ROWS_SHOWN),
        "can_send": request.membership.can(SEND),
        "request_key": new_key(),
        "follow_ups": incident.notices.filter(phase=Phase.FOLLOW_UP).order_by("-created_at"),
        "kinds_with_codes": compensation.CODE_KINDS,
    }
    return render(request, "comms/followup.html", context, status=status)


@org_view()
@require_GET
@never_cache
def followup_csv(request: OrgRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    return file_response(
        compensation.export_csv(request.org, incident),
        f"{request.org.slug}-compensation-incident-{incident.pk}.csv",
        content_type="text/csv; charset=utf-8",
        inline=False,
    )


@org_view(SEND)
@require_POST
def followup_redeem(request: OrgRequest, incident_id: int) -> HttpResponse:
    """Mark one compensation redeemed (or not), or every code of a pasted list."""
    incident = _incident(request, incident_id)
    pk = request.POST.get("compensation", "")
    if pk:
        given = get_for_org_or_404(
            Compensation.objects.select_related("org"), request.org, pk=pk, incident=incident
        )
        redeemed = request.POST.get("redeemed") != "0"
        compensation.redeem(given, redeemed, request.user)
        messages.success(
            request,
            f"{given.code_text or given.customer_name}: "
            + ("marked redeemed." if redeemed else "no longer marked redeemed."),
        )
        return _to_page(incident)
    form = RedeemForm(request.POST)
    if form.is_valid():
        try:
            n = compensation.redeem_codes(
                request.org, incident, form.cleaned_data["codes"], request.user
            )
        except compensation.CompensationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{n:,} codes marked redeemed.")
    else:
        messages.error(request, "Paste the codes that were used, one per line.")
    return _to_page(incident)
