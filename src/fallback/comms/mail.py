"""Email through the organisation's backup SMTP account, one persistent connection per
sender thread.

`MailConnection.deliver` speaks SMTP a step at a time rather than through
smtplib.sendmail, so that "handed over" is written down at the last possible moment: MAIL,
RCPT and DATA first, then the whole message but its final ".", then `hand_over(finish)` —
the outbox writes the item as `sending` and, the moment that is committed, `finish` sends
the "." that commits the server to delivering it. An error before that point means the
message was not sent and it is safe to try again; no answer after it means nobody knows.

Server answers: 2xx sent; 4xx a temporary refusal (retried with backoff); 5xx at RCPT a
bounce (the recipient is refused), 5xx elsewhere a failure — each recorded with the
server's own words.
"""

from __future__ import annotations

import base64
import contextlib
import quopri
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime, formataddr

from django.utils import timezone

from fallback.comms.models import CommsSettings, OutboxItem, SmtpSecurity
from fallback.comms.preferences import MailSetupError, smtp_password

TIMEOUT = 30.0  # seconds for any one SMTP step
# How a TLS connection is verified: the system's CAs (tests trust their own CA instead).
tls_context: Callable[[], ssl.SSLContext] = ssl.create_default_context

SENT, RETRY, FAILED, BOUNCED, UNKNOWN, SKIPPED = (
    "sent",
    "retry",
    "failed",
    "bounced",
    "unknown",
    "skipped",
)


@dataclass(frozen=True)
class Account:
    host: str
    port: int
    security: str
    username: str
    password: str
    from_address: str
    from_name: str
    reply_to: str

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "fallback.invalid"


def account_for(settings: CommsSettings) -> Account:
    if not settings.smtp_host or not settings.from_address:
        raise MailSetupError(
            "The backup mail account is not set up (server and From address): see Notices → "
            "Settings."
        )
    return Account(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=smtp_password(settings) if settings.smtp_username else "",
        from_address=settings.from_address,
        from_name=settings.from_name,
        reply_to=settings.reply_to,
    )


class HandOverLost(Exception):
    """The hand-over was written down, but the final "." may not have reached the server."""


@dataclass(frozen=True)
class Outcome:
    kind: str
    reply: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == SENT


def message_id(item: OutboxItem, domain: str) -> str:
    """The same for the same item, every time: a person can search a mailbox for it."""
    return f"<fallback.{item.org_id}.{item.notice_id}.{item.pk}@{domain}>"


def _header(value: str) -> str:
    """A header value as it goes on the wire: plain ASCII as is, anything else as RFC 2047
    encoded words (base64, short enough for 78-character lines, none splitting a character)."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    words, chunk = [], ""
    for char in value:
        if len((chunk + char).encode("utf-8")) > 42:  # 56 in base64: a line under 78
            words.append(chunk)
            chunk = ""
        chunk += char
    words.append(chunk)
    encoded = (base64.b64encode(w.encode("utf-8")).decode("ascii") for w in words)
    return "\r\n ".join(f"=?utf-8?b?{e}?=" for e in encoded)


def build(item: OutboxItem, account: Account, msg_id: str) -> bytes:
    """The message as bytes: plain text, UTF-8, quoted-printable.

    Written out by hand rather than through email.message.EmailMessage, whose header
    parsing costs milliseconds a message — more than sending it."""
    headers = [
        f"From: {formataddr((account.from_name, account.from_address), charset='utf-8')}",
        f"To: {formataddr((item.recipient_name or '', item.address), charset='utf-8')}",
        f"Subject: {_header(item.subject)}",
        f"Date: {format_datetime(timezone.now())}",
        f"Message-ID: {msg_id}",
    ]
    if account.reply_to:
        headers.append(f"Reply-To: {account.reply_to}")
    if item.notice_id:  # a notice's message (a confirmation email belongs to none)
        headers.append(f"X-Fallback-Notice: {item.notice_id}")
    if item.is_exercise:
        headers.append("X-Fallback-Exercise: yes")
    if item.unsubscribe_url:
        # RFC 8058: mail programs offer "unsubscribe", one click, a POST to this address.
        headers.append(f"List-Unsubscribe: <{item.unsubscribe_url}>")
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    headers += [
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
    ]
    text = item.body.replace("\r\n", "\n")
    body = quopri.encodestring(text.encode("utf-8")).replace(b"\n", b"\r\n")
    return "\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + body


def _words(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(said.split())}".strip()[:500]


_LEADING_DOT = re.compile(rb"(?m)^\.")


class MailConnection:
    """One SMTP session to the backup account, opened on first use and kept."""

    def __init__(self, account: Account, timeout: float = TIMEOUT) -> None:
        self.account = account
        self.timeout = timeout
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        a = self.account
        context = tls_context()
        smtp: smtplib.SMTP
        if a.security == SmtpSecurity.TLS:
            smtp = smtplib.SMTP_SSL(a.host, a.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(a.host, a.port, timeout=self.timeout)
        try:
            # The message and its final "." go out as two writes (see deliver): without
            # this, Nagle's algorithm holds the "." until the server's delayed ACK (40 ms).
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if a.security == SmtpSecurity.STARTTLS:
                smtp.starttls(context=context)
                smtp.ehlo()
            if a.username:
                smtp.login(a.username, a.password)
        except BaseException:
            self._drop(smtp)
            raise
        self.smtp = smtp
        return smtp

    @staticmethod
    def _drop(smtp: smtplib.SMTP) -> None:
        with contextlib.suppress(Exception):  # closing a broken socket
            smtp.close()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:
                self._drop(self.smtp)
            self.smtp = None

    def abandon(self) -> None:
        """Drop the connection without QUIT (mid-DATA: the server discards the message)."""
        if self.smtp is not None:
            self._drop(self.smtp)
            self.smtp = None

    def _refused(self, smtp: smtplib.SMTP, code: int, reply: bytes, at_rcpt: bool) -> Outcome:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.abandon()
        words = _words(code, reply)
        if 400 <= code < 500:
            return Outcome(RETRY, words)
        return Outcome(BOUNCED if at_rcpt else FAILED, words)

    def deliver(
        self, item: OutboxItem, msg_id: str, hand_over: Callable[[Callable[[], None]], bool]
    ) -> Outcome:
        """Send one message; see the module's docstring for what each outcome means.

        `hand_over(finish)` must write down durably that the message is being handed over,
        then call `finish` (which sends the final ".") at once and return True; or return
        False, without calling it, when the message must not go."""
        payload = build(item, self.account, msg_id)
        reused = self.smtp is not None
        try:
            smtp = self.open()
            try:
                code, reply = smtp.mail(self.account.from_address)
            except (smtplib.SMTPServerDisconnected, OSError):
                if not reused:
                    raise
                # The server closed a connection that sat idle: one fresh try, at once.
                self.abandon()
                smtp = self.open()
                code, reply = smtp.mail(self.account.from_address)
        except smtplib.SMTPAuthenticationError as exc:
            self.abandon()
            words = _words(exc.smtp_code, exc.smtp_error)
            return Outcome(FAILED, f"The mail server refused the login: {words}")
        except (smtplib.SMTPException, OSError) as exc:
            self.abandon()
            where = f"{self.account.host}:{self.account.port}"
            return Outcome(RETRY, f"Cannot talk to {where}: {type(exc).__name__}: {exc}")
        try:
            if code != 250:
                return self._refused(smtp, code, reply, at_rcpt=False)
            code, reply = smtp.rcpt(item.address)
            if code not in (250, 251):
                return self._refused(smtp, code, reply, at_rcpt=True)
            code, reply = smtp.docmd("DATA")
            if code != 354:
                return self._refused(smtp, code, reply, at_rcpt=False)
            body = _LEADING_DOT.sub(b"..", payload)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            smtp.send(body)
        except (smtplib.SMTPException, OSError) as exc:
            self.abandon()
            return Outcome(RETRY, f"{type(exc).__name__}: {exc}")

        def finish() -> None:
            smtp.send(b".\r\n")

        try:
            handed = hand_over(finish)
        except HandOverLost as exc:
            self.abandon()
            return Outcome(UNKNOWN, f"The connection failed as the message was handed over: {exc}")
        if not handed:
            self.abandon()  # never send the ".": the server drops the message
            return Outcome(SKIPPED)
        try:
            code, reply = smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self.abandon()
            return Outcome(
                UNKNOWN,
                f"No answer after the message was handed over: {type(exc).__name__}: {exc}",
            )
        if 200 <= code < 300:
            return Outcome(SENT, _words(code, reply))
        if code == -1:
            self.abandon()
            return Outcome(UNKNOWN, "The connection closed after the message was handed over.")
        return self._refused(smtp, code, reply, at_rcpt=False)


def at_once(finish: Callable[[], None]) -> bool:
    """A hand-over with nothing to write down (a test message): let it go."""
    finish()
    return True


def send_test(settings: CommsSettings, to: str) -> str | None:
    """Send a test message through the backup account now; None when the server took it."""
    try:
        account = account_for(settings)
    except MailSetupError as exc:
        return str(exc)
    item = OutboxItem(
        org_id=settings.org_id,
        notice_id=0,
        pk=0,
        channel="email",
        address=to,
        recipient_name="",
        subject=f"[{settings.org.name}] Test of the backup mail account",
        body=(
            "This is a test from Fallback. When a system goes down, notices to customers, "
            "suppliers and staff go out through this account.\n"
        ),
    )
    connection = MailConnection(account)
    try:
        outcome = connection.deliver(item, message_id(item, account.domain), at_once)
    finally:
        connection.close()
    return None if outcome.ok else f"{outcome.kind}: {outcome.reply}"
