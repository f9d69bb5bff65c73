"""Forms of the account and organisation pages. Each names the field a problem is in."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.accounts.validators import validate_currency, validate_locale, validate_time_zone


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form with the username field presented as an email address.

    The field keeps the name `username`, which django-axes reads to count failures.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.label = "Email"
        field.widget = forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email", "spellcheck": "false"}
        )

    def clean_username(self) -> str:
        # One spelling per account, so that "Ann@X" and "ann@x" share one failure count.
        value: str = self.cleaned_data.get("username") or ""
        return value.strip().lower()


class ChangePasswordForm(PasswordChangeForm):
    """Change password; the new one must differ from the current one (one-time passwords)."""

    def clean_new_password1(self) -> str:
        new: str = self.cleaned_data["new_password1"]
        if new and self.user.check_password(new):
            raise forms.ValidationError(
                "Choose a new password: this is the one you have now.", code="password_unchanged"
            )
        return new


class AccountForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["first_name", "last_name"]
        labels = {"first_name": "First name", "last_name": "Last name"}
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
        }


class OrganisationSettingsForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="Times on every page of this organisation are shown in this zone.",
    )
    currency = forms.CharField(
        label="Currency",
        max_length=3,
        help_text="Three-letter ISO 4217 code, for example GBP, EUR or USD.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
    )
    locale = forms.CharField(
        label="Locale",
        max_length=16,
        help_text="Language and region for dates and numbers, for example en-GB or fr-FR.",
        widget=forms.TextInput(attrs={"size": 8}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = time_zone_choices()

    @classmethod
    def for_org(cls, org: Organisation, data: Any = None) -> OrganisationSettingsForm:
        initial = {
            "name": org.name,
            "time_zone": org.time_zone,
            "currency": org.currency,
            "locale": org.locale,
        }
        return cls(data=data, initial=initial)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter the organisation's name.")
        return name

    def clean_time_zone(self) -> str:
        value: str = self.cleaned_data["time_zone"]
        validate_time_zone(value)  # the choices come from zoneinfo too; this is the rule
        return value

    def clean_currency(self) -> str:
        value: str = self.cleaned_data["currency"].strip().upper()
        validate_currency(value)
        return value

    def clean_locale(self) -> str:
        # Accept "en_gb" or "EN-gb" and store the usual spelling, "en-GB".
        raw = self.cleaned_data["locale"].strip().replace("_", "-")
        language, _, region = raw.partition("-")
        value = f"{language.lower()}-{region.upper()}" if region else language.lower()
        validate_locale(value)
        return value


def _role_choices(roles: list[Role]) -> list[tuple[str, str]]:
    return [(r.value, r.label) for r in roles]


class AddMemberForm(forms.Form):
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    name = forms.CharField(
        label="Name",
        max_length=150,
        required=False,
        help_text="Used only when they do not have an account yet.",
    )
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"role": Role.STAFF if Role.STAFF in roles else None})
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _role_choices(roles)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _role_choices(roles)


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What it is for, so you recognise it later: for example “backup script”.",
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name
