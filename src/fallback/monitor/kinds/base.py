"""What every check kind shares: its outcome, the context it runs in, its base class.

A kind is stateless: the engine validates a check's config once (`registry.validate_config`)
and calls `run(config, ctx)` for every run, with one aiohttp session shared by all checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from fallback.monitor.models import State

if TYPE_CHECKING:
    import aiohttp

ConfigT = TypeVar("ConfigT", bound=BaseModel)


@dataclass(slots=True)
class Outcome:
    """What one run saw. `status` is State.UP, DEGRADED, DOWN or UNKNOWN."""

    status: State
    response_ms: float | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RunContext:
    """Everything a run needs besides its config.

    `created_at` (the check's creation time) lets a heartbeat that was never pinged go down
    once a whole period and grace have passed; without it such a heartbeat stays unknown.
    """

    session: aiohttp.ClientSession
    timeout: float
    now: datetime
    last_ping_at: datetime | None = None
    resolver_nameservers: list[str] | None = None  # "ip" or "ip:port"; tests point DNS here
    created_at: datetime | None = None


class InvalidCheckConfig(ValueError):
    """A check definition that cannot be used.

    `errors` lists (field path, plain message), the path relative to the check definition:
    "kind", "config", "config.url", "config.json_condition.path", "config.expected_status[1]".
    `locs` holds the same places as tuples, e.g. ("config", "expected_status", 1), for a
    caller that maps them onto lines of a config file.
    """

    def __init__(
        self, errors: list[tuple[str, str]], locs: list[tuple[str | int, ...]] | None = None
    ) -> None:
        self.errors = errors
        self.locs = locs if locs is not None else [_loc(path) for path, _ in errors]
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


def _loc(path: str) -> tuple[str | int, ...]:
    """ "config.expected_status[1]" -> ("config", "expected_status", 1)."""
    return tuple(int(index) if index else name for name, index in _PATH_PART.findall(path))


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class CheckKind(Generic[ConfigT]):
    """One way of watching a system. Subclasses set the class attributes and `run`."""

    key: ClassVar[str]
    label: ClassVar[str]
    Config: type[ConfigT]
    # A passive kind makes no network call: it judges from ctx.last_ping_at and ctx.now.
    passive: ClassVar[bool] = False

    async def run(self, config: ConfigT, ctx: RunContext) -> Outcome:
        raise NotImplementedError

    def next_due(
        self, config: ConfigT, last_ping_at: datetime | None, now: datetime
    ) -> datetime | None:
        """When the check next needs a run regardless of its interval; None: on interval."""
        return None

    def __repr__(self) -> str:
        return f"<check kind {self.key}>"


def duration_text(seconds: float) -> str:
    """A duration as people say it: "850 ms", "2.4 s", "1 min 30 s", "1 h 5 min", "3 days"."""
    if seconds <= 0:
        return "0 s"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f}".removesuffix(".0") + " s"
    whole = round(seconds)
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = round(whole / 60)
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(round(minutes / 60), 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def clip(text: str, limit: int = 120) -> str:
    """Untrusted text (a server's answer, an error) kept short enough for a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
