"""Pages of the replica: the connectors, one connector and its syncs, a held sync's decision,
and browsing the copied records, now or as they were. Thin: the rules are in
fallback.replica.editing and sync, the reading in history, the words in display."""

from __future__ import annotations

import fnmatch
import logging
import mimetypes
import os
import re
import secrets
import tempfile
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousFileOperation
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.accounts.roles import Capability
from fallback.accounts.scoping import get_for_org_or_404
from fallback.front.http import OrgRequest
from fallback.front.templatetags.fallback_ui import org_zone
from fallback.replica import display, editing, freshness, history, keeping, staging
from fallback.replica import sync as syncing
from fallback.replica.connectors import registry
from fallback.replica.connectors.base import ConnectorKind
from fallback.replica.forms import ConnectorForm, UploadForm
from fallback.replica.models import Connector, KeptFile, Record, Sync, SyncStatus
from fallback.replica.preview import preview
from fallback.replica.schema import ENTITIES, GENERIC, LINE_FIELDS

log = logging.getLogger("fallback.replica")

RECENT_SYNCS = 50
BROWSE_PAGE = 50
STAGED_SAMPLE = 10
SYNC_KEYS_KEPT = 50  # the page's "Sync now" keys a session remembers (double clicks)
FILE_KINDS = ("files", "kept_files")
ACCEPT = {"files": ".csv,.tsv,.txt,.xlsx,.xlsm"}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,40}$")


def _connector(request: OrgRequest, slug: str) -> Connector:
    return get_for_org_or_404(
        Connector.objects.select_related("org", "system"), request.org, slug=slug
    )


def _sync(connector: Connector, sync_id: int) -> Sync:
    sync = get_for_org_or_404(
        Sync.objects.select_related("connector", "decided_by"), connector.org, pk=sync_id
    )
    if sync.connector_id != connector.pk:
        raise Http404("No such sync here")
    return sync


def _kind_or_404(key: str) -> ConnectorKind[Any]:
    try:
        return registry.get(key)
    except registry.InvalidConnectorConfig:
        raise Http404("No such kind of connector") from None


def _can(request: OrgRequest, capability: Capability) -> bool:
    return request.membership.can(capability)


def _sync_token() -> str:
    """A fresh key for the page's "Sync now" forms: the same click sent twice is one sync."""
    return secrets.token_urlsafe(16)


# ------------------------------------------------------------------ connectors


def connector_rows(org_id: int, now: datetime) -> list[dict[str, Any]]:
    connectors = list(Connector.objects.filter(org_id=org_id).select_related("system"))
    held = dict(
        Sync.objects.filter(org_id=org_id, status=SyncStatus.HELD)
        .values("connector_id")
        .annotate(n=Count("pk"))
        .values_list("connector_id", "n")
    )
    running = set(
        Sync.objects.filter(org_id=org_id, status=SyncStatus.RUNNING).values_list(
            "connector_id", flat=True
        )
    )
    last: dict[int, Sync] = {}
    for c in connectors:
        found = (
            Sync.objects.filter(org_id=org_id, connector=c)
            .exclude(status=SyncStatus.RUNNING)
            .first()
        )
        if found is not None:
            last[c.pk] = found
    targets = freshness.stricter_targets(org_id, connectors)
    return [
        {
            "connector": c,
            "kind_label": display.kind_label(c),
            "fresh": freshness.of(c, now, targets),
            "last": last.get(c.pk),
            "held": held.get(c.pk, 0),
            "running": c.pk in running,
        }
        for c in connectors
    ]


@org_view()
@require_GET
def connector_list(request: OrgRequest) -> HttpResponse:
    now = timezone.now()
    rows = connector_rows(request.org.pk, now)
    held = list(
        Sync.objects.filter(org=request.org, status=SyncStatus.HELD)
        .select_related("connector")
        .order_by("started_at")
    )
    context = {
        "rows": rows,
        "held": held,
        "now": now,
        "zone": org_zone(request.org),
        "can_edit": _can(request, Capability.EDIT_SETUP),
        "can_sync": _can(request, Capability.WORK_DESK),
        "sync_token": _sync_token(),
    }
    return render(request, "replica/list.html", context)


@org_view()
@require_GET
def card(request: OrgRequest) -> HttpResponse:
    """The dashboard's replica card, loaded (and refreshed) by htmx: stale copies first."""
    now = timezone.now()
    rows = [r for r in connector_rows(request.org.pk, now) if r["connector"].enabled]
    rows.sort(
        key=lambda r: (
            not r["fresh"].stale,
            -(r["fresh"].age.total_seconds() if r["fresh"].age is not None else float("inf")),
            r["connector"].name.lower(),
        )
    )
    context = {
        "rows": rows,
        "now": now,
        "zone": org_zone(request.org),
        "stale_count": sum(1 for r in rows if r["fresh"].stale),
        "held_count": sum(r["held"] for r in rows),
    }
    return render(request, "replica/_card_body.html", context)


def _form_page(
    request: OrgRequest, kind: ConnectorKind[Any], connector: Connector | None
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = ConnectorForm(data, org=request.org, kind=kind, connector=connector)
    form.refresh_from(request.get_full_path())
    action = request.POST.get("action", "save") if data is not None else ""
    results: list[dict[str, Any]] | None = None
    problems: list[str] = []
    if action in ("preview", "refresh", "add_stream"):
        form.quiet()
        if action == "preview":
            problems = form.problem_sentences()
            if not problems:
                try:
                    results = [
                        display.preview_view(r, org_zone(request.org))
                        for r in preview(form.draft())
                    ]
                except editing.SetupInvalid as exc:
                    problems = form.add_setup_errors(exc.errors)
                except Exception as exc:  # a source can fail in ways no kind foresaw
                    log.warning("preview of %s failed", kind.key, exc_info=True)
                    problems = [f"The preview failed: {exc}"]
    elif action == "save" and form.is_valid():
        try:
            if connector is None:
                connector = editing.create_connector(
                    request.org, kind=kind.key, secrets=form.secrets(), **form.values()
                )
                messages.success(
                    request,
                    f"{connector.name} is added. It syncs within a minute, then every "
                    f"{connector.interval_minutes} minutes.",
                )
            else:
                changes = editing.update_connector(
                    connector, secrets=form.secrets(), **form.values()
                )
                messages.success(request, "Saved." if changes else "Nothing to change.")
        except editing.SetupInvalid as exc:
            form.add_setup_errors(exc.errors)
        else:
            return redirect("replica:connector", org_slug=request.org.slug, slug=connector.slug)
    context = {
        "form": form,
        "kind": kind,
        "connector": connector if connector is not None and connector.pk else None,
        "preview": results,
        "preview_problems": problems,
        "previewed": action == "preview",
        "zone": org_zone(request.org),
    }
    return render(request, "replica/connector_form.html", context)


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def connector_create(request: OrgRequest) -> HttpResponse:
    key = request.GET.get("kind") or request.POST.get("kind")
    if not key:
        choices = [
            {"key": k.key, "label": k.label, "help": k.description} for k in registry.all_kinds()
        ]
        return render(request, "replica/kind.html", {"choices": choices})
    return _form_page(request, _kind_or_404(key), None)


@org_view(Capability.EDIT_SETUP)
@require_http_methods(["GET", "POST"])
def connector_edit(request: OrgRequest, slug: str) -> HttpResponse:
    connector = _connector(request, slug)
    return _form_page(request, _kind_or_404(connector.kind), connector)


def _uploaded(connector: Connector) -> list[dict[str, Any]]:
    folder = syncing.uploads_folder(connector)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file()]
    files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [
        {
            "name": p.name,
            "size": p.stat().st_size,
            "modified": datetime.fromtimestamp(p.stat().st_mtime, tz=UTC),
        }
        for p in files
    ]


def _kept_files(connector: Connector) -> list[dict[str, Any]]:
    versions = list(
        KeptFile.objects.filter(org_id=connector.org_id, connector=connector)
        .defer("content")
        .order_by("path", "-valid_from", "-pk")
    )
    by_path: dict[str, list[KeptFile]] = {}
    for v in versions:
        by_path.setdefault(v.path, []).append(v)
    return [
        {"path": path, "current": vs[0] if vs[0].valid_to is None else None, "versions": vs}
        for path, vs in by_path.items()
    ]


@org_view()
@require_GET
def connector_detail(request: OrgRequest, slug: str) -> HttpResponse:
    connector = _connector(request, slug)
    now = timezone.now()
    syncs = list(Sync.objects.filter(org=request.org, connector=connector)[:RECENT_SYNCS])
    is_files = connector.kind in FILE_KINDS
    context = {
        "connector": connector,
        "kind_label": display.kind_label(connector),
        "settings": display.settings_summary(connector),
        "fresh": freshness.of(connector, now),
        "now": now,
        "zone": org_zone(request.org),
        "syncs": syncs,
        "held": [s for s in syncs if s.status == SyncStatus.HELD],
        "running": any(s.status == SyncStatus.RUNNING for s in syncs),
        "can_edit": _can(request, Capability.EDIT_SETUP),
        "can_sync": _can(request, Capability.WORK_DESK),
        "sync_token": _sync_token(),
        "is_files": is_files,
        "upload_form": UploadForm(accept=ACCEPT.get(connector.kind, "")) if is_files else None,
        "uploaded": _uploaded(connector) if is_files else [],
        "kept": _kept_files(connector) if connector.kind == "kept_files" else [],
        "record_count": history.current(request.org).filter(connector=connector).count(),
    }
    return render(request, "replica/connector.html", context)


@org_view(Capability.WORK_DESK)
@require_POST
def sync_now(request: OrgRequest, slug: str) -> HttpResponse:
    connector = _connector(request, slug)
    back = (
        redirect("replica:list", org_slug=request.org.slug)
        if request.POST.get("back") == "list"
        else redirect("replica:connector", org_slug=request.org.slug, slug=connector.slug)
    )
    if not connector.enabled:
        messages.error(request, f"{connector.name} is switched off: enable it to sync.")
        return back
    token = request.POST.get("request_key", "")
    if not _TOKEN.match(token):
        token = _sync_token()  # no key from the page: no protection against a repeat
    key = f"ui:{request.org.pk}:{connector.pk}:{token}"[:80]
    asked: list[str] = list(request.session.get("replica_sync_keys", []))
    if key in asked or Sync.objects.filter(org=request.org, request_key=key).exists():
        messages.info(request, f"A sync of {connector.name} was already asked for.")
        return back
    request.session["replica_sync_keys"] = [*asked, key][-SYNC_KEYS_KEPT:]
    from fallback.replica.tasks import sync_connector

    sync_connector.enqueue(connector.pk, "manual", None, key)
    done = Sync.objects.filter(org=request.org, request_key=key).first()
    if done is not None and done.status != SyncStatus.RUNNING:
        messages.success(request, f"{connector.name} synced: {done.get_status_display().lower()}.")
    else:
        messages.success(
            request,
            f"{connector.name} will sync in a moment. Reload this page to see how it went.",
        )
    return back


# ----------------------------------------------------------------- uploads


def safe_name(name: str) -> str:
    """An uploaded file's name, safe to put in a folder: no path, no leading dot."""
    base = Path(name.replace("\\", "/")).name
    try:
        clean = get_valid_filename(base).lstrip(".-") if base else ""
    except SuspiciousFileOperation:  # "." or ".."
        clean = ""
    stem, dot, ext = clean.rpartition(".")
    if dot and len(clean) > 120:
        clean = stem[: 119 - len(ext)] + "." + ext[:20]
    return clean[:120] or "upload"


def save_upload(connector: Connector, upload: Any) -> Path:
    """Write the upload into the connector's folder: a temporary file beside the folders
    (so a sync never sees half a file), then an atomic rename."""
    folder = syncing.uploads_folder(connector)
    folder.mkdir(parents=True, exist_ok=True)
    incoming = Path(settings.FALLBACK_HOME) / "uploads" / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(upload.name)
    fd, tmp = tempfile.mkstemp(dir=incoming, prefix="upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _patterns(connector: Connector) -> list[str]:
    config = connector.config if isinstance(connector.config, dict) else {}
    if connector.kind == "kept_files":
        return [str(p) for p in config.get("patterns") or ["*"]]
    return [str(s.get("pattern")) for s in config.get("streams") or [] if isinstance(s, dict)]


@org_view(Capability.WORK_DESK)
@require_POST
def upload(request: OrgRequest, slug: str) -> HttpResponse:
    connector = _connector(request, slug)
    if connector.kind not in FILE_KINDS:
        raise Http404("This connector does not read files")
    form = UploadForm(request.POST, request.FILES, accept=ACCEPT.get(connector.kind, ""))
    if not form.is_valid():
        for error in form.errors.get("file", []):
            messages.error(request, f"The file was not saved: {error}")
        return redirect("replica:connector", org_slug=request.org.slug, slug=connector.slug)
    target = save_upload(connector, form.cleaned_data["file"])
    patterns = _patterns(connector)
    if patterns and not any(fnmatch.fnmatch(target.name.lower(), p.lower()) for p in patterns):
        messages.warning(
            request,
            f"{target.name} is saved, but no list reads a file of that name "
            f"({', '.join(patterns)}): rename it, or change the connector's file names.",
        )
    else:
        messages.success(request, f"{target.name} is saved. Sync now to bring it into the replica.")
    return redirect("replica:connector", org_slug=request.org.slug, slug=connector.slug)


@org_view()
@require_GET
def kept_file(request: OrgRequest, slug: str, file_id: int) -> HttpResponse:
    connector = _connector(request, slug)
    kept = get_for_org_or_404(KeptFile.objects.all(), request.org, pk=file_id)
    if kept.connector_id != connector.pk:
        raise Http404("No such file here")
    name = safe_name(kept.path)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = HttpResponse(keeping.content_of(kept), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    return response


# ------------------------------------------------------------------- syncs


@org_view()
@require_GET
def sync_detail(request: OrgRequest, slug: str, sync_id: int) -> HttpResponse:
    connector = _connector(request, slug)
    sync = _sync(connector, sync_id)
    staged: list[dict[str, Any]] = []
    if sync.status == SyncStatus.HELD:
        for stream in staging.streams(sync):
            rows = [
                {"key": row[0], "name": row[1]}
                for row in islice(staging.read(sync, stream), STAGED_SAMPLE)
            ]
            staged.append({"stream": stream, "rows": rows})
    previous = (
        Sync.objects.filter(
            org=request.org,
            connector=connector,
            status=SyncStatus.APPLIED,
            started_at__lt=sync.started_at,
        )
        .order_by("-started_at", "-pk")
        .first()
    )
    streams = []
    for name, stats in (sync.streams or {}).items():
        before = (previous.streams or {}).get(name, {}) if previous else {}
        streams.append(
            {
                "name": name,
                "fetched": stats.get("fetched", 0),
                "before": before.get("fetched") if before else None,
                "missing_key": stats.get("missing_key", 0),
                "filled": sorted((stats.get("filled") or {}).items()),
            }
        )
    context = {
        "connector": connector,
        "sync": sync,
        "streams": streams,
        "previous": previous,
        "staged": staged,
        "zone": org_zone(request.org),
        "can_decide": _can(request, Capability.EDIT_SETUP),
    }
    return render(request, "replica/sync.html", context)


@org_view(Capability.EDIT_SETUP)
@require_POST
def sync_release(request: OrgRequest, slug: str, sync_id: int) -> HttpResponse:
    connector = _connector(request, slug)
    sync = _sync(connector, sync_id)
    try:
        done = syncing.release(sync, by=request.user)
    except syncing.SyncRefused as exc:
        messages.error(request, f"Not released: {exc}.")
    else:
        messages.success(
            request,
            f"Released: {done.created} new, {done.changed} changed, {done.retired} gone "
            "records applied to the replica.",
        )
    return redirect("replica:sync", org_slug=request.org.slug, slug=slug, sync_id=sync.pk)


@org_view(Capability.EDIT_SETUP)
@require_POST
def sync_discard(request: OrgRequest, slug: str, sync_id: int) -> HttpResponse:
    connector = _connector(request, slug)
    sync = _sync(connector, sync_id)
    try:
        syncing.discard(sync, by=request.user)
    except syncing.SyncRefused as exc:
        messages.error(request, f"Not discarded: {exc}.")
    else:
        messages.success(request, "Discarded: the replica keeps its last good copy.")
    return redirect("replica:sync", org_slug=request.org.slug, slug=slug, sync_id=sync.pk)


# ------------------------------------------------------------------ browse


AS_OF_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_as_of(text: str, zone: Any) -> datetime | None:
    """A datetime-local value, read as wall-clock time in the organisation's zone."""
    for fmt in AS_OF_FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone)
    raise ValueError(text)


@org_view()
@require_GET
def browse(request: OrgRequest) -> HttpResponse:
    zone = org_zone(request.org)
    entity_key = request.GET.get("entity") or "customer"
    if entity_key not in ENTITIES:
        entity_key = "customer"
    entity = ENTITIES[entity_key]
    q = request.GET.get("q", "").strip()[:200]
    as_of_text = request.GET.get("as_of", "").strip()
    as_of = None
    as_of_error = ""
    if as_of_text:
        try:
            as_of = parse_as_of(as_of_text, zone)
        except ValueError:
            as_of_error = "Write the date and time as YYYY-MM-DD HH:MM, e.g. 2025-03-01 09:30."
    base = history.as_of(request.org, as_of) if as_of else history.current(request.org)
    counts = dict(base.values("entity").annotate(n=Count("pk")).values_list("entity", "n"))
    records = base.filter(entity=entity_key).select_related("connector")
    if q:
        records = records.filter(Q(name__icontains=q) | Q(key=q))
    records = records.order_by("name", "pk")
    page = Paginator(records, BROWSE_PAGE).get_page(request.GET.get("page"))
    columns = display.browse_columns(entity)
    rows = [
        {"record": r, "cells": display.row_cells(entity, columns, r.data, zone)}
        for r in page.object_list
    ]
    several = Connector.objects.filter(org=request.org).count() > 1
    tabs = [
        {"key": e.key, "label": e.plural, "count": counts.get(e.key, 0)}
        for e in ENTITIES.values()
        if e.key != GENERIC or counts.get(GENERIC) or entity_key == GENERIC
    ]
    keep = {"q": q, "as_of": as_of_text if as_of else ""}
    context = {
        "entity": entity,
        "tabs": tabs,
        "q": q,
        "as_of": as_of,
        "as_of_text": as_of_text if as_of else "",
        "as_of_error": as_of_error,
        "as_of_input": as_of.strftime("%Y-%m-%dT%H:%M") if as_of else "",
        "columns": columns,
        "rows": rows,
        "page": page,
        "several_sources": several,
        "query": urlencode({k: v for k, v in keep.items() if v}),
        "keep": keep,
        "zone": zone,
    }
    return render(request, "replica/browse.html", context)


@org_view()
@require_GET
def record_detail(request: OrgRequest, record_id: int) -> HttpResponse:
    record = get_for_org_or_404(
        Record.objects.select_related("connector", "sync"), request.org, pk=record_id
    )
    zone = org_zone(request.org)
    fields = display.record_fields(record)
    entity = ENTITIES.get(record.entity) or ENTITIES[GENERIC]
    versions = list(history.versions(request.org, record.connector_id, record.stream, record.key))
    history_rows = []
    for i, version in enumerate(versions):
        older = versions[i + 1].data if i + 1 < len(versions) else None
        history_rows.append(
            {
                "version": version,
                "changes": display.changes(fields, older, version.data, zone),
                "first": older is None,
                "shown": version.pk == record.pk,
            }
        )
    current = next((v for v in versions if v.valid_to is None), None)
    context = {
        "record": record,
        "entity": entity,
        "values": [
            {
                "label": f.label,
                "text": display.value_text(f, record.data.get(f.name), zone),
                "numeric": f.type in display.NUMERIC,
            }
            for f in fields
            if f.type != "lines"
        ],
        "has_lines": any(f.type == "lines" for f in fields),
        "line_fields": LINE_FIELDS,
        "lines": display.line_rows(record.data.get("lines"), zone),
        "history": history_rows,
        "current": current,
        "zone": zone,
    }
    return render(request, "replica/record.html", context)
