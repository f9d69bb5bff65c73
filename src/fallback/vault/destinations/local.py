"""A local folder: a USB disk, a NAS share. Each snapshot is written as `<name>.partial`,
synced to disk, renamed into place and made read-only, with a `<name>.json` sidecar that says
its SHA-256, size and how long it must be kept (so `sha256sum` can check it by hand).

A folder cannot refuse a deletion as S3 Object Lock does: its protection is to be unplugged
and kept elsewhere. Fallback itself never deletes a copy before its recorded retain-until.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from fallback.vault import naming
from fallback.vault.destinations.base import (
    DestinationError,
    ObjectMeta,
    Progress,
    StoredObject,
    Written,
    register,
)
from fallback.vault.models import Destination, Kind

CHUNK = 1 << 20
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
SIDECAR = ".json"
PARTIAL = ".partial"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        path.unlink()


def _write_once(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + PARTIAL)
    _remove(partial)
    with partial.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    partial.chmod(READ_ONLY)
    os.replace(partial, path)


class LocalStore:
    def __init__(self, destination: Destination) -> None:
        self.folder = Path(destination.path).expanduser()
        self.label = (
            f"destination '{destination.name}'" if destination.name else f"folder {self.folder}"
        )

    def _ready(self) -> Path:
        if not self.folder.is_dir():
            raise DestinationError(
                f"{self.label}: the folder {self.folder} does not exist "
                "(is the disk plugged in and mounted?)"
            )
        return self.folder

    def put(self, source: Path, name: str, meta: ObjectMeta, progress: Progress | None) -> Written:
        folder = self._ready()
        final = folder / name
        if final.exists():
            raise DestinationError(
                f"{self.label}: {name} is already there; it is never overwritten"
            )
        partial = folder / (name + PARTIAL)
        _remove(partial)
        try:
            try:
                # Same file system (the spool and the folder on one disk): no second copy.
                os.link(source, partial)
                if progress:
                    progress(meta.size)
            except OSError:
                with source.open("rb") as src, partial.open("wb") as dst:
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)
                        if progress:
                            progress(len(chunk))
            with partial.open("rb") as written:
                os.fsync(written.fileno())
            size = partial.stat().st_size
            if size != meta.size:
                raise DestinationError(
                    f"{self.label}: wrote {size:,} bytes of {name} but the snapshot has "
                    f"{meta.size:,} (is the disk full?)"
                )
            partial.chmod(READ_ONLY)
            os.replace(partial, final)
            sidecar = json.dumps({"name": name, **meta.as_strings()}, indent=1) + "\n"
            _write_once(folder / (name + SIDECAR), sidecar.encode())
            _fsync_dir(folder)
        except OSError as exc:
            _remove(partial)
            raise DestinationError(f"{self.label}: could not write {name}: {exc}") from exc
        return Written(version_id="", size=size, retain_until=meta.retain_until, locked=False)

    def open(self, name: str, version_id: str = "") -> BinaryIO:
        try:
            return (self._ready() / name).open("rb")
        except FileNotFoundError:
            raise DestinationError(f"{self.label}: {name} is not there") from None
        except OSError as exc:
            raise DestinationError(f"{self.label}: could not read {name}: {exc}") from exc

    def _sidecar(self, name: str) -> dict[str, str]:
        try:
            data = json.loads((self.folder / (name + SIDECAR)).read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def listing(self) -> list[StoredObject]:
        folder = self._ready()
        found = []
        try:
            for entry in os.scandir(folder):
                if not entry.is_file() or naming.parse(entry.name) is None:
                    continue
                side = self._sidecar(entry.name)
                found.append(
                    StoredObject(
                        name=entry.name,
                        size=entry.stat().st_size,
                        retain_until=_when(side.get("retain-until")),
                        sha256=side.get("sha256", ""),
                        extra=side,
                    )
                )
        except OSError as exc:
            raise DestinationError(f"{self.label}: could not list {folder}: {exc}") from exc
        return sorted(found, key=lambda o: o.name)

    def lock_until(self, name: str, version_id: str = "") -> datetime | None:
        return _when(self._sidecar(name).get("retain-until"))

    def delete(self, name: str, version_id: str = "") -> None:
        folder = self._ready()
        try:
            _remove(folder / name)
            _remove(folder / (name + SIDECAR))
            _fsync_dir(folder)
        except OSError as exc:
            raise DestinationError(f"{self.label}: could not delete {name}: {exc}") from exc

    def problems(self) -> list[str]:
        if not self.folder.is_dir():
            return [
                f"The folder {self.folder} does not exist (is the disk plugged in and mounted?)."
            ]
        problems = []
        if not os.access(self.folder, os.W_OK):
            problems.append(f"Fallback may not write in {self.folder}: change its permissions.")
        free = shutil.disk_usage(self.folder).free
        if free < 1 << 30:
            problems.append(f"Only {free / (1 << 20):,.0f} MB free in {self.folder}.")
        return problems


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@register(Kind.LOCAL)
def local_store(destination: Destination) -> LocalStore:
    return LocalStore(destination)
