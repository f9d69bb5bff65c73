"""The demo's outgoing mail: an SMTP sink on loopback that keeps what it receives.

The demo businesses send customer notices and status-page confirmations through a backup
mail account at 127.0.0.1:1025 with no security; this is that account. It delivers nothing:
it keeps the last MAIL_KEPT messages in memory (each at most MAX_MESSAGE_BYTES), for the
simulator's Mail page to show. Two faults make it misbehave as a real provider does:
`mail_down` answers every recipient 451 (temporary: the outbox retries, and its stall alarm
goes off), `mail_reject` answers 550 (permanent: the messages bounce).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from functools import cached_property
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from fallback.simulator.faults import Faults

DEFAULT_SMTP_PORT = 1025  # where the demo businesses' backup mail account points
MAIL_KEPT = 500
MAX_MESSAGE_BYTES = 1024 * 1024  # notices are plain text: 500 of these stay under 0.5 GB
GREETING_NAME = "mail.cloudcrm-sim.test"
DOWN_REPLY = "451 4.3.0 Mail service temporarily unavailable (simulator fault mail_down)"
REJECT_REPLY = "550 5.7.1 Message rejected (simulator fault mail_reject)"


@dataclass(frozen=True)
class Mail:
    """One received message: the envelope as the client gave it, and the message itself."""

    number: int
    at: datetime
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes = field(repr=False)

    @cached_property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header(self, name: str) -> str:
        """A header's decoded value, on one line ('' when absent or unreadable)."""
        try:
            return _one_line(self.message.get(name, ""))
        except (ValueError, TypeError, LookupError):
            return ""

    def headers(self) -> list[tuple[str, str]]:
        """Every header, decoded, each on one line ([] when they are unreadable)."""
        try:
            return [(name, _one_line(value)) for name, value in self.message.items()]
        except (ValueError, TypeError, LookupError):
            return []

    def text(self) -> str:
        """The plain-text body, decoded; '' when there is none."""
        message = self.message
        part = message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        try:
            text = str(part.get_content())
        except (LookupError, ValueError):
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        return text.replace("\r\n", "\n")

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.number,
            "at": self.at.isoformat(timespec="seconds"),
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "from": self.header("From"),
            "to": self.header("To"),
            "subject": self.header("Subject"),
            "message_id": self.header("Message-ID"),
        }


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


class Mailbox:
    """The last `kept` messages received, newest first; the SMTP sink's aiosmtpd handler.

    Shared by the SMTP and HTTP sides (the same event loop) and read by tests from another
    thread, hence the lock."""

    def __init__(self, faults: Faults | None = None, kept: int = MAIL_KEPT) -> None:
        self.faults = faults or Faults()
        self.received = 0
        self.listening = ""  # host:port while the sink serves
        self.problem = ""  # why it does not, when it was asked to
        self.capacity = kept
        self._mails: deque[Mail] = deque(maxlen=kept)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def mails(self) -> list[Mail]:
        with self._lock:
            return list(self._mails)

    def get(self, number: int) -> Mail | None:
        with self._lock:
            return next((m for m in self._mails if m.number == number), None)

    def keep(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> Mail:
        with self._lock:
            mail = Mail(next(self._numbers), datetime.now(UTC), mail_from, tuple(rcpt_tos), raw)
            self._mails.appendleft(mail)
            self.received += 1
            return mail

    def state(self) -> dict[str, Any]:
        with self._lock:
            kept = len(self._mails)
        return {
            "listening": self.listening or None,
            "problem": self.problem or None,
            "received": self.received,
            "kept": kept,
        }

    # aiosmtpd's handler hooks: the faults refuse at RCPT, as providers refuse a recipient.
    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.faults.on("mail_down"):
            return DOWN_REPLY
        if self.faults.on("mail_reject"):
            return REJECT_REPLY
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        mail = self.keep(str(envelope.mail_from or ""), list(envelope.rcpt_tos), raw)
        return f"250 2.0.0 Kept as message {mail.number}"


async def serve_smtp(mailbox: Mailbox, host: str, port: int) -> asyncio.Server:
    """Listen for SMTP on host:port in the running loop (port 0: any free one); OSError
    when the port is taken. Records where it listens on the mailbox."""
    loop = asyncio.get_running_loop()

    def session() -> SMTP:
        return SMTP(
            mailbox,
            hostname=GREETING_NAME,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            timeout=60,
            loop=loop,
        )

    server = await loop.create_server(session, host, port)
    bound = server.sockets[0].getsockname()[1]
    mailbox.listening, mailbox.problem = f"{host}:{bound}", ""
    return server
