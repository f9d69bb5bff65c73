"""An incident from suspicion to closure.

    (system goes DOWN)          trigger met, or a person confirms
          │                                │
          ▼                                ▼
      SUSPECTED ──────────────────────▶ DECLARED ◀──────────┐ down again (REOPENED)
          │ all back up before              │ all back up    │ or a person confirms
          │ the trigger: a blip             ▼                │
          │                            RECOVERING ───────────┘
          ▼                                 │ a person resolves
      RESOLVED ◀────────────────────────────┘ (from any open status)

- A system going DOWN joins the organisation's open, real (non-drill) incident that
  covers it, or else the most recent open real incident (attached, with a timeline entry;
  a declared outage that grows is announced again), or else opens a new SUSPECTED one.
  Drills never take in real events.
- "Back up" means every system of the incident is UP or DEGRADED; UNKNOWN (e.g. our own
  link is down) is not back up. An incident a person declared for an outage the checks
  cannot see (declared_manually) is closed by a person, never by the checks.
- While a system flaps (monitor.flapping) its changes are written to the timeline but send
  no alerts, and a SUSPECTED incident it is in is kept open rather than closed as a blip;
  once it is stable `after_flapping` announces where things settled.

Every transition is a TimelineEntry; what a person does also goes to the audit trail.
Transitions are conditional updates (`status` must still be what we saw), so two workers
racing on the same incident make one transition, and one set of alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.context import acting_as, current_actor
from fallback.audit.trail import record
from fallback.incidents import timeline
from fallback.incidents.alerts import queue_alert, was_sent_or_pending
from fallback.incidents.models import AlertEvent, EntryKind, Incident, Status, TimelineEntry
from fallback.monitor.models import State, StateChange, System

_BACK_UP = (State.UP, State.DEGRADED)
_OPEN = (Status.SUSPECTED, Status.DECLARED, Status.RECOVERING)
TITLE_MAX = 200
NOTE_MAX = 10_000


class IncidentError(Exception):
    """A person asked for something the incident's state does not allow; says what instead."""


def _person(by: Any) -> Any:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


@contextmanager
def _acting(by: Any) -> Iterator[None]:
    """Audit as `by` even when the caller did not set the actor (e.g. a test, a CLI)."""
    actor = current_actor()
    person = _person(by)
    if person is None or actor.user == person:
        yield
        return
    with acting_as(person, actor.via):
        yield


def open_real_incidents(org_id: int) -> QuerySet[Incident]:
    """Open incidents that are not drills: the ones system events may join."""
    return Incident.objects.filter(org_id=org_id, is_exercise=False, status__in=_OPEN)


def _move(incident: Incident, allowed: Iterable[str], to: str, **fields: Any) -> bool:
    """Change status only if it is still one of `allowed`; True when this call did it."""
    done = Incident.objects.filter(pk=incident.pk, status__in=list(allowed)).update(
        status=to, **fields
    )
    if done:
        incident.status = to
        for name, value in fields.items():
            setattr(incident, name, value)
    return bool(done)


def _count(incident: Incident, kind: EntryKind) -> int:
    return TimelineEntry.objects.filter(
        org_id=incident.org_id, incident=incident, kind=kind
    ).count()


def declaration_number(incident: Incident) -> int:
    """1 for the first declaration, 2 after it was reopened once, and so on."""
    return 1 + _count(incident, EntryKind.REOPENED)


def reminder_base(incident: Incident) -> datetime:
    """When the current declared spell began: declared_at, or the latest reopening."""
    reopened = (
        TimelineEntry.objects.filter(
            org_id=incident.org_id, incident=incident, kind=EntryKind.REOPENED
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    base = incident.declared_at or incident.opened_at
    return max(base, reopened) if reopened else base


def _flapping(systems: Iterable[System]) -> bool:
    return any(s.flapping_since is not None for s in systems)


# What the checks do


def on_system_state_change(system: System, change: StateChange) -> Incident | None:
    """Called by monitor.system_state after every change; returns the incident touched."""
    with transaction.atomic():
        if change.to_state == State.DOWN:
            return _system_down(system, change)
        incidents = list(open_real_incidents(system.org_id).filter(systems=system))
        for incident in incidents:
            _note_flapping_start(incident, system, change)
            timeline.add(
                incident,
                EntryKind.STATE,
                f"{system.name}: {State(change.from_state).label.lower()} → "
                f"{State(change.to_state).label.lower()}. {change.reason}",
                at=change.at,
                data={"system": system.pk, "from": change.from_state, "to": change.to_state},
            )
            if change.to_state in _BACK_UP:
                _maybe_recover(incident, change.at)
        return incidents[0] if incidents else None


def _system_down(system: System, change: StateChange) -> Incident:
    now = change.at
    # One incident per outage: lock the organisation so two systems going down at once on
    # two workers do not open two incidents (PostgreSQL; SQLite serialises writers anyway).
    list(Organisation.objects.select_for_update().filter(pk=system.org_id).values_list("pk"))
    quiet = system.flapping_since is not None
    open_ = open_real_incidents(system.org_id).order_by("-opened_at", "-pk")
    incident = open_.filter(systems=system).first() or open_.first()
    data = {"system": system.pk, "from": change.from_state, "to": change.to_state}
    if incident is not None:
        joined = not incident.systems.filter(pk=system.pk).exists()
        if joined:
            incident.systems.add(system)
        _note_flapping_start(incident, system, change)
        verb = "went down too" if joined else "is down"
        timeline.add(
            incident,
            EntryKind.STATE,
            f"{system.name} {verb}: {change.reason}",
            at=now,
            data=data,
        )
        if incident.status == Status.RECOVERING:
            _reopen(incident, now, None, f"{system.name} is down again.", quiet=quiet)
        elif joined and incident.status == Status.DECLARED and not quiet:
            # People are already in fallback mode: tell them the outage grew.
            queue_alert(
                AlertEvent.DECLARED,
                incident,
                n=f"joined-{system.pk}-{int(now.timestamp())}",
                now=now,
                note=f"{system.name} went down too.",
            )
        return incident
    incident = Incident.objects.create(
        org_id=system.org_id,
        title=f"{system.name} is down"[:TITLE_MAX],
        status=Status.SUSPECTED,
        opened_at=now,
    )
    incident.systems.add(system)
    trigger_at = now + timedelta(minutes=system.trigger_minutes)
    timeline.add(
        incident,
        EntryKind.OPENED,
        f"{system.name} went down: {change.reason}. If it is still down at "
        f"{timeline.local_time(trigger_at, incident.org, now)}, the outage is declared.",
        at=now,
        data=data,
    )
    if not quiet:
        queue_alert(AlertEvent.SUSPECTED, incident, now=now)
    return incident


def _note_flapping_start(incident: Incident, system: System, change: StateChange) -> None:
    if system.flapping_since is not None and system.flapping_since == change.at:
        timeline.add(
            incident,
            EntryKind.NOTE,
            f"{system.name} is flapping: its changes are recorded here but send no alerts "
            f"until it has been stable for {system.flap_window_minutes} min.",
            at=change.at,
        )


def _maybe_recover(incident: Incident, now: datetime) -> None:
    """All systems back up: a SUSPECTED incident was a blip, a DECLARED one is recovering."""
    if incident.declared_manually:
        return
    systems = list(incident.systems.all())
    if not systems or any(s.state not in _BACK_UP for s in systems):
        return
    quiet = _flapping(systems)
    if incident.status == Status.SUSPECTED:
        if quiet:
            timeline.add(
                incident,
                EntryKind.NOTE,
                "Back up, but flapping: kept open until it has been stable.",
                at=now,
            )
            return
        _close_blip(incident, now)
    elif incident.status == Status.DECLARED:
        declared = incident.declared_at or incident.opened_at
        if not _move(incident, (Status.DECLARED,), Status.RECOVERING, recovered_at=now):
            return
        back = f"All systems back up after {timeline.duration(now - declared)} of declared outage."
        timeline.add(
            incident,
            EntryKind.RECOVERING,
            f"{back} Check that they work, re-enter the documents made during the outage, "
            "then resolve the incident.",
            at=now,
        )
        if not quiet:
            n = _count(incident, EntryKind.RECOVERING)
            queue_alert(AlertEvent.RECOVERED, incident, n=n, now=now, note=back)


def _close_blip(incident: Incident, now: datetime) -> None:
    if not _move(incident, (Status.SUSPECTED,), Status.RESOLVED, recovered_at=now, resolved_at=now):
        return
    text = (
        f"A blip: back up after {timeline.duration(now - incident.opened_at)}, before an "
        "outage was declared. Closed automatically."
    )
    timeline.add(incident, EntryKind.RESOLVED, text, at=now)
    # Tell people it is over only if they were told it began.
    if was_sent_or_pending(incident, AlertEvent.SUSPECTED):
        queue_alert(AlertEvent.RECOVERED, incident, n="blip", now=now, note=text)


def _reopen(incident: Incident, now: datetime, by: Any, text: str, *, quiet: bool) -> bool:
    if not _move(incident, (Status.RECOVERING,), Status.DECLARED, recovered_at=None):
        return False
    timeline.add(incident, EntryKind.REOPENED, text, by=by, at=now)
    if not quiet:
        queue_alert(
            AlertEvent.DECLARED,
            incident,
            n=declaration_number(incident),
            now=now,
            note=f"{text} Back in fallback mode.",
        )
    return True


def after_flapping(system: System, now: datetime) -> None:
    """`system` stopped flapping: settle its incidents and send the alert for where they are
    now, unless it was already sent (alert keys make this idempotent)."""
    with transaction.atomic():
        for incident in open_real_incidents(system.org_id).filter(systems=system):
            timeline.add(
                incident,
                EntryKind.NOTE,
                f"{system.name} has been stable for {system.flap_window_minutes} min "
                f"(now {State(system.state).label.lower()}); alerts about it resume.",
                at=now,
            )
            _maybe_recover(incident, now)
            if _flapping(incident.systems.all()):
                continue
            if incident.status == Status.SUSPECTED:
                queue_alert(AlertEvent.SUSPECTED, incident, now=now)
            elif incident.status == Status.DECLARED:
                queue_alert(AlertEvent.DECLARED, incident, n=declaration_number(incident), now=now)


# What people (and the trigger) do


def declare(
    incident: Incident, by: Any = None, now: datetime | None = None, *, reason: str = ""
) -> Incident:
    """SUSPECTED → DECLARED (the trigger is met, or a person confirmed). Idempotent."""
    now = now or timezone.now()
    incident.refresh_from_db()  # the caller's copy may predate the checks' latest news
    if incident.status == Status.RESOLVED:
        raise IncidentError("This incident is resolved. Declare a new outage instead.")
    if incident.status == Status.RECOVERING:
        return confirm(incident, by, now)
    person = _person(by)
    label = timeline.actor_label(by)
    with transaction.atomic(), _acting(by):
        if not _move(
            incident, (Status.SUSPECTED,), Status.DECLARED, declared_at=now, declared_by=person
        ):
            return incident
        text = f"Outage declared: {reason}" if reason else f"Outage declared by {label}."
        timeline.add(incident, EntryKind.DECLARED, text, by=by, at=now)
        if person is not None:
            record(
                incident.org,
                "incident.declared",
                incident,
                {"status": [Status.SUSPECTED.value, Status.DECLARED.value]},
            )
        queue_alert(
            AlertEvent.DECLARED,
            incident,
            n=declaration_number(incident),
            now=now,
            note=reason or f"{label} declared it.",
        )
    return incident


def confirm(
    system_or_incident: System | Incident, by: Any, now: datetime | None = None
) -> Incident:
    """A person says it really is down: declare at once (or reopen a recovering incident).

    Given a system with no open incident, opens one for it, declared at once."""
    now = now or timezone.now()
    label = timeline.actor_label(by)
    with transaction.atomic(), _acting(by):
        if isinstance(system_or_incident, System):
            system = system_or_incident
            incident = (
                open_real_incidents(system.org_id)
                .filter(systems=system)
                .order_by("-opened_at", "-pk")
                .first()
            )
            if incident is None:
                incident = Incident.objects.create(
                    org_id=system.org_id,
                    title=f"{system.name} is unavailable"[:TITLE_MAX],
                    status=Status.SUSPECTED,
                    # The checks did not see it: a person's word is the evidence.
                    declared_manually=system.state != State.DOWN,
                    opened_at=now,
                )
                incident.systems.add(system)
                timeline.add(
                    incident,
                    EntryKind.OPENED,
                    f"{label} reported {system.name} unavailable "
                    f"(Fallback saw it {State(system.state).label.lower()}).",
                    by=by,
                    at=now,
                )
        else:
            incident = system_or_incident
            incident.refresh_from_db()
        if incident.status == Status.RESOLVED:
            raise IncidentError("This incident is resolved. Declare a new outage instead.")
        before = incident.status
        timeline.add(incident, EntryKind.CONFIRMED, f"{label} confirmed the outage.", by=by, at=now)
        if incident.status == Status.SUSPECTED:
            declare(incident, by, now, reason=f"{label} confirmed it.")
        elif incident.status == Status.RECOVERING:
            _reopen(incident, now, by, f"{label} says it is still not working.", quiet=False)
        record(incident.org, "incident.confirmed", incident, {"status": [before, incident.status]})
    return incident


def declare_manually(
    org: Organisation,
    systems: Iterable[System],
    title: str,
    by: Any,
    is_exercise: bool = False,
    summary: str = "",
    now: datetime | None = None,
) -> Incident:
    """Declare an outage (or a drill) the checks cannot see; declared at once."""
    now = now or timezone.now()
    title = title.strip()
    systems = list(systems)
    if not title:
        raise IncidentError(
            "Give the outage a title, e.g. \u201cAccounts server unreachable\u201d."
        )
    if len(title) > TITLE_MAX:
        raise IncidentError(f"The title is too long: at most {TITLE_MAX} characters.")
    for s in systems:
        if s.org_id != org.pk:
            raise IncidentError(f"System #{s.pk} is not a system of {org.name}.")
    if not is_exercise and systems:
        clash = (
            open_real_incidents(org.pk).filter(systems__in=systems).order_by("-opened_at").first()
        )
        if clash is not None:
            raise IncidentError(
                f"An open incident already covers {', '.join(s.name for s in systems)}: "
                f"\u201c{clash.title}\u201d (#{clash.pk}). Confirm that one instead."
            )
    person = _person(by)
    label = timeline.actor_label(by)
    with transaction.atomic(), _acting(by):
        incident = Incident.objects.create(
            org=org,
            title=title,
            status=Status.DECLARED,
            is_exercise=is_exercise,
            summary=summary,
            declared_manually=True,
            opened_at=now,
            declared_at=now,
            declared_by=person,
        )
        incident.systems.add(*systems)
        what = "Drill" if is_exercise else "Outage"
        text = f"{what} declared by {label}: {title}"
        timeline.add(incident, EntryKind.DECLARED, text, by=by, at=now)
        record(
            org,
            "incident.declared",
            incident,
            {
                "status": [None, Status.DECLARED.value],
                "is_exercise": [None, is_exercise],
                "systems": [None, [s.name for s in systems]],
            },
        )
        queue_alert(AlertEvent.DECLARED, incident, n=1, now=now, note=text + ".")
    return incident


# What may keep an incident open: each guard returns why it cannot be resolved yet, or None.
# The desk registers one (documents made during the outage not yet in the main system).
RESOLVE_GUARDS: list[Callable[[Incident], str | None]] = []


def resolve(incident: Incident, by: Any, now: datetime | None = None, note: str = "") -> Incident:
    """A person closes the incident; fallback mode ends."""
    now = now or timezone.now()
    incident.refresh_from_db()
    if incident.status == Status.RESOLVED:
        raise IncidentError("This incident is already resolved.")
    for guard in RESOLVE_GUARDS:
        reason = guard(incident)
        if reason:
            raise IncidentError(reason)
    before = incident.status
    label = timeline.actor_label(by)
    with transaction.atomic(), _acting(by):
        if not _move(incident, _OPEN, Status.RESOLVED, resolved_at=now, resolved_by=_person(by)):
            raise IncidentError("This incident is already resolved.")
        text = f"Resolved by {label}." + (f" {note.strip()}" if note.strip() else "")
        timeline.add(incident, EntryKind.RESOLVED, text, by=by, at=now)
        record(
            incident.org, "incident.resolved", incident, {"status": [before, Status.RESOLVED.value]}
        )
        told = before == Status.DECLARED or (
            before == Status.SUSPECTED and was_sent_or_pending(incident, AlertEvent.SUSPECTED)
        )
        if told:  # from RECOVERING, the RECOVERED alert already went out
            queue_alert(AlertEvent.RECOVERED, incident, n="resolved", now=now, note=text)
    return incident


def add_note(incident: Incident, by: Any, text: str, now: datetime | None = None) -> TimelineEntry:
    """A person's note on the timeline (what was done, what customers were told…)."""
    text = text.strip()
    if not text:
        raise IncidentError("A note needs some text.")
    if len(text) > NOTE_MAX:
        raise IncidentError(f"The note is too long: at most {NOTE_MAX} characters.")
    with transaction.atomic(), _acting(by):
        entry = timeline.add(incident, EntryKind.NOTE, text, by=by, at=now or timezone.now())
        record(incident.org, "incident.note_added", incident, {"note": [None, text[:200]]})
    return entry
