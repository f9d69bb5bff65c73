"""Who is acting right now, so domain code can record the actor without passing it around."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fallback.audit.models import Via


@dataclass(frozen=True)
class Actor:
    user: Any  # accounts.User or None for Fallback itself
    via: str

    @property
    def label(self) -> str:
        if self.user is not None and getattr(self.user, "is_authenticated", False):
            return str(self.user.email)
        return {"cli": "command line", "system": "Fallback"}.get(self.via, self.via)


SYSTEM = Actor(user=None, via=Via.SYSTEM)
_current: ContextVar[Actor] = ContextVar("fallback_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


@contextmanager
def acting_as(user: Any, via: str) -> Iterator[Actor]:
    actor = Actor(user=user, via=via)
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def set_actor(user: Any, via: str) -> None:
    """Set the actor for the rest of the current context (e.g. an API request)."""
    _current.set(Actor(user=user, via=via))
