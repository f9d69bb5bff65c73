"""`fallback comms …`: the outbox of notices to customers, suppliers and staff.

send [--until-done] | outbox [--org SLUG] | status-page ORG [--publish] [-o DIR]
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from fallback.cli import bootstrap
from fallback.cli.app import app

BAD_INPUT = 2

comms = typer.Typer(
    help="Notices to customers, suppliers and staff: the outbox and its sender.",
    no_args_is_help=True,
)
app.add_typer(comms, name="comms")


def _table(org_slug: str | None) -> Table:
    from fallback.accounts.models import Organisation
    from fallback.comms import outbox
    from fallback.comms.models import Notice

    table = Table(
        "Organisation", "Notice", "Sent", "Waiting", "Failed", "Bounced", "Unknown", "Per minute"
    )
    orgs = Organisation.objects.order_by("slug")
    if org_slug:
        orgs = orgs.filter(slug=org_slug)
    for org in orgs:
        for notice in (
            Notice.objects.filter(org=org).exclude(status="draft").order_by("-sent_at")[:10]
        ):
            p = outbox.progress(notice=notice)
            table.add_row(
                escape(org.slug),
                escape(f"#{notice.pk} {notice.get_phase_display()} → {notice.audience}"),
                f"{p.sent:,} / {p.total:,}",
                f"{p.waiting:,}",
                f"{p.n('failed'):,}",
                f"{p.n('bounced'):,}",
                f"[yellow]{p.n('unknown'):,}[/]" if p.n("unknown") else "0",
                f"{p.per_minute:,}",
            )
    return table


@comms.command("outbox")
def outbox_command(
    org: Annotated[str | None, typer.Option("--org", help="The organisation's short name.")] = None,
) -> None:
    """Show how far each recent notice has got: sent, waiting, failed, unknown."""
    bootstrap.setup_django()
    from fallback.accounts.models import Organisation

    if org and not Organisation.objects.filter(slug=org).exists():
        bootstrap.err_console.print(f"[red]No organisation {escape(org)}.[/]")
        raise typer.Exit(BAD_INPUT)
    table = _table(org)
    if not table.row_count:
        bootstrap.console.print("Nothing has been sent yet.")
        return
    bootstrap.console.print(table)
    bootstrap.console.print(
        "Unknown: the sender stopped while handing the message over; it may have been "
        "delivered. Check, then send again or mark it sent on the notice's page."
    )


@comms.command("send")
def send_command(
    until_done: Annotated[
        bool, typer.Option("--until-done", help="Stop when nothing is left to send.")
    ] = False,
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=32, help="Parallel SMTP connections.")
    ] = 4,
) -> None:
    """Send the outbox's messages (what `fallback serve` and `fallback worker` also do),
    with a running count; Ctrl-C or SIGTERM stops after the messages in hand."""
    bootstrap.setup_django()
    from fallback.comms.sender import Sender, Stats

    sender = Sender(email_threads=threads)

    def stop(signum: int, frame: FrameType | None) -> None:
        sender.stop()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, stop)
    started = time.monotonic()
    shown = [0.0]

    def line(stats: Stats) -> str:
        seconds = max(time.monotonic() - started, 0.001)
        return (
            f"sent {stats.sent:,} · retrying {stats.retried:,} · failed {stats.failed:,} · "
            f"unknown {stats.unknown:,} · {stats.sent / seconds:,.0f} per second"
        )

    try:
        with Live(line(sender.stats), console=bootstrap.console, transient=False) as live:

            def progress(stats: Stats) -> None:
                now = time.monotonic()
                if now - shown[0] >= 0.5:
                    shown[0] = now
                    live.update(line(stats))

            stats = sender.run(until_done=until_done, progress=progress)
            live.update(line(stats))
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    bootstrap.console.print(f"Sender {escape(sender.sender_id)} stopped.")


@comms.command("status-page")
def status_page_command(
    org: Annotated[str, typer.Argument(help="The organisation's short name.")],
    publish: Annotated[
        bool, typer.Option("--publish", help="Publish it where the settings say (folder, S3).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Also write index.html and summary.json here."),
    ] = None,
    exercise: Annotated[
        bool,
        typer.Option(
            "--exercise", help="With -o: the drill preview (drills shown, marked); never published."
        ),
    ] = False,
) -> None:
    """The public status page: what it says now; write it to a folder, or publish it."""
    bootstrap.setup_django()
    from fallback.accounts.models import Organisation
    from fallback.comms import publishing, statuspage

    found = Organisation.objects.filter(slug=org).first()
    if found is None:
        bootstrap.err_console.print(f"[red]No organisation {escape(org)}.[/]")
        raise typer.Exit(BAD_INPUT)
    if exercise and (publish or out is None):
        bootstrap.err_console.print("[red]--exercise writes a preview with -o DIR only.[/]")
        raise typer.Exit(BAD_INPUT)
    data = statuspage.summary(found, exercise=exercise)
    bootstrap.console.print(f"{escape(data['page']['name'])}: {data['status']['description']}")
    for c in data["components"]:
        bootstrap.console.print(f"  {escape(c['name'])}: {c['status'].replace('_', ' ')}")
    for i in data["incidents"]:
        bootstrap.console.print(f"  Incident {escape(i['name'])}: {i['status']}")
    if out is not None:
        try:
            publishing.to_folder(out, publishing.files_of(found, data))
        except publishing.PublishError as exc:
            bootstrap.err_console.print(f"[red]{escape(str(exc))}[/]")
            raise typer.Exit(1) from exc
        bootstrap.console.print(f"Written to {escape(str(out))}: index.html, summary.json")
    if publish:
        result = publishing.publish(found)
        for place in result.places:
            bootstrap.console.print(f"Published to {escape(place)}")
        if not result.ok:
            for error in result.errors:
                bootstrap.err_console.print(f"[red]{escape(error)}[/]")
            raise typer.Exit(1)
