"""The Backups page (/vault/) for installation administrators, and the dashboard card.

The vault belongs to the installation, so its page is not under an organisation: only a
superuser sees it; anyone else gets a 404, as if it did not exist. Every organisation's
dashboard shows a read-only card of how ready the backups are (no paths, no keys).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fallback.accounts.access import org_view
from fallback.audit.trail import record
from fallback.front.http import OrgRequest, UserRequest
from fallback.vault import editing, keys
from fallback.vault.destinations import open_store
from fallback.vault.editing import ConfigProblem
from fallback.vault.forms import (
    DestinationForm,
    FileSetForm,
    RecipientForm,
    SettingsForm,
    attach,
)
from fallback.vault.models import (
    CopyStatus,
    Destination,
    FileSet,
    Recipient,
    Snapshot,
    SnapshotStatus,
    VaultSettings,
)
from fallback.vault.snapshots import not_ready
from fallback.vault.status import readiness
from fallback.vault.tasks import snapshot_task, verify_task

COPIES_SHOWN = 30


def superuser_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Installation administrators only; anyone else is told there is no such page."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_superuser", False):
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return wrapped


def _page(request: UserRequest, **extra: Any) -> HttpResponse:
    config = VaultSettings.load()
    destinations = []
    for destination in Destination.objects.order_by("name"):
        copies = list(
            destination.copies.exclude(status=CopyStatus.PRUNED)
            .select_related("snapshot")
            .order_by("-snapshot__taken_at")[:COPIES_SHOWN]
        )
        destinations.append({"destination": destination, "copies": copies})
    context = {
        "ready": readiness(),
        "config": config,
        "not_ready": not_ready(),
        "destinations": destinations,
        "recipients": list(Recipient.objects.all()),
        "kept_key": Recipient.objects.exclude(sealed_identity="").exists(),
        "file_sets": list(FileSet.objects.all()),
        "running": Snapshot.objects.filter(status=SnapshotStatus.RUNNING).first(),
        "settings_form": SettingsForm(instance=config),
        "recipient_form": RecipientForm(),
        "request_key": secrets.token_urlsafe(12),
        **extra,
    }
    return render(request, "vault/index.html", context)


@superuser_view
@require_GET
def index(request: UserRequest) -> HttpResponse:
    return _page(request)


@superuser_view
@require_POST
def snapshot_now(request: UserRequest) -> HttpResponse:
    problem = not_ready()
    if problem:
        messages.error(request, problem)
        return redirect("vault:index")
    key = str(request.POST.get("request_key", ""))[:80] or secrets.token_urlsafe(12)
    snapshot_task.enqueue("manual", f"web:{key}")
    record(None, "vault.snapshot.requested", None, {"request_key": [None, key]})
    messages.success(
        request, "A snapshot is being taken; it appears below when it is written (reload)."
    )
    return redirect("vault:index")


@superuser_view
@require_POST
def verify_now(request: UserRequest) -> HttpResponse:
    verify_task.enqueue("manual")
    messages.success(request, "The newest snapshot on each destination is being restore-tested.")
    return redirect("vault:index")


@superuser_view
@require_POST
def settings_view(request: UserRequest) -> HttpResponse:
    form = SettingsForm(request.POST, instance=VaultSettings.load())
    if form.is_valid():
        try:
            editing.save_settings(**{f: form.cleaned_data[f] for f in SettingsForm.Meta.fields})
        except ConfigProblem as exc:
            attach(form, exc)
        else:
            messages.success(request, "Schedule and retention saved.")
            return redirect("vault:index")
    return _page(request, settings_form=form)


@superuser_view
@require_POST
def recipient_add(request: UserRequest) -> HttpResponse:
    form = RecipientForm(request.POST)
    if form.is_valid():
        try:
            keys.add_recipient(form.cleaned_data["public_key"], form.cleaned_data["label"])
        except keys.KeyProblem as exc:
            form.add_error("public_key", str(exc))
        else:
            messages.success(request, "New snapshots are encrypted to that key too.")
            return redirect("vault:index")
    return _page(request, recipient_form=form)


def _recipient(pk: int) -> Recipient:
    found = Recipient.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("No such key")
    return found


@superuser_view
@require_POST
def recipient_remove(request: UserRequest, pk: int) -> HttpResponse:
    try:
        keys.remove_recipient(_recipient(pk))
    except keys.KeyProblem as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Key removed: new snapshots are no longer encrypted to it.")
    return redirect("vault:index")


@superuser_view
@require_POST
def recipient_forget(request: UserRequest, pk: int) -> HttpResponse:
    keys.forget_kept(_recipient(pk))
    messages.success(
        request, "The private key is no longer kept on this box: restore tests check integrity."
    )
    return redirect("vault:index")


def _destination(name: str) -> Destination:
    found = Destination.objects.filter(name=name).first()
    if found is None:
        raise Http404("No such destination")
    return found


@superuser_view
@require_http_methods(["GET", "POST"])
def destination_form(request: UserRequest, name: str | None = None) -> HttpResponse:
    existing = _destination(name) if name else None
    if request.method == "POST":
        form = DestinationForm(request.POST, instance=existing)
        if form.is_valid():
            fields = {f: form.cleaned_data[f] for f in editing.DESTINATION_FIELDS}
            try:
                saved = editing.save_destination(existing, **fields)
            except ConfigProblem as exc:
                attach(form, exc)
            else:
                problems = open_store(saved).problems()
                for problem in problems:
                    messages.warning(request, f"{saved.name}: {problem}")
                if not problems:
                    messages.success(request, f"Destination {saved.name} saved and ready.")
                return redirect("vault:index")
    else:
        form = DestinationForm(instance=existing, initial={} if existing else {"kind": "local"})
    return render(request, "vault/destination_form.html", {"form": form, "destination": existing})


@superuser_view
@require_POST
def destination_remove(request: UserRequest, name: str) -> HttpResponse:
    editing.remove_destination(_destination(name))
    messages.success(request, f"Destination {name} removed; its snapshots stay where they are.")
    return redirect("vault:index")


@superuser_view
@require_POST
def destination_check(request: UserRequest, name: str) -> HttpResponse:
    destination = _destination(name)
    problems = open_store(destination).problems()
    for problem in problems:
        messages.warning(request, f"{destination.name}: {problem}")
    if not problems:
        messages.success(request, f"{destination.name} is ready.")
    return redirect("vault:index")


def _file_set(name: str) -> FileSet:
    found = FileSet.objects.filter(name=name).first()
    if found is None:
        raise Http404("No such file set")
    return found


@superuser_view
@require_http_methods(["GET", "POST"])
def file_set_form(request: UserRequest, name: str | None = None) -> HttpResponse:
    existing = _file_set(name) if name else None
    if request.method == "POST":
        form = FileSetForm(request.POST)
        if form.is_valid():
            try:
                editing.save_file_set(existing, **form.values())
            except ConfigProblem as exc:
                attach(form, exc)
            else:
                messages.success(request, "File set saved: it is in the next snapshot.")
                return redirect("vault:index")
    else:
        form = FileSetForm.of(existing) if existing else FileSetForm()
    return render(request, "vault/file_set_form.html", {"form": form, "file_set": existing})


@superuser_view
@require_POST
def file_set_remove(request: UserRequest, name: str) -> HttpResponse:
    editing.remove_file_set(_file_set(name))
    messages.success(request, f"File set {name} removed from new snapshots.")
    return redirect("vault:index")


@org_view()
@require_GET
def card(request: OrgRequest) -> HttpResponse:
    """The dashboard card's body: the installation's backups, read-only, no secrets."""
    return render(request, "vault/_card_body.html", {"ready": readiness()})
