"""`fallback doctor`: is this installation healthy? Each problem comes with its fix."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from fallback.cli import bootstrap
from fallback.cli.app import app


@app.command()
def doctor(
    strict: Annotated[bool, typer.Option(help="Exit non-zero on warnings too.")] = False,
    deep: Annotated[
        bool, typer.Option(help="Also send a task through the queue and wait for a worker.")
    ] = False,
) -> None:
    """Check the install: database, migrations, worker, disk, clock, data folder."""
    bootstrap.setup_django()
    from fallback.runtime.health import Status, run_checks

    results = run_checks(deep=deep)
    table = Table(title="Fallback doctor", show_lines=False)
    table.add_column("Check")
    table.add_column("Result")
    table.add_column("Details / fix")
    style = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}
    for r in results:
        detail = r.detail + (f"\n[bold]Fix:[/] {r.fix}" if r.fix else "")
        table.add_row(r.name, f"[{style[r.status]}]{r.status.value}[/]", detail)
    bootstrap.console.print(table)
    failed = [r for r in results if r.status == Status.FAIL]
    warned = [r for r in results if r.status == Status.WARN]
    if failed or (strict and warned):
        raise typer.Exit(1)
