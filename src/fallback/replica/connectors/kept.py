"""Plain files kept versioned as they are: document templates, an accounting company file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fallback.replica.connectors.base import ConnectorKind, FetchContext, KeptSource, Stream
from fallback.replica.connectors.files import candidates, folders


class KeptConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: str | None = Field(
        default=None, description="A folder to watch (on the machine syncing)"
    )
    patterns: list[str] = Field(
        default=["*"], min_length=1, description="File name patterns to keep"
    )
    max_size_mb: int = Field(default=200, ge=1, le=2048)

    @field_validator("folder")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).expanduser().is_absolute():
            raise ValueError(f"must be an absolute path (got {value!r})")
        return value


class KeptFilesKind(ConnectorKind[KeptConfig]):
    key = "kept_files"
    label = "Plain files to keep"
    description = "Files kept as they are, every version: templates, an accounting company file."
    Config = KeptConfig
    keeps_files = True

    def streams(self, config: KeptConfig) -> list[Stream]:
        return [Stream("files", {"entity": "record", "key": "path"})]

    def kept_files(self, config: KeptConfig, ctx: FetchContext) -> Iterator[KeptSource]:
        seen: set[str] = set()
        for pattern in config.patterns:
            for path in reversed(candidates(folders(config, ctx), pattern)):
                if path.name in seen:
                    continue  # the newest of the same name, folder or upload
                seen.add(path.name)
                yield KeptSource(path.name, path, path.stat().st_mtime)
