"""Forms of the plan's pages. The rules are fallback.plans.editing's; these read what a
person typed (durations, one-per-line lists, people) and say where it is wrong."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory

from fallback.accounts.models import Organisation, User
from fallback.monitor.models import System
from fallback.plans import durations, editing
from fallback.plans.models import (
    Activity,
    Band,
    Contact,
    ContactKind,
    Plan,
    PlanRole,
    Risk,
    Scenario,
    ScenarioKind,
)
from fallback.replica import history

SCALE = {
    "likelihood": [
        (1, "1 – rare"),
        (2, "2 – unlikely"),
        (3, "3 – possible"),
        (4, "4 – likely"),
        (5, "5 – almost certain"),
    ],
    "severity": [
        (1, "1 – a nuisance"),
        (2, "2 – minor"),
        (3, "3 – serious"),
        (4, "4 – major"),
        (5, "5 – the business may not survive it"),
    ],
}
SUPPLIER_CHOICES = 200  # replica suppliers offered on an activity's page
ALTERNATES = 3


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class DurationField(forms.CharField):
    """A duration typed as "4h", "1 day 12 hours", "30 min"; cleaned to minutes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "e.g. 4h")

    def prepare_value(self, value: Any) -> Any:
        return durations.words(value) if isinstance(value, int) else value

    def clean(self, value: Any) -> int | None:
        text = str(value or "").strip()
        if not text:
            if self.required:
                raise forms.ValidationError("give a duration, " + durations.EXAMPLE)
            return None
        try:
            return durations.parse(text)
        except durations.BadDuration as exc:
            raise forms.ValidationError(str(exc)) from None


class MemberField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.email})" if name else str(obj.email)


class SystemsField(forms.ModelMultipleChoiceField[System]):
    def label_from_instance(self, obj: System) -> str:
        return str(obj.name)


def _members(org: Organisation) -> Any:
    return User.objects.filter(memberships__org=org).order_by("email")


def member_field(org: Organisation, label: str, help_text: str = "") -> MemberField:
    return MemberField(
        label=label,
        queryset=_members(org),
        required=False,
        empty_label="— nobody yet —",
        help_text=help_text,
    )


def systems_field(org: Organisation, help_text: str) -> SystemsField:
    return SystemsField(
        label="Systems",
        queryset=System.objects.filter(org=org).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
    )


def apply_errors(
    form: forms.BaseForm, errors: list[tuple[str, str]], names: dict[str, str]
) -> None:
    """Put editing's problems on the fields they name (the rest on the form)."""
    for field, message in errors:
        name = names.get(field, field)
        form.add_error(name if name in form.fields else None, message)


class OwnersForm(forms.Form):
    def __init__(self, *args: Any, org: Organisation, plan: Plan, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "owner": plan.owner_id,
                "contacts_owner": plan.contacts_owner_id,
                "price_list_owner": plan.price_list_owner_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["owner"] = member_field(
            org, "Plan owner", "Keeps the plan up to date; reminded when the whole plan is due."
        )
        self.fields["contacts_owner"] = member_field(
            org, "Contacts owner", "Checks the contacts are still right (empty: the plan owner)."
        )
        self.fields["price_list_owner"] = member_field(
            org,
            "Price list owner",
            "Re-prints the price list when prices change (empty: the plan owner).",
        )


# ------------------------------------------------------------------ activities

ACTIVITY_NAMES = {"mtpd_minutes": "mtpd", "rto_minutes": "rto", "rpo_minutes": "rpo"}


class ActivityForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    description = forms.CharField(
        label="What it is", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    people = forms.CharField(
        label="People who do it",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line. Their knowledge matters too: who else could do it?",
    )
    suppliers = forms.CharField(
        label="Other suppliers it depends on",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: the courier, the bank…",
    )
    records = forms.CharField(
        label="Records it needs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. customers, price list, open orders",
    )
    mtpd = DurationField(
        label="Longest it can stop (MTPD)",
        help_text="After this long the damage is more than the business can bear. "
        + durations.EXAMPLE.capitalize(),
    )
    rto = DurationField(
        label="Resume within (RTO)",
        help_text="How fast it must work again, on the fallback if need be: shorter than the MTPD.",
    )
    rpo = DurationField(
        label="Data no older than (RPO)",
        help_text="How old the copy of its records may be. Fallback compares it with the "
        "replica's alert.",
    )

    def __init__(
        self, *args: Any, org: Organisation, plan: Plan, activity: Activity | None, **kwargs: Any
    ) -> None:
        if activity is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(activity)
            # A suggestion has no owner yet: the plan's owner is the likely one.
            kwargs["initial"]["owner"] = activity.owner_id or plan.owner_id
        elif "initial" not in kwargs:
            kwargs["initial"] = {"owner": plan.owner_id}
        super().__init__(*args, **kwargs)
        self.fields["owner"] = member_field(org, "Owner", "Answers for this work during an outage.")
        self.fields["systems"] = systems_field(org, "The systems this work cannot do without.")
        suppliers = list(
            history.current(org, "supplier")
            .order_by("name")
            .values_list("key", "name")[:SUPPLIER_CHOICES]
        )
        if suppliers or (activity is not None and activity.supplier_keys):
            known = {key for key, _ in suppliers}
            extra = [(k, k) for k in (activity.supplier_keys if activity else []) if k not in known]
            self.fields["supplier_keys"] = forms.MultipleChoiceField(
                label="Suppliers from the replica",
                required=False,
                choices=[(k, n or k) for k, n in suppliers] + extra,
                widget=forms.CheckboxSelectMultiple,
            )
        for band, label in Band.choices:
            self.fields[f"money_{band}"] = forms.IntegerField(
                label=f"Money lost, {label.lower()}", required=False, min_value=0
            )
            self.fields[f"customers_{band}"] = forms.IntegerField(
                label=f"Customers affected, {label.lower()}", required=False, min_value=0
            )
            self.fields[f"note_{band}"] = forms.CharField(
                label=f"Note, {label.lower()}", required=False, max_length=300
            )

    @staticmethod
    def initial_for(activity: Activity) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": activity.name,
            "description": activity.description,
            "owner": activity.owner_id,
            "systems": list(activity.systems.all()),
            "supplier_keys": list(activity.supplier_keys),
            "people": activity.people,
            "suppliers": activity.suppliers,
            "records": activity.data,
            "mtpd": activity.mtpd_minutes,
            "rto": activity.rto_minutes,
            "rpo": activity.rpo_minutes,
        }
        for impact in activity.impacts.all():
            initial[f"money_{impact.band}"] = impact.money
            initial[f"customers_{impact.band}"] = impact.customers
            initial[f"note_{impact.band}"] = impact.note
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        problem = editing.rto_problem(cleaned.get("rto"), cleaned.get("mtpd"))
        if problem and "rto" not in self.errors:
            self.add_error("rto", problem)
        return cleaned

    def impact_rows(self) -> list[dict[str, Any]]:
        """The impact table's rows for the template: band label and its three fields."""
        return [
            {
                "label": label,
                "cells": [self[f"money_{band}"], self[f"customers_{band}"], self[f"note_{band}"]],
            }
            for band, label in Band.choices
        ]

    def saved_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"].strip(),
            "description": d["description"].strip(),
            "owner": d.get("owner"),
            "people": "\n".join(lines(d["people"])),
            "suppliers": "\n".join(lines(d["suppliers"])),
            "supplier_keys": list(d.get("supplier_keys") or []),
            "data": d["records"].strip(),
            "mtpd_minutes": d.get("mtpd"),
            "rto_minutes": d.get("rto"),
            "rpo_minutes": d.get("rpo"),
        }

    def impacts(self) -> dict[str, editing.ImpactInput]:
        d = self.cleaned_data
        return {
            band: editing.ImpactInput(
                d.get(f"money_{band}"), d.get(f"customers_{band}"), d.get(f"note_{band}") or ""
            )
            for band in Band.values
        }


# ----------------------------------------------------------------------- risks


class RiskForm(forms.ModelForm[Risk]):
    likelihood = forms.TypedChoiceField(
        label="How likely", choices=SCALE["likelihood"], coerce=int, initial=3
    )
    severity = forms.TypedChoiceField(
        label="How bad", choices=SCALE["severity"], coerce=int, initial=3
    )

    class Meta:
        model = Risk
        fields = [
            "title",
            "description",
            "likelihood",
            "severity",
            "treatment",
            "unthinkable",
            "contrarian",
        ]
        labels = {
            "title": "What could happen",
            "description": "More about it",
            "treatment": "What we do about it",
            "unthinkable": "“Unthinkable”: nobody believes it will happen",
        }
        help_texts = {
            "unthinkable": "Name someone to play the contrarian who assumes it will happen, and "
            "plans for it.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "treatment": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contrarian"] = member_field(
            org, "Contrarian", "Assumes the unthinkable will happen, and asks what then."
        )
        self.fields["description"].required = False
        self.fields["treatment"].required = False

    def saved_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "title": d["title"].strip(),
            "description": d["description"].strip(),
            "likelihood": d["likelihood"],
            "severity": d["severity"],
            "treatment": d["treatment"].strip(),
            "unthinkable": d["unthinkable"],
            "contrarian": d.get("contrarian"),
        }


# ------------------------------------------------------------------- scenarios


class RoleChoiceField(forms.ModelChoiceField[PlanRole]):
    def label_from_instance(self, obj: PlanRole) -> str:
        return str(obj.name)


class StepForm(forms.Form):
    role = RoleChoiceField(
        label="Who", queryset=PlanRole.objects.none(), required=False, empty_label="— anyone —"
    )
    action = forms.CharField(label="Does what", max_length=1000, required=False)
    place = forms.CharField(label="Where", max_length=200, required=False)
    method = forms.CharField(label="How", max_length=1000, required=False)
    minutes = forms.IntegerField(label="Minutes", required=False, min_value=0, max_value=10080)

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = plan.roles.all()

    @property
    def blank(self) -> bool:
        d = getattr(self, "cleaned_data", {})
        return not any(
            [str(d.get(k) or "").strip() for k in ("action", "place", "method")]
            + [d.get("minutes") is not None]
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        others = any(str(cleaned.get(k) or "").strip() for k in ("place", "method"))
        if not str(cleaned.get("action") or "").strip() and (
            others or cleaned.get("minutes") is not None
        ):
            self.add_error("action", "say what is done in this step")
        return cleaned


StepFormSet = formset_factory(StepForm, extra=2, can_delete=True)


class ScenarioForm(forms.ModelForm[Scenario]):
    back_up = forms.CharField(
        label="“System back up” checklist",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What to do when it is over, one step per line. The desk's way-back page "
        "shows it when a system of this scenario comes back.",
    )

    class Meta:
        model = Scenario
        fields = ["kind", "title", "trigger", "details"]
        labels = {
            "kind": "Kind",
            "title": "Title",
            "trigger": "When the procedure starts (trigger)",
            "details": "More about it",
        }
        widgets = {
            "trigger": forms.Textarea(attrs={"rows": 2}),
            "details": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "trigger": "",
            "details": "For key people: the knowledge in their heads. For a line down: how "
            "calls are re-routed.",
        }

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and "initial" not in kwargs:
            kwargs["initial"] = {
                "back_up": "\n".join(b.text for b in instance.back_up_steps.all()),
                "systems": list(instance.systems.all()),
            }
        super().__init__(*args, **kwargs)
        self.fields["systems"] = systems_field(
            org, "The systems whose loss this scenario is about (for “a system is lost”)."
        )
        self.fields["kind"].choices = ScenarioKind.choices  # type: ignore[attr-defined]
        self.fields["trigger"].required = False
        self.fields["details"].required = False

    def saved_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "title": d["title"].strip(),
            "trigger": d["trigger"].strip(),
            "details": d["details"].strip(),
        }


def step_initial(scenario: Scenario | None) -> list[dict[str, Any]]:
    if scenario is None or not scenario.pk:
        return []
    return [
        {
            "role": s.role_id,
            "action": s.action,
            "place": s.place,
            "method": s.method,
            "minutes": s.minutes,
        }
        for s in scenario.steps.all()
    ]


def steps_from(formset: Any) -> list[editing.StepInput]:
    steps = []
    for form in formset.forms:
        if not form.is_valid() or form.cleaned_data.get("DELETE") or form.blank:
            continue
        d = form.cleaned_data
        steps.append(
            editing.StepInput(
                action=d["action"].strip(),
                role=d.get("role"),
                place=d["place"].strip(),
                method=d["method"].strip(),
                minutes=d.get("minutes"),
            )
        )
    return steps


# ----------------------------------------------------------------------- roles


def people_choices(org: Organisation, plan: Plan) -> list[tuple[str, Any]]:
    """Members and contacts, grouped, as "u<id>" and "c<id>"."""
    members = [
        (f"u{u.pk}", f"{u.get_full_name()} ({u.email})" if u.get_full_name() else u.email)
        for u in _members(org)
    ]
    contacts = [
        (f"c{c.pk}", f"{c.name} ({c.get_kind_display().lower()})")
        for c in plan.contacts.order_by("name")
    ]
    choices: list[tuple[str, Any]] = [("", "— nobody yet —")]
    if members:
        choices.append(("Members", members))
    if contacts:
        choices.append(("Contacts", contacts))
    return choices


def person_value(user: User | None = None, contact: Contact | None = None) -> str:
    if user is not None:
        return f"u{user.pk}"
    if contact is not None:
        return f"c{contact.pk}"
    return ""


def person_from(value: str, org: Organisation, plan: Plan) -> User | Contact | None:
    if value.startswith("u") and value[1:].isdigit():
        user: User | None = _members(org).filter(pk=int(value[1:])).first()
        return user
    if value.startswith("c") and value[1:].isdigit():
        return plan.contacts.filter(pk=int(value[1:])).first()
    return None


class RoleForm(forms.Form):
    name = forms.CharField(label="Role", max_length=120)
    duties = forms.CharField(
        label="Duties", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_incident_lead = forms.BooleanField(
        label="This role leads incidents",
        required=False,
        help_text="One role does: the incident lead comes first on every list.",
    )

    def __init__(
        self, *args: Any, org: Organisation, plan: Plan, role: PlanRole | None, **kwargs: Any
    ) -> None:
        if role is not None and "initial" not in kwargs:
            alternates = list(role.alternates.select_related("user", "contact"))
            initial: dict[str, Any] = {
                "name": role.name,
                "duties": role.duties,
                "is_incident_lead": role.is_incident_lead,
                "holder": person_value(role.holder_user, role.holder_contact),
            }
            for i, a in enumerate(alternates[:ALTERNATES], start=1):
                initial[f"alternate_{i}"] = person_value(a.user, a.contact)
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.org, self.plan = org, plan
        choices = people_choices(org, plan)
        self.fields["holder"] = forms.ChoiceField(
            label="Who holds it", choices=choices, required=False
        )
        for i in range(1, ALTERNATES + 1):
            self.fields[f"alternate_{i}"] = forms.ChoiceField(
                label=f"Alternate {i}", choices=choices, required=False
            )

    def holder(self) -> User | Contact | None:
        return person_from(self.cleaned_data.get("holder") or "", self.org, self.plan)

    def alternates(self) -> list[User | Contact]:
        found = []
        for i in range(1, ALTERNATES + 1):
            person = person_from(self.cleaned_data.get(f"alternate_{i}") or "", self.org, self.plan)
            if person is not None:
                found.append(person)
        return found

    def saved_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"].strip(),
            "duties": d["duties"].strip(),
            "is_incident_lead": d["is_incident_lead"],
        }


ROLE_NAMES = {"holder_user": "holder", "holder_contact": "holder", "alternates": "alternate_1"}


# -------------------------------------------------------------------- contacts


class SystemChoiceField(forms.ModelChoiceField[System]):
    def label_from_instance(self, obj: System) -> str:
        return str(obj.name)


class ContactForm(forms.ModelForm[Contact]):
    class Meta:
        model = Contact
        fields = [
            "kind",
            "name",
            "organisation",
            "phones",
            "email",
            "account_number",
            "notes",
            "replica_key",
            "last_verified_on",
        ]
        labels = {
            "kind": "Kind",
            "name": "Name",
            "organisation": "Company",
            "phones": "Phone numbers",
            "email": "Email",
            "account_number": "Account number",
            "notes": "Notes",
            "replica_key": "Key in the replica",
            "last_verified_on": "Last checked on",
        }
        help_texts = {
            "phones": "One per line; the first is called first.",
            "account_number": "Ours with them, or theirs with us: they will ask for it.",
            "replica_key": "Links a customer or supplier to its record in the replica.",
            "last_verified_on": "When someone last made sure these details are right.",
        }
        widgets = {
            "phones": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "last_verified_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and "initial" not in kwargs:
            kwargs["initial"] = {"system": instance.system_id, "member": instance.member_id}
        super().__init__(*args, **kwargs)
        self.fields["system"] = SystemChoiceField(
            label="Vendor of",
            queryset=System.objects.filter(org=org).order_by("name"),
            required=False,
            empty_label="— no system —",
            help_text="For vendor support: the system they run.",
        )
        self.fields["member"] = member_field(
            org, "Member", "For staff: their account here, if they have one."
        )
        self.fields["kind"].choices = ContactKind.choices  # type: ignore[attr-defined]
        self.fields["email"] = forms.EmailField(label="Email", required=False, max_length=254)
        for name in ("organisation", "phones", "email", "account_number", "notes", "replica_key"):
            self.fields[name].required = False

    def saved_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "name": d["name"].strip(),
            "organisation": d["organisation"].strip(),
            "phones": "\n".join(lines(d["phones"])),
            "email": d["email"].strip(),
            "account_number": d["account_number"].strip(),
            "notes": d["notes"].strip(),
            "replica_key": d["replica_key"].strip(),
            "system": d.get("system"),
            "member": d.get("member"),
            "last_verified_on": d.get("last_verified_on"),
        }


class SuggestionsForm(forms.Form):
    chosen = forms.MultipleChoiceField(
        label="Suggested contacts", required=True, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["chosen"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices
        field.error_messages["required"] = "Tick the contacts to add."


# ------------------------------------------------------------------ scope and policy


class StatementsForm(forms.Form):
    scope = forms.CharField(
        label="What the plan covers (scope)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Which parts of the business, which sites, which systems — and anything "
        "deliberately left out.",
    )
    policy = forms.CharField(
        label="Policy",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="In a few sentences: why the business keeps a plan, what it commits to "
        "(drills, reviews, keeping it up to date), and who answers for it.",
    )


# ------------------------------------------------------------------ drills


class DrillStartForm(forms.Form):
    scenario = forms.ModelChoiceField(
        label="Scenario", queryset=Scenario.objects.none(), empty_label=None
    )
    kind = forms.ChoiceField(
        label="Kind of drill",
        widget=forms.RadioSelect,
        initial="tabletop",
        help_text="Start with a tabletop drill; a live one uses the desk and the notices for "
        "real (notices go only to the drill's test recipients).",
    )
    library_key = forms.ChoiceField(
        label="Injects and questions",
        required=False,
        help_text="What the facilitator reads out during a tabletop drill, and when.",
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        from fallback.plans import library
        from fallback.plans.models import DrillKind

        super().__init__(*args, **kwargs)
        field = self.fields["scenario"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = plan.scenarios.filter(suggested=False).order_by("position", "pk")
        self.fields["kind"].choices = DrillKind.choices  # type: ignore[attr-defined]
        self.fields["library_key"].choices = [  # type: ignore[attr-defined]
            ("", "The library's, for the scenario's kind"),
            *library.choices(),
        ]


class ActionForm(forms.Form):
    finding = forms.CharField(
        label="Finding",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What went wrong or was missing, e.g. “nobody knew the vendor's account number”.",
    )
    action = forms.CharField(
        label="What we do about it",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    plan_part = forms.ChoiceField(label="Part of the plan")
    due_on = forms.DateField(
        label="Due by",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, org: Organisation, **kwargs: Any) -> None:
        from fallback.plans.models import PlanPart

        super().__init__(*args, **kwargs)
        self.fields["plan_part"].choices = PlanPart.choices  # type: ignore[attr-defined]
        self.fields["plan_part"].initial = PlanPart.OTHER
        self.fields["owner"] = member_field(org, "Owner", "Who makes sure it is done.")
        self.order_fields(["finding", "action", "plan_part", "owner", "due_on"])


class ActionDoneForm(forms.Form):
    note = forms.CharField(label="What was done", required=False, max_length=5000)


class DrillNotesForm(forms.Form):
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the team said, what surprised them.",
    )


# ------------------------------------------------------------------ reviews


class ReviewForm(forms.Form):
    went_well = forms.CharField(
        label="What went well", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    went_badly = forms.CharField(
        label="What went badly", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    lessons = forms.CharField(
        label="Lessons",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Each lesson that needs work becomes a corrective action below.",
    )


class ManagementReviewForm(forms.Form):
    held_on = forms.DateField(
        label="Held on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    attendees = forms.CharField(
        label="Who took part",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line.",
    )
    decisions = forms.CharField(
        label="Decisions",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was decided about the open actions and the plan.",
    )
