"""What the presets for known services share: the lists they offer and their default mappings.

A preset is a REST connector whose endpoints, pagination and mappings are filled in; the
person gives the address and the credentials, and may override any field of a mapping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fallback.replica.connectors.base import ConnectorKind, FetchContext, Stream
from fallback.replica.connectors.rest import read_pages


class PresetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    streams: list[str] | None = Field(default=None, description="The lists to copy (default: all)")
    page_size: int | None = Field(default=None, ge=1, le=1000)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError(f"must be an http:// or https:// address (got {value!r})")
        return value.rstrip("/") + "/"


class PresetKind(ConnectorKind[Any]):
    """Subclasses set STREAMS (name → Stream), and how one stream is read."""

    STREAMS: ClassVar[dict[str, Stream]]
    incremental = True

    def streams(self, config: Any) -> list[Stream]:
        chosen = config.streams or list(self.STREAMS)
        unknown = [n for n in chosen if n not in self.STREAMS]
        if unknown:
            known = ", ".join(self.STREAMS)
            raise ValueError(f"{self.label} has no list {unknown[0]!r} (lists: {known})")
        return [self.STREAMS[n] for n in chosen]

    def read(
        self, client: dict[str, Any], endpoint: dict[str, Any], stream: Stream, ctx: FetchContext
    ) -> Iterator[list[dict[str, Any]]]:
        return read_pages(client, endpoint, stream.name, ctx)

    def fetch(
        self, config: Any, ctx: FetchContext, stream: Stream, since: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        raise NotImplementedError
