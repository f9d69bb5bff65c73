"""`fallback init`, `fallback demo` and `fallback passwd`: getting a data folder ready."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from fallback.cli import bootstrap
from fallback.cli.app import app


def _ask_password(email: str) -> str:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    while True:
        first = str(typer.prompt(f"Password for {email}", hide_input=True))
        second = str(typer.prompt("Again", hide_input=True))
        if first != second:
            bootstrap.err_console.print("[red]The two passwords differ; try again.[/]")
            continue
        try:
            validate_password(first)
        except ValidationError as exc:
            bootstrap.err_console.print("[red]" + " ".join(exc.messages) + "[/]")
            continue
        return first


def _check_password(password: str) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password)
    except ValidationError as exc:
        bootstrap.err_console.print("[red]Password: " + " ".join(exc.messages) + "[/]")
        raise typer.Exit(2) from exc


def _interactive() -> bool:
    return sys.stdin.isatty()


@app.command()
def init(
    org: Annotated[str | None, typer.Option("--org", help="Name of the business.")] = None,
    email: Annotated[
        str | None, typer.Option(help="Email of the first owner (your login).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Their password (prompted when omitted; prefer the prompt)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Their full name.")] = "",
) -> None:
    """Create the data folder, the database and the first owner."""
    bootstrap.setup_django()
    from django.conf import settings

    from fallback.accounts.membership import add_member, create_organisation
    from fallback.accounts.models import Membership, Organisation, User
    from fallback.accounts.roles import Role
    from fallback.audit.context import acting_as
    from fallback.runtime.processes import migrate

    migrate()
    bootstrap.console.print(f"Data folder: [bold]{settings.FALLBACK_HOME}[/]")
    if Organisation.objects.exists() and org is None:
        bootstrap.console.print("Already initialised. Log in with `fallback serve`.")
        return
    if not _interactive() and (org is None or email is None or password is None):
        bootstrap.err_console.print(
            "[red]No terminal to ask on: give --org, --email and --password.[/]"
        )
        raise typer.Exit(2)
    org = org or typer.prompt("Name of the business")
    email = (email or typer.prompt("Your email (your login)")).strip().lower()
    if password is None:
        password = _ask_password(email)
    else:
        _check_password(password)
    with acting_as(None, "cli"):
        organisation = Organisation.objects.filter(name=org).first() or create_organisation(org)
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email, password)
            first, _, last = name.partition(" ")
            user.first_name, user.last_name = first, last
            user.save()
        else:
            user.set_password(password)
            user.save()
        if not User.objects.filter(is_superuser=True).exists():
            # The first person set up here administers the installation (its backups).
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        if not Membership.objects.filter(org=organisation, user=user).exists():
            add_member(organisation, email, Role.OWNER)
    bootstrap.console.print(
        f"Ready: [bold]{organisation.name}[/] with owner [bold]{email}[/].\n"
        "Next: [bold]fallback serve[/] and open http://127.0.0.1:8080/"
    )


@app.command()
def passwd(
    email: Annotated[str, typer.Argument(help="Whose password to set.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from stdin.")
    ] = False,
) -> None:
    """Set someone's password (e.g. a member added by `fallback apply`)."""
    bootstrap.setup_django()
    from fallback.accounts.models import User
    from fallback.audit.context import acting_as
    from fallback.audit.trail import record

    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        bootstrap.err_console.print(f"[red]No user with email {email}.[/]")
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        _check_password(password)
    else:
        password = _ask_password(user.email)
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    with acting_as(None, "cli"):
        record(None, "user.password_set", user)
    bootstrap.console.print(f"Password set for {user.email}.")


@app.command()
def demo(
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after preparing.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    simulator_port: Annotated[
        int,
        typer.Option(help="Port of the simulated cloud service the demo's systems watch."),
    ] = 8081,
    smtp_port: Annotated[
        int,
        typer.Option(
            help="Port of the simulator's SMTP sink, the demo businesses' backup mail account "
            "(0: no sink; the accounts keep the port the demo was made with)."
        ),
    ] = 1025,
) -> None:
    """A throw-away data folder with a demo business and sample data, then serve it.

    Also starts a simulated cloud service (CloudCRM) on 127.0.0.1 that the demo's systems
    watch; take it down from its system page or with `fallback sim down`. Its SMTP sink
    receives the mail the demo businesses send, shown on its Mail page.
    """
    if not os.environ.get("FALLBACK_HOME"):
        os.environ["FALLBACK_HOME"] = tempfile.mkdtemp(prefix="fallback-demo-")
    bootstrap.setup_django()
    from django.conf import settings

    from fallback.demo import DEMO_EMAIL, build_demo
    from fallback.runtime.processes import migrate
    from fallback.simulator.mailbox import DEFAULT_SMTP_PORT

    migrate()
    password_file = Path(settings.FALLBACK_HOME) / "demo-login.txt"
    if password_file.exists():
        password = password_file.read_text().split()[-1]
    else:
        password = "demo-" + secrets.token_urlsafe(6)
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    with bootstrap.console.status("Preparing the demo business…"):
        build_demo(
            password,
            simulator_url,
            site_url=f"http://{host}:{port}",
            smtp_port=smtp_port or DEFAULT_SMTP_PORT,
        )
    password_file.write_text(f"{DEMO_EMAIL} {password}\n")
    password_file.chmod(0o600)
    bootstrap.console.print(
        "[bold green]The Fallback demo is ready.[/]\n"
        f"  Open:      [bold]http://{host}:{port}/[/]\n"
        f"  Email:     [bold]{DEMO_EMAIL}[/]\n"
        f"  Password:  [bold]{password}[/]\n"
        f"  Data:      {settings.FALLBACK_HOME} (throw-away)",
        soft_wrap=True,
    )
    if serve:
        from fallback.cli.simulator import warn_if_no_mail_sink
        from fallback.runtime.processes import run_serve
        from fallback.simulator.runner import Simulator

        home = Path(settings.FALLBACK_HOME)
        try:
            simulator = Simulator(
                "127.0.0.1", simulator_port, home=home, smtp_port=smtp_port or None
            ).start()
        except OSError as exc:
            bootstrap.err_console.print(
                f"[yellow]Port {simulator_port} is taken ({exc}): the simulated service is not "
                "started, so the demo's systems will go down. Try --simulator-port.[/]"
            )
            simulator = None
        if simulator is not None:
            bootstrap.console.print(
                f"\n[bold]Try an outage.[/] Hartley & Sons' systems watch a simulated cloud "
                f"service, CloudCRM, at {simulator.url}/ (checked every 10–15 seconds).\n"
                "  1. Open Systems → CloudCRM and press [bold]Take it down[/] "
                f"(or run: fallback --home {home} sim down).\n"
                "  2. Within a minute it is down and an incident is suspected; the people on "
                "duty are alerted.\n"
                "  3. Two minutes later the outage is declared (real systems wait 30 minutes, "
                "or a person confirms), and the [bold]Desk[/] is in fallback mode: search a "
                "customer (press /), make a quote or an invoice from the replica, print it.\n"
                "  4. Press [bold]Bring it back[/] (or: sim up); after two good checks it "
                "is up and the incident is recovering: the desk's way back lists what to "
                "enter in the main system; tick each, then resolve.\n"
                f"  Alerts sent to staff show at {simulator.url}/alerts"
                + (
                    f"\n  Mail the businesses send (customer notices, status-page "
                    f"confirmation links) goes to the simulator's SMTP sink on "
                    f"{simulator.service.mailbox.listening} and shows at {simulator.url}/mail"
                    if simulator.service.mailbox.listening
                    else ""
                ),
                soft_wrap=True,
            )
            warn_if_no_mail_sink(simulator)
        try:
            run_serve(host, port)
        finally:
            if simulator is not None:
                simulator.stop()
