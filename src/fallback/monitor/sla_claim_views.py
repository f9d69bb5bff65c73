"""Pages of SLA-credit claims: the list, a new claim (from the vendor report, a system or an
incident), a claim with its letter's words, the printable letter and its PDF, and the
vendor's answer. Thin: the figures and rules are in monitor.sla_claims."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import OrgRequest, file_response
from fallback.incidents.models import Incident
from fallback.monitor import availability, sla_claims
from fallback.monitor.models import ClaimStatus, SlaClaim, System

CLAIM = Capability.EDIT_SETUP


class NewClaimForm(forms.Form):
    system = forms.ChoiceField(label="System")
    month = forms.CharField(
        label="Month (YYYY-MM)", max_length=7, help_text="The SLA month the claim is for."
    )
    incident = forms.TypedChoiceField(
        label="Incident",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Claim for one incident's outages, or leave empty for the whole month.",
    )
    request_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)

    def __init__(self, *args: Any, org: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        systems = System.objects.filter(org=org).order_by("name")
        system_field = self.fields["system"]
        assert isinstance(system_field, forms.ChoiceField)
        system_field.choices = [(s.slug, s.name) for s in systems]
        incidents = Incident.objects.filter(org=org, is_exercise=False).order_by("-opened_at")
        incident_field = self.fields["incident"]
        assert isinstance(incident_field, forms.ChoiceField)
        incident_field.choices = [("", "The whole month")] + [
            (i.pk, f"{i.title} ({i.opened_at:%d %b %Y})") for i in incidents[:50]
        ]

    def clean_month(self) -> date:
        try:
            return availability.parse_month(self.cleaned_data["month"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc).capitalize() + ".") from None


class LetterForm(forms.Form):
    opening = forms.CharField(
        label="Opening",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Before the figures. A blank line starts a new paragraph.",
    )
    closing = forms.CharField(
        label="Closing",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="After the figures and the evidence.",
    )


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        label="The vendor's answer",
        choices=[(ClaimStatus.CREDITED, "Credited"), (ClaimStatus.REFUSED, "Refused")],
        widget=forms.RadioSelect,
    )
    credited_amount = forms.CharField(label="Amount credited", required=False, max_length=20)
    answer_note = forms.CharField(
        label="What they said", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _claim(request: OrgRequest, pk: int) -> SlaClaim:
    return get_for_org_or_404(
        SlaClaim.objects.select_related("org", "system", "system__org", "incident"),
        request.org,
        pk=pk,
    )


def _to_claim(claim: SlaClaim) -> HttpResponse:
    return redirect("monitor:sla_claim", org_slug=claim.org.slug, pk=claim.pk)


@org_view()
@require_GET
def claims(request: OrgRequest) -> HttpResponse:
    rows = SlaClaim.objects.filter(org=request.org).select_related("system", "incident")
    context = {"rows": rows, "can_claim": request.membership.can(CLAIM)}
    return render(request, "monitor/sla_claims.html", context)


def _initial(request: OrgRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"request_key": request.GET.get("key", "")}
    tz = availability.zone(request.org)
    now = timezone.now().astimezone(tz)
    initial["month"] = request.GET.get("month") or f"{now:%Y-%m}"
    if request.GET.get("system"):
        initial["system"] = request.GET["system"]
    incident_id = request.GET.get("incident", "")
    if incident_id.isdigit():
        incident = Incident.objects.filter(org=request.org, pk=int(incident_id)).first()
        if incident is not None:
            initial["incident"] = incident.pk
            local = incident.opened_at.astimezone(tz)
            initial["month"] = request.GET.get("month") or f"{local:%Y-%m}"
    return initial


@org_view(CLAIM)
@require_http_methods(["GET", "POST"])
def claim_new(request: OrgRequest) -> HttpResponse:
    initial = _initial(request)
    initial["request_key"] = initial["request_key"] or str(uuid.uuid4())
    form = NewClaimForm(request.POST or None, org=request.org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        system = get_for_org_or_404(
            System.objects.select_related("org"), request.org, slug=data["system"]
        )
        incident: Incident | None = None
        if data["incident"]:
            incident = get_for_org_or_404(Incident.objects.all(), request.org, pk=data["incident"])
        try:
            claim, created = sla_claims.create(
                system, data["month"], incident, by=request.user, request_key=data["request_key"]
            )
        except sla_claims.ClaimError as exc:
            form.add_error(None, str(exc))
        else:
            if not created:
                messages.info(request, f"Claim {claim.reference} for this was made already.")
            return _to_claim(claim)
    return render(
        request, "monitor/sla_claim_new.html", {"form": form}, status=400 if form.errors else 200
    )


def _page(
    request: OrgRequest, claim: SlaClaim, letter: LetterForm, answer: AnswerForm
) -> HttpResponse:
    context = {
        "claim": claim,
        "f": sla_claims.current_figures(claim),
        "letter": letter,
        "answer": answer,
        "can_claim": request.membership.can(CLAIM),
        "status": ClaimStatus,
    }
    status = 400 if letter.errors or answer.errors else 200
    return render(request, "monitor/sla_claim.html", context, status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def claim_view(request: OrgRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    letter = LetterForm(
        request.POST or None, initial={"opening": claim.opening, "closing": claim.closing}
    )
    answer = AnswerForm(initial={"status": ClaimStatus.CREDITED})
    if request.method == "POST":
        if not request.membership.can(CLAIM):
            raise PermissionDenied("Your role does not allow this.")
        if letter.is_valid():
            try:
                changed = sla_claims.edit(claim, **letter.cleaned_data)
            except sla_claims.ClaimError as exc:
                for field, message in exc.errors:
                    letter.add_error(field or None, message)
            else:
                messages.success(request, "Saved." if changed else "Nothing to change.")
                return _to_claim(claim)
    return _page(request, claim, letter, answer)


@org_view(CLAIM)
@require_POST
def claim_sent(request: OrgRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    if sla_claims.mark_sent(claim):
        messages.success(request, "Marked sent: the letter's figures are kept as they are now.")
    else:
        messages.info(request, "This claim was marked sent already.")
    return _to_claim(claim)


@org_view(CLAIM)
@require_POST
def claim_answer(request: OrgRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    answer = AnswerForm(request.POST)
    if answer.is_valid():
        data = answer.cleaned_data
        try:
            sla_claims.answer(
                claim, data["status"], amount=data["credited_amount"], note=data["answer_note"]
            )
        except sla_claims.ClaimError as exc:
            for field, message in exc.errors:
                answer.add_error(field if field in answer.fields else None, message)
        else:
            messages.success(request, f"Recorded: {claim.get_status_display().lower()}.")
            return _to_claim(claim)
    letter = LetterForm(initial={"opening": claim.opening, "closing": claim.closing})
    return _page(request, claim, letter, answer)


@org_view()
@require_GET
@never_cache
def claim_print(request: OrgRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    pdf_url = reverse("monitor:sla_claim_pdf", kwargs={"org_slug": request.org.slug, "pk": pk})
    return HttpResponse(sla_claims.letter_html(claim, screen=True, pdf_url=pdf_url))


@org_view()
@require_GET
@never_cache
def claim_pdf(request: OrgRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    return file_response(sla_claims.letter_pdf(claim), f"sla-claim-{claim.reference}.pdf")
