"""What a destination kind does: write a snapshot once, read it back, list, look up its
lock, delete (only what is past its lock), and say what is wrong with its set-up.

Kinds register themselves (`register`); `open_store(destination)` gives the store of a
configured Destination row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from fallback.vault.models import Destination

Progress = Callable[[int], None]


class DestinationError(Exception):
    """A destination could not do what was asked; the message says why, in plain words."""


@dataclass(frozen=True)
class ObjectMeta:
    """What is written next to a snapshot (S3 object metadata, a local sidecar file)."""

    sha256: str
    size: int
    taken_at: datetime
    retain_until: datetime
    installation: str
    fallback_version: str
    db_kind: str

    def as_strings(self) -> dict[str, str]:
        return {
            "sha256": self.sha256,
            "size": str(self.size),
            "taken-at": self.taken_at.isoformat(),
            "retain-until": self.retain_until.isoformat(),
            "installation": self.installation,
            "fallback-version": self.fallback_version,
            "db-kind": self.db_kind,
        }


@dataclass(frozen=True)
class Written:
    version_id: str
    size: int
    retain_until: datetime
    locked: bool  # the destination itself refuses deletion until retain_until


@dataclass(frozen=True)
class StoredObject:
    name: str
    size: int
    version_id: str = ""
    retain_until: datetime | None = None
    sha256: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Store(Protocol):
    label: str  # "destination 'usb'" or a location, for messages

    def put(self, source: Path, name: str, meta: ObjectMeta, progress: Progress | None) -> Written:
        """Write `source` as `name`, once; atomic: a half-written object is never listed."""
        ...

    def open(self, name: str, version_id: str = "") -> BinaryIO:
        """A stream of the object's bytes (the caller closes it)."""
        ...

    def listing(self) -> list[StoredObject]:
        """The snapshots stored here (any installation), each with what is known of it."""
        ...

    def lock_until(self, name: str, version_id: str = "") -> datetime | None:
        """Until when the object may not be deleted, as the destination knows it."""
        ...

    def delete(self, name: str, version_id: str = "") -> None: ...

    def problems(self) -> list[str]:
        """What stops this destination from keeping snapshots safely, in plain words."""
        ...


Factory = Callable[["Destination"], Store]
_KINDS: dict[str, Factory] = {}


def register(kind: str) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        _KINDS[kind] = factory
        return factory

    return decorator


def open_store(destination: Destination) -> Store:
    try:
        factory = _KINDS[destination.kind]
    except KeyError:
        raise DestinationError(f"unknown destination kind {destination.kind!r}") from None
    return factory(destination)
