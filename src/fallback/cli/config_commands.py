"""`fallback apply` and `fallback export`: organisations as YAML files (docs/CONFIG.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from fallback.cli import bootstrap
from fallback.cli.app import app

if TYPE_CHECKING:
    from fallback.configfile.apply import ApplyResult
    from fallback.configfile.errors import ConfigError

# Bad input, as for a usage error: the file (or an option) needs fixing.
BAD_INPUT = 2
STDIN = "-"
_MARKS = {"create": "[green]+[/]", "update": "[yellow]~[/]", "remove": "[red]-[/]"}


@app.command("apply")
def apply_command(
    file: Annotated[
        str, typer.Argument(help="The YAML file, or - for standard input.", show_default=False)
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change, and change nothing.")
    ] = False,
) -> None:
    """Create or update organisations from a YAML file (members, systems, alert channels…).

    All or nothing: any problem is reported as FILE:LINE and nothing is changed.
    """
    bootstrap.setup_django()
    from fallback.audit.context import acting_as
    from fallback.audit.models import Via
    from fallback.configfile.apply import apply_documents
    from fallback.configfile.errors import ConfigInvalid
    from fallback.configfile.loader import load_config

    name, text = _read(file)
    try:
        documents = load_config(text, name)
        with acting_as(None, Via.CLI):
            result = apply_documents(documents, dry_run=dry_run)
    except ConfigInvalid as exc:
        _fail(name, exc.errors)
    _summary(name, result)


@app.command("export")
def export_command(
    org: Annotated[
        list[str] | None,
        typer.Option("--org", help="Only this organisation (its slug); repeat for more."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
) -> None:
    """Write organisations (members, systems, alert channels…) as `fallback apply` reads them."""
    bootstrap.setup_django()
    from fallback.accounts.models import Organisation
    from fallback.configfile.export import export_config

    organisations = list(Organisation.objects.all())
    if org:
        wanted = set(org)
        organisations = [o for o in organisations if o.slug in wanted]
        missing = sorted(wanted - {o.slug for o in organisations})
        if missing:
            for slug in missing:
                typer.echo(f"No organisation has the slug {slug!r}.", err=True)
            raise typer.Exit(BAD_INPUT)
    if not organisations:
        typer.echo("There are no organisations to export.", err=True)
        return
    text = export_config(organisations)
    if output is None:
        typer.echo(text, nl=False)
        return
    _write(output, text)
    count = len(organisations)
    bootstrap.err_console.print(
        f"Wrote {count} organisation{'s' if count != 1 else ''} to {escape(str(output))}."
    )


def _read(file: str) -> tuple[str, str]:
    """The name to show in messages, and the text; exits on unreadable input."""
    if file == STDIN:
        return "<stdin>", sys.stdin.read()
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        typer.echo(f"{file}: cannot read it: {exc.strerror or exc}", err=True)
        raise typer.Exit(BAD_INPUT) from exc
    try:
        return file, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        typer.echo(f"{file}:{line}: the file is not UTF-8 text", err=True)
        raise typer.Exit(BAD_INPUT) from exc


def _write(path: Path, text: str) -> None:
    # Via a temporary file, so an interrupted export never leaves half a config behind.
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        typer.echo(f"{path}: cannot write it: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from exc


def _fail(name: str, errors: list[ConfigError]) -> NoReturn:
    # Plain lines, never wrapped: editors and CI jump to FILE:LINE.
    for error in errors:
        typer.echo(str(error), err=True)
    count = len(errors)
    typer.echo(
        f"{name}: {count} problem{'s' if count != 1 else ''}; nothing was changed.", err=True
    )
    raise typer.Exit(BAD_INPUT)


def _summary(name: str, result: ApplyResult) -> None:
    console = bootstrap.console
    if not result.changes:
        console.print(f"No changes: the database already matches {escape(name)}.")
    else:
        width = max(len(c.org) for c in result.changes)
        for change in result.changes:
            console.print(
                f"{escape(change.org.ljust(width))}  {_MARKS[change.kind]} {escape(change.text)}",
                soft_wrap=True,
            )
        count, orgs = len(result.changes), len(result.organisations)
        what = (
            f"{count} change{'s' if count != 1 else ''} to "
            f"{orgs} organisation{'s' if orgs != 1 else ''}"
        )
        if result.dry_run:
            console.print(f"Dry run: {what} would be made; nothing was changed.")
        else:
            console.print(f"Applied {what}.")
    for notice in result.notices:
        console.print(f"[yellow]![/] {escape(notice)}", soft_wrap=True)
