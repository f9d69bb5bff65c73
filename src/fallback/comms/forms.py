"""Forms of the comms pages. The rules are in notices, preferences and call_list; these read
what a person typed and say where it is wrong."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from fallback.accounts.models import Organisation
from fallback.comms import audiences
from fallback.comms.models import (
    CallOutcome,
    ChannelKind,
    CommsSettings,
    Phase,
    SmtpSecurity,
)
from fallback.comms.rendering import PART_LABELS, VARIABLES
from fallback.monitor.models import System

CHANNEL_CHOICES = [
    (ChannelKind.EMAIL, "Email (through the backup mail account)"),
    (ChannelKind.SMS, "SMS (to each phone number)"),
    (ChannelKind.CHAT, "Chat (one message to each chat room)"),
]
PART_HELP = {
    "notify": "What has happened, said at once and plainly.",
    "explain": "Why, honestly and in plain words, and since when.",
    "solve": "The alternative, and how to reach you now (not the route that is down).",
    "predict": "What happens next, and when the next update comes.",
    "apologise": "Sorry, once and briefly.",
}


def new_key() -> str:
    return str(uuid.uuid4())


def variables_help() -> str:
    return ", ".join(f"{{{{ {name} }}}}" for name in VARIABLES)


class ComposeForm(forms.Form):
    audience = forms.ChoiceField(label="Who", choices=(), widget=forms.RadioSelect)
    phase = forms.ChoiceField(
        label="Which message", choices=Phase.choices, widget=forms.RadioSelect
    )
    channels = forms.MultipleChoiceField(
        label="How",
        choices=CHANNEL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=[ChannelKind.EMAIL],
    )
    request_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["audience"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(k.key, k.label) for k in audiences.registered() if k.listed]
        self.fields["request_key"].initial = new_key()


class WordsForm(forms.Form):
    """A notice's (or a template's) subject and five parts."""

    subject = forms.CharField(label="Subject", max_length=200)
    notify = forms.CharField(
        label=PART_LABELS["notify"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=PART_HELP["notify"],
    )
    explain = forms.CharField(
        label=PART_LABELS["explain"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PART_HELP["explain"],
    )
    solve = forms.CharField(
        label=PART_LABELS["solve"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PART_HELP["solve"],
    )
    predict = forms.CharField(
        label=PART_LABELS["predict"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PART_HELP["predict"],
    )
    apologise = forms.CharField(
        label=PART_LABELS["apologise"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=PART_HELP["apologise"],
    )


class NoticeForm(WordsForm):
    expected_return = forms.CharField(
        label="Expected back",
        max_length=200,
        required=False,
        help_text="e.g. “by 3pm tomorrow”. Leave blank if you do not know: it says “not known "
        "yet”.",
    )
    next_update_by = forms.CharField(
        label="Next update by",
        max_length=200,
        help_text="A promise: send the next update by then, even if nothing has changed.",
    )
    channels = forms.MultipleChoiceField(
        label="How", choices=CHANNEL_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class SystemsChoice(forms.ModelMultipleChoiceField[System]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class SettingsForm(forms.ModelForm[CommsSettings]):
    password = forms.CharField(
        label="Password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Sealed at rest and never shown again. Leave blank to keep the one set; or "
        "name an environment variable below instead.",
    )
    clear_password = forms.BooleanField(label="Remove the stored password", required=False)
    email_systems = SystemsChoice(
        label="Our usual email depends on",
        queryset=System.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="When one of these is down, every notice must give another way to reach you.",
    )
    phone_systems = SystemsChoice(
        label="Our usual phone line depends on",
        queryset=System.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    status_url = forms.URLField(
        label="Status page",
        required=False,
        max_length=200,
        assume_scheme="https",  # a status page is served over HTTPS
    )

    class Meta:
        model = CommsSettings
        fields = [
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password_env",
            "from_address",
            "from_name",
            "reply_to",
            "phone_numbers",
            "backup_email",
            "status_url",
            "usual_email",
            "usual_phone",
            "affected_window_days",
            "email_per_second",
            "sms_per_second",
            "chat_per_second",
            "stall_minutes",
            "drill_recipients",
        ]
        widgets = {
            "smtp_security": forms.Select(choices=SmtpSecurity.choices),
            "phone_numbers": forms.Textarea(attrs={"rows": 2}),
            "drill_recipients": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("email_systems", "phone_systems"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = System.objects.filter(org=org).order_by("name")
        if self.instance.pk:
            self.initial["email_systems"] = list(self.instance.email_systems.all())
            self.initial["phone_systems"] = list(self.instance.phone_systems.all())


class TestMailForm(forms.Form):
    to = forms.EmailField(label="Send a test to")


class ChannelForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=120,
        help_text="e.g. “SMS gateway”, “Trade customers' WhatsApp group”.",
    )
    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            (ChannelKind.SMS, "SMS: one message to each phone number"),
            (ChannelKind.CHAT, "Chat: one message to the room"),
        ],
    )
    url = forms.CharField(
        label="Apprise URL",
        max_length=1000,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        help_text="SMS: name the recipient as {phone}, e.g. twilio://SID:token@+441234567890/{phone}. "  # noqa: E501
        "Chat: e.g. msteams://…, slack://…. Kept secret.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)


class OptOutForm(forms.Form):
    address = forms.CharField(label="Email address or phone number", max_length=254)
    channel = forms.ChoiceField(
        label="For",
        required=False,
        choices=[
            ("", "Every channel"),
            (ChannelKind.EMAIL, "Email only"),
            (ChannelKind.SMS, "SMS only"),
        ],
    )
    reason = forms.CharField(label="Reason", max_length=300, required=False)


class KeyAccountForm(forms.Form):
    customer_key = forms.CharField(
        label="Customer",
        max_length=200,
        help_text="The customer's key in the replica (see Replica → Customers).",
    )
    name = forms.CharField(
        label="Name", max_length=300, required=False, help_text="Empty: the replica's name."
    )
    call_dont_email = forms.BooleanField(label="Call, don't email", required=False, initial=True)
    phone = forms.CharField(
        label="Phone", max_length=60, required=False, help_text="Empty: the replica's number."
    )
    contact_name = forms.CharField(label="Ask for", max_length=200, required=False)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CallForm(forms.Form):
    customer_key = forms.CharField(widget=forms.HiddenInput, max_length=200)
    outcome = forms.ChoiceField(
        label="What happened", choices=CallOutcome.choices, widget=forms.RadioSelect
    )
    spoke_to = forms.CharField(label="Spoke to", max_length=200, required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=80, required=False)
