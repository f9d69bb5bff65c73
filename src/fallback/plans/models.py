"""The continuity plan: what matters to the business (activities and their impact over time),
the risks, the scenarios with their fallback procedures and "system back up" checklists, the
roles and the contact tree — one plan per organisation, written a bit at a time.

Every change makes a PlanVersion (a JSON snapshot of the whole plan), so any past plan can be
read and printed as it was. Suggested items (seeded when a plan is started) stay marked until a
person confirms or removes them.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from fallback.accounts.scoping import OrgOwned
from fallback.incidents.models import Incident

USER = settings.AUTH_USER_MODEL


class Plan(OrgOwned):
    """An organisation's continuity plan (one per organisation)."""

    owner = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Keeps the plan up to date; reminded when a part is due for review",
    )
    contacts_owner = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Checks the contacts (empty: the plan's owner)",
    )
    price_list_owner = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Checks the printed price list after each change (empty: the plan's owner)",
    )
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, help_text="Last whole-plan review")
    reviewed_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    price_list_reviewed_at = models.DateTimeField(null=True, blank=True)
    price_list_reviewed_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scope = models.TextField(
        blank=True, help_text="What the plan covers: which parts of the business, which sites"
    )
    policy = models.TextField(
        blank=True, help_text="Why the business keeps a plan and what it commits to"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org"], name="plans_one_plan_per_org")]

    def __str__(self) -> str:
        return "continuity plan"


class Band(models.TextChoices):
    """How long an activity has stopped: its impact is estimated per band."""

    UNDER_1H = "under_1h", "Under 1 hour"
    HOURS_1_8 = "hours_1_8", "1–8 hours"
    HOURS_8_24 = "hours_8_24", "8–24 hours"
    DAYS_1_3 = "days_1_3", "1–3 days"
    OVER_3D = "over_3d", "Over 3 days"
    OVER_WEEK = "over_week", "Over a week"


class Activity(OrgOwned):
    """Work that keeps the business going (taking orders, invoicing…), what it depends on,
    and how long it can stop: MTPD (the longest tolerable outage), RTO (how fast it must
    resume, shorter than the MTPD) and RPO (how old its data may be when it does)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="activities")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    systems = models.ManyToManyField("monitor.System", blank=True, related_name="+")
    people = models.TextField(blank=True, help_text="Who does it, one per line")
    suppliers = models.TextField(blank=True, help_text="Suppliers it depends on, one per line")
    supplier_keys = models.JSONField(
        default=list, blank=True, help_text="Suppliers from the replica, by their key"
    )
    data = models.TextField(blank=True, help_text="The records it needs")
    mtpd_minutes = models.PositiveIntegerField(null=True, blank=True)
    rto_minutes = models.PositiveIntegerField(null=True, blank=True)
    rpo_minutes = models.PositiveIntegerField(null=True, blank=True)
    suggested = models.BooleanField(default=False, help_text="Seeded; not yet confirmed")

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="plans_activity_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Impact(OrgOwned):
    """What an activity's stop costs after so long: money (whole units of the organisation's
    currency) and customers affected."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="impacts")
    band = models.CharField(max_length=12, choices=Band.choices)
    money = models.PositiveBigIntegerField(null=True, blank=True)
    customers = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "band"], name="plans_impact_band"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.band}"


class Risk(OrgOwned):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="risks")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    likelihood = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    severity = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    treatment = models.TextField(blank=True, help_text="What we do about it")
    unthinkable = models.BooleanField(
        default=False, help_text="Nobody believes it will happen: someone argues that it will"
    )
    contrarian = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Plays the contrarian who assumes it will happen",
    )
    suggested = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "title"], name="plans_risk_title")]

    def __str__(self) -> str:
        return self.title

    @property
    def score(self) -> int:
        return self.likelihood * self.severity


class ScenarioKind(models.TextChoices):
    SYSTEM_LOST = "system_lost", "A system or its data is lost"
    PREMISES = "premises", "The premises are unavailable"
    PEOPLE = "people", "Key people are unavailable"
    LINE_DOWN = "line_down", "The internet or phone line is down"
    CUSTOM = "custom", "Something else"


class Scenario(OrgOwned):
    """Something that stops the business, what triggers its fallback procedure, the
    procedure's steps, and the "system back up" checklist for when it is over."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="scenarios")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=ScenarioKind.choices)
    title = models.CharField(max_length=200)
    systems = models.ManyToManyField("monitor.System", blank=True, related_name="+")
    trigger = models.TextField(blank=True, help_text="When the procedure starts")
    details = models.TextField(blank=True)
    suggested = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "title"], name="plans_scenario_title"),
        ]

    def __str__(self) -> str:
        return self.title


class ContactKind(models.TextChoices):
    STAFF = "staff", "Staff"
    KEY_CUSTOMER = "key_customer", "Key customer"
    SUPPLIER = "supplier", "Supplier"
    VENDOR_SUPPORT = "vendor_support", "Vendor support"


class Contact(OrgOwned):
    """One entry of the contact tree, with when someone last checked it is still right."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=16, choices=ContactKind.choices)
    name = models.CharField(max_length=200)
    organisation = models.CharField(max_length=200, blank=True)
    phones = models.TextField(blank=True, help_text="One per line")
    email = models.CharField(max_length=254, blank=True)
    account_number = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    replica_key = models.CharField(
        max_length=200, blank=True, help_text="The customer or supplier in the replica"
    )
    system = models.ForeignKey(
        "monitor.System",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The system whose vendor this is",
    )
    member = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The member of the organisation this is",
    )
    last_verified_on = models.DateField(null=True, blank=True)
    verified_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["kind", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "name"], name="plans_contact_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_list(self) -> list[str]:
        return [p.strip() for p in self.phones.splitlines() if p.strip()]


class PlanRole(OrgOwned):
    """Who does what during an outage: the incident lead first, each with alternates."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="roles")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=120)
    duties = models.TextField(blank=True)
    is_incident_lead = models.BooleanField(default=False)
    holder_user = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    holder_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-is_incident_lead", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="plans_role_name"),
            models.UniqueConstraint(
                fields=["plan"],
                condition=models.Q(is_incident_lead=True),
                name="plans_one_incident_lead",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoleAlternate(OrgOwned):
    """Stands in when the holder cannot: the first alternate first."""

    role = models.ForeignKey(PlanRole, on_delete=models.CASCADE, related_name="alternates")
    position = models.PositiveIntegerField(default=0)
    user = models.ForeignKey(
        USER, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "pk"]


class ProcedureStep(OrgOwned):
    """One step of a scenario's fallback procedure: who does what, where, how, how long."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    role = models.ForeignKey(
        PlanRole, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.TextField(help_text="Does what")
    place = models.CharField(max_length=200, blank=True, help_text="Where")
    method = models.TextField(blank=True, help_text="How")
    minutes = models.PositiveIntegerField(null=True, blank=True, help_text="May take")

    class Meta:
        ordering = ["position", "pk"]


class BackUpStep(OrgOwned):
    """One step of a scenario's "system back up" checklist."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="back_up_steps")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["position", "pk"]


class PlanVersion(OrgOwned):
    """The whole plan as it was after one change: who, when, what changed, and the JSON it
    is printed from."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_label = models.CharField(max_length=254, blank=True)
    via = models.CharField(max_length=10, blank=True)
    summary = models.CharField(max_length=300)
    changes = models.JSONField(default=list, blank=True, help_text="What changed, in words")
    data = models.JSONField(help_text="The whole plan (fallback.plans.snapshot)")

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plans_version_number"),
        ]

    def __str__(self) -> str:
        return f"plan version {self.number}"


class MailStatus(models.TextChoices):
    NONE = "", "Not emailed"  # no owner address, or the installation has no outgoing mail
    PENDING = "pending", "To send"
    SENDING = "sending", "Being sent"  # a sender died here: it may have gone; never resent
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Reminder(OrgOwned):
    """A reminder sent about a stale part of the plan; one per part and period, so the
    reminder job may run on every worker and each reminder still goes once — to the alert
    channels and, by email, to the part's owner."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reminders")
    part = models.CharField(max_length=40)
    period = models.CharField(max_length=80, help_text="Which stale spell it is about")
    sent_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=250, blank=True)
    body = models.TextField(blank=True)
    email_to = models.EmailField(blank=True, help_text="The owner's address when it was due")
    email_status = models.CharField(
        max_length=8, choices=MailStatus.choices, default=MailStatus.NONE, blank=True
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    email_error = models.TextField(blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "part", "period"], name="plans_reminder_once"),
        ]


# ------------------------------------------------------------------ the grab binder


class CopyKind(models.TextChoices):
    DOWNLOADED = "downloaded", "Downloaded"
    PRINTED = "printed", "Printed"


class BinderCopy(OrgOwned):
    """A binder taken away from Fallback (downloaded, or said to be printed): who, when, and
    the fingerprint of what was in it, so Fallback can tell when that paper is out of date."""

    kind = models.CharField(max_length=10, choices=CopyKind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by_label = models.CharField(max_length=254, blank=True)
    via = models.CharField(max_length=10, blank=True)
    fingerprint = models.CharField(max_length=64)
    parts = models.JSONField(default=dict, help_text="Each input's digest (fallback.plans.binder)")
    plan_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "binder copies"

    def __str__(self) -> str:
        return f"binder {self.fingerprint[:8]} {self.kind}"


# ------------------------------------------------------------------ drills


class DrillKind(models.TextChoices):
    TABLETOP = "tabletop", "Tabletop (talked through around a table)"
    LIVE = "live", "Live (done for real, with the desk and the notices)"


class Milestone(models.TextChoices):
    """The moments a drill measures, in the order an outage goes through them."""

    DETECTED = "detected", "Outage noticed"
    DECLARED = "declared", "Outage declared"
    STAFF_REACHED = "staff_reached", "Staff reached"
    FIRST_NOTICE_READY = "first_notice_ready", "First customer notice ready"
    DESK_PRODUCING = "desk_producing", "Desk producing documents"
    RECOVERED = "recovered", "Recovered"


class Drill(OrgOwned):
    """An exercise of one scenario: the outage starts when the drill does; Fallback records
    when each milestone was reached (by itself where it can see it, by a button otherwise)
    and how long each procedure step took, then compares them with the plan's targets."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="drills")
    scenario = models.ForeignKey(
        Scenario, on_delete=models.SET_NULL, null=True, blank=True, related_name="drills"
    )
    scenario_title = models.CharField(max_length=200, help_text="As it was when drilled")
    kind = models.CharField(max_length=10, choices=DrillKind.choices, default=DrillKind.TABLETOP)
    library_key = models.CharField(
        max_length=40, blank=True, help_text="The tabletop library scenario giving the injects"
    )
    incident = models.OneToOneField(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="drill"
    )
    started_at = models.DateTimeField(default=timezone.now, help_text="The outage begins")
    started_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detected_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True)
    staff_reached_at = models.DateTimeField(null=True, blank=True)
    first_notice_ready_at = models.DateTimeField(null=True, blank=True)
    desk_producing_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    sources = models.JSONField(
        default=dict, blank=True, help_text="Milestone -> how it was recorded (what Fallback saw)"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    passed = models.BooleanField(null=True, blank=True)
    results = models.JSONField(
        default=dict, blank=True, help_text="Targets met or missed, as measured at the finish"
    )
    notes = models.TextField(blank=True)
    request_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "request_key"],
                condition=~models.Q(request_key=""),
                name="plans_drill_request",
            ),
        ]

    def __str__(self) -> str:
        return f"drill of {self.scenario_title}"

    @property
    def is_running(self) -> bool:
        return self.finished_at is None

    def milestone_at(self, milestone: str) -> datetime | None:
        value: datetime | None = getattr(self, f"{milestone}_at")
        return value


class DrillStep(OrgOwned):
    """One step of the drilled procedure, with its timer: started, done (or skipped)."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    procedure_step = models.ForeignKey(
        ProcedureStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    who = models.CharField(max_length=120, blank=True)
    action = models.TextField()
    minutes_allowed = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    skipped = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.action[:60]

    @property
    def minutes_taken(self) -> int | None:
        if self.started_at is None or self.done_at is None:
            return None
        return round((self.done_at - self.started_at).total_seconds() / 60)


# ------------------------------------------------------------------ reviews and actions


class PostIncidentReview(OrgOwned):
    """Looking back at a real outage once it is over: the facts Fallback recorded (filled in
    from the incident's timeline, the monitor, the desk and the notices), what went well and
    badly, and the lessons, which become corrective actions."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reviews")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    facts = models.JSONField(default=dict, blank=True, help_text="fallback.plans.reviews.facts")
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    lessons = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"review of {self.incident}"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class PlanPart(models.TextChoices):
    ACTIVITIES = "activities", "What matters"
    RISKS = "risks", "Risks"
    SCENARIOS = "scenarios", "Scenarios and procedures"
    ROLES = "roles", "Roles"
    CONTACTS = "contacts", "Contacts"
    SYSTEMS = "systems", "Systems and the replica"
    COMMS = "comms", "Notices"
    OTHER = "other", "Something else"


class CorrectiveAction(OrgOwned):
    """A finding of a drill or a review, and what is done about it: an owner, a due date."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="actions")
    finding = models.TextField(help_text="What was found")
    action = models.TextField(blank=True, help_text="What is done about it")
    plan_part = models.CharField(max_length=12, choices=PlanPart.choices, default=PlanPart.OTHER)
    owner = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=6, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    drill = models.ForeignKey(
        Drill, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    review = models.ForeignKey(
        PostIncidentReview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_note = models.TextField(blank=True)
    request_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["status", "due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "request_key"],
                condition=~models.Q(request_key=""),
                name="plans_action_request",
            ),
        ]

    def __str__(self) -> str:
        return self.finding[:80]

    @property
    def source(self) -> str:
        if self.drill_id is not None and self.drill is not None:
            return f"Drill: {self.drill.scenario_title}"
        if self.review_id is not None and self.review is not None:
            return f"Review: {self.review.incident.title}"
        return "Management review"


class ManagementReview(OrgOwned):
    """The people in charge looked at the plan's open actions and decided what to do."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="management_reviews")
    held_on = models.DateField()
    attendees = models.TextField(help_text="Who took part, one per line")
    decisions = models.TextField(help_text="What was decided")
    open_actions = models.PositiveIntegerField(default=0, help_text="Open when it was held")
    overdue_actions = models.PositiveIntegerField(default=0)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"management review of {self.held_on}"
