"""ISO 22301 coverage: what the organisation has recorded in Fallback, mapped onto the
clauses 4 to 10 of ISO 22301 (business continuity management systems), each topic
present, partial or missing — and for what is not there, what to add and where.

For a business growing into a certified management system: Fallback holds much of the
evidence an auditor asks for (the impact analysis, the risks, the procedures, the
exercises, the reviews and their actions), but not all of it. The topics are described in
Fallback's own words; the standard itself is the authority on what each clause requires.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.incidents.models import AlertChannel
from fallback.monitor.models import System
from fallback.plans import binder, readiness, sections, staleness
from fallback.plans.models import (
    ActionStatus,
    ContactKind,
    CorrectiveAction,
    Drill,
    ManagementReview,
    Plan,
    PostIncidentReview,
)
from fallback.replica.models import Connector

PRESENT, PARTIAL, MISSING = "present", "partial", "missing"
YEAR = timedelta(days=365)
COMMS = "fallback.comms"


@dataclass
class Topic:
    clause: str  # "8.5"
    title: str
    about: str  # what the clause is about, in our words
    state: str = MISSING
    held: str = ""  # the evidence Fallback holds
    add: str = ""  # what to add (empty when present)
    url: str = ""
    link_text: str = ""

    def set(self, state: str, held: str, add: str = "") -> None:
        self.state, self.held, self.add = state, held, add if state != PRESENT else ""


@dataclass
class Clause:
    number: int
    title: str
    topics: list[Topic] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(t.state == state for t in self.topics)


@dataclass
class Coverage:
    clauses: list[Clause]
    made_at: datetime

    def count(self, state: str) -> int:
        return sum(c.count(state) for c in self.clauses)

    @property
    def total(self) -> int:
        return sum(len(c.topics) for c in self.clauses)

    @property
    def present(self) -> int:
        return self.count(PRESENT)

    @property
    def partial(self) -> int:
        return self.count(PARTIAL)

    @property
    def missing(self) -> int:
        return self.count(MISSING)

    def topic(self, clause: str) -> Topic:
        return next(t for c in self.clauses for t in c.topics if t.clause == clause)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _url(org: Organisation, name: str) -> str:
    return reverse(name, kwargs={"org_slug": org.slug})


def _comms_settings(org: Organisation) -> object | None:
    if not apps.is_installed(COMMS):
        return None
    try:
        models = importlib.import_module(f"{COMMS}.models")
    except ImportError:
        return None
    found: object | None = models.CommsSettings.objects.filter(org=org).first()
    return found


def coverage(org: Organisation, now: datetime | None = None) -> Coverage:
    now = now or timezone.now()
    plan = Plan.objects.filter(org=org).select_related("org", "owner").first()
    found = sections.sections(plan) if plan is not None else []
    by_key = {s.key: s for s in found}
    systems = list(
        System.objects.filter(org=org).annotate(
            watching=Count("checks", filter=Q(checks__enabled=True))
        )
    )
    drills = list(Drill.objects.filter(org=org, finished_at__isnull=False).order_by("-finished_at"))
    recent_drill = next((d for d in drills if d.finished_at and now - d.finished_at <= YEAR), None)
    reviews = list(
        PostIncidentReview.objects.filter(org=org, completed_at__isnull=False).order_by(
            "-completed_at"
        )
    )
    managed = ManagementReview.objects.filter(org=org).order_by("-held_on").first()
    items = CorrectiveAction.objects.filter(org=org)
    today = timezone.localdate(now, org_zone(org))
    open_count = items.filter(status=ActionStatus.OPEN).count()
    overdue = items.filter(status=ActionStatus.OPEN, due_on__lt=today).count()
    done_recently = items.filter(status=ActionStatus.DONE, done_at__gte=now - YEAR).count()

    def section(key: str) -> sections.Section | None:
        return by_key.get(key)

    def plan_url(name: str) -> str:
        return _url(org, f"plans:{name}")

    start_url = _url(org, "plans:home")

    def no_plan(topic: Topic) -> Topic:
        topic.set(
            MISSING, "No continuity plan yet.", "Start the plan: Fallback suggests a first one."
        )
        topic.url, topic.link_text = start_url, "Start the plan"
        return topic

    def from_section(topic: Topic, key: str, what: str) -> Topic:
        s = section(key)
        if s is None:
            return no_plan(topic)
        topic.url, topic.link_text = s.url, f"Open {s.title.lower()}"
        if s.complete:
            topic.set(PRESENT, f"{what}: complete.")
        elif s.done:
            topic.set(
                PARTIAL, f"{what}: {s.done} of {s.total} checks met.", s.missing[0].text + "."
            )
        else:
            topic.set(MISSING, f"{what}: not written yet.", s.missing[0].text + ".")
        return topic

    clauses: list[Clause] = []

    # 4 -------------------------------------------------------------- context
    c4 = Clause(4, "The organisation and its context")
    t = Topic(
        "4.1",
        "The business and what it depends on",
        "Knowing what the business does, what it relies on, and what could disrupt it.",
    )
    activities = plan.activities.filter(suggested=False).count() if plan else 0
    t.url, t.link_text = _url(org, "monitor:board"), "Open the systems"
    if systems and activities:
        t.set(
            PRESENT,
            f"{_plural(len(systems), 'system')} registered; "
            f"{_plural(activities, 'activity')} that keep the business going.",
        )
    elif systems or activities:
        t.set(
            PARTIAL,
            f"{_plural(len(systems), 'system')}, {_plural(activities, 'confirmed activity')}.",
            "Register the systems the business depends on and confirm what matters in the plan.",
        )
    else:
        t.set(MISSING, "Nothing recorded yet.", "Add the systems the business depends on.")
    c4.topics.append(t)

    t = Topic(
        "4.2",
        "Interested parties",
        "Who has a stake in the business carrying on — customers, "
        "suppliers, staff, vendors — and what they need.",
    )
    t.url, t.link_text = plan_url("contacts") if plan else start_url, "Open the contacts"
    kinds = set(plan.contacts.values_list("kind", flat=True)) if plan else set()
    wanted = {ContactKind.STAFF, ContactKind.VENDOR_SUPPORT}
    if kinds >= wanted and kinds & {ContactKind.KEY_CUSTOMER, ContactKind.SUPPLIER}:
        t.set(
            PRESENT,
            "The contact tree holds "
            f"{', '.join(sorted(ContactKind(k).label.lower() for k in kinds))} contacts.",
        )
    elif kinds:
        t.set(
            PARTIAL,
            f"Contacts of {len(kinds)} kind(s).",
            "Add staff, vendors' support lines and key customers or suppliers.",
        )
    else:
        t.set(MISSING, "No contacts yet.", "Add the contact tree to the plan.")
    c4.topics.append(t)

    t = Topic(
        "4.3", "Scope", "What the plan (and the management system) covers, and what it leaves out."
    )
    t.url, t.link_text = plan_url("statements") if plan else start_url, "Write the scope"
    if plan is None:
        no_plan(t)
    elif plan.scope.strip():
        t.set(PRESENT, "A scope statement is written.")
    elif activities:
        t.set(
            PARTIAL,
            "The plan's activities and systems show what it covers.",
            "Write the scope in a few sentences, including what is left out.",
        )
    else:
        t.set(MISSING, "No scope yet.", "Write what the plan covers.")
    c4.topics.append(t)

    t = Topic(
        "4.4",
        "The management system",
        "A plan that is kept, checked and improved, not written once.",
    )
    if plan is None:
        no_plan(t)
    else:
        progress = sections.progress(found)
        t.url, t.link_text = start_url, "Open the plan"
        if progress == 100 and plan.versions.exists():
            t.set(
                PRESENT,
                "Every section complete; "
                f"{_plural(plan.versions.count(), 'version')} kept in the history.",
            )
        else:
            t.set(
                PARTIAL, f"The plan is {progress}% written.", "Complete every section of the plan."
            )
    c4.topics.append(t)
    clauses.append(c4)

    # 5 -------------------------------------------------------------- leadership
    c5 = Clause(5, "Leadership")
    t = Topic(
        "5.1",
        "Commitment of those in charge",
        "The people running the business own the plan and review it.",
    )
    t.url, t.link_text = plan_url("actions") if plan else start_url, "Record a management review"
    if plan is None:
        no_plan(t)
    elif plan.owner_id and managed and today - managed.held_on <= YEAR:
        t.set(
            PRESENT,
            "The plan has an owner; management reviewed "
            f"it on {staleness.day_text(managed.held_on)}.",
        )
    elif plan.owner_id:
        t.set(
            PARTIAL,
            "The plan has an owner.",
            "Hold and record a management review (at least yearly).",
        )
    else:
        t.set(MISSING, "Nobody owns the plan.", "Name the plan's owner.")
    c5.topics.append(t)

    t = Topic(
        "5.2",
        "Policy",
        "A short statement of why the business keeps a plan and what it commits to.",
    )
    t.url, t.link_text = plan_url("statements") if plan else start_url, "Write the policy"
    if plan is None:
        no_plan(t)
    elif plan.policy.strip():
        t.set(PRESENT, "A policy is written.")
    else:
        t.set(MISSING, "No policy yet.", "Write the policy in a few sentences.")
    c5.topics.append(t)

    c5.topics.append(
        from_section(
            Topic(
                "5.3",
                "Roles and authority",
                "Who leads in an outage, who stands in, who may decide what.",
            ),
            "roles",
            "Roles",
        )
    )
    clauses.append(c5)

    # 6 -------------------------------------------------------------- planning
    c6 = Clause(6, "Planning")
    c6.topics.append(
        from_section(
            Topic(
                "6.1",
                "Risks and opportunities",
                "What could stop the business, how likely and how bad, and what is done about it.",
            ),
            "risks",
            "Risks",
        )
    )
    t = Topic(
        "6.2",
        "Objectives",
        "Measurable targets: how long each activity may "
        "stop, how fast it resumes, how old its data may be.",
    )
    if plan is None:
        no_plan(t)
    else:
        confirmed = list(plan.activities.filter(suggested=False))
        with_targets = [a for a in confirmed if a.rto_minutes and a.mtpd_minutes]
        t.url, t.link_text = plan_url("activities"), "Open what matters"
        if confirmed and len(with_targets) == len(confirmed):
            t.set(
                PRESENT,
                "MTPD and RTO for each of "
                f"{_plural(len(confirmed), 'activity')}; readiness is scored.",
            )
        elif with_targets:
            t.set(
                PARTIAL,
                f"Targets for {len(with_targets)} of {len(confirmed)} activities.",
                "Give every activity its MTPD and RTO.",
            )
        else:
            t.set(
                MISSING,
                "No targets yet.",
                "Say how long each activity can stop and how fast it must resume.",
            )
    c6.topics.append(t)
    t = Topic("6.3", "Planned changes", "Changes to the plan are made deliberately and kept.")
    if plan is None:
        no_plan(t)
    else:
        t.url, t.link_text = plan_url("history"), "Open the history"
        t.set(
            PRESENT,
            "Every change is kept: "
            f"{_plural(plan.versions.count(), 'plan version')}, and the audit trail.",
        )
    c6.topics.append(t)
    clauses.append(c6)

    # 7 -------------------------------------------------------------- support
    c7 = Clause(7, "Support")
    t = Topic(
        "7.1",
        "Resources",
        "What the business needs to keep working: a copy "
        "of its records, a place to work from, backups.",
    )
    connectors = Connector.objects.filter(org=org).count()
    try:
        vault = readiness.vault_status()
    except readiness.VaultUnreadable:
        vault = None
    has_backups = vault is not None and getattr(vault, "last_snapshot_at", None) is not None
    t.url, t.link_text = _url(org, "replica:list"), "Open the replica"
    if connectors and has_backups:
        t.set(
            PRESENT,
            f"{_plural(connectors, 'replica connector')} keep the records; backups are made.",
        )
    elif connectors:
        t.set(
            PARTIAL,
            f"{_plural(connectors, 'replica connector')}.",
            "Set up the vault's off-site backups (whoever runs Fallback).",
        )
    else:
        t.set(
            MISSING, "No replica yet.", "Copy the records needed to keep trading into the replica."
        )
    c7.topics.append(t)

    t = Topic("7.2", "Competence", "People know their part because they have practised it.")
    t.url, t.link_text = plan_url("drills") if plan else start_url, "Run a drill"
    if recent_drill:
        t.set(
            PRESENT,
            f"Drilled “{recent_drill.scenario_title}” on "
            f"{staleness.day_text(recent_drill.finished_at or now)}.",
        )
    elif drills:
        t.set(PARTIAL, "The last drill was over a year ago.", "Run a drill this year.")
    else:
        t.set(MISSING, "No drill yet.", "Run a tabletop drill: an hour around a table.")
    c7.topics.append(t)

    t = Topic(
        "7.3", "Awareness", "Staff know the plan exists, where it is, and what is expected of them."
    )
    staff = plan.contacts.filter(kind=ContactKind.STAFF).exists() if plan else False
    channels = AlertChannel.objects.filter(org=org, enabled=True).exists()
    copy = binder.last_copy(org)
    t.url, t.link_text = plan_url("binder") if plan else start_url, "Print the binder"
    if staff and channels and copy:
        t.set(
            PRESENT,
            "Staff are in the contact tree, alerted through "
            "the alert channels, and the binder is printed.",
        )
    elif staff or channels or copy:
        held = [
            w
            for w, ok in (
                ("staff contacts", staff),
                ("alert channels", channels),
                ("a printed binder", copy),
            )
            if ok
        ]
        t.set(
            PARTIAL,
            "Held: " + ", ".join(held) + ".",
            "Add staff to the contact tree, set up alert channels and print the binder.",
        )
    else:
        t.set(MISSING, "Nothing yet.", "Add staff to the contact tree and set up alert channels.")
    c7.topics.append(t)

    t = Topic(
        "7.4",
        "Communication",
        "How customers, suppliers and staff are told, "
        "on routes that do not depend on what is down.",
    )
    comms = _comms_settings(org)
    if not apps.is_installed(COMMS):
        t.set(MISSING, "The notices app is not installed.", "Whoever runs Fallback installs it.")
    else:
        t.url, t.link_text = reverse("comms:index", kwargs={"org_slug": org.slug}), "Open notices"
        sending = bool(
            comms and getattr(comms, "smtp_host", "") and getattr(comms, "from_address", "")
        )
        routes = bool(
            comms and (getattr(comms, "phone_numbers", "") or getattr(comms, "backup_email", ""))
        )
        if sending and routes:
            t.set(
                PRESENT,
                "A backup mail route and the routes customers can use meanwhile are set up.",
            )
        elif sending or routes:
            t.set(
                PARTIAL,
                "Part of the notices set-up.",
                "Set up the backup mail route and the phone "
                "numbers or backup address customers can use.",
            )
        else:
            t.set(
                MISSING,
                "Notices are not set up.",
                "Set up the backup mail route and the alternate routes.",
            )
    c7.topics.append(t)

    t = Topic(
        "7.5",
        "Documented information",
        "The plan is written down, versioned, and kept where it can be reached.",
    )
    if plan is None:
        no_plan(t)
    else:
        found_status = binder.status(plan)
        t.url, t.link_text = plan_url("binder"), "Open the binder"
        if found_status.up_to_date:
            t.set(PRESENT, f"Plan versions kept; the printed binder is {found_status.why}.")
        elif found_status.last_copy is not None:
            t.set(PARTIAL, f"The printed binder is {found_status.why}.", "Print the binder again.")
        else:
            t.set(
                PARTIAL,
                "Plan versions are kept, but the binder was never printed.",
                "Download and print the grab binder.",
            )
    c7.topics.append(t)
    clauses.append(c7)

    # 8 -------------------------------------------------------------- operation
    c8 = Clause(8, "Operation")
    t = Topic(
        "8.1", "Keeping it running", "The plan's parts are checked on a cadence, so it stays right."
    )
    if plan is None:
        no_plan(t)
    else:
        stale = staleness.stale_parts(plan, now)
        t.url, t.link_text = start_url + "#review", "See what is due"
        if stale:
            t.set(
                PARTIAL,
                f"{_plural(len(stale), 'part')} due for a check: "
                f"{', '.join(p.title.lower() for p in stale[:3])}.",
                "Check the parts that are due.",
            )
        else:
            t.set(PRESENT, "Every part checked on its cadence.")
    c8.topics.append(t)
    c8.topics.append(
        from_section(
            Topic(
                "8.2.2",
                "Business impact analysis",
                "What each activity's stop costs over time, and how long it may last.",
            ),
            "activities",
            "What matters",
        )
    )
    c8.topics.append(
        from_section(
            Topic("8.2.3", "Risk assessment", "The risks to the activities, assessed and treated."),
            "risks",
            "Risks",
        )
    )
    t = Topic(
        "8.3",
        "Strategies and solutions",
        "How work carries on: a local copy of the records, "
        "a desk to work from, other routes to customers.",
    )
    depended = sections.depended_on(plan) if plan else []
    copied = set(
        Connector.objects.filter(org=org, system__in=depended).values_list("system_id", flat=True)
    )
    t.url, t.link_text = _url(org, "replica:list"), "Open the replica"
    if depended and len(copied) == len(depended):
        t.set(
            PRESENT,
            f"Each of the {_plural(len(depended), 'system')} the "
            "work depends on has a replica; the desk works from it.",
        )
    elif copied:
        t.set(
            PARTIAL,
            f"{len(copied)} of {len(depended)} systems have a replica.",
            "Add a replica connector for each system the work depends on.",
        )
    elif depended:
        t.set(MISSING, "No system the work depends on has a replica.", "Add a replica connector.")
    else:
        t.set(
            MISSING,
            "No activity depends on a system yet.",
            "Link the activities to the systems they use.",
        )
    c8.topics.append(t)
    procedures = from_section(
        Topic(
            "8.4",
            "Plans and procedures",
            "What to do in each scenario, step by step, and who to call.",
        ),
        "scenarios",
        "Scenarios",
    )
    contacts = section("contacts")
    if procedures.state == PRESENT and contacts is not None and not contacts.complete:
        procedures.set(
            PARTIAL, "Scenarios complete; the contact tree is not.", contacts.missing[0].text + "."
        )
    c8.topics.append(procedures)
    t = Topic(
        "8.5", "Exercise programme", "The plan is rehearsed regularly and the results recorded."
    )
    t.url, t.link_text = plan_url("drills") if plan else start_url, "Open the drills"
    if recent_drill and recent_drill.passed:
        t.set(PRESENT, f"{_plural(len(drills), 'drill')} recorded; the last passed.")
    elif drills:
        t.set(
            PARTIAL,
            f"{_plural(len(drills), 'drill')} recorded; the last "
            f"{'did not pass' if drills[0].passed is False else 'was over a year ago'}.",
            "Run a drill, fix what it finds, run it again.",
        )
    else:
        t.set(
            MISSING,
            "No drill yet.",
            "Run a drill from one of the scenarios or the tabletop library.",
        )
    c8.topics.append(t)
    t = Topic(
        "8.6",
        "Evaluating the plan",
        "After each drill or outage the plan is judged and brought up to date.",
    )
    if plan is None:
        no_plan(t)
    else:
        events = staleness.events_since(plan)
        t.url, t.link_text = start_url + "#review", "Review the plan"
        if (drills or reviews) and not events:
            t.set(PRESENT, "Every drill and review since has been brought into the plan.")
        elif events:
            t.set(
                PARTIAL,
                f"Not reviewed since the {events[-1].what} “{events[-1].title}”.",
                "Review the whole plan.",
            )
        else:
            t.set(MISSING, "No drill or review to learn from yet.", "Run a drill.")
    c8.topics.append(t)
    clauses.append(c8)

    # 9 -------------------------------------------------------------- evaluation
    c9 = Clause(9, "Performance evaluation")
    t = Topic(
        "9.1",
        "Monitoring and measurement",
        "The systems are watched, downtime measured, readiness scored.",
    )
    t.url, t.link_text = _url(org, "monitor:board"), "Open the systems"
    watched = [s for s in systems if s.watching]
    if systems and len(watched) == len(systems):
        t.set(
            PRESENT,
            f"Every one of the {_plural(len(systems), 'system')} is watched; readiness is scored.",
        )
    elif watched:
        t.set(
            PARTIAL,
            f"{len(watched)} of {len(systems)} systems are watched.",
            "Add a check to every system.",
        )
    else:
        t.set(MISSING, "Nothing is watched.", "Add the systems and their checks.")
    c9.topics.append(t)
    t = Topic(
        "9.2",
        "Internal audit",
        "Someone independent checks, on a schedule, that the management system works as intended.",
    )
    t.url, t.link_text = _url(org, "front:audit"), "Open the audit trail"
    t.set(
        PARTIAL,
        "The audit trail and this report support an audit; "
        "Fallback does not run the audit programme.",
        "Plan internal audits and record their findings as corrective actions.",
    )
    c9.topics.append(t)
    t = Topic(
        "9.3",
        "Management review",
        "Those in charge look at how it is going and decide what to change.",
    )
    t.url, t.link_text = plan_url("actions") if plan else start_url, "Record a management review"
    if managed and today - managed.held_on <= YEAR:
        t.set(PRESENT, f"Last held on {staleness.day_text(managed.held_on)}.")
    elif managed:
        t.set(
            PARTIAL,
            f"Last held on {staleness.day_text(managed.held_on)}, over a year ago.",
            "Hold one this year.",
        )
    else:
        t.set(MISSING, "None recorded.", "Review the open actions and record the decisions.")
    c9.topics.append(t)
    clauses.append(c9)

    # 10 ------------------------------------------------------------- improvement
    c10 = Clause(10, "Improvement")
    t = Topic(
        "10.1",
        "Nonconformity and corrective action",
        "What went wrong in drills and outages is found, owned and fixed.",
    )
    t.url, t.link_text = plan_url("actions") if plan else start_url, "Open the actions"
    if not (drills or reviews) and not items.exists():
        t.set(
            MISSING,
            "No drill or review has produced findings yet.",
            "Run a drill or review an outage.",
        )
    elif overdue:
        t.set(
            PARTIAL,
            f"{_plural(open_count, 'open action')}, {overdue} overdue.",
            "Finish or re-plan the overdue actions.",
        )
    else:
        t.set(PRESENT, f"{_plural(items.count(), 'corrective action')} recorded; none overdue.")
    c10.topics.append(t)
    t = Topic("10.2", "Continual improvement", "The plan gets better over time, action by action.")
    t.url, t.link_text = plan_url("actions") if plan else start_url, "Open the actions"
    if done_recently:
        t.set(PRESENT, f"{_plural(done_recently, 'action')} done in the last year.")
    elif items.exists():
        t.set(
            PARTIAL,
            "Actions are recorded, none done in the last year.",
            "Carry the open actions through.",
        )
    else:
        t.set(MISSING, "No actions yet.", "Record what drills and reviews find.")
    c10.topics.append(t)
    clauses.append(c10)

    return Coverage(clauses, now)
