"""Forms of the desk's pages. The rules live in documents, notes, reconciliation and mode;
these only read what a person typed and say where it is wrong."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict

from fallback.accounts.models import Organisation
from fallback.desk import money, numbering
from fallback.desk.documents import REQUEST_KEY_MAX, LineInput
from fallback.desk.models import DeskSettings, Device, NoteKind, Party
from fallback.desk.notes import TEXT_MAX
from fallback.desk.reconciliation import FINAL_MAX
from fallback.monitor.models import System

REASON_MAX = 300
WHEN_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


def new_request_key() -> str:
    """The idempotency key a form carries from the moment it is shown: submitting it twice
    (a double click, a retry after a lost answer) saves one thing."""
    return str(uuid.uuid4())


class DeviceForm(forms.Form):
    name = forms.CharField(
        label="Name this computer",
        max_length=100,
        help_text="Documents made here say where they were made, e.g. “Front desk PC” or "
        "“Warehouse tablet”.",
    )


class SwitchOnForm(forms.Form):
    reason = forms.CharField(
        label="Why",
        max_length=REASON_MAX,
        help_text="e.g. “CRM login broken since 9:00”. Everyone at the desk sees it.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=REASON_MAX)


class TickForm(forms.Form):
    final_number = forms.CharField(label="Final number", max_length=FINAL_MAX, required=False)


class DocumentForm(forms.Form):
    """A document's header; its lines are read by `read_lines`."""

    party_key = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    party_name = forms.CharField(label="Customer", max_length=300, required=False)
    reference = forms.CharField(
        label="Reference",
        max_length=100,
        required=False,
        help_text="e.g. the customer's purchase order number",
    )
    issued_on = forms.DateField(
        label="Date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Empty: today",
    )
    due_on = forms.DateField(
        label="Due",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    delivery_address = forms.CharField(
        label="Deliver to", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    request_key = forms.CharField(max_length=REQUEST_KEY_MAX, widget=forms.HiddenInput)
    source = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, party: str = Party.CUSTOMER, due_help: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["party_name"].label = "Supplier" if party == Party.SUPPLIER else "Customer"
        self.fields["party_name"].help_text = "Find them with the search above, or type a name."
        if due_help:
            self.fields["due_on"].help_text = due_help


LINE_FIELDS = ("uid", "product_key", "sku", "description", "quantity", "unit", "unit_price")
LINE_FIELDS_ALL = (*LINE_FIELDS, "tax_rate")


@dataclass
class LineRow:
    """One line of the document form as typed, with what is wrong with it."""

    uid: str
    product_key: str = ""
    sku: str = ""
    description: str = ""
    quantity: str = ""
    unit: str = ""
    unit_price: str = ""
    tax_rate: str = ""
    error: str = ""
    total: str = ""  # the line's amount as the live preview shows it

    def to_input(self, locale: str) -> LineInput:
        """The line for documents.create, its numbers read as `locale` writes them."""
        return LineInput(
            description=self.description,
            quantity=money.typed_number(self.quantity, locale),
            unit_price=money.typed_number(self.unit_price, locale),
            tax_rate=money.typed_number(self.tax_rate, locale) or None,
            product_key=self.product_key,
            sku=self.sku,
            unit=self.unit,
        )


def line_uid() -> str:
    return secrets.token_hex(4)


def read_lines(data: QueryDict) -> list[LineRow]:
    """The form's lines in their order on the page; a row left wholly empty is no line."""
    columns = {f: data.getlist(f"line_{f}") for f in LINE_FIELDS_ALL}
    count = max((len(c) for c in columns.values()), default=0)
    rows = []
    for i in range(count):
        values = {f: (columns[f][i] if i < len(columns[f]) else "").strip() for f in columns}
        if not any(v for f, v in values.items() if f != "uid"):
            continue
        values["uid"] = values["uid"] or line_uid()
        rows.append(LineRow(**values))
    return rows


def row_from_input(line: LineInput) -> LineRow:
    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return LineRow(
        uid=line_uid(),
        product_key=line.product_key,
        sku=line.sku,
        description=line.description,
        quantity=text(line.quantity),
        unit=line.unit,
        unit_price=text(line.unit_price),
        tax_rate=text(line.tax_rate),
    )


_LINE_WHERE = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")
_FIELD_LABELS = {
    "description": "the description",
    "quantity": "the quantity",
    "unit_price": "the price",
    "tax_rate": "the tax rate",
    "product_key": "the product",
}


@dataclass
class Preview:
    """The totals of the lines as typed, for the live preview."""

    subtotal: Decimal
    tax: Decimal
    total: Decimal
    by_rate: tuple[tuple[Decimal, Decimal, Decimal], ...]
    problems: list[str]
    currency: str
    inclusive: bool
    tax_name: str


def preview_totals(desk: DeskSettings, currency: str, locale: str, rows: list[LineRow]) -> Preview:
    amounts: list[tuple[Decimal, money.LineAmounts]] = []
    problems: list[str] = []
    for n, row in enumerate(rows, start=1):
        row.total = ""
        try:
            line = row.to_input(locale)
            quantity = money.to_decimal(line.quantity, "the quantity", minimum=Decimal(0))
            price = money.to_decimal(line.unit_price, "the price", minimum=Decimal(0))
            rate = (
                money.to_decimal(line.tax_rate, "the tax rate", minimum=Decimal(0))
                if line.tax_rate is not None
                else desk.tax_rate
            )
        except money.MoneyProblem as exc:
            problems.append(f"Line {n}: {exc}.")
            continue
        if rate > 100:
            problems.append(f"Line {n}: the tax rate {rate}% is over 100%.")
            continue
        amounts_ = money.line_amounts(quantity, price, rate, currency, desk.prices_include_tax)
        amounts.append((rate, amounts_))
        shown = amounts_.total if desk.prices_include_tax else amounts_.net
        row.total = money.format_money(shown, currency, locale)
    totals = money.totals(amounts, currency)
    return Preview(
        totals.subtotal,
        totals.tax,
        totals.total,
        totals.by_rate,
        problems,
        currency,
        desk.prices_include_tax,
        desk.tax_name,
    )


def attach_problems(
    problems: list[tuple[str, str]], form: DocumentForm, rows: list[LineRow]
) -> list[str]:
    """Put each problem next to what it names: a field, a line, or the form as a whole;
    returns the problems about the lines as a whole."""
    about_lines: list[str] = []
    for where, what in problems:
        match = _LINE_WHERE.match(where)
        if match:
            n, name = int(match.group(1)), match.group(2) or ""
            if what.startswith("is "):  # "is empty": say what is
                what = f"{_FIELD_LABELS.get(name, 'it')} {what}"
            text = what
            text = text[:1].upper() + text[1:]
            if 1 <= n <= len(rows):
                rows[n - 1].error = f"{rows[n - 1].error} {text}.".strip()
            else:
                about_lines.append(f"Line {n}: {text}.")
        elif where == "lines":
            about_lines.append(what[:1].upper() + what[1:] + ".")
        elif where in form.fields and where not in ("request_key", "source", "party_key"):
            form.add_error(where, what)
        else:
            form.add_error(None, what[:1].upper() + what[1:] + ".")
    return about_lines


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label="What", choices=NoteKind.choices, initial=NoteKind.CALL)
    text = forms.CharField(
        label="Note",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who, what was asked, what was promised or done.",
    )
    at = forms.CharField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: now",
    )
    party = forms.ChoiceField(
        required=False, choices=[("", ""), *Party.choices], widget=forms.HiddenInput
    )
    party_key = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    party_name = forms.CharField(
        label="Customer or supplier",
        required=False,
        max_length=300,
        help_text="Find them with the search above, or type a name.",
    )
    document = forms.TypedChoiceField(
        label="About a document", required=False, coerce=int, empty_value=None
    )
    request_key = forms.CharField(max_length=REQUEST_KEY_MAX, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, zone: tzinfo, documents: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        field = self.fields["document"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "None"), *documents]

    def clean_at(self) -> datetime | None:
        text = self.cleaned_data.get("at", "").strip()
        if not text:
            return None
        for fmt in WHEN_FORMATS:
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=self.zone)
            except ValueError:
                continue
        raise forms.ValidationError("write it as YYYY-MM-DD HH:MM, e.g. 2025-03-01 09:30")


class SystemsField(forms.ModelMultipleChoiceField[System]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class DeskSettingsForm(forms.ModelForm[DeskSettings]):
    covered_systems = SystemsField(
        label="Systems the desk covers",
        queryset=System.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A declared outage of any of these switches fallback mode on. None ticked: "
        "any system.",
    )

    class Meta:
        model = DeskSettings
        fields = [
            "covered_systems",
            "number_prefix",
            "tax_name",
            "tax_rate",
            "prices_include_tax",
            "payment_terms_days",
            "quote_valid_days",
            "letterhead_name",
            "letterhead_address",
            "letterhead_phone",
            "letterhead_email",
            "letterhead_tax_number",
            "footer",
            "document_css",
            "system_back_checklist",
        ]
        labels = {
            "number_prefix": "Number prefix",
            "tax_name": "Name of the tax",
            "tax_rate": "Tax rate (%)",
            "prices_include_tax": "Prices include tax",
            "payment_terms_days": "Payment terms (days)",
            "quote_valid_days": "Quotes valid for (days)",
            "letterhead_name": "Business name",
            "letterhead_address": "Address",
            "letterhead_phone": "Phone",
            "letterhead_email": "Email",
            "letterhead_tax_number": "Tax number",
            "footer": "Footer",
            "document_css": "Document CSS",
            "system_back_checklist": "“System back up” checklist",
        }
        widgets = {
            "letterhead_address": forms.Textarea(attrs={"rows": 3}),
            "footer": forms.Textarea(attrs={"rows": 2}),
            "document_css": forms.Textarea(attrs={"rows": 4, "class": "mono"}),
            "system_back_checklist": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        field = self.fields["covered_systems"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = System.objects.filter(org=org).order_by("name")

    def clean_number_prefix(self) -> str:
        prefix = str(self.cleaned_data.get("number_prefix", "")).strip().upper()
        problem = numbering.prefix_clash(self.org, prefix)
        if problem:
            raise forms.ValidationError(problem)
        return prefix


class DeviceRenameForm(forms.ModelForm[Device]):
    class Meta:
        model = Device
        fields = ["name"]
        labels = {"name": "Name"}
