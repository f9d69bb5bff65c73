"""Rebuilding a data folder from a snapshot.

The real case is a dead box: no database, only a destination and the private key from the
binder. So the snapshot is chosen by listing the destination (names carry the installation
and the time), not from the database — though the database's destinations can be named when
it is there. The newest snapshot at or before the chosen time is fetched, decrypted and
unpacked into a staging folder inside the target; every member is checked against the
manifest and the database is opened before anything is moved into place. A failed restore
leaves the target as it was.

The restored folder holds the database (fallback.sqlite3), the keys (secret_key,
sealing.key) and uploads, as a data folder does, plus the file sets under restored-files/
to copy back by hand. A PostgreSQL dump is restored into an empty database with pg_restore.
Then `fallback --home DIR serve` runs the desk from it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from fallback.home import DATABASE_FILE, SECRET_KEY_FILE
from fallback.sealing import SEALING_KEY_FILE
from fallback.vault import database, naming
from fallback.vault.archive import COPY_BUFFER, ArchiveError, MemberStream, unpack
from fallback.vault.database import DatabaseError
from fallback.vault.destinations import DestinationError, Store, open_store
from fallback.vault.models import Destination, Kind
from fallback.vault.progress import Quiet, Reporter

RESTORED_FILES = "restored-files"
RECORD = "restored-from.json"
# What a data folder that has never been used may already hold (made on first start).
FRESH_HOME = frozenset({SECRET_KEY_FILE, SEALING_KEY_FILE, "vault-spool", "vault-verify"})


class RestoreProblem(Exception):
    """The restore cannot be done or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Candidate:
    name: str
    installation: str
    taken_at: datetime
    store: Store
    version_id: str = ""
    size: int | None = None
    sha256: str = ""


@dataclass
class Restored:
    candidate: Candidate
    target: Path
    db_kind: str
    row_counts: dict[str, int]
    files: int
    warnings: list[str] = field(default_factory=list)
    pgdump: Path | None = None  # a PostgreSQL dump left for the user to pg_restore


def parse_time(text: str, zone: str | None = None) -> datetime:
    """ "now", or an ISO date/time; without an offset, in the installation's time zone.
    A date alone means the end of that day (the state as it was on that day)."""
    text = text.strip()
    tz = ZoneInfo(zone or settings.TIME_ZONE)
    if text.lower() in {"now", "latest"}:
        return timezone.now()
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            return datetime.combine(day, time(23, 59, 59), tzinfo=tz)
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RestoreProblem(
            f"{text!r} is not a time: give e.g. 2026-11-20, 2026-11-20T14:30, "
            "2026-11-20T14:30Z or now"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=tz)


def has_database() -> bool:
    """Is there a database to read destinations and kept keys from? (Never creates one:
    merely connecting would make an empty SQLite file in the data folder.)"""
    from django.db import DatabaseError as DjangoDatabaseError
    from django.db import connection

    if connection.vendor == "sqlite":
        path = Path(str(connection.settings_dict["NAME"]))
        if not path.is_file() or path.stat().st_size == 0:
            return False
    try:
        Destination.objects.exists()
    except DjangoDatabaseError:
        return False
    return True


def store_for(source: str, endpoint_url: str = "", region: str = "") -> Store:
    """A destination's name (from the database), a folder, or s3://bucket/prefix."""
    if source.startswith("s3://"):
        bucket, _, prefix = source[5:].partition("/")
        if not bucket:
            raise RestoreProblem(f"{source}: give the bucket, e.g. s3://my-backups/fallback")
        return open_store(
            Destination(
                name="",
                kind=Kind.S3,
                bucket=bucket,
                prefix=prefix,
                endpoint_url=endpoint_url,
                region=region,
            )
        )
    if "/" in source or source.startswith(("~", ".")) or Path(source).is_dir():
        return open_store(
            Destination(name="", kind=Kind.LOCAL, path=str(Path(source).expanduser()))
        )
    destination = Destination.objects.filter(name=source).first() if has_database() else None
    if destination is None:
        raise RestoreProblem(
            f"{source!r} is neither a destination of this installation, nor a folder, nor "
            "an s3://bucket/prefix address"
        )
    return open_store(destination)


def known_stores() -> list[Store]:
    """The database's destinations, when there is a database."""
    if not has_database():
        return []
    return [open_store(d) for d in Destination.objects.filter(enabled=True).order_by("name")]


def choose(at: datetime, stores: list[Store], installation: str = "") -> Candidate:
    """The newest snapshot at or before `at` on any of `stores`."""
    found: list[Candidate] = []
    problems = []
    for store in stores:
        try:
            listing = store.listing()
        except DestinationError as exc:
            problems.append(str(exc))
            continue
        for obj in listing:
            parsed = naming.parse(obj.name)
            if parsed is None or (installation and parsed[0] != installation):
                continue
            if parsed[1] <= at:
                found.append(
                    Candidate(
                        name=obj.name,
                        installation=parsed[0],
                        taken_at=parsed[1],
                        store=store,
                        version_id=obj.version_id,
                        size=obj.size,
                        sha256=obj.sha256,
                    )
                )
    if not found:
        where = ", ".join(s.label for s in stores) or "no destination"
        detail = f" ({'; '.join(problems)})" if problems else ""
        raise RestoreProblem(f"No snapshot at or before {at:%Y-%m-%d %H:%M %Z} in {where}{detail}.")
    installations = {c.installation for c in found}
    if len(installations) > 1 and not installation:
        raise RestoreProblem(
            "Snapshots of several installations are there ("
            + ", ".join(sorted(installations))
            + "): say which with --installation."
        )
    return max(found, key=lambda c: (c.taken_at, c.name))


def _check_target(target: Path, into_home: bool) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise RestoreProblem(f"{target} is a file: restore into a folder")
    present = {p.name for p in target.iterdir()}
    if into_home:
        if DATABASE_FILE in present:
            raise RestoreProblem(
                f"The data folder {target} already has a database: restore into another folder "
                "(--to DIR), so that nothing is overwritten."
            )
        present -= FRESH_HOME
    if present:
        listed = ", ".join(sorted(present)[:5])
        raise RestoreProblem(
            f"{target} is not empty ({listed}…): restore into a new or empty folder, so that "
            "nothing is overwritten."
        )


def _place(name: str) -> PurePosixPath:
    """Where a member goes in the restored folder; refuses anything that would escape it."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise RestoreProblem(f"the snapshot holds an unsafe name: {name!r}")
    top, rest = path.parts[0], path.parts[1:]
    if name == database.SQLITE_MEMBER:
        return PurePosixPath(DATABASE_FILE)
    if name == database.PGDUMP_MEMBER:
        return PurePosixPath("fallback.pgdump")
    if top == "home" and rest:
        return PurePosixPath(*rest)
    if top == "files" and rest:
        return PurePosixPath(RESTORED_FILES, *rest)
    return PurePosixPath("restored-other", *path.parts)


def restore(
    candidate: Candidate,
    target: Path,
    identities: list[Any],
    *,
    database_url: str = "",
    into_home: bool = False,
    reporter: Reporter | None = None,
) -> Restored:
    reporter = reporter or Quiet()
    target = target.expanduser().resolve()
    _check_target(target, into_home)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = target / f".restoring-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    written = 0
    try:

        def write(name: str, stream: MemberStream) -> None:
            nonlocal written
            if name == "README.txt":
                return
            place = staging / _place(name)
            place.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with place.open("xb") as out:
                while chunk := stream.read(COPY_BUFFER):
                    out.write(chunk)
            if place.parent == staging:
                place.chmod(0o600)
            written += 1

        reporter.start(f"Restoring {candidate.name}", candidate.size or 0)
        try:
            with candidate.store.open(candidate.name, candidate.version_id) as source:
                unpacked = unpack(source, identities, write, progress=reporter.advance)
        except (ArchiveError, DestinationError) as exc:
            raise RestoreProblem(f"{candidate.name} from {candidate.store.label}: {exc}") from exc
        problems = unpacked.problems()
        if candidate.sha256 and unpacked.sha256 != candidate.sha256:
            problems.insert(0, "the file's SHA-256 differs from the one recorded when written")
        if problems:
            raise RestoreProblem(
                f"{candidate.name} from {candidate.store.label} is damaged: "
                + "; ".join(problems[:5])
            )
        manifest = unpacked.manifest
        expected = {str(k): int(v) for k, v in manifest.get("row_counts", {}).items()}
        db_kind = str(manifest.get("db_kind", ""))
        pgdump = None
        try:
            if (staging / DATABASE_FILE).exists():
                counts = database.check_sqlite(staging / DATABASE_FILE, expected)
            elif (staging / "fallback.pgdump").exists():
                counts = database.check_pgdump(staging / "fallback.pgdump", expected)
                if database_url:
                    database.restore_pgdump(staging / "fallback.pgdump", database_url)
                    (staging / "fallback.pgdump").unlink()
                else:
                    pgdump = target / "fallback.pgdump"
            else:
                raise RestoreProblem(f"{candidate.name} holds no database")
        except DatabaseError as exc:
            raise RestoreProblem(f"{candidate.name}: {exc}") from exc
        (staging / RECORD).write_text(
            json.dumps(
                {
                    "snapshot": candidate.name,
                    "taken_at": candidate.taken_at.isoformat(),
                    "from": candidate.store.label,
                    "restored_at": timezone.now().isoformat(),
                    "db_kind": db_kind,
                    "row_counts": counts,
                    "warnings": manifest.get("warnings", []),
                },
                indent=1,
            )
            + "\n"
        )
        for entry in staging.iterdir():
            # Into a fresh data folder, its keys made on first start (protecting nothing
            # yet) are replaced by the snapshot's: os.replace overwrites files.
            os.replace(entry, target / entry.name)
        target.chmod(0o700)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
    return Restored(
        candidate=candidate,
        target=target,
        db_kind=db_kind,
        row_counts=counts,
        files=written,
        warnings=[str(w) for w in manifest.get("warnings", [])],
        pgdump=pgdump,
    )
