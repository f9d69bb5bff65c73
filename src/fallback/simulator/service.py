"""The simulated cloud's state, shared by its handlers: mode, faults, business, credentials,
the mail its SMTP sink received."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web

from fallback.simulator.business import Business
from fallback.simulator.faults import Faults
from fallback.simulator.mailbox import Mailbox

Mode = Literal["up", "down", "slow"]
MODES: tuple[Mode, ...] = ("up", "down", "slow")
NAME = "CloudCRM"
SLOW_SECONDS = 2.5
ALERTS_KEPT = 200


@dataclass
class Alert:
    at: datetime
    title: str
    message: str
    type: str


@dataclass(frozen=True)
class Credentials:
    """What the dialects accept; the defaults are the documented demo credentials."""

    shopify_token: str = "shpat_demo"
    hubspot_token: str = "pat-demo"
    quickbooks_client_id: str = "demo-client"
    quickbooks_client_secret: str = "demo-secret"
    quickbooks_refresh_token: str = "demo-refresh"


@dataclass
class Service:
    """The simulated service's state, shared by its handlers."""

    mode: Mode = "up"
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    alerts: deque[Alert] = field(default_factory=lambda: deque(maxlen=ALERTS_KEPT))
    slow_seconds: float = SLOW_SECONDS
    business: Business = field(default_factory=Business)
    faults: Faults = field(default_factory=Faults)
    credentials: Credentials = field(default_factory=Credentials)
    # (dialect, entity, index, version) → the record's JSON: see api.rendered
    rendered: dict[tuple[str, str, int, int], bytes] = field(default_factory=dict)
    # the SMTP sink's messages; its faults are the service's
    mailbox: Mailbox = field(init=False)

    def __post_init__(self) -> None:
        self.mailbox = Mailbox(self.faults)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
        if mode != self.mode:
            self.mode = mode  # type: ignore[assignment]  # checked against MODES above
            self.since = datetime.now(UTC)

    def state(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "mode": self.mode,
            "since": self.since.isoformat(timespec="seconds"),
            "alerts": len(self.alerts),
            "faults": self.faults.active(),
            "business": self.business.describe(),
            "mail": self.mailbox.state(),
        }


SERVICE = web.AppKey("service", Service)


def service_of(request: web.Request) -> Service:
    return request.app[SERVICE]
