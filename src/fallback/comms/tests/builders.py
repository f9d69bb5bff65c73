"""Shared by the comms tests: replica records put straight into the database, an incident,
and a ready organisation with a backup mail account on a loopback SMTP sink."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.comms import preferences
from fallback.incidents import lifecycle
from fallback.incidents.models import Incident
from fallback.replica.models import Connector, Record


def connector_for(org: Organisation) -> Connector:
    connector, _ = Connector.objects.get_or_create(
        org=org, slug="comms-test", defaults={"name": "Test export", "kind": "files"}
    )
    return connector


def put_records(
    org: Organisation, entity: str, rows: list[dict[str, Any]], at: datetime | None = None
) -> list[Record]:
    """Current replica records of `entity`, one per row (`key` plus the data)."""
    connector = connector_for(org)
    at = at or timezone.now()
    made = []
    for row in rows:
        key = str(row["key"])
        data = {k: v for k, v in row.items() if k != "key"}
        made.append(
            Record(
                org=org,
                connector=connector,
                stream=f"{entity}s",
                entity=entity,
                key=key,
                name=str(data.get("name") or data.get("number") or key),
                data=data,
                digest=hashlib.md5(json.dumps(data, sort_keys=True).encode()).hexdigest(),
                valid_from=at,
            )
        )
    return Record.objects.bulk_create(made, batch_size=1000)


def declare(
    org: Organisation, by: Any = None, systems: list[Any] | None = None, **kw: Any
) -> Incident:
    return lifecycle.declare_manually(
        org, systems or [], kw.pop("title", "CloudCRM is down"), by, **kw
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """An aiosmtpd server on loopback that keeps every message; `refuse` maps an address to
    the reply its RCPT gets (e.g. "550 No such user")."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}
        self.data_reply: str | None = None
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def recipients(self) -> Counter[str]:
        with self.lock:
            return Counter(r for _, rcpts, _ in self.messages for r in rcpts)


@contextmanager
def sink() -> Iterator[Sink]:
    s = Sink()
    s.controller.start()
    try:
        yield s
    finally:
        s.controller.stop()


def mail_setup(org: Organisation, port: int, **extra: Any) -> None:
    fields = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "from_address": "notices@backup.example",
        "from_name": org.name,
        "phone_numbers": "01632 960123",
        "backup_email": "help@backup.example",
        "usual_email": "office@hartley.example",
        "email_per_second": 1000.0,
    }
    fields.update(extra)
    preferences.update_settings(org, **fields)
