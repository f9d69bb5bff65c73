"""`fallback binder ORG -o FILE.pdf`: the grab binder of an organisation's continuity plan,
written to a file to print (with the whole price list, however long)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from fallback.cli import bootstrap
from fallback.cli.app import app

BAD_INPUT = 2


def _fail(message: str) -> typer.Exit:
    bootstrap.err_console.print(f"[red]{message}[/]", soft_wrap=True)
    return typer.Exit(BAD_INPUT)


@app.command("binder")
def binder_command(
    org: Annotated[
        str, typer.Argument(help="The organisation's short name (as in its web address).")
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The PDF file to write.", show_default=False),
    ],
) -> None:
    """Write the grab binder (the plan, contacts, notice scripts, price list and blank forms)
    as one PDF to print; Fallback records that it was taken, to warn when it goes out of
    date."""
    if output.suffix.lower() != ".pdf":
        raise _fail(
            f"{escape(str(output))}: the binder is written as a .pdf, "
            f"not {escape(output.suffix) or 'a file without an extension'}."
        )
    if not output.parent.is_dir():
        raise _fail(
            f"{escape(str(output))}: the folder {escape(str(output.parent))} does not exist."
        )
    bootstrap.setup_django()
    from fallback.accounts.models import Organisation
    from fallback.audit.context import acting_as
    from fallback.audit.models import Via
    from fallback.plans import binder
    from fallback.plans.models import CopyKind
    from fallback.plans.spec import plan_of

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        known = ", ".join(Organisation.objects.order_by("slug").values_list("slug", flat=True))
        raise _fail(
            f"No organisation {escape(org)}."
            + (f" There are: {escape(known)}." if known else " There are none yet.")
        )
    plan = plan_of(organisation)
    if plan is None:
        raise _fail(
            f"{escape(organisation.name)} has no continuity plan yet: start it on the Plan page."
        )
    with bootstrap.console.status(f"Making the grab binder of {escape(organisation.name)}…"):
        try:
            made = binder.render(plan, price_rows=None)
        except binder.BinderError as exc:
            raise _fail(escape(str(exc))) from None
    output.write_bytes(made.pdf)
    with acting_as(None, Via.CLI):
        binder.record_copy(plan, made.inputs, CopyKind.DOWNLOADED, None)
    bootstrap.console.print(
        f"Wrote {escape(str(output))}: {made.pages} pages, binder {made.inputs.code} "
        f"(plan version {made.inputs.plan_version})."
    )
