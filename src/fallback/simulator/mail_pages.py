"""The Mail pages: what the SMTP sink received (fallback.simulator.mailbox).

`/mail` lists the messages kept, newest first; `/mail/<n>` shows one — its headers and its
text with the links clickable, so a demo user can open a subscriber's confirmation or
unsubscribe link; `/mail.json` is the same for scripts.
"""

from __future__ import annotations

import html
import re

from aiohttp import web

from fallback.simulator.mailbox import Mailbox
from fallback.simulator.pages import page
from fallback.simulator.service import service_of

_LINK = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}"


def linked(text: str) -> str:
    """`text` as HTML, escaped, with its http(s) addresses made links (nothing else is)."""
    out, last = [], 0
    for match in _LINK.finditer(text):
        url = match.group().rstrip(_TRAILING)
        out.append(html.escape(text[last : match.start()]))
        out.append(f'<a href="{html.escape(url)}" rel="noreferrer">{html.escape(url)}</a>')
        last = match.start() + len(url)
    out.append(html.escape(text[last:]))
    return "".join(out)


def _mailbox(request: web.Request) -> Mailbox:
    return service_of(request).mailbox


def _sink_state(mailbox: Mailbox) -> str:
    if mailbox.listening:
        said = (
            f"The SMTP sink listens on <code>{html.escape(mailbox.listening)}</code> "
            "(no security, no login): it delivers nothing and keeps the last "
            f"{mailbox.capacity:,} messages in memory ({mailbox.received:,} received so far)."
        )
    elif mailbox.problem:
        said = f"<strong>The SMTP sink is not listening:</strong> {html.escape(mailbox.problem)}."
    else:
        said = "The SMTP sink is switched off (<code>--smtp-port 0</code>)."
    faults = [name for name in ("mail_down", "mail_reject") if mailbox.faults.on(name)]
    if faults:
        said += (
            f" <strong>Fault on: {', '.join(faults)}</strong> — it refuses every recipient "
            "(<code>fallback sim fault " + faults[0] + " --off</code> ends it)."
        )
    return f"<p>{said}</p>"


async def mail_list(request: web.Request) -> web.Response:
    mailbox = _mailbox(request)
    rows = "".join(
        f"<tr><td><time>{m.at:%Y-%m-%d %H:%M:%S}</time></td>"
        f"<td>{html.escape(m.header('From') or m.mail_from)}</td>"
        f"<td>{html.escape(', '.join(m.rcpt_tos))}</td>"
        f"<td><a href=/mail/{m.number}>{html.escape(m.header('Subject') or '(no subject)')}"
        "</a></td></tr>"
        for m in mailbox.mails()
    )
    body = (
        "<h1>Mail sent</h1>"
        "<p>The demo businesses' backup mail account is this simulator: customer notices, "
        "status-page confirmations and updates, and test messages arrive here instead of "
        "being delivered. Newest first (times in UTC); the page refreshes itself. "
        "As JSON: <a href=/mail.json>/mail.json</a>.</p>"
        + _sink_state(mailbox)
        + (
            "<table><thead><tr><th>Time</th><th>From</th><th>To</th><th>Subject</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
            if rows
            else "<p>No mail yet.</p>"
        )
    )
    response = page("Mail sent", body)
    response.headers["Refresh"] = "10"
    return response


async def mail_one(request: web.Request) -> web.Response:
    mail = _mailbox(request).get(int(request.match_info["number"]))
    if mail is None:
        body = (
            f"<h1>No message {html.escape(request.match_info['number'])}</h1>"
            "<p>It was never received, or is older than the messages kept. "
            "<a href=/mail>All mail</a>.</p>"
        )
        return page("No such message", body, status=404)
    headers = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{linked(value)}</td></tr>"
        for name, value in mail.headers()
    )
    text = mail.text()
    body = (
        f"<p><a href=/mail>← All mail</a></p><h1>{html.escape(mail.header('Subject'))}</h1>"
        f"<p>Received {mail.at:%Y-%m-%d %H:%M:%S} UTC, envelope from "
        f"<code>{html.escape(mail.mail_from)}</code> to "
        f"<code>{html.escape(', '.join(mail.rcpt_tos))}</code>.</p>"
        f"<table class=headers>{headers}</table>"
        + (f"<pre>{linked(text)}</pre>" if text else "<p>(No plain-text part.)</p>")
    )
    return page(mail.header("Subject") or "Message", body)


async def mail_json(request: web.Request) -> web.Response:
    mailbox = _mailbox(request)
    messages = [{**m.summary(), "text": m.text()} for m in mailbox.mails()]
    return web.json_response({**mailbox.state(), "messages": messages})


def add_routes(app: web.Application) -> None:
    app.add_routes(
        [
            web.get("/mail", mail_list),
            web.get("/mail.json", mail_json),
            web.get(r"/mail/{number:\d+}", mail_one),
        ]
    )
