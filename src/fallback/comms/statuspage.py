"""The public status page: its settings, what it says, and the updates staff post to it.

What the page says is computed, never stored: `summary(org)` builds Atlassian Statuspage's
v2 `summary.json` shape from the systems shown as components, their monitored state, and
the incidents with their published updates; `render_html(summary)` turns the same data into
one self-contained page. Both depend only on the records (no clock but the history cut-off),
so publishing the same state twice gives the same bytes.

What staff write is the public text: each `post_update` (a state and a few sentences) is
recorded on the incident, emailed to the subscribers of the systems it affects (through
the outbox) and makes the page due for publishing. Drills (`is_exercise`) never appear on
the public page; a preview marked "EXERCISE" shows them inside Fallback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.audit.trail import diff, record
from fallback.comms.models import PublicStatus, StatusComponent, StatusPage, StatusUpdate
from fallback.comms.preferences import ENV_NAME
from fallback.incidents import timeline
from fallback.incidents.models import EntryKind, Incident, Status
from fallback.monitor.models import State, System
from fallback.sealing import seal

MAX_BODY = 5000
# Worst first: a component's status, and the page's indicator.
COMPONENT_ORDER = [
    "major_outage",
    "partial_outage",
    "degraded_performance",
    "under_maintenance",
    "operational",
]
INDICATOR_WORDS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
COMPONENT_WORDS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}
OVER = (PublicStatus.RESOLVED, PublicStatus.POSTMORTEM)


class StatusPageProblem(Exception):
    """Bad input for the status page; `errors` are (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


def page_for(org: Organisation) -> StatusPage:
    page, _ = StatusPage.objects.get_or_create(org=org)
    return page


def title_of(page: StatusPage) -> str:
    return page.title or f"{page.org.name} status"


def components(org: Organisation) -> list[StatusComponent]:
    return list(StatusComponent.objects.filter(org=org).select_related("system"))


# ------------------------------------------------------------------ mapping


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def component_status(system: System, open_incidents: Sequence[Incident]) -> str:
    """A system's public status: from what the monitor sees, made worse (never better) by
    an outage staff declared — the monitor may not see what people do."""
    seen = {
        State.DOWN: "major_outage",
        State.DEGRADED: "degraded_performance",
        State.MAINTENANCE: "under_maintenance",
    }.get(State(system.state), "operational")
    for incident in open_incidents:
        if incident.status == Status.DECLARED:
            seen = worst([seen, "partial_outage"])
        elif incident.status == Status.RECOVERING:
            seen = worst([seen, "degraded_performance"])
    return seen


def worst(statuses: Iterable[str]) -> str:
    found = list(statuses) or ["operational"]
    return min(found, key=COMPONENT_ORDER.index)


def indicator(statuses: Sequence[str], unresolved: int) -> str:
    """The page's indicator from its components (and incidents no component shows)."""
    down = [s for s in statuses if s == "major_outage"]
    if down and len(down) == len(statuses):
        return "critical"
    if down:
        return "major"
    if any(s in ("partial_outage", "degraded_performance") for s in statuses) or unresolved:
        return "minor"
    return "none"


def incident_status(incident: Incident, updates: Sequence[StatusUpdate]) -> str:
    """The public state: what staff last posted; before any post, from the incident."""
    if updates:
        return updates[0].status  # newest first
    if incident.status == Status.RESOLVED:
        return PublicStatus.RESOLVED
    if incident.status == Status.RECOVERING:
        return PublicStatus.MONITORING
    return PublicStatus.INVESTIGATING


def impact(incident: Incident, shown: Sequence[dict[str, Any]]) -> str:
    statuses = [c["status"] for c in shown]
    if incident.declared_at is None:
        return "minor"
    if statuses and all(s == "major_outage" for s in statuses) and len(statuses) > 1:
        return "critical"
    return "major"


# ------------------------------------------------------------------ the summary


@dataclass(frozen=True)
class Shown:
    """The incidents a page shows: the open ones and the recently resolved ones."""

    unresolved: list[Incident]
    recent: list[Incident]


def public_name(incident: Incident, by_system: dict[int, StatusComponent]) -> str:
    """What the public reads as the incident's name: its systems by their public names
    ("Orders and customer accounts unavailable"), never the internal title, which names
    vendors and servers customers do not know."""
    mine = {s.pk for s in incident.systems.all()}
    shown = sorted((c for sid, c in by_system.items() if sid in mine), key=lambda c: c.position)
    names = [c.name for c in shown]
    if not names:
        return "Service disruption"
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} unavailable"


def shown_incidents(page: StatusPage, now: datetime, exercise: bool = False) -> Shown:
    """Real incidents posted about, or declared on a system the page shows (a suspicion
    nobody confirmed or wrote about, and an outage of a system kept off the page, stay
    internal); drills only in an exercise preview."""
    on_page = StatusComponent.objects.filter(org_id=page.org_id).values("system_id")
    base = Incident.objects.filter(org_id=page.org_id).filter(
        Q(declared_at__isnull=False, systems__in=on_page) | Q(status_updates__isnull=False)
    )
    if not exercise:
        base = base.filter(is_exercise=False)
    base = base.distinct().prefetch_related("systems").order_by("-opened_at", "-pk")
    unresolved = list(base.exclude(status=Status.RESOLVED))
    cutoff = now - timedelta(days=page.history_days)
    recent = list(base.filter(status=Status.RESOLVED, resolved_at__gte=cutoff)[:50])
    return Shown(unresolved, recent)


def _updates(incidents: Sequence[Incident], exercise: bool) -> dict[int, list[StatusUpdate]]:
    found: dict[int, list[StatusUpdate]] = {i.pk: [] for i in incidents}
    rows = StatusUpdate.objects.filter(incident_id__in=list(found)).order_by("-created_at", "-pk")
    if not exercise:
        rows = rows.filter(is_exercise=False)
    for update in rows:
        found[update.incident_id].append(update)
    return found


def summary(
    org: Organisation, now: datetime | None = None, *, exercise: bool = False
) -> dict[str, Any]:
    """The page as Statuspage's v2 summary.json (page, status, components, incidents,
    scheduled_maintenances)."""
    now = now or timezone.now()
    page = page_for(org)
    shown = shown_incidents(page, now, exercise)
    every = [*shown.unresolved, *shown.recent]
    updates = _updates(every, exercise)
    parts = components(org)
    by_system = {c.system_id: c for c in parts}
    open_by_system: dict[int, list[Incident]] = {}
    for incident in shown.unresolved:
        if incident_status(incident, updates[incident.pk]) in OVER:
            continue  # staff said it is over: the monitor alone speaks for its systems
        for system in incident.systems.all():
            open_by_system.setdefault(system.pk, []).append(incident)
    component_rows: list[dict[str, Any]] = []
    for c in parts:
        status = component_status(c.system, open_by_system.get(c.system_id, []))
        component_rows.append(
            {
                "id": c.system.slug,
                "name": c.name,
                "status": status,
                "created_at": _iso(c.created_at),
                "updated_at": _iso(max(c.created_at, c.system.state_since)),
                "position": c.position,
                "description": c.description or None,
                "showcase": True,
                "start_date": c.created_at.date().isoformat(),
                "group_id": None,
                "page_id": org.slug,
                "group": False,
                "only_show_if_degraded": False,
            }
        )
    rows_by_id = {row["id"]: row for row in component_rows}

    def incident_row(incident: Incident) -> dict[str, Any]:
        mine = updates[incident.pk]
        affected = [
            rows_by_id[by_system[s.pk].system.slug]
            for s in incident.systems.all()
            if s.pk in by_system
        ]
        status = incident_status(incident, mine)
        resolved_at = incident.resolved_at if status == PublicStatus.RESOLVED else None
        if status in (PublicStatus.RESOLVED, PublicStatus.POSTMORTEM) and resolved_at is None:
            resolved_at = next((u.created_at for u in mine if u.status == status), None)
        monitoring_at = next(
            (u.created_at for u in reversed(mine) if u.status == PublicStatus.MONITORING), None
        )
        moments = [incident.opened_at, *(u.created_at for u in mine)]
        moments += [m for m in (incident.declared_at, incident.resolved_at) if m]
        name = public_name(incident, by_system) + (" (EXERCISE)" if incident.is_exercise else "")
        return {
            "id": f"i{incident.pk}",
            "name": name,
            "status": status,
            "created_at": _iso(incident.opened_at),
            "updated_at": _iso(max(moments)),
            "monitoring_at": _iso(monitoring_at),
            "resolved_at": _iso(resolved_at),
            "impact": impact(incident, affected),
            "shortlink": (page.public_url or "") + f"#i{incident.pk}" if page.public_url else "",
            "started_at": _iso(incident.declared_at or incident.opened_at),
            "page_id": org.slug,
            "incident_updates": [
                {
                    "id": f"u{u.pk}",
                    "status": u.status,
                    "body": u.body,
                    "incident_id": f"i{incident.pk}",
                    "created_at": _iso(u.created_at),
                    "updated_at": _iso(u.created_at),
                    "display_at": _iso(u.created_at),
                    "affected_components": [
                        {
                            "code": by_system[sid].system.slug,
                            "name": by_system[sid].name,
                            "old_status": "operational",
                            "new_status": "operational"
                            if u.status in (PublicStatus.RESOLVED, PublicStatus.POSTMORTEM)
                            else rows_by_id[by_system[sid].system.slug]["status"],
                        }
                        for sid in u.systems
                        if sid in by_system
                    ],
                    "deliver_notifications": True,
                }
                for u in mine
            ],
            "components": affected,
        }

    unresolved_rows = [incident_row(i) for i in shown.unresolved]
    # An incident whose last post says "resolved" counts as over on the page.
    active = [r for r in unresolved_rows if r["status"] not in OVER]
    level = indicator([r["status"] for r in component_rows], len(active))
    stamps: list[str] = [row["updated_at"] for row in [*component_rows, *unresolved_rows]]
    recent_rows = [incident_row(i) for i in shown.recent]
    stamps += [r["updated_at"] for r in recent_rows]
    updated = max((s for s in stamps if s), default=_iso(org.created_at))
    return {
        "page": {
            "id": org.slug,
            "name": title_of(page),
            "url": page.public_url or "",
            "time_zone": org.time_zone or "UTC",
            "updated_at": updated,
        },
        "status": {"indicator": level, "description": INDICATOR_WORDS[level]},
        "components": component_rows,
        "incidents": active,
        "scheduled_maintenances": [],
        # Not in Statuspage's shape: resolved incidents of the last days, for the history.
        "history": [r for r in unresolved_rows if r not in active] + recent_rows,
        "exercise": exercise,
    }


def summary_json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def subscribe_url(page: StatusPage) -> str:
    if not (page.allow_subscribers and page.fallback_url):
        return ""
    return page.fallback_url.rstrip("/") + f"/status/{page.org.slug}/subscribe/"


def render_html(org: Organisation, data: dict[str, Any]) -> bytes:
    """The page as one self-contained HTML file (its CSS inline; no other file, script or
    font), readable on a phone and offline."""
    from fallback.comms.rendering import _zone

    zone = _zone(org)
    page = page_for(org)

    def local(stamp: str | None) -> str:
        if not stamp:
            return ""
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(zone)
        return moment.strftime("%-d %b %Y, %H:%M")

    def incident_view(row: dict[str, Any]) -> dict[str, Any]:
        return {
            **row,
            "status_label": PublicStatus(row["status"]).label,
            "started": local(row["started_at"]),
            "resolved": local(row["resolved_at"]),
            "updates": [
                {**u, "label": PublicStatus(u["status"]).label, "at": local(u["created_at"])}
                for u in row["incident_updates"]
            ],
            "component_names": ", ".join(c["name"] for c in row["components"]),
        }

    context = {
        "data": data,
        "title": data["page"]["name"],
        "updated": local(data["page"]["updated_at"]),
        "zone": data["page"]["time_zone"],
        "components": [{**c, "label": COMPONENT_WORDS[c["status"]]} for c in data["components"]],
        "incidents": [incident_view(r) for r in data["incidents"]],
        "history": [incident_view(r) for r in data["history"]],
        "subscribe_url": subscribe_url(page),
        "exercise": data.get("exercise", False),
    }
    return render_to_string("comms/status/page.html", context).encode()


# ------------------------------------------------------------------ settings


def due(org: Organisation, now: datetime | None = None) -> bool:
    """Make the page due for publishing (when it has somewhere to go)."""
    page = page_for(org)
    if not (page.folder_path or page.s3_bucket):
        return False
    StatusPage.objects.filter(pk=page.pk).update(publish_due_at=now or timezone.now())
    return True


PAGE_FIELDS = [
    "title",
    "public_url",
    "fallback_url",
    "folder_path",
    "s3_endpoint_url",
    "s3_bucket",
    "s3_prefix",
    "s3_region",
    "s3_access_key_env",
    "s3_secret_key_env",
    "s3_access_key_id",
    "allow_subscribers",
    "history_days",
]
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _check_page(page: StatusPage) -> None:
    errors: list[tuple[str, str]] = []
    for name in ("s3_access_key_env", "s3_secret_key_env"):
        value = getattr(page, name)
        if value and not ENV_NAME.match(value):
            errors.append((name, "The name of an environment variable: letters, digits and _."))
    if page.s3_bucket and not BUCKET.match(page.s3_bucket):
        errors.append(("s3_bucket", "3-63 lower-case letters, digits, dots and dashes."))
    if not page.s3_bucket and (page.s3_endpoint_url or page.s3_prefix):
        errors.append(("s3_bucket", "Give the bucket (or clear the other S3 settings)."))
    if page.s3_endpoint_url and not page.s3_endpoint_url.startswith(("https://", "http://")):
        errors.append(("s3_endpoint_url", "An address like https://s3.example.com."))
    if page.s3_secret_key_sealed and not page.s3_access_key_id:
        errors.append(("s3_access_key_id", "Give the access key id of the secret key typed."))
    if page.folder_path and not Path(page.folder_path).expanduser().is_absolute():
        errors.append(("folder_path", "A full path, e.g. /srv/status or D:\\status."))
    if not 1 <= page.history_days <= 365:
        errors.append(("history_days", "From 1 to 365 days."))
    try:
        page.full_clean(exclude=["org", "s3_secret_key_sealed", "published_to"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.extend((name, m) for m in messages)
    if errors:
        raise StatusPageProblem(errors)


def update_page(
    org: Organisation, *, secret_key: str | None = None, **fields: Any
) -> dict[str, list[Any]]:
    """Change the page's settings; `secret_key` "" clears a sealed secret, None keeps it.
    Returns the changes (also in the audit trail); the page is due for publishing."""
    page = page_for(org)
    before = {n: getattr(page, n) for n in PAGE_FIELDS}
    for name, value in fields.items():
        if name not in PAGE_FIELDS:
            raise ValueError(f"unknown status page setting {name!r}")
        setattr(page, name, value.strip() if isinstance(value, str) else value)
    if secret_key is not None:
        page.s3_secret_key_sealed = seal(secret_key) if secret_key else ""
    try:
        _check_page(page)
    except StatusPageProblem:
        page.refresh_from_db()
        raise
    page.save()
    changes = diff(before, {n: getattr(page, n) for n in PAGE_FIELDS})
    if secret_key is not None:
        changes["s3_secret_key"] = ["(secret)", "(changed)" if secret_key else "(cleared)"]
    if changes:
        record(org, "comms.status_page.changed", page, changes)
        due(org)
    return changes


def save_components(org: Organisation, chosen: Sequence[tuple[System, str, str]]) -> list[str]:
    """The complete list of components, in order: (system, public name, description).
    Returns what changed, in words."""
    errors = []
    for i, (system, name, _) in enumerate(chosen):
        if system.org_id != org.pk:
            errors.append((f"components[{i}]", "not a system of this organisation"))
        if not name.strip():
            errors.append((f"components[{i}].name", "give the name people see"))
        elif len(name) > 120:
            errors.append((f"components[{i}].name", "at most 120 characters"))
    if len({s.pk for s, _, _ in chosen}) != len(chosen):
        errors.append(("components", "a system is listed twice"))
    if errors:
        raise StatusPageProblem(errors)
    changes = []
    with transaction.atomic():
        current = {c.system_id: c for c in StatusComponent.objects.filter(org=org)}
        for position, (system, name, description) in enumerate(chosen):
            found = current.pop(system.pk, None)
            if found is None:
                StatusComponent.objects.create(
                    org=org,
                    system=system,
                    name=name.strip(),
                    description=description.strip()[:300],
                    position=position,
                )
                changes.append(f"{system.name} shown as “{name.strip()}”")
            elif (found.name, found.description, found.position) != (
                name.strip(),
                description.strip()[:300],
                position,
            ):
                found.name, found.description = name.strip(), description.strip()[:300]
                found.position = position
                found.save(update_fields=["name", "description", "position"])
                changes.append(f"{system.name} changed")
        for gone in current.values():
            gone.delete()
            changes.append(f"{gone.system.name} no longer shown")
        if changes:
            record(org, "comms.status_page.components", page_for(org), {"changes": [None, changes]})
            due(org)
    return changes


# ------------------------------------------------------------------ posting updates


def default_status(incident: Incident) -> str:
    latest = StatusUpdate.objects.filter(incident=incident).order_by("-created_at", "-pk").first()
    if incident.status == Status.RESOLVED:
        return PublicStatus.RESOLVED
    if incident.status == Status.RECOVERING:
        return PublicStatus.MONITORING
    return latest.status if latest else PublicStatus.INVESTIGATING


def post_update(
    incident: Incident,
    status: str,
    body: str,
    by: Any = None,
    *,
    request_key: str = "",
    from_notice: Any = None,
    now: datetime | None = None,
) -> tuple[StatusUpdate, bool]:
    """Publish an update of `incident`: recorded on it, emailed to its systems' subscribers
    through the outbox, and the page made due. The same `request_key` again returns the
    update made the first time (created False) and does nothing more."""
    from fallback.comms import subscribers

    errors = []
    if status not in PublicStatus.values:
        known = ", ".join(PublicStatus.values)
        errors.append(("status", f"unknown status {status!r} (one of {known})"))
    body = (body or "").strip()
    if not body:
        errors.append(("body", "write what people should know"))
    elif len(body) > MAX_BODY:
        errors.append(("body", f"at most {MAX_BODY} characters (this is {len(body)})"))
    if errors:
        raise StatusPageProblem(errors)
    key = request_key.strip()[:80]
    if key:
        found = StatusUpdate.objects.filter(org_id=incident.org_id, request_key=key).first()
        if found is not None:
            return found, False
    now = now or timezone.now()
    person = by if getattr(by, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            update = StatusUpdate.objects.create(
                org_id=incident.org_id,
                incident=incident,
                status=status,
                body=body,
                is_exercise=incident.is_exercise,
                systems=sorted(incident.systems.values_list("pk", flat=True)),
                from_notice=from_notice,
                created_at=now,
                created_by=person,
                request_key=key,
            )
            drill = " (exercise: not on the public page)" if incident.is_exercise else ""
            timeline.add(
                incident,
                EntryKind.NOTE,
                f"Status page update ({update.get_status_display()}){drill}: {body}",
                by=by,
                at=now,
                data={"status_update": update.pk},
            )
            record(
                incident.org,
                "comms.status_update.posted",
                update,
                {"status": [None, status], "incident": [None, incident.pk]},
            )
            subscribers.notify(update, now=now)
            if not incident.is_exercise:
                due(incident.org, now)
    except IntegrityError:
        # The same key from a concurrent request won: answer with its update.
        found = StatusUpdate.objects.filter(org_id=incident.org_id, request_key=key).first()
        if found is None or not key:
            raise
        return found, False
    return update, True
