"""`fallback serve` and `fallback worker`."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from fallback.cli import bootstrap
from fallback.cli.app import app


def _logging() -> None:
    logging.getLogger("fallback").setLevel(logging.INFO)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for the office LAN).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Web only: background work runs elsewhere.")
    ] = False,
) -> None:
    """Run the web UI, the background worker and the schedulers in one process."""
    bootstrap.setup_django()
    _logging()
    from fallback.runtime.processes import run_serve

    bootstrap.console.print(f"Fallback on [bold]http://{host}:{port}/[/] — Ctrl-C to stop")
    run_serve(host, port, with_background=not no_worker)


@app.command()
def worker() -> None:
    """Run background work only (add machines that share one PostgreSQL database)."""
    bootstrap.setup_django()
    _logging()
    from fallback.runtime.processes import run_worker

    bootstrap.console.print("Fallback worker running — Ctrl-C to stop")
    run_worker()
