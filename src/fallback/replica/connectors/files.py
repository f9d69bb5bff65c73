"""CSV and XLSX exports, dropped in a folder or uploaded: one stream per kind of export.

Each stream takes the newest file matching its pattern, in the configured folder and among
the files uploaded for the connector. An export is complete by nature, so every sync of a
file is a full sweep. A bad row stops nothing silently: its line number reaches the sync,
which holds the data for a person to look at.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fallback.replica.connectors.base import ConnectorKind, FetchContext, FetchError, Stream

PAGE_ROWS = 1000


class FileStream(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    pattern: str = Field(min_length=1, description="File name pattern, e.g. customers*.csv")
    entity: str = "record"
    key: str = Field(min_length=1, description="The column that identifies a row")
    fields: dict[str, Any] = {}
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = Field(default=None, max_length=1)


class FilesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: str | None = Field(
        default=None, description="A folder to watch (on the machine syncing)"
    )
    streams: list[FileStream] = Field(min_length=1)

    @field_validator("folder")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).expanduser().is_absolute():
            raise ValueError(f"must be an absolute path (got {value!r})")
        return value


def candidates(folders: list[Path], pattern: str) -> list[Path]:
    found = [
        p
        for folder in folders
        if folder.is_dir()
        for p in folder.iterdir()
        if p.is_file() and fnmatch.fnmatch(p.name.lower(), pattern.lower())
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def folders(config: Any, ctx: FetchContext) -> list[Path]:
    where = [ctx.uploads]
    if config.folder:
        where.insert(0, Path(config.folder).expanduser())
    return where


class FilesKind(ConnectorKind[FilesConfig]):
    key = "files"
    label = "CSV / XLSX exports"
    description = (
        "Exports from any system, dropped in a folder or uploaded: encoding, BOM and "
        "delimiter detected; bad rows reported by line."
    )
    Config = FilesConfig

    def streams(self, config: FilesConfig) -> list[Stream]:
        return [
            Stream(s.name, {"entity": s.entity, "key": s.key, "fields": s.fields})
            for s in config.streams
        ]

    def fetch(
        self, config: FilesConfig, ctx: FetchContext, stream: Stream, since: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        from fallback.replica import tabular

        spec = next(s for s in config.streams if s.name == stream.name)
        found = candidates(folders(config, ctx), spec.pattern)
        if not found:
            raise FetchError(f"no file matching {spec.pattern!r} to read")
        path = found[-1]
        try:
            table = tabular.open_table(
                path, path.name, sheet=spec.sheet, encoding=spec.encoding, delimiter=spec.delimiter
            )
        except tabular.TabularError as exc:
            raise FetchError(str(exc)) from exc
        page: list[dict[str, Any]] = []
        fetched = 0
        try:
            for _line, row in table.rows():
                page.append(row)
                if len(page) >= PAGE_ROWS:
                    fetched += len(page)
                    yield page
                    page = []
        except (tabular.BadRows, tabular.TabularError) as exc:
            if page:
                yield page
            raise FetchError(str(exc), partial=fetched + len(page) > 0) from exc
        if page:
            yield page
