"""The grab binder: one PDF of everything needed with no computer at all — the plan (roles
and the contact tree first, then the scenarios with their procedures and "system back up"
checklists, what matters, the risks), the notice scripts, the price list, the blank paper
forms, and how to open a backup by hand.

One document, made of parts laid out by WeasyPrint and joined page by page: the binder's
own pages (cover, contents, the plan, the notice scripts, the backup instructions) from
``plans/print/binder.html``, then the desk's price list and blank forms exactly as the desk
prints them. The contents give each part's page; every page's footer carries the binder's
page number and its code.

The fingerprint is a digest of everything the binder is made from (the plan version, the
organisation's details and members, the prices, the desk's letterhead and settings, the
notice templates, the binder's layout): the same inputs give the same binder, so the PDF is
kept in the data folder under its fingerprint and made again only when something in it
changed. Each download (and each "we printed it") is a BinderCopy with the fingerprint of
what was taken, so Fallback can say when the paper copy is out of date, and why.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Max
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from fallback import __version__
from fallback.accounts.models import Membership, Organisation, User
from fallback.audit.context import current_actor
from fallback.audit.trail import record as audit
from fallback.desk import mode, price_list
from fallback.desk import printing as desk_printing
from fallback.desk.models import DeskSettings
from fallback.plans import printing, staleness
from fallback.plans.models import BinderCopy, CopyKind, Plan, PlanVersion
from fallback.replica.models import Record

log = logging.getLogger("fallback.plans")

FORMAT = 1  # the binder's layout: a new one makes every printed copy out of date
TEMPLATE = "plans/print/binder.html"
CSS_TEMPLATE = "plans/print/binder.css"
PLAN_CSS_TEMPLATE = "plans/print/plan.css"
VAULT_TEMPLATE = "vault/restore_by_hand.html"
PRICE_ROWS = price_list.WEB_PDF_LIMIT  # as the desk's web page prints; the CLI prints all
KEY_ACCOUNTS_SHOWN = 60
CACHE_FOLDER = "binders"
COMMS = "fallback.comms"
VAULT = "fallback.vault"

# Input -> what it is, in "out of date since <what> changed".
PART_LABELS = {
    "plan": "the plan",
    "organisation": "the organisation's details or members",
    "prices": "the prices",
    "desk": "the letterhead and the desk's settings (price list and blank forms)",
    "notices": "the notice templates or key accounts",
    "vault": "the backup instructions",
    "format": "the binder's layout (a new version of Fallback)",
}


class BinderError(Exception):
    """The binder cannot be made yet; says why."""


# ------------------------------------------------------------------ fingerprint


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _latest_version(plan: Plan) -> PlanVersion | None:
    return plan.versions.order_by("-number").first()


def _desk_values(org: Organisation) -> dict[str, Any]:
    # What the desk would use: its saved settings, or the ones it would make on first use,
    # so that making the binder (which saves them) does not change the fingerprint.
    desk = DeskSettings.objects.filter(org=org).first() or DeskSettings(
        org=org, letterhead_name=org.name
    )
    names = [
        "number_prefix",
        "tax_name",
        "tax_rate",
        "prices_include_tax",
        "letterhead_name",
        "letterhead_address",
        "letterhead_phone",
        "letterhead_email",
        "letterhead_tax_number",
        "footer",
        "document_css",
    ]
    values = {}
    for name in names:
        value = getattr(desk, name)
        # 20 unsaved, 20.000 from the database: the same rate.
        values[name] = f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    return values


def _comms_modules() -> dict[str, Any] | None:
    """The comms app's modules the binder reads, when that app is installed."""
    if not apps.is_installed(COMMS):
        return None
    try:
        return {
            name: importlib.import_module(f"{COMMS}.{name}")
            for name in ("models", "defaults", "rendering", "audiences", "call_list")
        }
    except ImportError:
        log.exception("The comms app is installed but cannot be imported")
        return None


def _notices_values(org: Organisation) -> Any:
    comms = _comms_modules()
    if comms is None:
        return None
    models = comms["models"]
    templates = list(
        models.MessageTemplate.objects.filter(org=org)
        .order_by("audience", "phase")
        .values_list("audience", "phase", "updated_at")
    )
    routes = models.CommsSettings.objects.filter(org=org).values_list("updated_at", flat=True)
    accounts = models.KeyAccount.objects.filter(org=org).aggregate(
        n=Count("pk"), newest=Max("created_at")
    )
    keys = list(
        models.KeyAccount.objects.filter(org=org)
        .order_by("pk")
        .values_list("name", "phone", "contact_name", "call_dont_email")
    )
    return [templates, list(routes), accounts["n"], _digest(keys)]


def has_backup_instructions() -> bool:
    if not apps.is_installed(VAULT):
        return False
    try:
        get_template(VAULT_TEMPLATE)
    except TemplateDoesNotExist:
        return False
    return True


@dataclass(frozen=True)
class Inputs:
    parts: dict[str, str]
    plan_version: int | None

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.parts, sort_keys=True).encode("utf-8")).hexdigest()

    @property
    def code(self) -> str:
        """The short code printed on every page, to compare a paper copy with Fallback."""
        return self.fingerprint[:8].upper()


def inputs(plan: Plan) -> Inputs:
    """Everything the binder is made from, each part digested."""
    org = plan.org
    version = _latest_version(plan)
    members = list(
        Membership.objects.filter(org=org)
        .order_by("user__email")
        .values_list("user__email", "user__first_name", "user__last_name", "role")
    )
    prices = Record.objects.filter(org=org, entity__in=staleness.PRICE_ENTITIES).aggregate(
        n=Count("pk"), started=Max("valid_from"), ended=Max("valid_to")
    )
    parts = {
        "plan": f"v{version.number}" if version else "none",
        "organisation": _digest(
            [org.name, org.slug, org.time_zone, org.locale, org.currency, members]
        ),
        "prices": _digest([prices["n"], prices["started"], prices["ended"]]),
        "desk": _digest(_desk_values(org)),
        "notices": _digest(_notices_values(org)),
        "vault": "yes" if has_backup_instructions() else "no",
        "format": f"{FORMAT}",
    }
    return Inputs(parts, version.number if version else None)


# ------------------------------------------------------------------ status


@dataclass
class Status:
    current: Inputs
    last_copy: BinderCopy | None
    changed: list[str] = field(default_factory=list)  # what changed since the last copy
    since: datetime | None = None  # when the first of those changes was made, if known

    @property
    def up_to_date(self) -> bool:
        return self.last_copy is not None and self.last_copy.fingerprint == self.current.fingerprint

    @property
    def why(self) -> str:
        """'the plan (version 14) and the prices changed since the copy of 3 May 2026'."""
        if self.last_copy is None:
            return "never printed or downloaded"
        if self.up_to_date:
            return f"up to date (taken on {staleness.day_text(self.last_copy.at)})"
        what = self.changed or ["something in it"]
        joined = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " and " + what[-1]
        when = f", since {staleness.day_text(self.since)}" if self.since else ""
        return (
            f"out of date{when}: {joined} changed after the copy of "
            f"{staleness.day_text(self.last_copy.at)}"
        )


def last_copy(org: Organisation) -> BinderCopy | None:
    return BinderCopy.objects.filter(org=org).select_related("by").order_by("-at", "-pk").first()


def status(plan: Plan) -> Status:
    """Whether the newest binder taken away (downloaded or printed) is still the binder
    Fallback would make now, and if not, what changed."""
    current = inputs(plan)
    copy = last_copy(plan.org)
    found = Status(current, copy)
    if copy is None or copy.fingerprint == current.fingerprint:
        return found
    old: dict[str, str] = copy.parts or {}
    for key, label in PART_LABELS.items():
        if old.get(key) != current.parts.get(key):
            if key == "plan" and current.plan_version is not None:
                label = f"the plan (now version {current.plan_version})"
            found.changed.append(label)
    moments = []
    if old.get("plan") != current.parts.get("plan") and copy.plan_version is not None:
        moments += list(
            plan.versions.filter(number__gt=copy.plan_version)
            .order_by("number")
            .values_list("created_at", flat=True)[:1]
        )
    if old.get("prices") != current.parts.get("prices"):
        changed = staleness.price_changes_since(plan, copy.at)
        if changed is not None:
            moments.append(changed)
    found.since = min(moments) if moments else None
    return found


# ------------------------------------------------------------------ notice scripts


@dataclass
class Script:
    audiences: list[str]
    phase: str
    subject: str
    parts: list[tuple[str, str]]  # (law, words)
    own: bool  # the organisation's own words, not the defaults


@dataclass
class Notices:
    scripts: list[Script]
    call_script: list[tuple[str, str]]
    routes: str
    key_accounts: list[dict[str, Any]]
    more_accounts: int


PLACEHOLDERS = {
    "customer_name": "[name]",
    "systems": "[what is down]",
    "since": "[when it went down]",
    "expected_return": "[when it should be back, or “not known yet”]",
    "next_update_by": "[when the next update will come]",
    "incident": "[the outage]",
}


def notice_scripts(org: Organisation) -> Notices | None:
    """Each audience's message in each phase, with the facts of an outage left as
    [placeholders] to fill in by hand, and the phone script for key accounts; None when the
    comms app is not installed."""
    comms = _comms_modules()
    if comms is None:
        return None
    models, defaults, rendering = comms["models"], comms["defaults"], comms["rendering"]
    audiences, call_list = comms["audiences"], comms["call_list"]
    found = models.CommsSettings.objects.filter(org=org).first() or models.CommsSettings(org=org)
    phones = rendering.lines(found.phone_numbers)
    values = {
        "business": org.name,
        "phone": " or ".join(phones) if phones else "[our phone number]",
        "backup_email": found.backup_email or "[our backup email address]",
        "status_url": found.status_url or "[our status page]",
        "alternate_routes": rendering.alternate_routes(found) or "[how to reach us now]",
        **PLACEHOLDERS,
    }
    own = {(t.audience, t.phase): t for t in models.MessageTemplate.objects.filter(org=org)}
    grouped: dict[tuple[Any, ...], Script] = {}
    groups: dict[tuple[Any, ...], int] = {}  # each wording's place: its first audience's
    phases = list(models.Phase.choices)
    for position, kind in enumerate(audiences.registered()):
        for phase, phase_label in phases:
            template = own.get((kind.key, phase))
            words = template or defaults.words_for(kind.wording, phase)
            source = rendering.parts_of(words)
            subject = " ".join(rendering.render(source["subject"], values).text.split())
            parts = [
                (rendering.PART_LABELS[p], rendering.render(source[p], values).text.strip())
                for p in rendering.PARTS
                if source.get(p, "").strip()
            ]
            key = (phase, subject, tuple(parts))
            if key in grouped:
                grouped[key].audiences.append(kind.label)
            else:
                grouped[key] = Script(
                    [kind.label], phase_label, subject, parts, template is not None
                )
                groups[key] = position
    order = {label: i for i, (_, label) in enumerate(phases)}
    # By audience (as the comms app lists them), each audience's phases in order.
    scripts = [
        grouped[key] for key in sorted(grouped, key=lambda k: (groups[k], order[grouped[k].phase]))
    ]
    # The phone script: the key accounts' first notice, read out (no letter greeting).
    first = own.get(("key_accounts", models.Phase.FIRST_NOTICE)) or defaults.words_for(
        "customers", models.Phase.FIRST_NOTICE
    )
    call_script = []
    source = rendering.parts_of(first)
    for part in rendering.PARTS:
        text = rendering.render(source.get(part, ""), values).text.strip()
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        if part == "notify" and len(paragraphs) > 1 and len(paragraphs[0].split()) <= 4:
            paragraphs = paragraphs[1:]
        words = " ".join(" ".join(paragraphs).split())
        if words:
            call_script.append((call_list.SCRIPT_LABELS[part], words))
    accounts = models.KeyAccount.objects.filter(org=org).order_by("name", "customer_key")
    shown = [
        {
            "name": a.name or a.customer_key,
            "contact": a.contact_name,
            "phone": a.phone,
            "call": a.call_dont_email,
        }
        for a in accounts[:KEY_ACCOUNTS_SHOWN]
    ]
    return Notices(
        scripts=scripts,
        call_script=call_script,
        routes=rendering.alternate_routes(found),
        key_accounts=shown,
        more_accounts=max(0, accounts.count() - KEY_ACCOUNTS_SHOWN),
    )


# ------------------------------------------------------------------ the backup key box


def _vault_section() -> dict[str, Any] | None:
    if not has_backup_instructions():
        return None
    recipients: list[str] = []
    try:
        models = importlib.import_module(f"{VAULT}.models")
        recipients = [str(r) for r in models.Recipient.objects.all()[:10]]
    except Exception:  # the instructions matter more than the list of keys
        log.exception("Reading the vault's recipients failed")
    html = render_to_string(VAULT_TEMPLATE)
    return {"html": mark_safe(html), "recipients": recipients}  # noqa: S308 (our template)


# ------------------------------------------------------------------ rendering


@dataclass
class Entry:
    title: str
    anchor: str = ""
    page: int = 0
    level: int = 1


def _css(name: str) -> str:
    return render_to_string(name)


def _footer_css(first_page: int, code: str) -> str:
    """For a desk part: the binder's page numbers and code in place of the desk's own."""
    return (
        "@page { @bottom-left { width: 60%; } "
        f'@bottom-right {{ width: 40%; content: "Grab binder {code} · page " counter(page); }} }}\n'
        f"@page :first {{ counter-reset: page {first_page}; }}\n"
        "h1 { bookmark-level: 1; }\n"
        "h2, h3 { bookmark-level: none; }\n"
    )


def _inline(text: str) -> SafeString:
    return mark_safe(text.replace("</", "<\\/"))  # noqa: S308


@dataclass
class Made:
    pdf: bytes
    inputs: Inputs
    pages: int


def _blank_form_html(org: Organisation, kind: str) -> str:
    # Printed in advance: the form says how to number it by hand, not this period's number.
    context = desk_printing.blank_form_context(org, kind)
    context["period"] = None
    context["example"] = desk_printing.paper_number_example(context["desk"], kind, None)
    template = (
        desk_printing.WORK_LOG_TEMPLATE
        if kind == desk_printing.WORK_LOG
        else desk_printing.BLANK_FORM_TEMPLATE
    )
    return render_to_string(template, {**context, "screen": False, "lang": org.locale or "en-GB"})


def render(plan: Plan, *, price_rows: int | None = PRICE_ROWS, now: datetime | None = None) -> Made:
    """Make the binder now (see cached() to reuse one already made)."""
    org = plan.org
    version = _latest_version(plan)
    if version is None:
        raise BinderError("The plan has no version yet: start the plan first.")
    made_from = inputs(plan)
    now = now or timezone.now()
    desk = mode.settings_for(org)
    desk_css = [desk_printing.base_css(), desk.document_css]
    notices = notice_scripts(org)
    vault = _vault_section()
    head = desk_printing.letterhead(org, desk)
    context: dict[str, Any] = {
        "p": printing.printed(version),
        "org": org,
        "code": made_from.code,
        "made": desk_printing.format_moment(now, org),
        "letterhead": head,
        "notices": notices,
        "vault": vault,
        "lang": org.locale or "en-GB",
        "css": _inline(_css(PLAN_CSS_TEMPLATE) + "\n" + _css(CSS_TEMPLATE)),
        "price_rows": price_rows,
        "version": __version__,
    }
    own_entries = [
        Entry("Roles and the contact tree", "roles"),
        Entry("Scenarios and procedures", "scenarios"),
        Entry("What matters", "activities"),
        Entry("Risks", "risks"),
    ]
    if notices is not None:
        own_entries.append(Entry("Notice scripts", "notices"))
    if vault is not None:
        own_entries.append(Entry("Opening a backup by hand", "backups"))
    desk_parts: list[tuple[Entry, str]] = [
        (Entry("Price list"), price_list.price_list_html(org, price_rows))
    ]
    for kind, label in desk_printing.BLANK_FORMS.items():
        entry = Entry(f"Blank form: {label.lower()}", level=2)
        desk_parts.append((entry, _blank_form_html(org, kind)))
    forms_entry = Entry("Blank paper forms")

    def contents(numbers: bool) -> list[Entry]:
        listed = [*own_entries, desk_parts[0][0], forms_entry, *(e for e, _ in desk_parts[1:])]
        if not numbers:
            return [Entry(e.title, e.anchor, 0, e.level) for e in listed]
        return listed

    with desk_printing.laying_out() as layout:

        def lay_out_own(entries: list[Entry]) -> Any:
            html = render_to_string(TEMPLATE, {**context, "contents": entries})
            return layout(html, [])  # the binder's own look is inline in its page

        main = lay_out_own(contents(numbers=False))
        laid: list[Any] = []
        laid_from = 0
        for _ in range(3):
            anchors: dict[str, int] = {}
            for number, page in enumerate(main.pages, start=1):
                for name in page.anchors:  # a part over several pages: its first
                    anchors.setdefault(name, number)
            for entry in own_entries:
                entry.page = anchors.get(entry.anchor, 0)
            first = len(main.pages) + 1
            if first != laid_from:  # the desk's parts start after the binder's own pages
                laid, laid_from = [], first
                for entry, html in desk_parts:
                    entry.page = first
                    doc = layout(html, [*desk_css, _footer_css(first, made_from.code)])
                    laid.append(doc)
                    first += len(doc.pages)
                forms_entry.page = desk_parts[1][0].page
            again = lay_out_own(contents(numbers=True))
            settled = len(again.pages) == len(main.pages)
            main = again
            if settled:
                break
        pages = [*main.pages, *(page for doc in laid for page in doc.pages)]
        pdf = bytes(main.copy(pages).write_pdf())
    return Made(pdf, made_from, len(pages))


# ------------------------------------------------------------------ the cache


def cache_folder(org: Organisation) -> Path:
    return Path(settings.FALLBACK_HOME) / CACHE_FOLDER / str(org.pk)


def _cache_path(org: Organisation, fingerprint: str) -> Path:
    return cache_folder(org) / f"{fingerprint}.pdf"


def cached(plan: Plan) -> tuple[bytes, Inputs]:
    """The binder as Fallback would make it now: from the data folder when it was made from
    the same inputs, else made now (and kept, older ones dropped)."""
    current = inputs(plan)
    path = _cache_path(plan.org, current.fingerprint)
    try:
        return path.read_bytes(), current
    except FileNotFoundError:
        pass
    made = render(plan)
    store(plan.org, made)
    return made.pdf, made.inputs


def store(org: Organisation, made: Made) -> None:
    folder = cache_folder(org)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written aside and renamed: a reader never sees half a PDF.
        fd, name = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(made.pdf)
        target = _cache_path(org, made.inputs.fingerprint)
        os.replace(name, target)
        for old in folder.glob("*.pdf"):
            if old != target:
                old.unlink(missing_ok=True)
    except OSError:
        log.exception("Keeping the binder in %s failed", folder)  # only a cache


def is_cached(plan: Plan) -> bool:
    return _cache_path(plan.org, inputs(plan).fingerprint).exists()


# ------------------------------------------------------------------ copies


def record_copy(
    plan: Plan, made: Inputs, kind: str, by: User | None, now: datetime | None = None
) -> BinderCopy:
    """A binder left Fallback (downloaded) or was printed: who, when, and what was in it."""
    if kind not in CopyKind.values:
        raise ValueError(f"unknown copy kind {kind!r}")
    actor = current_actor()
    person = by if by is not None and getattr(by, "is_authenticated", False) else None
    copy = BinderCopy.objects.create(
        org_id=plan.org_id,
        kind=kind,
        at=now or timezone.now(),
        by=person,
        by_label=str(person.email) if person else actor.label,
        via=actor.via,
        fingerprint=made.fingerprint,
        parts=made.parts,
        plan_version=made.plan_version,
    )
    audit(
        plan.org,
        f"plans.binder.{kind}",
        copy,
        {"code": [None, made.code], "plan_version": [None, made.plan_version]},
    )
    return copy


def filename(org: Organisation, made: Inputs) -> str:
    return f"{org.slug}-grab-binder-{made.code.lower()}.pdf"
