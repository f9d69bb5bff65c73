"""`fallback desk …`: paper for the fallback desk, and its search index.

price-list ORG -o FILE.pdf|FILE.csv | blank-forms ORG -o FOLDER | reindex [ORG]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fallback.cli import bootstrap
from fallback.cli.app import app

if TYPE_CHECKING:
    from fallback.accounts.models import Organisation

BAD_INPUT = 2
PRICE_LIST_SUFFIXES = (".pdf", ".csv")

desk = typer.Typer(
    help="The fallback desk: print the price list and the blank forms, rebuild the search.",
    no_args_is_help=True,
)
app.add_typer(desk, name="desk")

OrgArgument = Annotated[
    str, typer.Argument(help="The organisation's short name (as in its web address).")
]


def _fail(message: str) -> typer.Exit:
    bootstrap.err_console.print(f"[red]{message}[/]", soft_wrap=True)
    return typer.Exit(BAD_INPUT)


def _organisation(slug: str) -> Organisation:
    from fallback.accounts.models import Organisation

    found = Organisation.objects.filter(slug=slug).first()
    if found is None:
        known = ", ".join(Organisation.objects.order_by("slug").values_list("slug", flat=True))
        raise _fail(
            f"No organisation {escape(slug)}."
            + (f" There are: {escape(known)}." if known else " There are none yet.")
        )
    return found


@desk.command("price-list")
def price_list_command(
    org: OrgArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The file to write: FILE.pdf or FILE.csv.", show_default=False
        ),
    ],
) -> None:
    """Write the price list from the replica, as a PDF to print or a CSV for a spreadsheet."""
    suffix = output.suffix.lower()
    if suffix not in PRICE_LIST_SUFFIXES:
        raise _fail(
            f"{escape(str(output))}: the price list is written as .pdf or .csv, "
            f"not {escape(suffix) or 'a file without an extension'}."
        )
    if not output.parent.is_dir():
        raise _fail(
            f"{escape(str(output))}: the folder {escape(str(output.parent))} does not exist."
        )
    bootstrap.setup_django()
    from fallback.desk import price_list, printing

    organisation = _organisation(org)
    with bootstrap.console.status(f"Writing the price list of {escape(organisation.name)}…"):
        if suffix == ".csv":
            content = price_list.price_list_csv(organisation)
        else:
            content = price_list.price_list_pdf(organisation)
        fresh = printing.format_moment(price_list.as_of(organisation), organisation)
    output.write_bytes(content)
    bootstrap.console.print(
        f"Wrote {escape(str(output))} ({len(content):,} bytes); "
        + (f"prices as of {escape(fresh)}." if fresh else "the replica holds no products yet.")
    )


@desk.command("blank-forms")
def blank_forms_command(
    org: OrgArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The folder to write the PDFs into (made if missing).",
            show_default=False,
        ),
    ],
) -> None:
    """Write every blank paper form (each document kind and the work log) as PDFs, to print
    before a total blackout."""
    if output.exists() and not output.is_dir():
        raise _fail(f"{escape(str(output))} is a file; give a folder for the forms.")
    bootstrap.setup_django()
    from fallback.desk import printing

    organisation = _organisation(org)
    output.mkdir(parents=True, exist_ok=True)
    table = Table("Form", "File")
    with bootstrap.console.status("Writing the blank forms…") as status:
        for kind, label in printing.BLANK_FORMS.items():
            status.update(f"Writing the blank {label.lower()}…")
            target = output / f"{organisation.slug}-blank-{kind.replace('_', '-')}.pdf"
            target.write_bytes(printing.blank_form_pdf(organisation, kind))
            table.add_row(escape(label), escape(str(target)))
    bootstrap.console.print(table)


@desk.command("reindex")
def reindex_command(
    org: Annotated[
        str | None,
        typer.Argument(help="The organisation's short name; every organisation if left out."),
    ] = None,
) -> None:
    """Rebuild the desk's search index from the replica's current records."""
    bootstrap.setup_django()
    from fallback.accounts.models import Organisation
    from fallback.desk import search_index

    chosen = [_organisation(org)] if org else list(Organisation.objects.order_by("slug"))
    if not chosen:
        raise _fail("There are no organisations yet.")
    table = Table("Organisation", "Entries")
    with bootstrap.console.status("Rebuilding the search index…") as status:
        for organisation in chosen:
            status.update(f"Rebuilding the search index of {escape(organisation.name)}…")
            count = search_index.rebuild(organisation.pk)
            table.add_row(escape(organisation.slug), f"{count:,}")
    bootstrap.console.print(table)
