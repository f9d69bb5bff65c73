"""Readiness: how ready the organisation is for its systems to go down, as a score from 0
to 100 and a checklist, with the next most useful thing to do.

Each check has a weight; a check partly done (3 of 4 systems watched) earns that part of
its weight. The next thing to do is the undone check with the highest weight (the one that
adds most to the score), and its link goes straight to the page that does it.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.monitor.models import System
from fallback.plans import sections, staleness
from fallback.plans.models import Plan
from fallback.replica import freshness

log = logging.getLogger("fallback.plans")

WEIGHTS = {
    "systems": 20,
    "replica": 15,
    "plan": 25,
    "contacts": 15,
    "drill": 10,
    "backups": 15,
}
DRILL_EVERY = timedelta(days=365)
BACKUP_VERIFIED_WITHIN = timedelta(days=8)
VAULT_STATUS = "fallback.vault.status"
VAULT_URLS = ("vault:home", "vault:index", "vault:list")


@dataclass
class Check:
    key: str
    title: str
    weight: int
    done: bool
    why: str
    url: str = ""
    action: str = ""  # the link's words
    fraction: float = 0.0  # of the weight earned
    admin_only: bool = False  # the link is to an installation page (superusers only)

    @property
    def points(self) -> float:
        return self.weight * (1.0 if self.done else max(0.0, min(self.fraction, 1.0)))


@dataclass
class Readiness:
    checks: list[Check]

    @property
    def score(self) -> int:
        return round(sum(c.points for c in self.checks))

    @property
    def next_check(self) -> Check | None:
        """The most useful thing to do next: the undone check worth most."""
        undone = [c for c in self.checks if not c.done]
        return max(undone, key=lambda c: (c.weight - c.points, c.weight), default=None)


def _url(name: str, org: Organisation, **kwargs: Any) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ------------------------------------------------------------------ checks


def systems_check(org: Organisation) -> Check:
    systems = list(
        System.objects.filter(org=org, paused=False)
        .annotate(watching=Count("checks", filter=Q(checks__enabled=True)))
        .order_by("name")
    )
    check = Check("systems", "Systems watched", WEIGHTS["systems"], False, "")
    if not systems:
        check.why = "No systems yet: add the systems the business depends on."
        check.url, check.action = _url("monitor:system_create", org), "Add a system"
        return check
    unwatched = [s for s in systems if not s.watching]
    check.fraction = (len(systems) - len(unwatched)) / len(systems)
    check.done = not unwatched
    if check.done:
        check.why = f"{_plural(len(systems), 'system')}, each with a check."
        check.url, check.action = _url("monitor:board", org), "See the systems"
    else:
        names = ", ".join(s.name for s in unwatched[:3])
        check.why = f"Nothing watches {names}" + (
            f" and {len(unwatched) - 3} more" if len(unwatched) > 3 else ""
        )
        check.why += ": add a check so Fallback notices when it goes down."
        first = unwatched[0]
        check.url = _url("monitor:check_create", org, slug=first.slug)
        check.action = f"Add a check to {first.name}"
    return check


def replica_check(org: Organisation, plan: Plan | None, now: datetime) -> Check:
    check = Check("replica", "Replica within its RPO", WEIGHTS["replica"], False, "")
    found = freshness.for_org(org.pk, now)
    if not found:
        check.why = "No replica yet: copy the records you need to keep trading."
        check.url, check.action = _url("replica:create", org), "Add a connector"
        return check
    # Each target is already the strictest of the connector's own RPO and the plan's.
    late = [f for f in found if f.stale]
    check.fraction = (len(found) - len(late)) / len(found)
    check.done = not late
    if late:
        first = late[0]
        age = "has never synced" if first.age is None else "is older than its RPO"
        check.why = f"The copy of {first.connector.name} {age}."
        if len(late) > 1:
            check.why += f" ({len(late) - 1} more too.)"
        check.url = _url("replica:connector", org, slug=first.connector.slug)
        check.action = f"Open {first.connector.name}"
    else:
        check.why = f"{_plural(len(found), 'connector')}, each copy within its RPO."
        check.url, check.action = _url("replica:list", org), "See the replica"
    return check


def plan_check(org: Organisation, plan: Plan | None, found: list[sections.Section]) -> Check:
    check = Check("plan", "Plan sections complete", WEIGHTS["plan"], False, "")
    if plan is None:
        check.why = "No continuity plan yet. Fallback starts one with sensible defaults."
        check.url, check.action = _url("plans:home", org), "Start the plan"
        return check
    complete = sum(s.complete for s in found)
    check.fraction = sections.progress(found) / 100
    check.done = complete == len(found)
    check.why = f"{complete} of {len(found)} sections complete."
    missing = sections.next_missing(found)
    if missing is not None:
        check.why += f" The first thing missing: {missing.text}."
        check.url, check.action = _url("plans:continue", org), "Continue the plan"
    else:
        check.url, check.action = _url("plans:home", org), "Open the plan"
    return check


def contacts_check(org: Organisation, plan: Plan | None, now: datetime) -> Check:
    check = Check("contacts", "Contacts verified", WEIGHTS["contacts"], False, "")
    if plan is None or not plan.contacts.exists():
        check.why = "No contacts yet: who to call when the systems are down."
        check.url = _url("plans:contacts", org) if plan is not None else _url("plans:home", org)
        check.action = "Add contacts"
        return check
    parts = [p for p in staleness.parts(plan, now) if p.key.startswith("contacts.")]
    total = plan.contacts.count()
    due = sum(len(p.items) for p in parts if p.stale)
    check.fraction = (total - due) / total
    check.done = due == 0
    check.url, check.action = _url("plans:contacts", org), "Check the contacts"
    if check.done:
        check.why = f"All {_plural(total, 'contact')} checked within their cadence."
    else:
        check.why = f"{due} of {_plural(total, 'contact')} due for a check."
    return check


@dataclass(frozen=True)
class Drill:
    title: str
    at: datetime
    passed: bool
    why: str = ""  # the first reason it did not pass
    url: str = ""


def last_drill(org: Organisation) -> Drill | None:
    """The last finished drill and whether it passed (its targets met, every step done);
    None when no drill has been finished yet. An exercise incident declared by hand, with
    no drill, measured nothing, so it does not count."""
    from fallback.plans.models import Drill as DrillRecord

    found = (
        DrillRecord.objects.filter(org=org, finished_at__isnull=False)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if found is None or found.finished_at is None:
        return None
    reasons = list((found.results or {}).get("why", []))
    return Drill(
        found.scenario_title,
        found.finished_at,
        bool(found.passed),
        reasons[0] if reasons else "",
        _url("plans:drill", org, pk=found.pk),
    )


def drill_check(org: Organisation, now: datetime) -> Check:
    check = Check("drill", "Last drill passed", WEIGHTS["drill"], False, "")
    drill = last_drill(org)
    check.url, check.action = _url("plans:drills", org), "Run a drill"
    if drill is None:
        check.why = "No drill yet: rehearse an outage to see whether the plan works."
    elif not drill.passed:
        check.why = f"The last drill, “{drill.title}”, did not pass"
        check.why += f" ({drill.why})" if drill.why else ""
        check.why += ": fix the plan and run it again."
    elif now - drill.at > DRILL_EVERY:
        check.why = f"The last drill, “{drill.title}”, was over a year ago."
        check.fraction = 0.5
    else:
        check.done = True
        check.why = f"“{drill.title}” passed on {staleness.day_text(drill.at)}."
        check.url, check.action = drill.url or _url("plans:drills", org), "See the drill"
    return check


class VaultUnreadable(Exception):
    """The vault is installed but could not say how its backups are."""


def vault_status() -> Any | None:
    """fallback.vault.status.readiness() when the vault is installed, else None."""
    try:
        module = importlib.import_module(VAULT_STATUS)
    except ImportError:
        return None
    readiness = getattr(module, "readiness", None)
    if not callable(readiness):
        return None
    try:
        return readiness()
    except Exception as exc:
        # The dashboard must not break because another app does: say so, and log it.
        log.exception("Reading the vault's readiness failed")
        raise VaultUnreadable(str(exc)) from exc


def _vault_url() -> str:
    for name in VAULT_URLS:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def backups_check(now: datetime, status: Any | None = None) -> Check:
    check = Check("backups", "Backups verified", WEIGHTS["backups"], False, "")
    check.url = _vault_url()
    check.action = "Open backups" if check.url else ""
    check.admin_only = True
    if status is None:
        try:
            status = vault_status()
        except VaultUnreadable:
            check.why = "Fallback could not read the state of the backups (see its log)."
            return check
    if status is None:
        check.why = (
            "Backups are not set up: whoever runs Fallback sets up the vault (encrypted, "
            "verified copies kept off-site)."
        )
        return check
    problems = list(getattr(status, "problems", None) or [])
    verified_at = getattr(status, "last_verified_at", None)
    snapshot_at = getattr(status, "last_snapshot_at", None)
    if snapshot_at is None:
        check.why = problems[0] if problems else "No backup has been made yet."
    elif not getattr(status, "verified_ok", False) or verified_at is None:
        check.why = problems[0] if problems else "The last backup has not been verified."
        check.fraction = 0.5
    elif now - verified_at > BACKUP_VERIFIED_WITHIN:
        check.why = f"The last verified backup is from {staleness.day_text(verified_at)}."
        check.fraction = 0.5
    else:
        check.done = not problems
        check.fraction = 1.0 if check.done else 0.5
        level = getattr(status, "level", "")
        how = {"full": "restored and checked", "integrity": "checked (its integrity)"}
        check.why = (
            problems[0] if problems else f"The last backup was {how.get(level, 'verified')}."
        )
    return check


def readiness(org: Organisation, now: datetime | None = None) -> Readiness:
    now = now or timezone.now()
    plan = Plan.objects.filter(org=org).select_related("org", "owner").first()
    found = sections.sections(plan) if plan is not None else []
    return Readiness(
        [
            systems_check(org),
            replica_check(org, plan, now),
            plan_check(org, plan, found),
            contacts_check(org, plan, now),
            drill_check(org, now),
            backups_check(now),
        ]
    )
