from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fallback import __version__
from fallback.cli import bootstrap

app = typer.Typer(
    name="fallback",
    help="Fallback keeps a small business working when its cloud systems go down.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fallback {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Data folder (default: $FALLBACK_HOME or a per-user folder).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    bootstrap.use_home(home)


# Each module adds its commands to `app`.
from fallback.cli import (  # noqa: E402,F401
    comms,
    config_commands,
    desk,
    doctor,
    plans,
    processes,
    replica,
    setup,
    simulator,
    vault,
)


def main() -> None:
    app()
