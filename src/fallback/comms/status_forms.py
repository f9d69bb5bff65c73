"""Forms of the status page: its settings, an update to post, and the public subscribe form."""

from __future__ import annotations

from typing import Any

from django import forms

from fallback.comms import statuspage
from fallback.comms.forms import new_key
from fallback.comms.models import PublicStatus, StatusPage


class StatusPageForm(forms.ModelForm[StatusPage]):
    public_url = forms.URLField(
        label="Public address",
        required=False,
        assume_scheme="https",
        help_text="Where people read the published page, e.g. https://status.example.com/",
    )
    fallback_url = forms.URLField(
        label="Fallback's public address",
        required=False,
        assume_scheme="https",
        help_text="How people outside reach this Fallback, for the subscribe form and the "
        "links in emails. Blank: the page shows no subscribe link.",
    )
    secret_key = forms.CharField(
        label="Secret key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Sealed at rest and never shown again; or name environment variables above.",
    )
    clear_secret_key = forms.BooleanField(label="Remove the stored secret key", required=False)

    class Meta:
        model = StatusPage
        fields = statuspage.PAGE_FIELDS


class UpdateForm(forms.Form):
    status = forms.ChoiceField(
        label="State", choices=PublicStatus.choices, widget=forms.RadioSelect
    )
    body = forms.CharField(
        label="What people should know",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the public page and emailed to its subscribers, as written.",
    )
    request_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_key"].initial = new_key()


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)
    which = forms.ChoiceField(
        label="Updates about",
        choices=[("all", "Every system"), ("some", "Only the systems I choose")],
        widget=forms.RadioSelect,
        initial="all",
    )
    systems = forms.MultipleChoiceField(
        label="Systems", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, shown: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["systems"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(pk), name) for pk, name in shown]  # public names

    def chosen(self) -> list[int] | None:
        if self.cleaned_data["which"] == "all":
            return None
        return [int(s) for s in self.cleaned_data["systems"]]
