"""The printable plan: any PlanVersion as a printable page or a PDF, rendered from its JSON
alone (people, systems and dates as they were then), so a past plan prints exactly as it
stood, whatever has changed since.

Templates: ``plans/print/plan.html`` (the page) and ``plans/print/plan.css`` (the look);
an installation overrides either with a file of the same name earlier on its template path.
PDFs go through the desk's WeasyPrint renderer (fonts cached, rendering serialised).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from fallback.desk import printing as desk_printing
from fallback.plans.models import Band, ContactKind, PlanVersion, ScenarioKind
from fallback.plans.snapshot import duration_words

TEMPLATE = "plans/print/plan.html"
CSS_TEMPLATE = "plans/print/plan.css"


@dataclass
class Printed:
    """What the template shows, worked out from a version's JSON."""

    organisation: str
    number: int
    made_at: str
    made_by: str
    summary: str
    reviewed_at: str
    currency: str
    owner: str
    scope: str = ""
    policy: str = ""
    activities: list[dict[str, Any]] = field(default_factory=list)
    risks: list[dict[str, Any]] = field(default_factory=list)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _moment(value: str | datetime | None, zone: zoneinfo.ZoneInfo | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if zone is not None:
        moment = moment.astimezone(zone)
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def _money(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return f"{currency} {amount:,}"


def printed(version: PlanVersion) -> Printed:
    data = version.data or {}
    plan, meta = data.get("plan", {}), data.get("meta", {})
    zone = _zone(meta.get("time_zone", ""))
    people: dict[str, str] = meta.get("people", {})
    systems: dict[str, str] = meta.get("systems", {})
    currency = meta.get("currency", "")

    def person(text: str | None) -> str:
        if not text:
            return ""
        name = people.get(text)
        return f"{name} ({text})" if name and name != text else text

    contacts = plan.get("contacts", [])
    by_name = {c.get("name", "").casefold(): c for c in contacts}

    def reach(text: str | None) -> str:
        """A role holder or alternate, with how to reach them when it is a contact."""
        if not text:
            return ""
        contact = by_name.get(text.casefold())
        if contact is None:
            return person(text)
        ways = [*contact.get("phones", []), contact.get("email", "")]
        return f"{text} ({', '.join(w for w in ways if w)})" if any(ways) else text

    result = Printed(
        organisation=meta.get("organisation", ""),
        number=version.number,
        made_at=_moment(version.created_at, zone),
        made_by=version.created_by_label,
        summary=version.summary,
        reviewed_at=_moment(meta.get("reviewed_at"), zone),
        currency=currency,
        owner=person(plan.get("owner")),
        scope=plan.get("scope", ""),
        policy=plan.get("policy", ""),
    )
    bands = dict(Band.choices)
    for a in plan.get("activities", []):
        impact = a.get("impact", {})
        result.activities.append(
            {
                **a,
                "owner": person(a.get("owner")),
                "systems": [systems.get(s, s) for s in a.get("systems", [])],
                "mtpd": duration_words(a.get("mtpd")),
                "rto": duration_words(a.get("rto")),
                "rpo": duration_words(a.get("rpo")),
                "impacts": [
                    {
                        "band": bands[band],
                        "money": _money(impact[band].get("money"), currency),
                        "customers": impact[band].get("customers"),
                        "note": impact[band].get("note", ""),
                    }
                    for band in Band.values
                    if band in impact
                ],
            }
        )
    for r in plan.get("risks", []):
        likelihood, severity = r.get("likelihood", 3), r.get("severity", 3)
        result.risks.append(
            {
                **r,
                "score": likelihood * severity,
                "likelihood": likelihood,
                "severity": severity,
                "contrarian": person(r.get("contrarian")),
            }
        )
    result.risks.sort(key=lambda r: -int(r["score"]))
    kinds = dict(ScenarioKind.choices)
    for s in plan.get("scenarios", []):
        result.scenarios.append(
            {
                **s,
                "kind": kinds.get(s.get("kind", ""), s.get("kind", "")),
                "systems": [systems.get(x, x) for x in s.get("systems", [])],
                "steps": s.get("steps", []),
                "back_up": s.get("back_up", []),
            }
        )
    for r in plan.get("roles", []):
        result.roles.append(
            {
                **r,
                "holder": reach(r.get("holder")),
                "alternates": [reach(a) for a in r.get("alternates", [])],
            }
        )
    labels = dict(ContactKind.choices)
    for kind in ContactKind.values:
        rows = [
            {**c, "member": person(c.get("member")), "system": systems.get(c.get("system", ""), "")}
            for c in contacts
            if c.get("kind") == kind
        ]
        if rows:
            result.contacts.append({"label": labels[kind], "rows": rows})
    return result


def _css() -> str:
    return render_to_string(CSS_TEMPLATE)


def _inline(text: str) -> SafeString:
    # Inside <style> only "</" could end the element early; "<\/" is the same CSS.
    return mark_safe(text.replace("</", "<\\/"))  # noqa: S308


def version_html(version: PlanVersion, *, screen: bool = False, pdf_url: str = "") -> str:
    context = {
        "p": printed(version),
        "screen": screen,
        "pdf_url": pdf_url,
        "css": _inline(_css()) if screen else "",
        "lang": "en-GB",
    }
    return render_to_string(TEMPLATE, context)


def version_pdf(version: PlanVersion) -> bytes:
    return desk_printing.html_to_pdf(version_html(version), [_css()])
