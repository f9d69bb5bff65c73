"""Pages of one's own account, and of an organisation's settings and members."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fallback.accounts import membership as members_rules
from fallback.accounts.access import org_view, require
from fallback.accounts.forms import (
    AccountForm,
    AddMemberForm,
    ChangePasswordForm,
    OrganisationSettingsForm,
    RoleForm,
    TokenForm,
)
from fallback.accounts.models import ApiToken, Membership
from fallback.accounts.roles import (
    CAPABILITY_LABELS,
    Capability,
    Role,
    can,
    grantable_roles,
)
from fallback.accounts.scoping import get_for_org_or_404
from fallback.audit.trail import record
from fallback.front.http import OrgRequest, UserRequest

# ---------------------------------------------------------------- your account


@login_required
@require_http_methods(["GET", "POST"])
def account(request: UserRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your name is saved.")
        return redirect("accounts:account")
    return render(request, "accounts/account.html", {"form": form})


class PasswordChange(PasswordChangeView):
    """Change password. Also the page a one-time password leads to (see the middleware)."""

    form_class = ChangePasswordForm
    template_name = "accounts/password_change.html"

    def form_valid(self, form: ChangePasswordForm) -> HttpResponse:
        form.user.must_change_password = False  # saved by form.save() in super()
        response = super().form_valid(form)
        record(None, "account.password_changed", form.user)
        messages.success(self.request, "Your password is changed.")
        return response

    def get_success_url(self) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return reverse("front:home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["forced"] = bool(getattr(self.request.user, "must_change_password", False))
        context["next"] = self.request.GET.get("next", "")
        return context


# ------------------------------------------------------------------ API tokens


@login_required
@never_cache  # the response to creating a token carries its secret
@require_http_methods(["GET", "POST"])
def tokens(request: UserRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created: tuple[ApiToken, str] | None = None
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            created = ApiToken.issue(request.user, form.cleaned_data["name"])
            record(None, "api_token.created", created[0])
        form = TokenForm()
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user),
        "created": created[0] if created else None,
        # Shown on this response only: only its hash is stored.
        "secret": created[1] if created else "",
        "api_example_url": request.build_absolute_uri("/api/orgs"),
    }
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: UserRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if token.active:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record(None, "api_token.revoked", token)
        messages.success(request, f"The token “{token.name}” is revoked and no longer works.")
    return redirect("accounts:tokens")


# ----------------------------------------------------- organisation settings


@org_view()
@require_http_methods(["GET", "POST"])
def org_settings(request: OrgRequest) -> HttpResponse:
    org = request.org
    can_edit = request.membership.can(Capability.MANAGE_ORGANISATION)
    form = OrganisationSettingsForm.for_org(org)
    if request.method == "POST":
        require(request.membership, Capability.MANAGE_ORGANISATION)
        form = OrganisationSettingsForm.for_org(org, data=request.POST)
        if form.is_valid():
            try:
                changes = members_rules.update_organisation(org, **form.cleaned_data)
            except ValidationError as exc:
                org.refresh_from_db()  # the rejected values were set on this instance
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request, "Settings saved." if changes else "Nothing to change: settings kept."
                )
                return redirect("accounts:org_settings", org_slug=org.slug)
    return render(request, "accounts/org_settings.html", {"form": form, "can_edit": can_edit})


# ------------------------------------------------------------------- members


def _roles_matrix() -> dict[str, Any]:
    roles = list(Role)
    rows = [(CAPABILITY_LABELS[c], [(r.label, can(r, c)) for r in roles]) for c in Capability]
    return {"matrix_roles": roles, "matrix_rows": rows}


def _may_edit(me: Membership, target: Membership) -> bool:
    return me.can(Capability.MANAGE_MEMBERS) and target.role in grantable_roles(me.role)


def _member_rows(me: Membership) -> list[dict[str, Any]]:
    qs = Membership.objects.filter(org=me.org).select_related("user").order_by("user__email")
    roles = grantable_roles(me.role)
    return [
        {
            "m": m,
            "editable": _may_edit(me, m),
            # Own ids per row, so each label points at its own select.
            "form": RoleForm(roles=roles, initial={"role": m.role}, auto_id=f"id_m{m.pk}_%s"),
        }
        for m in qs
    ]


@org_view()
@never_cache  # the response to adding someone may carry their one-time password
@require_http_methods(["GET", "POST"])
def members(request: OrgRequest) -> HttpResponse:
    me = request.membership
    roles = grantable_roles(me.role)
    form = AddMemberForm(roles=roles)
    added: members_rules.NewMember | None = None
    if request.method == "POST":
        require(me, Capability.MANAGE_MEMBERS)
        form = AddMemberForm(request.POST, roles=roles)
        if form.is_valid():
            data = form.cleaned_data
            try:
                added = members_rules.add_member(
                    request.org, data["email"], data["role"], by=me, name=data["name"]
                )
            except members_rules.MembershipError as exc:
                form.add_error(None, str(exc))
            else:
                who = added.membership.user
                if added.temporary_password is None:
                    messages.success(
                        request,
                        f"{who} is now a member, as {added.membership.get_role_display()}.",
                    )
                    return redirect("accounts:members", org_slug=request.org.slug)
                form = AddMemberForm(roles=roles)
    context = {
        "form": form,
        "rows": _member_rows(me),
        "can_manage": me.can(Capability.MANAGE_MEMBERS),
        "added": added,
        **_roles_matrix(),
    }
    return render(request, "accounts/members.html", context)


@org_view()
@require_http_methods(["GET", "POST"])
def member(request: OrgRequest, member_id: int) -> HttpResponse:
    me = request.membership
    target = get_for_org_or_404(
        Membership.objects.select_related("user", "org"), request.org, pk=member_id
    )
    roles = grantable_roles(me.role)
    form: Form = RoleForm(roles=roles, initial={"role": target.role})
    if request.method == "POST":
        require(me, Capability.MANAGE_MEMBERS)
        action = request.POST.get("action", "role")
        if action == "remove":
            return _remove(request, target)
        form = RoleForm(request.POST, roles=roles, auto_id=f"id_m{target.pk}_%s")
        done = _change_role(me, target, form)
        if request.htmx:
            row = {"m": target, "editable": _may_edit(me, target), "form": form, "saved": done}
            return render(request, "accounts/_member_row.html", {"row": row})
        if done:
            messages.success(request, f"{target.user} is now {target.get_role_display()}.")
            return redirect("accounts:members", org_slug=request.org.slug)
    return _member_page(request, target, form)


def _member_page(
    request: OrgRequest, target: Membership, form: Form, problem: str = ""
) -> HttpResponse:
    me = request.membership
    context = {
        "target": target,
        "form": form,
        "problem": problem,
        "editable": _may_edit(me, target),
        "can_manage": me.can(Capability.MANAGE_MEMBERS),
        **_roles_matrix(),
    }
    return render(request, "accounts/member.html", context)


def _change_role(me: Membership, target: Membership, form: RoleForm) -> bool:
    """Apply the form's role; rule breaks become form errors. True when it was saved."""
    if not form.is_valid():
        return False
    try:
        members_rules.change_role(target, form.cleaned_data["role"], by=me)
    except members_rules.MembershipError as exc:
        form.add_error(None, str(exc))
        target.refresh_from_db()
        return False
    return True


def _remove(request: OrgRequest, target: Membership) -> HttpResponse:
    me = request.membership
    try:
        members_rules.remove_member(target, by=me)
    except members_rules.MembershipError as exc:
        form = RoleForm(roles=grantable_roles(me.role), initial={"role": target.role})
        return _member_page(request, target, form, problem=str(exc))
    if target.user_id == request.user.pk:
        messages.success(request, f"You are no longer a member of {request.org.name}.")
        return HttpResponseRedirect(reverse("front:home"))
    messages.success(request, f"{target.user} is no longer a member of {request.org.name}.")
    return redirect("accounts:members", org_slug=request.org.slug)
