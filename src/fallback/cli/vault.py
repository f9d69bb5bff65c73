"""`fallback vault …`: encrypted, immutable, verified off-site backups of the installation.

keygen | snapshot | list | verify | restore | prune | status | check-destination,
and the set-up: destination add|remove, recipient add|remove, fileset add|remove, schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Column, Table

from fallback.cli import bootstrap
from fallback.cli.app import app

if TYPE_CHECKING:
    from fallback.vault.models import Destination

FAILED = 1
BAD_INPUT = 2

vault = typer.Typer(
    help="Backups: encrypted snapshots of the whole installation, kept off-site and tested.",
    no_args_is_help=True,
)
app.add_typer(vault, name="vault")
destination_app = typer.Typer(help="Where snapshots go.", no_args_is_help=True)
recipient_app = typer.Typer(
    help="The public keys snapshots are encrypted to.", no_args_is_help=True
)
fileset_app = typer.Typer(help="Files kept with every snapshot.", no_args_is_help=True)
vault.add_typer(destination_app, name="destination")
vault.add_typer(recipient_app, name="recipient")
vault.add_typer(fileset_app, name="fileset")


def _fail(message: str, code: int = BAD_INPUT) -> typer.Exit:
    bootstrap.err_console.print(f"[red]{escape(message)}[/]", soft_wrap=True)
    return typer.Exit(code)


class _Bars:
    """The vault's progress reports as rich progress bars, one per phase, in bytes."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, label: str, total: int) -> None:
        if self.task is not None:  # the phase before is over: show it full
            done = self.progress.tasks[-1]
            self.progress.update(self.task, total=done.completed, completed=done.completed)
        self.task = self.progress.add_task(label, total=total or None)

    def advance(self, done: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, done)


@contextmanager
def _bars() -> Iterator[_Bars]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=bootstrap.console,
    ) as progress:
        yield _Bars(progress)


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _age(at: datetime | None) -> str:
    if at is None:
        return "—"
    from django.utils import timezone

    seconds = (timezone.now() - at).total_seconds()
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _local(at: datetime | None) -> str:
    if at is None:
        return "—"
    from django.utils import timezone

    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


@contextmanager
def _as_cli() -> Iterator[None]:
    from fallback.audit.context import acting_as
    from fallback.audit.models import Via

    with acting_as(None, Via.CLI):
        yield


def _destination(name: str) -> Destination:
    from fallback.vault.models import Destination

    found = Destination.objects.filter(name=name).first()
    if found is None:
        known = ", ".join(Destination.objects.values_list("name", flat=True))
        raise _fail(f"No destination {name}." + (f" There are: {known}." if known else ""))
    return found


def _identities(identity: Path | None) -> list[Any] | None:
    from fallback.vault import keys

    if identity is None:
        return None
    try:
        return keys.identities_from_file(identity.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(f"{identity}: {exc.strerror or exc}") from exc
    except keys.KeyProblem as exc:
        raise _fail(f"{identity}: {exc}") from exc


# ------------------------------------------------------------------------ keys


@vault.command("keygen")
def keygen_command(
    label: Annotated[
        str, typer.Option("--label", help="What this key is, e.g. 'Binder copy, office safe'.")
    ] = "Binder key",
    keep_on_box: Annotated[
        bool,
        typer.Option(
            "--keep-on-box",
            help="Also store the private key here, sealed, so automatic restore tests can "
            "decrypt (FULL). A thief of the box could then read the off-site copies.",
        ),
    ] = False,
) -> None:
    """Make a new age key pair: snapshots are encrypted to its public key from now on; its
    private key is shown ONCE, to print into the binder."""
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault import keys

    migrate()
    with _as_cli():
        try:
            made = keys.generate(label, keep_on_box=keep_on_box)
        except keys.KeyProblem as exc:
            raise _fail(str(exc)) from exc
    stored = (
        "It is ALSO stored on this box, sealed, so automatic restore tests can decrypt."
        if keep_on_box
        else "Fallback has NOT stored it: this is the only time it is shown."
    )
    bootstrap.console.print(
        Panel(
            f"[bold]{made.secret}[/]",
            title="Private key — write it down now",
            subtitle=f"public key {made.recipient.public_key}",
        ),
        soft_wrap=True,
    )
    bootstrap.console.print(
        f"{stored}\n"
        "Without it no snapshot can be opened. Now:\n"
        "  1. Print it (or write it clearly) into the binder, and put a second copy in a safe\n"
        "     or with someone you trust — somewhere away from this box and the backups.\n"
        "  2. Do not email it, and do not keep it on the backup disk or in the bucket.\n"
        "  3. To open a snapshot by hand: save it to key.txt, then\n"
        "     age -d -i key.txt SNAPSHOT.tar.zst.age | zstd -d | tar -xvf -\n"
        f"Snapshots are encrypted to [bold]{escape(made.recipient.label)}[/] "
        f"({made.recipient.public_key}) from now on.",
        soft_wrap=True,
        highlight=False,
    )


@recipient_app.command("add")
def recipient_add(
    public_key: Annotated[str, typer.Argument(help="An age public key (age1…).")],
    label: Annotated[str, typer.Option("--label", help="Whose key it is.")],
) -> None:
    """Encrypt snapshots to another public key as well (a key kept by your IT provider)."""
    bootstrap.setup_django()
    from fallback.vault import keys

    with _as_cli():
        try:
            added = keys.add_recipient(public_key, label)
        except keys.KeyProblem as exc:
            raise _fail(str(exc)) from exc
    bootstrap.console.print(f"Snapshots are now also encrypted to {escape(str(added))}.")


@recipient_app.command("remove")
def recipient_remove(
    key_or_label: Annotated[str, typer.Argument(help="The public key, or its label.")],
) -> None:
    """Stop encrypting new snapshots to a key (old snapshots still open with it)."""
    bootstrap.setup_django()
    from django.db.models import Q

    from fallback.vault import keys
    from fallback.vault.models import Recipient

    found = list(Recipient.objects.filter(Q(public_key=key_or_label) | Q(label=key_or_label)))
    if len(found) != 1:
        raise _fail(
            f"No key {key_or_label}."
            if not found
            else f"Several keys are labelled {key_or_label}: give the public key."
        )
    with _as_cli():
        try:
            keys.remove_recipient(found[0])
        except keys.KeyProblem as exc:
            raise _fail(str(exc)) from exc
    bootstrap.console.print(f"Removed {escape(str(found[0]))}.")


# ------------------------------------------------------------------ set-up


def _problem_exit(exc: Exception) -> typer.Exit:
    from fallback.vault.editing import ConfigProblem

    if isinstance(exc, ConfigProblem):
        lines = [
            f"{'--' + field.replace('_', '-') if field != '__all__' else 'Settings'}: "
            + " ".join(messages)
            for field, messages in exc.errors.items()
        ]
        return _fail("Nothing was changed.\n" + "\n".join(lines))
    return _fail(str(exc))


@destination_app.command("add")
def destination_add(
    name: Annotated[str, typer.Argument(help="A short name, e.g. usb or offsite.")],
    folder: Annotated[
        Path | None, typer.Option("--folder", help="A local folder (USB disk, NAS share).")
    ] = None,
    bucket: Annotated[
        str | None, typer.Option("--bucket", help="An S3 bucket made with Object Lock.")
    ] = None,
    prefix: Annotated[str, typer.Option(help="Folder inside the bucket.")] = "",
    endpoint_url: Annotated[
        str, typer.Option(help="For S3-compatible services (Backblaze, Wasabi, MinIO…).")
    ] = "",
    region: Annotated[str, typer.Option(help="The bucket's region.")] = "",
    access_key_env: Annotated[
        str, typer.Option(help="Name of the environment variable with the access key id.")
    ] = "",
    secret_key_env: Annotated[
        str, typer.Option(help="Name of the environment variable with the secret key.")
    ] = "",
    min_lock_days: Annotated[
        int, typer.Option(help="Lock each snapshot at least this many days (0: as kept).")
    ] = 0,
) -> None:
    """Add a destination: a folder (--folder) or an S3 bucket (--bucket)."""
    if (folder is None) == (bucket is None):
        raise _fail("Give either --folder PATH or --bucket NAME.")
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault import editing
    from fallback.vault.destinations import open_store
    from fallback.vault.models import Destination, Kind

    migrate()
    if Destination.objects.filter(name=name).exists():
        raise _fail(f"There is already a destination {name}.")
    fields: dict[str, Any] = {"name": name, "min_lock_days": min_lock_days}
    if folder is not None:
        fields.update(kind=Kind.LOCAL, path=str(folder.expanduser().absolute()))
    else:
        fields.update(
            kind=Kind.S3,
            bucket=bucket,
            prefix=prefix,
            endpoint_url=endpoint_url,
            region=region,
            access_key_env=access_key_env,
            secret_key_env=secret_key_env,
        )
    with _as_cli():
        try:
            added = editing.save_destination(None, **fields)
        except editing.ConfigProblem as exc:
            raise _problem_exit(exc) from exc
    bootstrap.console.print(f"Added destination {added.name}: {escape(added.location)}.")
    for problem in open_store(added).problems():
        bootstrap.err_console.print(f"[yellow]{escape(problem)}[/]", soft_wrap=True)


@destination_app.command("remove")
def destination_remove(
    name: Annotated[str, typer.Argument(help="The destination's name.")],
) -> None:
    """Forget a destination; the snapshots on it stay there, under their locks."""
    bootstrap.setup_django()
    from fallback.vault import editing

    target = _destination(name)
    with _as_cli():
        editing.remove_destination(target)
    bootstrap.console.print(f"Removed destination {name}; its snapshots stay where they are.")


@fileset_app.command("add")
def fileset_add(
    name: Annotated[str, typer.Argument(help="A short name, e.g. accounts or templates.")],
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to keep.")],
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="A glob to leave out (repeatable).")
    ] = None,
) -> None:
    """Keep files or folders with every snapshot (the accounting company file, templates)."""
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault import editing
    from fallback.vault.models import FileSet

    migrate()
    if FileSet.objects.filter(name=name).exists():
        raise _fail(f"There is already a file set {name}.")
    with _as_cli():
        try:
            added = editing.save_file_set(
                None,
                name=name,
                paths=[str(p.expanduser().absolute()) for p in paths],
                excludes=exclude or [],
            )
        except editing.ConfigProblem as exc:
            raise _problem_exit(exc) from exc
    bootstrap.console.print(f"Added file set {added.name}: {escape(', '.join(added.paths))}.")


@fileset_app.command("remove")
def fileset_remove(name: Annotated[str, typer.Argument(help="The file set's name.")]) -> None:
    """Stop keeping a file set in new snapshots."""
    bootstrap.setup_django()
    from fallback.vault import editing
    from fallback.vault.models import FileSet

    found = FileSet.objects.filter(name=name).first()
    if found is None:
        raise _fail(f"No file set {name}.")
    with _as_cli():
        editing.remove_file_set(found)
    bootstrap.console.print(f"Removed file set {name}.")


@vault.command("schedule")
def schedule_command(
    every_minutes: Annotated[
        int | None, typer.Option(help="Minutes between snapshots (0: by hand only).")
    ] = None,
    verify_every_hours: Annotated[
        int | None, typer.Option(help="Hours between restore tests (0: never).")
    ] = None,
    hourly: Annotated[int | None, typer.Option(help="Hourly snapshots to keep.")] = None,
    daily: Annotated[int | None, typer.Option(help="Daily snapshots to keep.")] = None,
    monthly: Annotated[int | None, typer.Option(help="Monthly snapshots to keep.")] = None,
    installation: Annotated[
        str | None, typer.Option(help="The name in this installation's snapshot names.")
    ] = None,
) -> None:
    """Show or change when snapshots are taken and tested, and how many are kept."""
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault import editing
    from fallback.vault.models import VaultSettings

    migrate()
    given = {
        "snapshot_every_minutes": every_minutes,
        "verify_every_hours": verify_every_hours,
        "hourly_keep": hourly,
        "daily_keep": daily,
        "monthly_keep": monthly,
        "installation": installation,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if changes:
        with _as_cli():
            try:
                editing.save_settings(**changes)
            except editing.ConfigProblem as exc:
                raise _problem_exit(exc) from exc
    s = VaultSettings.load()
    every = f"every {s.snapshot_every_minutes} minutes" if s.snapshot_every_minutes else "by hand"
    tests = f"every {s.verify_every_hours} hours" if s.verify_every_hours else "never"
    bootstrap.console.print(
        f"Installation: {s.installation}\n"
        f"Snapshots: {every} · restore tests: {tests}\n"
        f"Kept: the first of each of the last {s.hourly_keep} hours, {s.daily_keep} days "
        f"and {s.monthly_keep} months"
    )


# ------------------------------------------------------------------ work


@vault.command("snapshot")
def snapshot_command(
    prune: Annotated[
        bool, typer.Option("--prune/--no-prune", help="Then delete what is no longer kept.")
    ] = True,
) -> None:
    """Take a snapshot now and write it to every destination."""
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault import catalog, snapshots
    from fallback.vault.models import SnapshotStatus

    migrate()
    try:
        with _bars() as bars:
            done = snapshots.take("cli", reporter=bars)
    except (snapshots.VaultNotReady, snapshots.SnapshotRunning) as exc:
        raise _fail(str(exc)) from exc
    table = Table("Destination", "Outcome", "Size", "Locked until")
    for copy in done.copies.select_related("destination").order_by("destination__name"):
        outcome = copy.get_status_display() if not copy.error else f"[red]{escape(copy.error)}[/]"
        table.add_row(
            escape(copy.destination.name),
            outcome,
            _size(copy.size),
            _local(copy.retain_until) + (" (locked)" if copy.locked else ""),
        )
    bootstrap.console.print(table)
    for warning in done.warnings:
        bootstrap.err_console.print(f"[yellow]{escape(warning)}[/]", soft_wrap=True)
    if done.status != SnapshotStatus.DONE:
        raise _fail(f"Snapshot {done.name} failed: {done.error}", FAILED)
    bootstrap.console.print(
        f"Snapshot [bold]{done.name}[/]: {_size(done.data_size)} packed into "
        f"{_size(done.size)} ({done.members} files)."
    )
    if prune:
        report = catalog.prune()
        if report.deleted:
            bootstrap.console.print(f"Pruned {len(report.deleted)} snapshots no longer kept.")
        for problem in report.problems:
            bootstrap.err_console.print(f"[yellow]{escape(problem)}[/]", soft_wrap=True)


@vault.command("list")
def list_command(
    destination: Annotated[
        str | None, typer.Option("--destination", help="Only this destination.")
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option("--refresh/--no-refresh", help="Ask each destination what it holds first."),
    ] = True,
) -> None:
    """The snapshots on each destination: age, size, lock and last restore test."""
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault import catalog
    from fallback.vault.destinations import DestinationError, open_store
    from fallback.vault.models import CopyStatus, Destination

    migrate()
    chosen = [_destination(destination)] if destination else list(Destination.objects.all())
    if not chosen:
        raise _fail("No destinations yet: add one with `fallback vault destination add`.")
    for target in chosen:
        problems: list[str] = []
        if refresh and target.enabled:
            try:
                store = open_store(target)
                problems = store.problems()
                catalog.refresh(target, store)
            except DestinationError as exc:
                problems.append(str(exc))
        table = Table(
            Column("Snapshot", no_wrap=True),
            Column("Age", no_wrap=True),
            Column("Size", no_wrap=True, justify="right"),
            Column("Kept until", no_wrap=True),
            Column("Last restore test", min_width=12),
            title=f"{target.name} — {target.location}" + ("" if target.enabled else " (off)"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        copies = (
            target.copies.exclude(status=CopyStatus.PRUNED)
            .select_related("snapshot")
            .order_by("-snapshot__taken_at")
        )
        for copy in copies:
            s = copy.snapshot
            if copy.status == CopyStatus.FAILED:
                test = f"[red]not written: {escape(copy.error[:80])}[/]"
            elif copy.verified_at is None:
                test = "never"
            elif copy.verify_ok:
                level = copy.get_verify_level_display().lower()
                test = f"[green]ok[/] ({level}, {_age(copy.verified_at)})"
            else:
                test = f"[red]FAILED[/] {_age(copy.verified_at)}: {escape(copy.verify_error[:80])}"
            kept = copy.retain_until.strftime("%Y-%m-%d") if copy.retain_until else "—"
            table.add_row(
                s.name,
                _age(s.taken_at),
                _size(copy.size or s.size),
                kept + (" locked" if copy.locked else ""),
                test,
            )
        bootstrap.console.print(table)
        for problem in problems:
            bootstrap.err_console.print(f"[yellow]{escape(problem)}[/]", soft_wrap=True)


@vault.command("verify")
def verify_command(
    identity: Annotated[
        Path | None,
        typer.Option(
            "--identity", help="A file with the private key, for a FULL restore test.", exists=True
        ),
    ] = None,
    destination: Annotated[
        str | None, typer.Option("--destination", help="Only this destination.")
    ] = None,
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="This snapshot instead of the newest.")
    ] = None,
) -> None:
    """Restore-test the newest snapshot on each destination: FULL with a private key (kept
    on the box or given with --identity), else INTEGRITY (the file's SHA-256 and size)."""
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault import verify
    from fallback.vault.models import CopyStatus, SnapshotCopy

    migrate()
    identities = _identities(identity)
    if destination:
        _destination(destination)
    if snapshot:
        copies = SnapshotCopy.objects.filter(
            snapshot__name=snapshot, status=CopyStatus.STORED
        ).select_related("snapshot", "destination")
        if destination:
            copies = copies.filter(destination__name=destination)
        chosen = list(copies)
    else:
        chosen = verify.newest_copies(destination)
    if not chosen:
        raise _fail("No stored snapshot to test" + (f" named {snapshot}." if snapshot else "."))
    failed = 0
    with _bars() as bars:
        results = [verify.verify_copy(c, identities, "cli", bars) for c in chosen]
    for result in results:
        copy = result.copy
        level = result.get_level_display()
        if result.ok:
            counted = ", ".join(f"{t} {n:,}" for t, n in sorted(result.row_counts.items()))
            bootstrap.console.print(
                f"[green]OK[/] {copy.snapshot.name} on {escape(copy.destination.name)} "
                f"({level}, {result.seconds:.1f} s)" + (f": {counted}" if counted else ""),
                soft_wrap=True,
            )
        else:
            failed += 1
            bootstrap.err_console.print(f"[red]FAILED[/] {escape(result.error)}", soft_wrap=True)
    if any(r.level == "integrity" for r in results):
        bootstrap.console.print(
            "Integrity only: the files are intact, but without a private key Fallback cannot "
            "prove they decrypt. Run with --identity FILE (the key from the binder) for a "
            "full restore test."
        )
    if failed:
        raise typer.Exit(FAILED)


@vault.command("prune")
def prune_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
) -> None:
    """Delete the snapshots no retention tier keeps (never one still locked)."""
    bootstrap.setup_django()
    from fallback.vault import catalog

    report = catalog.prune(dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    for copy in report.deleted:
        bootstrap.console.print(f"{verb} {copy.snapshot.name} from {escape(copy.destination.name)}")
    for copy, until in report.locked:
        bootstrap.console.print(
            f"Kept {copy.snapshot.name} on {escape(copy.destination.name)}: locked until "
            f"{_local(until)}"
        )
    for problem in report.problems:
        bootstrap.err_console.print(f"[yellow]{escape(problem)}[/]", soft_wrap=True)
    if not report.deleted and not report.locked:
        bootstrap.console.print("Nothing to prune.")


@vault.command("check-destination")
def check_destination_command(
    name: Annotated[str | None, typer.Argument(help="One destination; all if left out.")] = None,
) -> None:
    """Is each destination ready: the folder there and writable, the bucket versioned with
    Object Lock, the credentials' variables set?"""
    bootstrap.setup_django()
    from fallback.vault.destinations import open_store
    from fallback.vault.models import Destination

    chosen = [_destination(name)] if name else list(Destination.objects.all())
    if not chosen:
        raise _fail("No destinations yet: add one with `fallback vault destination add`.")
    bad = 0
    for target in chosen:
        problems = open_store(target).problems()
        if problems:
            bad += 1
            bootstrap.console.print(f"[red]{escape(target.name)}[/] ({escape(target.location)}):")
            for problem in problems:
                bootstrap.console.print(f"  - {escape(problem)}", soft_wrap=True)
        else:
            bootstrap.console.print(
                f"[green]{escape(target.name)}[/]: ready ({escape(target.location)})"
            )
    if bad:
        raise typer.Exit(FAILED)


@vault.command("status")
def status_command() -> None:
    """How ready the backups are, and how they are set up."""
    bootstrap.setup_django()
    from fallback.runtime.processes import migrate
    from fallback.vault.models import Destination, FileSet, Recipient
    from fallback.vault.status import readiness

    migrate()
    ready = readiness()
    bootstrap.console.print(
        f"Last snapshot: {_local(ready.last_snapshot_at)} ({_age(ready.last_snapshot_at)})\n"
        f"Last restore test: {_local(ready.last_verified_at)} ({_age(ready.last_verified_at)})"
        + (
            f", {'ok' if ready.verified_ok else 'FAILED'} ({ready.level})"
            if ready.verified_ok is not None
            else ""
        )
    )
    for problem in ready.problems:
        bootstrap.console.print(f"[yellow]- {escape(problem)}[/]", soft_wrap=True)
    for r in Recipient.objects.all():
        kept = " (private key kept on this box)" if r.kept_on_box else ""
        bootstrap.console.print(f"Key: {escape(r.label)} {r.public_key}{kept}")
    for d in Destination.objects.all():
        bootstrap.console.print(
            f"Destination: {escape(d.name)} {escape(d.location)}" + ("" if d.enabled else " (off)")
        )
    for f in FileSet.objects.all():
        bootstrap.console.print(f"File set: {escape(f.name)} {escape(', '.join(f.paths))}")


# ------------------------------------------------------------------ restore


@vault.command("restore")
def restore_command(
    at: Annotated[
        str,
        typer.Option(
            "--at",
            help="Restore the newest snapshot at or before this time: 2026-11-20T14:30, "
            "2026-11-20 (the end of that day), or now. Without an offset, in the "
            "installation's time zone.",
        ),
    ],
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="An empty or new folder for the restored data folder (default: this data "
            "folder, only if it has no database yet).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="A destination's name, a folder, or s3://bucket/prefix (default: this "
            "installation's destinations).",
        ),
    ] = None,
    identity: Annotated[
        Path | None,
        typer.Option(
            "--identity", help="A file with the private key (from the binder).", exists=True
        ),
    ] = None,
    database_url: Annotated[
        str,
        typer.Option(help="For a PostgreSQL snapshot: an EMPTY database to pg_restore into."),
    ] = "",
    endpoint_url: Annotated[
        str, typer.Option(help="With --from s3://…: the service's address.")
    ] = "",
    region: Annotated[str, typer.Option(help="With --from s3://…: the bucket's region.")] = "",
    installation: Annotated[
        str, typer.Option(help="Only snapshots of this installation (several share a bucket).")
    ] = "",
) -> None:
    """Rebuild a data folder from a snapshot; then `fallback --home DIR serve` runs from it."""
    bootstrap.setup_django()
    from django.conf import settings

    from fallback.vault import keys, restore
    from fallback.vault.destinations import DestinationError

    try:
        when = restore.parse_time(at)
        identities = _identities(identity)
        if identities is None:
            identities = keys.kept_identities() if restore.has_database() else []
        if not identities:
            raise _fail(
                "Give the private key with --identity FILE (the AGE-SECRET-KEY-1… line from "
                "the binder, saved in a file)."
            )
        stores = (
            [restore.store_for(source, endpoint_url, region)] if source else restore.known_stores()
        )
        if not stores:
            raise _fail(
                "Say where the snapshots are with --from: a folder (the USB disk), or "
                "s3://bucket/prefix with --endpoint-url."
            )
        candidate = restore.choose(when, stores, installation)
        target = to if to is not None else Path(settings.FALLBACK_HOME)
        bootstrap.console.print(
            f"Restoring [bold]{candidate.name}[/] (taken {_local(candidate.taken_at)}, "
            f"{_age(candidate.taken_at)}) from {escape(candidate.store.label)} into "
            f"{escape(str(target))}",
            soft_wrap=True,
        )
        with _bars() as bars:
            done = restore.restore(
                candidate,
                target,
                identities,
                database_url=database_url,
                into_home=to is None,
                reporter=bars,
            )
    except (restore.RestoreProblem, DestinationError) as exc:
        raise _fail(str(exc), FAILED) from exc
    counted = ", ".join(f"{t} {n:,}" for t, n in sorted(done.row_counts.items()))
    bootstrap.console.print(
        f"[green]Restored[/] {done.files} files; every one matches the snapshot's manifest.\n"
        f"Database ({done.db_kind}): {counted}",
        soft_wrap=True,
    )
    for warning in done.warnings:
        bootstrap.err_console.print(f"[yellow]When taken: {escape(warning)}[/]", soft_wrap=True)
    home = escape(str(done.target))
    if done.pgdump is not None:
        bootstrap.console.print(
            f"The PostgreSQL dump is in {escape(str(done.pgdump))}: restore it into an empty "
            "database with `pg_restore --no-owner -d DATABASE` (or run again with "
            "--database-url), then serve with DATABASE_URL set.",
            soft_wrap=True,
        )
    elif done.db_kind == "postgresql":
        bootstrap.console.print(
            f"Next: [bold]DATABASE_URL={escape(database_url)} fallback --home {home} serve[/]",
            soft_wrap=True,
        )
    else:
        files = (
            f" The file sets are in {home}/restored-files/: copy them back where they belong."
            if (done.target / "restored-files").is_dir()
            else ""
        )
        bootstrap.console.print(
            f"Next: [bold]fallback --home {home} serve[/] (without DATABASE_URL).{files}",
            soft_wrap=True,
        )
