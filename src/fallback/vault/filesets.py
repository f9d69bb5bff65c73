"""What goes into a snapshot besides the database: the data folder's keys and uploads, and
the file sets (each path a file or a folder, under files/<set>/<its name>/…).

Everything is listed (and sized) before packing starts, so progress can be shown in bytes; a
path that is missing or unreadable becomes a warning on the snapshot, not a failure: the
database is what must never be missed.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fallback.home import SECRET_KEY_FILE
from fallback.sealing import SEALING_KEY_FILE
from fallback.vault.archive import Entry
from fallback.vault.models import FileSet

HOME_FILES = (SECRET_KEY_FILE, SEALING_KEY_FILE)
HOME_FOLDERS = ("uploads",)


@dataclass
class Listing:
    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)


def excluded(relative: str, patterns: Iterable[str]) -> bool:
    """Does a glob pattern match this path (relative to the set, with '/') or its name?"""
    name = PurePosixPath(relative).name
    return any(fnmatch.fnmatchcase(relative, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _walk(root: Path, prefix: str, excludes: list[str], listing: Listing) -> None:
    """Regular files under `root` as `prefix/…`; symbolic links to folders are not followed."""
    try:
        info = root.stat()
    except OSError as exc:
        listing.warnings.append(f"{root}: not packed ({exc.strerror or exc})")
        return
    if stat.S_ISREG(info.st_mode):
        listing.entries.append(
            Entry(prefix, root, info.st_size, info.st_mtime, stat.S_IMODE(info.st_mode))
        )
        return
    if not stat.S_ISDIR(info.st_mode):
        return
    for folder, dirs, files in os.walk(
        root, onerror=lambda e: listing.warnings.append(f"{e.filename}: not packed ({e.strerror})")
    ):
        here = Path(folder)
        relative_here = here.relative_to(root).as_posix()
        base = prefix if relative_here == "." else f"{prefix}/{relative_here}"
        dirs[:] = sorted(d for d in dirs if not excluded(f"{base}/{d}".split("/", 2)[-1], excludes))
        for name in sorted(files):
            member = f"{base}/{name}"
            if excluded(member.split("/", 2)[-1], excludes):
                continue
            path = here / name
            try:
                file_info = path.stat()
            except OSError as exc:
                listing.warnings.append(f"{path}: not packed ({exc.strerror or exc})")
                continue
            if stat.S_ISREG(file_info.st_mode):
                listing.entries.append(
                    Entry(
                        member,
                        path,
                        file_info.st_size,
                        file_info.st_mtime,
                        stat.S_IMODE(file_info.st_mode),
                    )
                )


def home_entries(home: Path) -> Listing:
    """The data folder's keys (to unseal the connectors' secrets) and uploaded files."""
    listing = Listing()
    for name in HOME_FILES:
        path = home / name
        if path.is_file():
            _walk(path, f"home/{name}", [], listing)
    for name in HOME_FOLDERS:
        path = home / name
        if path.is_dir():
            _walk(path, f"home/{name}", [], listing)
    return listing


def set_entries(file_set: FileSet) -> Listing:
    """files/<set>/<name of each path>/…, minus what the set's globs exclude."""
    listing = Listing()
    excludes = [str(p) for p in file_set.excludes or []]
    for raw in file_set.paths or []:
        path = Path(str(raw)).expanduser()
        if not path.exists():
            listing.warnings.append(
                f"file set {file_set.name}: {path} does not exist (moved, or a disk not mounted?)"
            )
            continue
        _walk(path, f"files/{file_set.name}/{path.name}", excludes, listing)
    return listing


def check_paths(paths: list[str]) -> list[str]:
    """Problems with a file set's paths: relative, or two with the same last name."""
    problems = []
    seen: dict[str, str] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.is_absolute():
            problems.append(f"{raw}: give the full path (starting with / or a drive letter)")
            continue
        name = path.name
        if not name:
            problems.append(f"{raw}: a whole drive cannot be a file set; choose its folders")
            continue
        if name in seen:
            problems.append(f"{raw} and {seen[name]} would both be kept as {name}: rename one")
        seen[name] = raw
    return problems
