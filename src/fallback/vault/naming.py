"""Snapshot file names: `fallback-<installation>-<UTC YYYYMMDDTHHMMSSZ>.tar.zst.age`.

The name alone says which installation made a snapshot and when, so a restore on a new box,
with no database at all, can choose one by listing a destination.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

SUFFIX = ".tar.zst.age"
STAMP = "%Y%m%dT%H%M%SZ"
NAME = re.compile(
    r"^fallback-(?P<installation>[a-z0-9][a-z0-9-]*)-(?P<stamp>\d{8}T\d{6}Z)\.tar\.zst\.age$"
)


def snapshot_name(installation: str, at: datetime) -> str:
    return f"fallback-{installation}-{at.astimezone(UTC).strftime(STAMP)}{SUFFIX}"


def parse(name: str) -> tuple[str, datetime] | None:
    """(installation, time) of a snapshot file name; None for any other file."""
    found = NAME.match(name)
    if found is None:
        return None
    try:
        at = datetime.strptime(found["stamp"], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    return found["installation"], at
