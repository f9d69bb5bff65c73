"""Forms of the systems pages. A check's settings are fields made from its kind's schema.

Each kind declares its settings as a pydantic model; `config_fields` turns that model into
form fields (text, numbers, yes/no, choices, lists, "Name: value" lines, and a nested
condition as a group of fields), with plain labels for the settings people use most. What
the person fills in is validated by the kind itself (`kinds.validate_config`), and its
messages are put back on the field they are about.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from fallback.accounts.forms import time_zone_choices
from fallback.monitor import kinds
from fallback.monitor.editing import SYSTEM_FIELDS
from fallback.monitor.models import Check, System, SystemKind

# ---------------------------------------------------------------------- system


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"  # a vendor's status page is served over HTTPS
    result = field.formfield(**kwargs)
    assert result is not None  # every field of SYSTEM_FIELDS has a form field
    return result


class SystemForm(forms.Form):
    """All of a system's setup. Validation is editing's: this only shapes the input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(
            forms.fields_for_model(System, fields=SYSTEM_FIELDS, formfield_callback=_formfield)
        )
        labels = {
            "name": ("Name", "What your team calls it, e.g. “CloudCRM” or “Xero”."),
            "slug": (
                "Short name",
                "Used in addresses and config files. Leave empty to make one from the name.",
            ),
            "kind": ("What kind of system", ""),
            "criticality": ("How critical", ""),
            "vendor": ("Vendor", "The company that runs it."),
            "vendor_contacts": (
                "Vendor support contacts",
                "Phone numbers, emails, portal; one per line.",
            ),
            "account_number": (
                "Your account or customer number",
                "They will ask for it on the phone.",
            ),
            "sla_percent": (
                "Promised uptime (%)",
                "From the contract, e.g. 99.9. Used in the vendor report.",
            ),
            "credit_terms": ("Credit terms", "What the vendor owes when it misses the promise."),
            "credit_tiers": (
                "Credit tiers",
                "Availability below which a credit is owed, and the credit in % of the monthly "
                "fee: e.g. “99.9:10, 99:25”. Used by SLA claims.",
            ),
            "monthly_fee": ("Monthly fee", "What the service costs a month, for the credit."),
            "status_page_url": ("Vendor's status page", "e.g. https://status.example.com"),
            "notes": ("Notes", ""),
            "trigger_minutes": (
                "Declare an outage after (minutes down)",
                "Staff are alerted when it first goes down, and again when the outage is declared.",
            ),
            "failures_to_down": ("Failed checks before it counts as down", ""),
            "successes_to_up": ("Good checks before it counts as up again", ""),
            "flap_changes": (
                "Flapping: changes allowed",
                "More up/down changes than this within the window send one notice, not a storm.",
            ),
            "flap_window_minutes": ("Flapping: window (minutes)", ""),
        }
        for name, (label, help_text) in labels.items():
            field = self.fields[name]
            field.label = label
            field.help_text = help_text
        self.fields["slug"].required = False
        for name in ("vendor_contacts", "credit_terms", "notes"):
            self.fields[name].widget = forms.Textarea(attrs={"rows": 3})
        self.fields["sla_percent"].widget.attrs.update({"step": "0.001", "inputmode": "decimal"})

    @classmethod
    def for_system(cls, system: System | None, data: Any = None) -> SystemForm:
        initial = {f: getattr(system, f) for f in SYSTEM_FIELDS} if system else None
        return cls(data=data, initial=initial)

    def clean_name(self) -> str:
        value: str = self.cleaned_data["name"].strip()
        if not value:
            raise ValidationError("Give the system a name.")
        return value

    main_fields = ["name", "kind", "criticality", "vendor", "status_page_url", "notes"]
    contract_fields = [
        "vendor_contacts",
        "account_number",
        "sla_percent",
        "credit_terms",
        "credit_tiers",
        "monthly_fee",
    ]
    rule_fields = [
        "slug",
        "trigger_minutes",
        "failures_to_down",
        "successes_to_up",
        "flap_changes",
        "flap_window_minutes",
    ]

    def group(self, names: list[str]) -> list[forms.BoundField]:
        return [self[n] for n in names]

    def main(self) -> list[forms.BoundField]:
        return self.group(self.main_fields)

    def contract(self) -> list[forms.BoundField]:
        return self.group(self.contract_fields)

    def rules(self) -> list[forms.BoundField]:
        return self.group(self.rule_fields)


# ----------------------------------------------------------------------- check

# Plain words for the settings people meet most; any other setting of any kind still gets a
# field, labelled from its name.
LABELS: dict[str, tuple[str, str]] = {
    "url": ("Address (URL)", "The page to fetch, e.g. https://crm.example.com/health"),
    "method": ("Method", "GET unless the vendor says otherwise."),
    "headers": ("Request headers", "One per line, as Name: value, e.g. Authorization: Bearer …"),
    "body": ("Request body", "Sent with POST, PUT, PATCH or DELETE."),
    "expected_status": (
        "Expected answer codes",
        "Separated by commas: 200, a range 200-299, or a class 2xx. Anything else is down.",
    ),
    "keyword": ("The page must contain", "e.g. a word on the login page: “Sign in”."),
    "keyword_absent": ("The page must not contain", "e.g. “Maintenance” or “Error”."),
    "json_condition__path": ("JSON value to test", "A JSONPath such as $.status"),
    "json_condition__op": ("Comparison", ""),
    "json_condition__value": (
        "Compared with",
        "Read as JSON: 5 is a number, true is yes, anything else is text.",
    ),
    "max_response_ms": (
        "Slow after (milliseconds)",
        "Answers slower than this make the system degraded, e.g. 2000.",
    ),
    "follow_redirects": ("Follow redirects", ""),
    "tls_expiry_warn_days": (
        "Warn before the certificate expires (days)",
        "Degraded when the HTTPS certificate expires within this many days.",
    ),
    "verify_tls": ("Check the HTTPS certificate is valid", ""),
    "host": ("Host name or IP address", "e.g. mail.example.com or 192.0.2.10"),
    "port": ("Port", "e.g. 443 for HTTPS, 25 for mail, 3389 for remote desktop."),
    "name": ("Name to look up", "e.g. crm.example.com"),
    "record_type": ("Record type", ""),
    "expected": ("Expected answer", "Leave empty to accept any answer."),
    "nameservers": ("DNS servers to ask", "IP addresses separated by commas; empty: the usual."),
    "period_seconds": ("Expected every (seconds)", "How often the script or device pings."),
    "grace_seconds": ("Grace (seconds)", "How late a ping may be before it is down."),
    "component": ("Component", "The part of the vendor's service you use, as its page names it."),
}

# Where one kind means something else by a common name.
KIND_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("statuspage", "url"): (
        "Status page address",
        "e.g. https://status.example.com (Fallback reads its /api/v2/summary.json).",
    ),
    ("statuspage", "component"): (
        "Component",
        "The part of the service you use, exactly as the status page names it. "
        "Empty: the page's overall status.",
    ),
}

# Settings a newcomer can leave alone: shown under "More options".
ADVANCED = {
    "method",
    "headers",
    "body",
    "keyword_absent",
    "json_condition",
    "follow_redirects",
    "tls_expiry_warn_days",
    "verify_tls",
    "nameservers",
    "grace_seconds",
}

KIND_HELP = {
    "http": "Fetches a web address and checks the answer: status code, a word on the page, "
    "a JSON value, how fast it came.",
    "tcp": "Checks that a network port accepts connections (a mail server, a database, a phone "
    "system).",
    "dns": "Checks that a name resolves, optionally to an expected answer.",
    "heartbeat": "Your script or device calls a secret address regularly; silence means down. "
    "For backups, tills, on-premises servers.",
    "statuspage": "Reads the vendor's own status page (Statuspage format) for the component you "
    "use. A page that cannot be read counts as unknown, never as down.",
}

SEPARATOR = "__"


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed) for `X | None`."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap_optional(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        if len(args) == 1:
            inner, _ = _unwrap_optional(args[0])
            return inner, optional
        return annotation, optional
    return annotation, False


def _shape(annotation: Any) -> str:
    """How a setting is edited: text, int, float, bool, choice, list, mapping, model, json."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model"
    origin = get_origin(annotation)
    if origin is Literal:
        return "choice"
    if origin is list:
        return "list"
    if origin is dict:
        return "mapping"
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if annotation is str:
        return "text"
    return "json"


@dataclass(frozen=True)
class Setting:
    """One form field for one setting (or one part of a nested setting)."""

    name: str  # form field name: "url", "json_condition__path"
    path: tuple[str, ...]  # where it goes in the config
    shape: str
    info: FieldInfo
    optional: bool
    group: str  # "main" or "advanced"


def settings_of(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[Setting]:
    for key, info in model.model_fields.items():
        annotation, optional = _unwrap_optional(info.annotation)
        shape = _shape(annotation)
        path = (*prefix, key)
        group = "advanced" if path[0] in ADVANCED else "main"
        if shape == "model":
            for inner in settings_of(annotation, path):
                yield Setting(inner.name, inner.path, inner.shape, inner.info, True, group)
            continue
        yield Setting(SEPARATOR.join(path), path, shape, info, optional, group)


def _default(info: FieldInfo) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return None


def _required(setting: Setting) -> bool:
    return setting.info.is_required() and not setting.optional and len(setting.path) == 1


def _form_field(setting: Setting, kind: str) -> forms.Field:
    label, help_text = KIND_LABELS.get((kind, setting.name)) or LABELS.get(
        setting.name, (setting.name.replace(SEPARATOR, ": ").replace("_", " ").capitalize(), "")
    )
    help_text = help_text or (setting.info.description or "")
    common: dict[str, Any] = {"label": label, "help_text": help_text, "required": False}
    annotation, _ = _unwrap_optional(setting.info.annotation)
    if setting.shape == "bool":
        return forms.BooleanField(**common)
    if setting.shape == "choice":
        choices = [(str(c), str(c)) for c in get_args(annotation)]
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if setting.shape == "int":
        return forms.IntegerField(**common)
    if setting.shape == "float":
        return forms.FloatField(**common)
    if setting.shape == "mapping":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if setting.name == "url":
        return forms.CharField(widget=forms.URLInput(attrs={"spellcheck": "false"}), **common)
    if setting.name == "body":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(**common)


# A few settings are fixed lists of words in their kind, checked by a validator the schema
# cannot show: offer them as choices all the same.
CHOICES = {
    "method": ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
    "record_type": ("A", "AAAA", "CNAME", "MX", "TXT"),
}


def _to_form(setting: Setting, value: Any) -> Any:
    """A config value as the form shows it."""
    if value is None:
        return None
    if setting.shape == "list":
        return ", ".join(str(v) for v in value)
    if setting.shape == "mapping":
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    if setting.shape == "json":
        if isinstance(value, str) and not _reads_as_json(value):
            return value
        return json.dumps(value)  # "5" the text shows quoted, so it stays text when saved
    return value


def _reads_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _from_form(setting: Setting, value: Any) -> Any:
    """A form value as the config takes it; raises ValueError with a plain message."""
    if setting.shape == "list":
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        return [int(v) if v.isdigit() else v for v in items]
    if setting.shape == "mapping":
        result = {}
        for n, line in enumerate(str(value).splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, rest = line.partition(":")
            if not sep or not key.strip():
                raise ValueError(f"line {n}: write it as Name: value")
            result[key.strip()] = rest.strip()
        return result
    if setting.shape == "json" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class CheckForm(forms.Form):
    """A check: its name and schedule, then its kind's settings."""

    name = forms.CharField(
        label="Name", max_length=120, help_text="e.g. “Health endpoint” or “Login page”."
    )
    interval_seconds = forms.IntegerField(
        label="Check every (seconds)", min_value=1, initial=60, help_text="60 is usual."
    )
    timeout_seconds = forms.FloatField(label="Give up after (seconds)", min_value=0.1, initial=10.0)
    retries = forms.IntegerField(
        label="Quick re-tests before a failure counts",
        min_value=0,
        initial=2,
        help_text="Rules out a one-off hiccup.",
    )
    retry_delay_seconds = forms.FloatField(
        label="Seconds between re-tests", min_value=0, initial=3.0
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    is_canary = forms.BooleanField(
        label="Canary: watches a neutral target to tell our own connection from the vendor",
        required=False,
    )

    base_fields_order = [
        "name",
        "interval_seconds",
        "timeout_seconds",
        "retries",
        "retry_delay_seconds",
        "enabled",
        "is_canary",
    ]

    def __init__(
        self, *args: Any, kind: kinds.CheckKind[Any], system: System, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.system = system
        self.settings = list(settings_of(kind.Config))
        for setting in self.settings:
            field = _form_field(setting, kind.key)
            if setting.name in CHOICES and not isinstance(field, forms.ChoiceField):
                field = forms.ChoiceField(
                    choices=[(c, c) for c in CHOICES[setting.name]],
                    label=field.label,
                    help_text=field.help_text,
                    required=False,
                )
            if _required(setting):
                field.required = True
            self.fields[setting.name] = field
        if system.kind != SystemKind.INTERNET:
            del self.fields["is_canary"]
        if kind.passive:
            # A heartbeat is judged from its pings: there is nothing to time out or re-test.
            for name in ("timeout_seconds", "retries", "retry_delay_seconds"):
                del self.fields[name]

    @classmethod
    def for_check(
        cls,
        kind: kinds.CheckKind[Any],
        system: System,
        check: Check | None = None,
        data: Any = None,
    ) -> CheckForm:
        initial: dict[str, Any] = {}
        config: dict[str, Any] = {}
        if check is not None:
            initial = {f: getattr(check, f) for f in cls.base_fields_order}
            try:
                model = kinds.validate_config(kind.key, check.config)
                config = model.model_dump(mode="json")
            except kinds.InvalidCheckConfig:
                config = dict(check.config)  # stored before today's rules: show it as it is
        else:
            initial = {"is_canary": system.kind == SystemKind.INTERNET}
        form = cls(data=data, initial=initial, kind=kind, system=system)
        for setting in form.settings:
            value: Any = config
            for part in setting.path:
                value = value.get(part) if isinstance(value, dict) else None
            if check is None:
                value = _default(setting.info) if len(setting.path) == 1 else None
            shown = _to_form(setting, value)
            if shown is not None:
                form.initial[setting.name] = shown
        return form

    def main_settings(self) -> list[forms.BoundField]:
        return [self[s.name] for s in self.settings if s.group == "main"]

    def advanced_settings(self) -> list[forms.BoundField]:
        return [self[s.name] for s in self.settings if s.group == "advanced"]

    def schedule(self) -> list[forms.BoundField]:
        names = ["interval_seconds", "timeout_seconds", "retries", "retry_delay_seconds"]
        return [self[n] for n in names if n in self.fields]

    def config(self) -> dict[str, Any]:
        """The config the person asked for: what they filled in that differs from the
        kind's default (defaults stay implicit, as in a config file)."""
        config: dict[str, Any] = {}
        for setting in self.settings:
            raw = self.cleaned_data.get(setting.name)
            if setting.shape == "bool":
                if len(setting.path) == 1 and bool(raw) == bool(_default(setting.info)):
                    continue
            elif _empty(raw):
                continue
            try:
                value = _from_form(setting, raw)
            except ValueError as exc:
                self.add_error(setting.name, str(exc))
                continue
            if len(setting.path) == 1 and value == _default(setting.info):
                continue
            target = config
            for part in setting.path[:-1]:
                target = target.setdefault(part, {})
            target[setting.path[-1]] = value
        # A condition whose required parts are all empty is no condition (clearing its
        # path removes it), rather than an incomplete one.
        for name in {s.path[0] for s in self.settings if len(s.path) > 1}:
            required = [
                s.path[-1]
                for s in self.settings
                if len(s.path) > 1 and s.path[0] == name and s.info.is_required()
            ]
            group = config.get(name)
            if isinstance(group, dict) and required and not any(r in group for r in required):
                del config[name]
        return config

    def values(self) -> dict[str, Any]:
        """Everything for editing.create_check/update_check (config included)."""
        values = {n: self.cleaned_data[n] for n in self.base_fields_order if n in self.fields}
        values["config"] = self.config()
        return values

    def add_setup_errors(self, errors: list[tuple[str, str]]) -> None:
        """Put editing's (field, message) problems on the fields they name."""
        for path, message in errors:
            self.add_error(self.field_for(path), message)

    def field_for(self, path: str) -> str | None:
        parts = path.replace("[", ".").replace("]", "").split(".")
        if parts[0] == "config":
            parts = parts[1:]
            if not parts:
                return None
            names = [SEPARATOR.join(parts[:n]) for n in range(len(parts), 0, -1)]
            for name in names:
                if name in self.fields:
                    return name
                group = [s.name for s in self.settings if s.name.startswith(name + SEPARATOR)]
                if group:
                    return group[0]
            return None
        return parts[0] if parts[0] in self.fields else None


# ----------------------------------------------------------------- maintenance

WEEKDAYS = [
    ("1", "Mon"),
    ("2", "Tue"),
    ("3", "Wed"),
    ("4", "Thu"),
    ("5", "Fri"),
    ("6", "Sat"),
    ("7", "Sun"),
]


class MaintenanceForm(forms.Form):
    """A one-off window (from/until) or a weekly one (weekdays, start time, duration)."""

    title = forms.CharField(label="What is the work", max_length=200)
    repeat = forms.ChoiceField(
        label="When",
        choices=[("once", "Once"), ("weekly", "Every week")],
        widget=forms.RadioSelect,
        initial="once",
    )
    starts_at = forms.DateTimeField(
        label="From",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label="Until",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    weekdays = forms.MultipleChoiceField(
        label="On", choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple
    )
    start_time = forms.TimeField(
        label="Starting at", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    duration_minutes = forms.IntegerField(label="For (minutes)", min_value=1, required=False)
    time_zone = forms.ChoiceField(label="Time zone", required=False)

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone_name = time_zone
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = time_zone_choices()
        self.initial.setdefault("time_zone", time_zone)

    def _local(self, value: datetime | None) -> datetime | None:
        # The browser sends wall-clock time; it is the organisation's (or the chosen) zone.
        if value is None:
            return None
        zone = ZoneInfo(self.cleaned_data.get("time_zone") or self.zone_name)
        return timezone.make_naive(value).replace(tzinfo=zone)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        zone = data.get("time_zone") or self.zone_name
        if data["repeat"] == "weekly":
            start: time | None = data.get("start_time")
            return {
                "title": data["title"],
                "weekdays": ",".join(data.get("weekdays") or []),
                "start_time": start,
                "duration_minutes": data.get("duration_minutes"),
                "time_zone": zone,
            }
        return {
            "title": data["title"],
            "starts_at": self._local(data.get("starts_at")),
            "ends_at": self._local(data.get("ends_at")),
            "time_zone": zone,
        }

    def add_setup_errors(self, errors: list[tuple[str, str]]) -> None:
        for name, message in errors:
            self.add_error(name if name in self.fields else None, message)
