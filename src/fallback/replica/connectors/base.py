"""What every connector kind shares: its streams, how it fetches pages, its base class.

A kind is stateless. For each stream (a source's list of customers, products, …) it yields
pages of source records; the sync maps, stages and checks them (fallback.replica.sync).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

ConfigT = TypeVar("ConfigT", bound=BaseModel)


@dataclass(frozen=True)
class Stream:
    """One list a source offers, and how its records map by default."""

    name: str
    mapping: dict[str, Any]  # entity, key, fields (fallback.replica.mapping)
    cursor: str | None = None  # path of the record's "last changed" value, for incremental sync


@dataclass(frozen=True)
class FetchContext:
    """What a fetch needs besides the config: the secrets, where files are, progress."""

    secrets: dict[str, str]
    home: Path
    uploads: Path  # files uploaded through the UI for this connector
    progress: Any = None  # called with the number of records fetched so far


class FetchError(Exception):
    """The source could not be read; `partial` when some pages had already come."""

    def __init__(self, message: str, *, partial: bool = False) -> None:
        self.partial = partial
        super().__init__(message)


@dataclass
class KeptSource:
    """A plain file to keep versioned."""

    path: str  # as the user knows it, relative to the connector's folder
    local: Path
    modified: float | None = None


@dataclass
class Secret:
    name: str
    label: str
    help: str = ""


class ConnectorKind(Generic[ConfigT]):
    """One way of reading records. Subclasses set the class attributes and `fetch`."""

    key: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    Config: type[ConfigT]
    secrets: ClassVar[tuple[Secret, ...]] = ()
    incremental: ClassVar[bool] = False  # can fetch only what changed since a cursor
    keeps_files: ClassVar[bool] = False  # keeps plain files instead of records

    def streams(self, config: ConfigT) -> list[Stream]:
        raise NotImplementedError

    def fetch(
        self, config: ConfigT, ctx: FetchContext, stream: Stream, since: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of source records; `since` (a cursor value) asks for changes only."""
        raise NotImplementedError

    def supports_since(self, config: ConfigT, stream: Stream) -> bool:
        """Can this stream be read incrementally (changes since a cursor)?"""
        return self.incremental and stream.cursor is not None

    def kept_files(self, config: ConfigT, ctx: FetchContext) -> Iterator[KeptSource]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key!r}>"
