"""Forms of the incident pages and the alert channels."""

from __future__ import annotations

from typing import Any

from django import forms

from fallback.accounts.models import Organisation
from fallback.incidents.lifecycle import NOTE_MAX, TITLE_MAX
from fallback.incidents.models import AlertChannel, AlertEvent
from fallback.monitor.models import System


class SystemChoice(forms.ModelMultipleChoiceField[System]):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_state_display().lower()})"


class DeclareForm(forms.Form):
    title = forms.CharField(
        label="What is down",
        max_length=TITLE_MAX,
        help_text="In plain words, e.g. “Accounts server unreachable”.",
    )
    systems = SystemChoice(
        label="Systems affected",
        queryset=System.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for an outage of something Fallback does not watch.",
    )
    summary = forms.CharField(
        label="What is known so far",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_exercise = forms.BooleanField(
        label="This is a drill, not a real outage",
        required=False,
        help_text="Alerts are marked DRILL, and the checks' events are kept out of it.",
    )

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["systems"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = System.objects.filter(org=org).order_by("name")


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done, who was called, what customers were told.",
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="Closing note",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: how it ended, what to follow up.",
    )


class ChannelForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120, help_text="e.g. “Dev’s phone (SMS)”.")
    url = forms.CharField(
        label="Apprise URL",
        max_length=1000,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        help_text="Where alerts go: mailto://user:password@example.com, "
        "tgram://bot-token/chat-id, slack://…, or an SMS gateway. Kept secret.",
    )
    events = forms.MultipleChoiceField(
        label="Send",
        choices=AlertEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to send every kind of alert.",
    )
    remind_every_minutes = forms.IntegerField(
        label="Remind every (minutes) while an outage is declared",
        min_value=0,
        initial=60,
        help_text="0 for no reminders.",
    )
    on_duty = forms.BooleanField(
        label="On duty: send alerts here now", required=False, initial=True
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    @classmethod
    def for_channel(cls, channel: AlertChannel | None, data: Any = None) -> ChannelForm:
        initial = None
        if channel is not None:
            initial = {
                "name": channel.name,
                "url": channel.url,
                "events": list(channel.events),
                "remind_every_minutes": channel.remind_every_minutes,
                "on_duty": channel.on_duty,
                "enabled": channel.enabled,
            }
        return cls(data=data, initial=initial)
