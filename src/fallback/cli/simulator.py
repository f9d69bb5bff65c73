"""`fallback sim …`: the simulated cloud (`simulate` still works, hidden).

run | up | down | slow | status | fault NAME | faults --clear | change
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fallback.cli import bootstrap
from fallback.cli.app import app

if TYPE_CHECKING:
    from fallback.simulator.runner import Simulator

sim = typer.Typer(
    help="The simulated cloud (CloudCRM and a small business's data in the Shopify, HubSpot "
    "and QuickBooks dialects): take it down, bring it back, switch on faults.",
    no_args_is_help=True,
)
app.add_typer(sim, name="sim")
app.add_typer(sim, name="simulate", hidden=True)  # the old name

SmtpPortOption = Annotated[
    int,
    typer.Option(
        "--smtp-port",
        help="Port of the SMTP sink that keeps the mail sent to it for the Mail page (0: none).",
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="The simulator's address (default: the one `fallback demo` or `fallback sim run` "
        "registered in the data folder, else http://127.0.0.1:8081).",
        show_default=False,
    ),
]


def _url(given: str | None) -> str:
    from fallback.home import home_path
    from fallback.simulator.control import DEFAULT_URL, registered_url

    return given or registered_url(home_path()) or DEFAULT_URL


def _control(url: str | None, call: Callable[[str], Any]) -> tuple[str, Any]:
    """(the simulator's address, what `call(address)` returned), or exit saying why not."""
    from fallback.simulator.control import SimulatorUnreachable

    target = _url(url)
    try:
        return target, call(target)
    except SimulatorUnreachable as exc:
        bootstrap.err_console.print(
            f"[red]{exc}.[/] Is `fallback demo` or `fallback sim run` running?"
        )
        raise typer.Exit(1) from exc
    except ValueError as exc:
        bootstrap.err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _switch(mode: str, url: str | None, said: str) -> None:
    from fallback.simulator.control import set_mode

    target, state = _control(url, lambda target: set_mode(target, mode))
    bootstrap.console.print(
        f"{state['name']} at {target} is now [bold]{state['mode']}[/]. {said}", soft_wrap=True
    )


def _faults_text(faults: dict[str, dict[str, int]]) -> str:
    if not faults:
        return "no faults"
    return "faults: " + ", ".join(
        name + (f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else "")
        for name, params in faults.items()
    )


def _mail_text(mail: dict[str, Any] | None, target: str) -> str:
    if not mail:
        return ""
    if mail.get("listening"):
        where = f"its SMTP sink on {mail['listening']}"
    else:
        where = f"its SMTP sink off ({mail.get('problem') or 'not started'})"
    return f"; {where}, {mail.get('received', 0)} message(s) received (see {target}/mail)"


@sim.command()
def down(url: UrlOption = None) -> None:
    """Take the service down: health check, login page and APIs fail; status page says so."""
    _switch(
        "down",
        url,
        "Fallback's checks will see it within a minute; after the trigger time an outage "
        "is declared.",
    )


@sim.command()
def up(url: UrlOption = None) -> None:
    """Bring the service back."""
    _switch("up", url, "After two good checks the system is up again.")


@sim.command()
def slow(url: UrlOption = None) -> None:
    """Make the service answer slowly (degraded, not down)."""
    _switch("slow", url, "Checks with a response-time limit will report it degraded.")


@sim.command()
def status(url: UrlOption = None) -> None:
    """Say whether the service is up, down or slow, which faults are on, and its size."""
    from fallback.simulator.control import status as read_status

    target, state = _control(url, read_status)
    counts = state.get("business", {}).get("counts", {})
    size = f"; {counts['customers']:,} customers" if "customers" in counts else ""
    bootstrap.console.print(
        f"{state['name']} at {target}: [bold]{state['mode']}[/] since {state['since']}; "
        f"{_faults_text(state.get('faults', {}))}{size}; "
        f"{state['alerts']} alert(s) received (see {target}/alerts)"
        f"{_mail_text(state.get('mail'), target)}.",
        soft_wrap=True,
    )


@sim.command()
def fault(
    name: Annotated[
        str,
        typer.Argument(
            help="errors, fail_after, ratelimit, empty, short or truncated (the APIs); "
            "mail_down or mail_reject (the SMTP sink).",
            show_default=False,
        ),
    ],
    pages: Annotated[
        int | None, typer.Option(help="fail_after: pages that still answer (default 2).")
    ] = None,
    every: Annotated[
        int | None, typer.Option(help="ratelimit: refuse every n-th call (default 3).")
    ] = None,
    retry_after: Annotated[
        int | None, typer.Option(help="ratelimit: the Retry-After seconds (default 1).")
    ] = None,
    page: Annotated[
        int | None, typer.Option(help="truncated: the page that is cut in half (default 2).")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Turn the fault off.")] = False,
    url: UrlOption = None,
) -> None:
    """Switch a failure on (or --off) for every dialect's API, or for the SMTP sink.

    errors: every call answers 500. fail_after: pages past --pages answer 500. ratelimit:
    every --every-th call answers 429 with Retry-After. empty: lists are empty. short: no
    page after the first. truncated: page --page is cut in half. mail_down: the SMTP sink
    refuses every recipient for now (451: the outbox retries). mail_reject: it refuses them
    for good (550: the messages bounce).
    """
    from fallback.simulator.control import clear_fault, set_fault

    given = {"pages": pages, "every": every, "retry_after": retry_after, "page": page}
    params = {key: value for key, value in given.items() if value is not None}
    if off:
        target, state = _control(url, lambda target: clear_fault(target, name))
    else:
        target, state = _control(url, lambda target: set_fault(target, name, **params))
    bootstrap.console.print(
        f"{state['name']} at {target}: {_faults_text(state['faults'])}.", soft_wrap=True
    )


@sim.command()
def faults(
    clear: Annotated[bool, typer.Option("--clear", help="Turn every fault off.")] = False,
    url: UrlOption = None,
) -> None:
    """List the faults that are on, or turn them all off (--clear)."""
    from fallback.simulator.control import clear_faults
    from fallback.simulator.control import status as read_status

    target, state = _control(url, clear_faults if clear else read_status)
    bootstrap.console.print(
        f"{state['name']} at {target}: {_faults_text(state['faults'])}.", soft_wrap=True
    )


@sim.command()
def change(
    share: Annotated[
        float, typer.Option(help="The share of the records to change (0.01 is 1%).")
    ] = 0.01,
    entity: Annotated[
        str,
        typer.Option(help="customers, contacts, suppliers, products, orders or invoices."),
    ] = "customers",
    url: UrlOption = None,
) -> None:
    """Change some records and stamp them with the current time, for incremental syncs.

    As people using the real system would: a customer's phone number, a product's price, an
    order's status, an invoice paid.
    """
    from fallback.simulator.control import change as change_records

    target, changed = _control(url, lambda target: change_records(target, share, entity))
    bootstrap.console.print(f"Changed {changed:,} {entity} at {target}.", soft_wrap=True)


@sim.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    scale: Annotated[
        int,
        typer.Option(
            help="How many customers the business has, up to 100,000 (the other records in "
            "proportion)."
        ),
    ] = 500,
    smtp_port: SmtpPortOption = 1025,
) -> None:
    """Serve the simulated cloud on its own (`fallback demo` starts one for you)."""
    from fallback.home import ensure_home
    from fallback.simulator import hubspot, quickbooks, shopify
    from fallback.simulator.runner import Simulator

    try:
        simulator = Simulator(
            host, port, home=ensure_home(), scale=scale, smtp_port=smtp_port or None
        ).start()
    except ValueError as exc:
        bootstrap.err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    except OSError as exc:
        bootstrap.err_console.print(f"[red]Cannot listen on {host}:{port}: {exc}[/]")
        raise typer.Exit(1) from exc
    base = simulator.url
    counts = simulator.service.business.counts
    credentials = simulator.service.credentials
    bootstrap.console.print(
        f"The simulated cloud (CloudCRM) on [bold]{base}/[/]; Ctrl-C stops it.\n"
        f"  Business:   {counts['customers']:,} customers, {counts['products']:,} products, "
        f"{counts['suppliers']:,} suppliers, {counts['orders']:,} orders, "
        f"{counts['invoices']:,} invoices\n"
        f"  Shopify:    {base}{shopify.PREFIX}/  "
        f"(header X-Shopify-Access-Token: {credentials.shopify_token})\n"
        f"  HubSpot:    {base}{hubspot.PREFIX}/  "
        f"(header Authorization: Bearer {credentials.hubspot_token})\n"
        f"  QuickBooks: {base}{quickbooks.PREFIX}/v3/company/{quickbooks.DEMO_REALM}/  "
        f"(token from {base}{quickbooks.TOKEN_PATH}, client "
        f"{credentials.quickbooks_client_id}:{credentials.quickbooks_client_secret}, "
        f"refresh token {credentials.quickbooks_refresh_token})\n"
        f"  Status:     {base}/status/api/v2/summary.json    Control: {base}/_control\n"
        f"  Alerts:     {base}/alerts"
        + (
            f"\n  Mail:       {base}/mail  (SMTP sink on {simulator.service.mailbox.listening}, "
            "no security)"
            if simulator.service.mailbox.listening
            else ""
        ),
        soft_wrap=True,
        highlight=False,
    )
    warn_if_no_mail_sink(simulator)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


def warn_if_no_mail_sink(simulator: Simulator) -> None:
    """Say why the SMTP sink asked for is not listening (for `sim run` and `fallback demo`)."""
    problem = simulator.service.mailbox.problem
    if problem:
        bootstrap.err_console.print(
            f"[yellow]The SMTP sink is not started: {problem}. Mail sent to it fails (the "
            "outbox retries it); try --smtp-port.[/]",
            soft_wrap=True,
        )
