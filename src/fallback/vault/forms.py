"""Forms of the Backups page. They only read and shape input; the rules are in editing."""

from __future__ import annotations

from typing import Any

from django import forms

from fallback.vault.editing import ConfigProblem
from fallback.vault.models import Destination, FileSet, Kind, VaultSettings


def attach(form: forms.BaseForm, problem: ConfigProblem) -> None:
    """Show a refused change's problems on the fields they are about."""
    for field, messages in problem.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class SettingsForm(forms.ModelForm[VaultSettings]):
    class Meta:
        model = VaultSettings
        fields = [
            "snapshot_every_minutes",
            "verify_every_hours",
            "hourly_keep",
            "daily_keep",
            "monthly_keep",
            "installation",
        ]
        labels = {
            "snapshot_every_minutes": "Snapshot every (minutes)",
            "verify_every_hours": "Restore test every (hours)",
            "hourly_keep": "Hourly snapshots kept",
            "daily_keep": "Daily snapshots kept",
            "monthly_keep": "Monthly snapshots kept",
            "installation": "Installation name",
        }


class DestinationForm(forms.ModelForm[Destination]):
    kind = forms.ChoiceField(choices=Kind.choices, widget=forms.RadioSelect, label="Kind")

    class Meta:
        model = Destination
        fields = [
            "name",
            "kind",
            "enabled",
            "path",
            "bucket",
            "prefix",
            "endpoint_url",
            "region",
            "access_key_env",
            "secret_key_env",
            "min_lock_days",
        ]
        labels = {
            "path": "Folder",
            "endpoint_url": "Endpoint address",
            "access_key_env": "Access key id: environment variable",
            "secret_key_env": "Secret key: environment variable",
            "min_lock_days": "Lock at least (days)",
        }
        help_texts = {
            "name": "A short name: letters, digits and dashes, e.g. usb or offsite",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["path"].widget.attrs["placeholder"] = "/media/backup-disk/fallback"
        self.fields["endpoint_url"].widget.attrs["placeholder"] = (
            "https://s3.eu-central-003.backblazeb2.com"
        )
        self.fields["access_key_env"].widget.attrs["placeholder"] = "VAULT_S3_KEY_ID"
        self.fields["secret_key_env"].widget.attrs["placeholder"] = "VAULT_S3_SECRET"

    def _post_clean(self) -> None:
        # Validated whole by editing.save_destination (kind-specific rules too).
        pass


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class FileSetForm(forms.Form):
    name = forms.SlugField(max_length=40, help_text="A short name, e.g. accounts or templates")
    paths = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One file or folder per line, with its full path",
    )
    excludes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Leave out",
        help_text="One pattern per line, e.g. *.tmp or cache",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Keep in new snapshots")

    @classmethod
    def of(cls, file_set: FileSet) -> FileSetForm:
        return cls(
            initial={
                "name": file_set.name,
                "paths": "\n".join(file_set.paths),
                "excludes": "\n".join(file_set.excludes),
                "enabled": file_set.enabled,
            }
        )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "paths": _lines(data["paths"]),
            "excludes": _lines(data.get("excludes") or ""),
            "enabled": bool(data.get("enabled")),
        }


class RecipientForm(forms.Form):
    public_key = forms.CharField(
        max_length=100,
        label="Public key",
        help_text="age1… (from `age-keygen` or another Fallback)",
    )
    label = forms.CharField(max_length=100, help_text="Whose key it is and where it is kept")
