"""Forms of the replica pages: a connector (its schedule, its kind's config, its secrets, its
mapping) and the upload of an export file.

A connector's config is shaped by its kind. A preset for a known service asks for an
address and which of its lists to copy; CSV/XLSX exports ask for a folder and one row per
list; plain files for a folder and name patterns; anything else (a generic REST API) is
edited as YAML. The form only shapes the input: validation is the kind's and editing's, and
each of their (field, message) problems is put back on the input it is about.

Secrets are password inputs that never show a value back: empty keeps the saved one, the
"clear" box removes it. The mapping shows, per list, every field of the canonical record with
the kind's default source; only what the person changes is stored (as overrides).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml
from django import forms
from django.forms.utils import ErrorDict
from django.http import QueryDict
from pydantic_core import PydanticUndefined

from fallback.accounts.models import Organisation
from fallback.configfile.source import Locator, read_documents
from fallback.monitor.models import System
from fallback.replica import credentials
from fallback.replica.connectors import registry
from fallback.replica.connectors.base import ConnectorKind, Stream
from fallback.replica.connectors.preset import PresetKind
from fallback.replica.display import MASK
from fallback.replica.editing import MAX_INTERVAL, MIN_INTERVAL, unique_slug
from fallback.replica.models import Connector
from fallback.replica.schema import ENTITIES, GENERIC, Entity

UPLOAD_LIMIT = 200 * 1024 * 1024  # bytes
MAX_FILE_LISTS = 20
NOT_MAPPED = "-"

Data = QueryDict | dict[str, Any]


def _get(data: Data, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _getlist(data: Data, name: str) -> list[str]:
    if isinstance(data, QueryDict):
        return data.getlist(name)
    value = data.get(name)
    return list(value) if isinstance(value, (list, tuple)) else ([value] if value else [])


def spec_text(value: Any) -> str:
    """A mapping spec as the form shows it: a path or template as typed, "-" for nothing,
    JSON for a list of alternatives or for lines."""
    if value is None:
        return NOT_MAPPED
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def parse_spec(text: str) -> Any:
    """The inverse of spec_text; raises ValueError with a plain message."""
    text = text.strip()
    if text == NOT_MAPPED:
        return None
    if text.startswith("{"):  # lines as a JSON object, or a template
        try:
            return json.loads(text)
        except ValueError:
            return text
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(
                f'alternatives are written as a JSON list, e.g. ["phone", "mobile"] ({exc.args[0]})'
            ) from None
    return text


# ------------------------------------------------------------------ kind editors


class KindEditor:
    """The inputs for one kind's config: made from the saved config, read back from the
    submitted data, and told where the kind's problems belong."""

    template: ClassVar[str] = "replica/editors/_fields.html"

    def __init__(self, kind: ConnectorKind[Any], saved: dict[str, Any] | None, data: Data | None):
        self.kind = kind
        self.saved = saved
        self.data = data
        self.names: list[str] = []
        self.refreshers: list[str] = []  # inputs whose change reshapes the mapping

    def add_fields(self, form: forms.Form) -> None:
        raise NotImplementedError

    def read(self, data: Data) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """(config, problems as (input name, message)) from what was submitted."""
        raise NotImplementedError

    def place(self, parts: list[str], message: str) -> tuple[str | None, str]:
        """The input a problem at config.<parts> belongs to, and the message to show there."""
        name = f"config__{parts[0]}" if parts else None
        if name in self.names:
            return name, message
        return None, f"{'.'.join(parts) or 'config'}: {message}"

    def bound(self, form: forms.Form) -> list[forms.BoundField]:
        return [form[n] for n in self.names]

    def _add(self, form: forms.Form, name: str, field: forms.Field, initial: Any) -> None:
        form.fields[name] = field
        if initial is not None:
            form.initial[name] = initial
        self.names.append(name)


def _default(info: Any) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    return None


class PresetEditor(KindEditor):
    """A known service: its address, the lists to copy, and whatever else its Config asks."""

    LABELS: ClassVar[dict[str, tuple[str, str]]] = {
        "base_url": ("Address of the API", ""),
        "streams": ("Lists to copy", ""),
        "page_size": ("Records per page", "Leave empty for the service's usual page size."),
        "realm_id": ("Company ID (realm ID)", "Shown in the service's developer settings."),
        "client_id": ("OAuth2 client ID", "From the app you registered with the service."),
        "token_url": ("Token address", "Where refresh tokens are exchanged; rarely changed."),
    }

    def _streams(self) -> dict[str, Stream]:
        assert isinstance(self.kind, PresetKind)
        return self.kind.STREAMS

    def add_fields(self, form: forms.Form) -> None:
        saved = self.saved or {}
        for key, info in self.kind.Config.model_fields.items():
            label, help_text = self.LABELS.get(
                key, (key.replace("_", " ").capitalize(), info.description or "")
            )
            common: dict[str, Any] = {"label": label, "help_text": help_text, "required": False}
            name = f"config__{key}"
            initial: Any = saved.get(key, _default(info))
            f: forms.Field
            if key == "streams":
                choices = []
                for stream_name, stream in self._streams().items():
                    entity = ENTITIES.get(str(stream.mapping.get("entity", GENERIC)))
                    words = stream_name.replace("_", " ").capitalize()
                    if entity is not None and entity.plural.lower() != words.lower():
                        words += f" (as {entity.plural.lower()})"
                    choices.append((stream_name, words))
                f = forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple, **common
                )
                initial = saved.get("streams") or list(self._streams())
                self.refreshers.append(name)
            elif key == "page_size":
                f = forms.IntegerField(min_value=1, max_value=1000, **common)
            elif key.endswith("url"):
                f = forms.CharField(
                    widget=forms.URLInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
                    **common,
                )
                if key == "base_url":
                    f.help_text = self.kind.description
            else:
                f = forms.CharField(widget=forms.TextInput(attrs={"spellcheck": "false"}), **common)
            f.required = info.is_required()
            self._add(form, name, f, initial)

    def read(self, data: Data) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        config: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        streams = self._streams()
        for key, info in self.kind.Config.model_fields.items():
            name = f"config__{key}"
            if key == "streams":
                chosen = set(_getlist(data, name))
                if not chosen & set(streams):
                    problems.append((name, "Choose at least one list to copy."))
                elif not set(streams) <= chosen:
                    config["streams"] = [s for s in streams if s in chosen]
                continue
            raw = _get(data, name)
            if not raw:
                continue
            value: Any = raw
            if key == "page_size":
                try:
                    value = int(raw)
                except ValueError:
                    problems.append((name, "Write a whole number, e.g. 100."))
                    continue
            if value == _default(info):
                continue
            config[key] = value
        return config, problems


class FilesEditor(KindEditor):
    """CSV/XLSX exports: an optional folder, and one row per list (which file, what it
    holds, which column identifies a row)."""

    template = "replica/editors/_files.html"
    ROW_FIELDS = ("entity", "pattern", "key", "name", "sheet", "delimiter", "encoding")

    @dataclass
    class Row:
        index: int
        existing: bool
        names: dict[str, str] = field(default_factory=dict)

    def __init__(self, kind: ConnectorKind[Any], saved: dict[str, Any] | None, data: Data | None):
        super().__init__(kind, saved, data)
        self.saved_streams = [
            s for s in ((saved or {}).get("streams") or []) if isinstance(s, dict)
        ]
        if data is None:
            count = len(self.saved_streams) or 1
        else:
            try:
                count = int(_get(data, "fs_rows") or len(self.saved_streams) or 1)
            except ValueError:
                count = len(self.saved_streams) or 1
            if _get(data, "action") == "add_stream":
                count += 1
        self.count = max(1, min(count, MAX_FILE_LISTS))
        self.rows: list[FilesEditor.Row] = []
        self.row_of_stream: dict[int, int] = {}

    def add_fields(self, form: forms.Form) -> None:
        self._add(
            form,
            "config__folder",
            forms.CharField(
                label="Folder to watch",
                required=False,
                help_text="A folder on the machine running Fallback where another program "
                "drops its exports, e.g. /srv/exports. Leave empty to upload the files here.",
                widget=forms.TextInput(attrs={"spellcheck": "false"}),
            ),
            (self.saved or {}).get("folder"),
        )
        entities = [(e.key, e.plural) for e in ENTITIES.values()]
        for i in range(self.count):
            saved = self.saved_streams[i] if i < len(self.saved_streams) else {}
            row = self.Row(i, bool(saved))
            specs: dict[str, tuple[forms.Field, Any]] = {
                "entity": (
                    forms.ChoiceField(label="What it holds", choices=entities, required=False),
                    saved.get("entity", "customer" if i == 0 else GENERIC),
                ),
                "pattern": (
                    forms.CharField(
                        label="File name",
                        required=False,
                        help_text="The newest file matching this is read, e.g. customers*.csv",
                        widget=forms.TextInput(attrs={"spellcheck": "false"}),
                    ),
                    saved.get("pattern"),
                ),
                "key": (
                    forms.CharField(
                        label="Column that identifies a row",
                        required=False,
                        help_text="e.g. Customer ID, or SKU for products.",
                        widget=forms.TextInput(attrs={"spellcheck": "false"}),
                    ),
                    saved.get("key"),
                ),
                "name": (
                    forms.CharField(
                        label="Short name of the list",
                        required=False,
                        help_text="Lower-case letters, digits and _; empty: from what it holds.",
                        widget=forms.TextInput(attrs={"spellcheck": "false"}),
                    ),
                    saved.get("name"),
                ),
                "sheet": (
                    forms.CharField(
                        label="Sheet (XLSX)", required=False, help_text="Empty: the first sheet."
                    ),
                    saved.get("sheet"),
                ),
                "delimiter": (
                    forms.CharField(
                        label="Delimiter (CSV)",
                        required=False,
                        help_text="Empty: detected.",
                        widget=forms.TextInput(attrs={"size": "3"}),
                    ),
                    saved.get("delimiter"),
                ),
                "encoding": (
                    forms.CharField(
                        label="Encoding (CSV)", required=False, help_text="Empty: detected."
                    ),
                    saved.get("encoding"),
                ),
            }
            for part, (f, initial) in specs.items():
                name = f"fs{i}__{part}"
                self._add(form, name, f, initial)
                row.names[part] = name
                if part in ("entity", "pattern", "name"):
                    self.refreshers.append(name)
            if row.existing:
                name = f"fs{i}__remove"
                self._add(
                    form, name, forms.BooleanField(label="Remove this list", required=False), None
                )
                row.names["remove"] = name
                self.refreshers.append(name)
            self.rows.append(row)

    def read(self, data: Data) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        config: dict[str, Any] = {}
        folder = _get(data, "config__folder")
        if folder:
            config["folder"] = folder
        saved_fields = {str(s.get("name")): s.get("fields") for s in self.saved_streams}
        streams: list[dict[str, Any]] = []
        taken: set[str] = set()
        self.row_of_stream = {}
        for i in range(self.count):
            if _get(data, f"fs{i}__remove"):
                continue
            values = {p: _get(data, f"fs{i}__{p}") for p in self.ROW_FIELDS}
            if not (values["pattern"] or values["key"] or values["name"]):
                continue
            entity = values["entity"] or GENERIC
            name = values["name"]
            if not name:
                plural = ENTITIES[entity].plural if entity in ENTITIES else "records"
                base = re.sub(r"[^a-z0-9_]+", "_", plural.lower()).strip("_") or "records"
                name, n = base, 2
                while name in taken:
                    name, n = f"{base}_{n}", n + 1
            taken.add(name)
            stream: dict[str, Any] = {
                "name": name,
                "pattern": values["pattern"],
                "entity": entity,
                "key": values["key"],
            }
            if saved_fields.get(name):
                stream["fields"] = saved_fields[name]
            for part in ("sheet", "delimiter", "encoding"):
                if values[part]:
                    stream[part] = values[part]
            self.row_of_stream[len(streams)] = i
            streams.append(stream)
        config["streams"] = streams
        if not streams:
            return config, [
                ("fs0__pattern", "Add at least one list: which file, and what it holds.")
            ]
        return config, []

    def place(self, parts: list[str], message: str) -> tuple[str | None, str]:
        if parts[:1] == ["streams"]:
            if len(parts) >= 2 and parts[1].isdigit():
                row = self.row_of_stream.get(int(parts[1]), 0)
                part = parts[2] if len(parts) > 2 else "pattern"
                name = f"fs{row}__{part}"
                if name in self.names:
                    return name, message
                return f"fs{row}__pattern", f"{'.'.join(parts[2:])}: {message}"
            return "fs0__pattern", message
        return super().place(parts, message)


class KeptEditor(KindEditor):
    """Plain files kept as they are: an optional folder and name patterns."""

    def add_fields(self, form: forms.Form) -> None:
        saved = self.saved or {}
        self._add(
            form,
            "config__folder",
            forms.CharField(
                label="Folder to watch",
                required=False,
                help_text="A folder on the machine running Fallback, e.g. /srv/templates. "
                "Leave empty to upload the files here.",
                widget=forms.TextInput(attrs={"spellcheck": "false"}),
            ),
            saved.get("folder"),
        )
        self._add(
            form,
            "config__patterns",
            forms.CharField(
                label="Which files",
                required=False,
                help_text="Name patterns separated by commas, e.g. *.docx, *.xlsx. "
                "Empty: every file.",
                widget=forms.TextInput(attrs={"spellcheck": "false"}),
            ),
            ", ".join(saved.get("patterns") or []) or None,
        )
        self._add(
            form,
            "config__max_size_mb",
            forms.IntegerField(
                label="Largest file (MB)", required=False, min_value=1, max_value=2048
            ),
            saved.get("max_size_mb", 200),
        )

    def read(self, data: Data) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        config: dict[str, Any] = {}
        folder = _get(data, "config__folder")
        if folder:
            config["folder"] = folder
        patterns = [p.strip() for p in re.split(r"[,\n]", _get(data, "config__patterns"))]
        patterns = [p for p in patterns if p]
        if patterns and patterns != ["*"]:
            config["patterns"] = patterns
        size = _get(data, "config__max_size_mb")
        if size:
            try:
                value = int(size)
            except ValueError:
                return config, [("config__max_size_mb", "Write a whole number of megabytes.")]
            if value != 200:
                config["max_size_mb"] = value
        return config, []


REST_EXAMPLE = """\
# The whole setup of the connector, in YAML. Secrets (token, password…) go in the
# fields below, never here.
base_url: https://api.example.com/v1/
auth:
  type: bearer          # none, bearer, api_key, basic, oauth2_client_credentials, …
paginator:
  type: json_link       # auto, header_link, json_link, cursor, page_number, offset
  next_url_path: next
resources:
  - name: customers
    path: customers
    data_selector: data  # where the list is in the answer
    entity: customer
    key: id
    fields:
      name: company_name
      email: email
      phone: phone
    incremental_param: updated_since
    cursor_path: updated_at
"""


class YamlEditor(KindEditor):
    """Any other kind (a generic REST API): the whole config as YAML. Header values are
    masked when shown and kept when the mask comes back."""

    template = "replica/editors/_yaml.html"
    example = REST_EXAMPLE

    def __init__(self, kind: ConnectorKind[Any], saved: dict[str, Any] | None, data: Data | None):
        super().__init__(kind, saved, data)
        self.locator: Locator | None = None

    def add_fields(self, form: forms.Form) -> None:
        if self.saved is None:
            initial = self.example if self.kind.key == "rest" else ""
        else:
            shown = dict(self.saved)
            if isinstance(shown.get("headers"), dict):
                shown["headers"] = dict.fromkeys(shown["headers"], MASK)
            initial = yaml.safe_dump(
                shown, sort_keys=False, allow_unicode=True, default_flow_style=False
            )
        self._add(
            form,
            "config__yaml",
            forms.CharField(
                label="Setup (YAML)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false", "class": "mono"}),
                help_text="Header values are shown as ••• ; leave them so to keep them.",
            ),
            initial,
        )
        self.refreshers.append("config__yaml")

    def read(self, data: Data) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        text = data.get("config__yaml") or ""
        documents, errors = read_documents(str(text), "setup")
        if errors:
            return {}, [("config__yaml", f"line {e.line}: {e.message}") for e in errors]
        if not documents:
            return {}, [("config__yaml", "Write the setup: see the example.")]
        if len(documents) > 1:
            return {}, [("config__yaml", "One YAML document only (no --- separators).")]
        document = documents[0]
        self.locator = document.locator
        if not isinstance(document.data, dict):
            return {}, [("config__yaml", "The setup must be keys and values, as in the example.")]
        config: dict[str, Any] = dict(document.data)
        saved_headers = (self.saved or {}).get("headers")
        headers = config.get("headers")
        if isinstance(headers, dict) and isinstance(saved_headers, dict):
            config["headers"] = {
                k: (saved_headers.get(k, v) if v == MASK else v) for k, v in headers.items()
            }
        return config, []

    def place(self, parts: list[str], message: str) -> tuple[str | None, str]:
        loc = tuple(int(p) if p.isdigit() else p for p in parts)
        where = ".".join(parts)
        if self.locator is not None:
            line = self.locator.line(loc)
            return "config__yaml", f"line {line}: {where}: {message}" if where else message
        return "config__yaml", f"{where}: {message}" if where else message


def editor_for(
    kind: ConnectorKind[Any], saved: dict[str, Any] | None, data: Data | None
) -> KindEditor:
    if isinstance(kind, PresetKind):
        return PresetEditor(kind, saved, data)
    if kind.key == "files":
        return FilesEditor(kind, saved, data)
    if kind.key == "kept_files":
        return KeptEditor(kind, saved, data)
    return YamlEditor(kind, saved, data)


# ---------------------------------------------------------------------- mapping


@dataclass
class MappingRow:
    label: str
    name: str  # the input's name
    field: str  # the canonical field ("" for the key)
    default: Any
    required: bool = False

    @property
    def default_text(self) -> str:
        return "" if self.default in (None, "") else spec_text(self.default)


@dataclass
class MappingTable:
    stream: str
    entity: Entity
    rows: list[MappingRow]


def _lenient_streams(kind: ConnectorKind[Any], config: dict[str, Any]) -> list[Stream]:
    """The lists a config names even when something else in it is wrong, so the mapping can
    still be shown while the person fixes it."""
    found: list[Stream] = []
    if isinstance(kind, PresetKind):
        chosen = config.get("streams") or list(kind.STREAMS)
        return [kind.STREAMS[n] for n in chosen if n in kind.STREAMS]
    for item in config.get("streams") or config.get("resources") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
            fields = item.get("fields") if isinstance(item.get("fields"), dict) else {}
            spec = {"entity": item.get("entity", GENERIC), "key": item.get("key"), "fields": fields}
            found.append(Stream(item["name"], spec))
    return found


def streams_of(kind: ConnectorKind[Any], config: dict[str, Any]) -> list[Stream]:
    if kind.keeps_files:
        return []
    try:
        model = registry.validate_config(kind.key, config)
        return list(kind.streams(model))
    except (registry.InvalidConnectorConfig, ValueError):
        return _lenient_streams(kind, config)


# ------------------------------------------------------------------- connector


class ConnectorForm(forms.Form):
    """All of a connector's setup. Validation is editing's: this shapes the input."""

    name = forms.CharField(
        label="Name",
        max_length=120,
        help_text="What your team calls it, e.g. “Shop” or “Price list export”.",
    )
    system = forms.ModelChoiceField(
        label="The system it copies",
        queryset=System.objects.none(),
        required=False,
        empty_label="—",
        help_text="That system's page then shows how fresh its copy is.",
    )
    interval_minutes = forms.IntegerField(
        label="Sync every (minutes)", min_value=MIN_INTERVAL, max_value=MAX_INTERVAL, initial=15
    )
    rpo_minutes = forms.IntegerField(
        label="Warn when the copy is older than (minutes)",
        min_value=1,
        initial=60,
        help_text="Your RPO: how old the newest good copy may be.",
    )
    drop_guard_percent = forms.IntegerField(
        label="Hold a full sync with this many % fewer records",
        min_value=1,
        max_value=100,
        initial=20,
        help_text="A held sync waits for a person to release or discard it.",
    )
    full_sweep_hours = forms.IntegerField(
        label="Full sweep at least every (hours)",
        min_value=1,
        initial=24,
        help_text="Only a full sweep notices records deleted at the source.",
    )
    enabled = forms.BooleanField(label="Sync on schedule", required=False, initial=True)

    BASE = [
        "name",
        "system",
        "interval_minutes",
        "rpo_minutes",
        "drop_guard_percent",
        "full_sweep_hours",
        "enabled",
    ]

    def __init__(
        self,
        data: Data | None = None,
        *,
        org: Organisation,
        kind: ConnectorKind[Any],
        connector: Connector | None = None,
    ) -> None:
        initial = {n: getattr(connector, n) for n in self.BASE} if connector else None
        super().__init__(data=data, initial=initial)
        self.org = org
        self.kind = kind
        self.connector = connector
        system = self.fields["system"]
        assert isinstance(system, forms.ModelChoiceField)
        system.queryset = System.objects.filter(org=org).order_by("name")
        saved_config = dict(connector.config) if connector is not None else None
        self.editor = editor_for(kind, saved_config, data)
        self.editor.add_fields(self)
        self._add_secrets()
        self.problems: list[tuple[str, str]] = []
        if data is not None:
            self.config, found = self.editor.read(data)
            self.problems.extend(found)
        else:
            self.config = saved_config if saved_config is not None else {}
        self.saved_mapping: dict[str, Any] = dict(connector.mapping or {}) if connector else {}
        self.with_key_row = not isinstance(self.editor, FilesEditor)
        self.mapping_tables = self._add_mapping(streams_of(kind, self.config))
        self.mapping: dict[str, Any] = (
            self._read_mapping(data) if data is not None else dict(self.saved_mapping)
        )

    def refresh_from(self, url: str) -> None:
        """Changing a list (which file, what it holds, which lists) re-renders the mapping
        from `url` (htmx; the container in the page says where it goes)."""
        for name in self.editor.refreshers:
            attrs = self.fields[name].widget.attrs
            attrs["hx-post"] = url
            attrs["hx-sync"] = "closest form:replace"  # the newest change wins

    # --------------------------------------------------------------- secrets

    def _add_secrets(self) -> None:
        self.secrets_set = (
            set(credentials.which_are_set(self.connector)) if self.connector else set()
        )
        self.secret_rows: list[tuple[str, str | None, bool]] = []
        for secret in self.kind.secrets:
            is_set = secret.name in self.secrets_set
            name = f"secret__{secret.name}"
            help_text = secret.help
            if is_set:
                help_text = (help_text + " " if help_text else "") + "Leave empty to keep it."
            self.fields[name] = forms.CharField(
                label=secret.label,
                required=False,
                strip=False,
                help_text=help_text,
                widget=forms.PasswordInput(
                    render_value=False,
                    attrs={"autocomplete": "new-password", "spellcheck": "false"},
                ),
            )
            clear = None
            if is_set:
                clear = f"clear__{secret.name}"
                self.fields[clear] = forms.BooleanField(
                    label=f"Clear the saved {secret.label[:1].lower() + secret.label[1:]}",
                    required=False,
                )
            self.secret_rows.append((name, clear, is_set))

    def secrets(self) -> dict[str, str | None]:
        """What to pass to editing: a new value, "" to clear, None to keep."""
        data = self.data if self.is_bound else {}
        given: dict[str, str | None] = {}
        for secret in self.kind.secrets:
            value = str(data.get(f"secret__{secret.name}") or "").strip()
            if value:
                given[secret.name] = value
            elif data.get(f"clear__{secret.name}") and secret.name in self.secrets_set:
                given[secret.name] = ""
            elif self.connector is not None:
                given[secret.name] = None
        return given

    def secret_fields(self) -> list[dict[str, Any]]:
        return [
            {"field": self[name], "clear": self[clear] if clear else None, "is_set": is_set}
            for name, clear, is_set in self.secret_rows
        ]

    # --------------------------------------------------------------- mapping

    def _add_mapping(self, streams: list[Stream]) -> list[MappingTable]:
        tables = []
        for stream in streams:
            override = self.saved_mapping.get(stream.name)
            override = override if isinstance(override, dict) else {}
            entity = ENTITIES.get(str(override.get("entity") or stream.mapping.get("entity")))
            entity = entity or ENTITIES[GENERIC]
            defaults = stream.mapping.get("fields") or {}
            found = override.get("fields")
            saved_fields: dict[str, Any] = found if isinstance(found, dict) else {}
            rows: list[MappingRow] = []
            if self.with_key_row:  # a file's list says its key column itself
                key_name = f"mapkey__{stream.name}"
                self.fields[key_name] = forms.CharField(
                    label=f"Key of {stream.name}",
                    required=False,
                    widget=forms.TextInput(attrs={"spellcheck": "false"}),
                )
                if "key" in override:
                    self.initial[key_name] = spec_text(override["key"])
                rows.append(
                    MappingRow("Key (identifies a record)", key_name, "", stream.mapping.get("key"))
                )
            names = [f.name for f in entity.fields]
            if entity.key == GENERIC:
                names += [n for n in defaults if n not in names]
            for field_name in names:
                target = entity.field(field_name)
                label = target.label if target is not None else field_name
                name = f"map__{stream.name}__{field_name}"
                self.fields[name] = forms.CharField(
                    label=f"{label} ({stream.name})",
                    required=False,
                    widget=forms.TextInput(attrs={"spellcheck": "false"}),
                )
                if field_name in saved_fields:
                    self.initial[name] = spec_text(saved_fields[field_name])
                rows.append(MappingRow(label, name, field_name, defaults.get(field_name)))
            tables.append(MappingTable(stream.name, entity, rows))
        return tables

    def _read_mapping(self, data: Data) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for table in self.mapping_tables:
            saved = self.saved_mapping.get(table.stream)
            override: dict[str, Any] = (
                {
                    k: v
                    for k, v in (saved or {}).items()
                    if k != "fields" and (k != "key" or not self.with_key_row)
                }
                if isinstance(saved, dict)
                else {}
            )
            fields: dict[str, Any] = {}
            for row in table.rows:
                raw = _get(data, row.name)
                if not raw:
                    continue
                try:
                    value = parse_spec(raw)
                except ValueError as exc:
                    self.problems.append((row.name, str(exc)))
                    continue
                if value == row.default:
                    continue
                if row.field:
                    fields[row.field] = value
                elif value is not None:
                    override["key"] = value
            if fields:
                override["fields"] = fields
            if override:
                mapping[table.stream] = override
        return mapping

    # ------------------------------------------------------------ validation

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, message in self.problems:
            self.add_error(name if name in self.fields else None, message)
        return cleaned

    def quiet(self) -> None:
        """Bound, but not judged: for a preview or a refresh of the mapping, where an empty
        name is no problem yet."""
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def values(self) -> dict[str, Any]:
        """Everything for editing.create_connector/update_connector except the secrets."""
        values = {n: self.cleaned_data[n] for n in self.BASE}
        values["config"] = self.config
        values["mapping"] = self.mapping
        return values

    def draft(self) -> Connector:
        """The connector as the form describes it, unsaved: for the preview."""
        data = self.data if self.is_bound else {}
        name = str(data.get("name") or "").strip()
        connector = Connector(
            org=self.org,
            name=name,
            slug=self.connector.slug
            if self.connector
            else unique_slug(self.org, name or self.kind.key),
            kind=self.kind.key,
            config=self.config,
            mapping=self.mapping,
            sealed_secrets=self.connector.sealed_secrets if self.connector else "",
        )
        credentials.update_secrets(connector, {k: v for k, v in self.secrets().items()})
        return connector

    def place(self, path: str, message: str) -> tuple[str | None, str]:
        parts = [p for p in re.split(r"[.\[\]\s]+", path) if p]
        if not parts:
            return None, message
        head = parts[0]
        if head == "config":
            return self.editor.place(parts[1:], message)
        if head == "mapping" and len(parts) >= 2:
            stream = parts[1]
            if len(parts) >= 3 and parts[2] == "key":
                name = f"mapkey__{stream}"
            elif len(parts) >= 4 and parts[2] == "fields":
                name = f"map__{stream}__{parts[3]}"
            else:
                name = ""
            if name in self.fields:
                return name, message
            return None, f"Mapping of {stream}: {message}"
        if head == "secrets" and len(parts) > 1:
            name = f"secret__{parts[1]}"
            return (name, message) if name in self.fields else (None, message)
        if head in self.BASE:
            return head, message
        return None, message

    def add_setup_errors(self, errors: list[tuple[str, str]]) -> list[str]:
        """Put editing's problems on their inputs; returns them as sentences too."""
        said = []
        for path, message in errors:
            name, text = self.place(path, message)
            if name is not None and name not in self.fields:
                name = None
            self.add_error(name, text)
            said.append(f"{self.fields[name].label}: {text}" if name else text)
        return said

    def problem_sentences(self) -> list[str]:
        return [f"{self.fields[n].label}: {m}" if n in self.fields else m for n, m in self.problems]

    # ------------------------------------------------------------- template

    def base(self) -> list[forms.BoundField]:
        return [self[n] for n in ("name", "system")]

    def schedule(self) -> list[forms.BoundField]:
        return [self[n] for n in ("interval_minutes", "rpo_minutes", "full_sweep_hours")]

    def guard(self) -> forms.BoundField:
        return self["drop_guard_percent"]

    def config_fields(self) -> list[forms.BoundField]:
        return self.editor.bound(self)

    def file_rows(self) -> list[dict[str, Any]]:
        if not isinstance(self.editor, FilesEditor):
            return []
        return [
            {
                "index": row.index,
                "number": row.index + 1,
                "existing": row.existing,
                "main": [self[row.names[p]] for p in ("entity", "pattern", "key")],
                "more": [self[row.names[p]] for p in ("name", "sheet", "delimiter", "encoding")],
                "remove": self[row.names["remove"]] if "remove" in row.names else None,
            }
            for row in self.editor.rows
        ]

    def mapping_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "stream": t.stream,
                "entity": t.entity,
                "rows": [{"row": r, "field": self[r.name]} for r in t.rows],
                "changed": any(bool(self[r.name].value()) for r in t.rows),
            }
            for t in self.mapping_tables
        ]


# ---------------------------------------------------------------------- upload


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text=f"Up to {UPLOAD_LIMIT // (1024 * 1024)} MB. A file with the same name "
        "replaces the one uploaded before.",
    )

    def __init__(self, *args: Any, accept: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if accept:
            self.fields["file"].widget.attrs["accept"] = accept

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_LIMIT:
            raise forms.ValidationError(
                f"The file is larger than {UPLOAD_LIMIT // (1024 * 1024)} MB."
            )
        return upload
