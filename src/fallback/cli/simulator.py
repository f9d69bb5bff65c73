"""`fallback simulate up|down|slow|status|run`: the demo's simulated cloud service."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from fallback.cli import bootstrap
from fallback.cli.app import app

simulate = typer.Typer(
    help="Take the demo's simulated cloud service (CloudCRM) down and bring it back.",
    no_args_is_help=True,
)
app.add_typer(simulate, name="simulate")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="The simulator's address (default: the one `fallback demo` registered in the "
        "data folder, else http://127.0.0.1:8081).",
        show_default=False,
    ),
]


def _url(given: str | None) -> str:
    from fallback.home import home_path
    from fallback.simulator.control import DEFAULT_URL, registered_url

    return given or registered_url(home_path()) or DEFAULT_URL


def _switch(mode: str, url: str | None, said: str) -> None:
    from fallback.simulator.control import SimulatorUnreachable, set_mode

    target = _url(url)
    try:
        state = set_mode(target, mode)
    except SimulatorUnreachable as exc:
        bootstrap.err_console.print(f"[red]{exc}.[/] Is `fallback demo` running?")
        raise typer.Exit(1) from exc
    bootstrap.console.print(f"{state['name']} at {target} is now [bold]{state['mode']}[/]. {said}")


@simulate.command()
def down(url: UrlOption = None) -> None:
    """Take the service down: its health check and login page fail, its status page says so."""
    _switch(
        "down",
        url,
        "Fallback's checks will see it within a minute; after the trigger time an outage "
        "is declared.",
    )


@simulate.command()
def up(url: UrlOption = None) -> None:
    """Bring the service back."""
    _switch("up", url, "After two good checks the system is up again.")


@simulate.command()
def slow(url: UrlOption = None) -> None:
    """Make the service answer slowly (degraded, not down)."""
    _switch("slow", url, "Checks with a response-time limit will report it degraded.")


@simulate.command()
def status(url: UrlOption = None) -> None:
    """Say whether the service is up, down or slow."""
    from fallback.simulator.control import SimulatorUnreachable
    from fallback.simulator.control import status as read_status

    target = _url(url)
    try:
        state = read_status(target)
    except SimulatorUnreachable as exc:
        bootstrap.err_console.print(f"[red]{exc}.[/] Is `fallback demo` running?")
        raise typer.Exit(1) from exc
    bootstrap.console.print(
        f"{state['name']} at {target}: [bold]{state['mode']}[/] since {state['since']}; "
        f"{state['alerts']} alert(s) received (see {target}/alerts)."
    )


@simulate.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
) -> None:
    """Serve the simulator on its own (`fallback demo` starts one for you)."""
    from fallback.home import ensure_home
    from fallback.simulator.runner import Simulator

    try:
        simulator = Simulator(host, port, home=ensure_home()).start()
    except OSError as exc:
        bootstrap.err_console.print(f"[red]Cannot listen on {host}:{port}: {exc}[/]")
        raise typer.Exit(1) from exc
    bootstrap.console.print(f"CloudCRM (simulated) on [bold]{simulator.url}/[/]; Ctrl-C stops it.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
