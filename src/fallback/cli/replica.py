"""`fallback sync`: bring connectors' records into the replica now, with a progress bar."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fallback.cli import bootstrap
from fallback.cli.app import app

FAILED = 1


@app.command("sync")
def sync_command(
    connector: Annotated[
        str | None,
        typer.Argument(help="The connector's short name; all enabled ones if left out."),
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="The organisation's short name.")] = None,
    full: Annotated[
        bool | None,
        typer.Option("--full/--incremental", help="Force a full sweep, or changes only."),
    ] = None,
) -> None:
    """Sync connectors now (fetch, check with the guards, apply or hold)."""
    bootstrap.setup_django()
    from fallback.audit.context import acting_as
    from fallback.audit.models import Via
    from fallback.replica import sync as syncing
    from fallback.replica.models import Connector, SyncStatus

    connectors = (
        Connector.objects.filter(enabled=True).select_related("org").order_by("org__slug", "name")
    )
    if org:
        connectors = connectors.filter(org__slug=org)
    if connector:
        connectors = Connector.objects.filter(slug=connector).select_related("org")
        if org:
            connectors = connectors.filter(org__slug=org)
    chosen = list(connectors)
    if not chosen:
        bootstrap.err_console.print(
            f"No connector {escape(connector or '')} found" + (f" in {escape(org)}" if org else "")
            if connector
            else "No enabled connectors to sync."
        )
        raise typer.Exit(2)
    if connector and len({c.org_id for c in chosen}) > 1:
        orgs = ", ".join(sorted(c.org.slug for c in chosen))
        bootstrap.err_console.print(
            f"{escape(connector)} exists in several organisations ({orgs}): add --org."
        )
        raise typer.Exit(2)
    table = Table("Connector", "Outcome", "Fetched", "New", "Changed", "Retired")
    notes: list[str] = []
    failures = 0
    with (
        acting_as(None, Via.CLI),
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
            console=bootstrap.console,
            transient=True,
        ) as progress,
    ):
        for c in chosen:
            task = progress.add_task(f"{c.org.slug}/{c.slug}", total=None)
            try:
                done = syncing.run(
                    c,
                    trigger="cli",
                    full=full,
                    progress=lambda n, t=task: progress.update(t, completed=n),
                )
            except syncing.SyncRefused as exc:
                table.add_row(escape(c.name), "[yellow]Skipped[/]", "", "", "", "")
                notes.append(f"{escape(c.name)}: {escape(str(exc))}")
                continue
            finally:
                progress.remove_task(task)
            colours = {"applied": "green", "held": "yellow"}
            colour = colours.get(str(done.status), "red")
            if done.status != SyncStatus.APPLIED:
                failures += 1
                for reason in done.hold_reasons or [done.error]:
                    notes.append(f"{escape(c.name)}: {escape(reason)}")
            table.add_row(
                escape(c.name),
                f"[{colour}]{done.get_status_display()}[/]",
                f"{done.fetched:,}",
                f"{done.created:,}",
                f"{done.changed:,}",
                f"{done.retired:,}",
            )
    bootstrap.console.print(table)
    for note in notes:
        bootstrap.console.print(note, soft_wrap=True)
    if failures:
        raise typer.Exit(FAILED)
