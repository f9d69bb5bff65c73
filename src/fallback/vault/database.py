"""A consistent online copy of the database, and checks that a copy opens.

SQLite: the backup API copies the live database (WAL mode: writers carry on) into a file in
one step, so the copy is one consistent moment; rows are counted in the copy. PostgreSQL:
`pg_dump --format=custom` from a snapshot exported by a REPEATABLE READ transaction in which
the rows are counted too, so the counts and the dump describe the same moment.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
SQLITE_MEMBER = "database/fallback.sqlite3"
PGDUMP_MEMBER = "database/fallback.pgdump"
DUMP_TIMEOUT = 6 * 3600

# The tables whose rows a restore test counts: the records a business needs back first.
KEY_MODELS = (
    "accounts.Organisation",
    "accounts.User",
    "accounts.Membership",
    "monitor.System",
    "incidents.Incident",
    "replica.Connector",
    "replica.Record",
    "replica.KeptFile",
    "desk.Document",
    "desk.WorkNote",
    "audit.AuditEvent",
    "vault.Snapshot",
)


class DatabaseError(Exception):
    """The database could not be copied or a copy does not open; the message says why."""


@dataclass(frozen=True)
class Dump:
    kind: str
    path: Path
    member: str
    row_counts: dict[str, int]


def key_tables() -> list[str]:
    tables = []
    for label in KEY_MODELS:
        try:
            tables.append(apps.get_model(label)._meta.db_table)
        except LookupError:  # an app this installation does not have
            continue
    return tables


def kind() -> str:
    vendor = connection.vendor
    if vendor == "sqlite":
        return SQLITE
    if vendor == "postgresql":
        return POSTGRESQL
    raise DatabaseError(f"the vault cannot copy a {vendor} database")


@contextmanager
def dumped(workdir: Path) -> Iterator[Dump]:
    """The database copied into `workdir`; the file is removed afterwards."""
    with copying(workdir) as copy:
        yield copy.result()


@contextmanager
def copying(workdir: Path) -> Iterator[Future[Dump]]:
    """The database being copied into `workdir` by a thread of its own, so that the caller
    can pack the files meanwhile: `.result()` waits for the copy (and raises DatabaseError if
    it failed). The copy is still one consistent moment, whenever it runs. On the way out the
    copy is waited for, whatever happened, then its file is removed."""
    workdir.mkdir(parents=True, exist_ok=True)
    which = kind()
    target = workdir / ("fallback.sqlite3" if which == SQLITE else "fallback.pgdump")
    target.unlink(missing_ok=True)
    settings = dict(connection.settings_dict)  # read here: Django's connections are per thread
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fallback-vault-db") as pool:
        future = pool.submit(_copy, which, settings, target)
        try:
            yield future
        finally:
            wait([future])
            target.unlink(missing_ok=True)


def _copy(which: str, settings: Mapping[str, Any], target: Path) -> Dump:
    if which == SQLITE:
        counts = _sqlite_backup(Path(str(settings["NAME"])), target)
        return Dump(SQLITE, target, SQLITE_MEMBER, counts)
    counts = _pg_dump(settings, target)
    return Dump(POSTGRESQL, target, PGDUMP_MEMBER, counts)


def size_hint() -> int:
    """About how many bytes the copy will be (SQLite: the file's size; PostgreSQL: unknown,
    0), for progress bars."""
    if kind() != SQLITE:
        return 0
    try:
        return Path(str(connection.settings_dict["NAME"])).stat().st_size
    except OSError:
        return 0


def _sqlite_backup(source: Path, target: Path) -> dict[str, int]:
    if not source.exists():
        raise DatabaseError(f"there is no database at {source}")
    try:
        src = sqlite3.connect(source, timeout=60)
        try:
            dst = sqlite3.connect(target)
            try:
                # A scratch copy, packed and deleted next: no need to wait for the disk.
                dst.execute("PRAGMA synchronous=OFF")
                src.backup(dst)  # all pages in one step: one consistent moment
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                counts = count_sqlite(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"could not copy the SQLite database {source}: {exc}") from exc
    return counts


def count_sqlite(db: sqlite3.Connection) -> dict[str, int]:
    present = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    counts = {}
    for table in key_tables():
        if table in present:
            counts[table] = int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608
    return counts


def pg_environment(settings: Mapping[str, Any]) -> dict[str, str]:
    """libpq's environment for the pg_ tools: the password never on a command line."""
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", settings.get("HOST")),
        ("PGPORT", settings.get("PORT")),
        ("PGUSER", settings.get("USER")),
        ("PGPASSWORD", settings.get("PASSWORD")),
        ("PGDATABASE", settings.get("NAME")),
    ):
        if value:
            env[var] = str(value)
    options = settings.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def _pg_dump(settings: Mapping[str, Any], target: Path) -> dict[str, int]:
    import psycopg

    env = pg_environment(settings)
    try:
        with psycopg.connect(
            host=env.get("PGHOST"),
            port=int(env["PGPORT"]) if env.get("PGPORT") else None,
            user=env.get("PGUSER"),
            password=env.get("PGPASSWORD"),
            dbname=env.get("PGDATABASE"),
            connect_timeout=15,
        ) as db:
            db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            row = db.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            exported = str(row[0])
            present = {
                r[0]
                for r in db.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            }
            counts = {}
            for table in key_tables():
                if table in present:
                    found = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
                    counts[table] = int(found[0]) if found else 0
            # pg_dump reads the very snapshot the rows were counted in (kept open till then).
            done = subprocess.run(  # noqa: S603
                ["pg_dump", "--format=custom", f"--snapshot={exported}", f"--file={target}"],  # noqa: S607
                env=env,
                capture_output=True,
                text=True,
                timeout=DUMP_TIMEOUT,
                check=False,
            )
            db.execute("ROLLBACK")
    except FileNotFoundError as exc:
        raise DatabaseError(
            "pg_dump is not installed (Debian: apt install postgresql-client)"
        ) from exc
    except psycopg.Error as exc:
        raise DatabaseError(f"could not read the PostgreSQL database: {exc}") from exc
    if done.returncode != 0:
        raise DatabaseError(f"pg_dump failed: {done.stderr.strip()[-2000:]}")
    return counts


# ---------------------------------------------------------------------- checks


def check_sqlite(path: Path, expected: dict[str, int]) -> dict[str, int]:
    """Open a restored SQLite file, check its structure, count the key tables' rows and
    compare them with the counts recorded when the snapshot was taken."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA quick_check").fetchone()
            if result is None or result[0] != "ok":
                raise DatabaseError(f"the database is damaged: {result[0] if result else '?'}")
            counts = count_sqlite(db)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"the database does not open: {exc}") from exc
    _compare(counts, expected)
    return counts


TOC_DATA = re.compile(r"^\d+;\s*\d+\s+\d+\s+TABLE DATA\s+\S+\s+(\S+)\s", re.MULTILINE)


def check_pgdump(path: Path, expected: dict[str, int]) -> dict[str, int]:
    """`pg_restore --list` reads the dump's table of contents: every key table that had rows
    must have its data in it. (Counting rows would need a scratch database.)"""
    try:
        done = subprocess.run(  # noqa: S603
            ["pg_restore", "--list", str(path)],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except FileNotFoundError as exc:
        raise DatabaseError("pg_restore is not installed (apt install postgresql-client)") from exc
    if done.returncode != 0:
        raise DatabaseError(f"the dump does not open: {done.stderr.strip()[-1000:]}")
    with_data = set(TOC_DATA.findall(done.stdout))
    missing = [t for t, n in expected.items() if n and t not in with_data]
    if missing:
        raise DatabaseError(f"the dump has no data for {', '.join(sorted(missing))}")
    return {t: n for t, n in expected.items() if t in with_data}


def _compare(counts: dict[str, int], expected: dict[str, int]) -> None:
    differ = [
        f"{table}: {counts.get(table, 0):,} rows, {n:,} when taken"
        for table, n in expected.items()
        if counts.get(table, 0) != n
    ]
    if differ:
        raise DatabaseError("row counts differ from the snapshot's: " + "; ".join(differ))


def restore_pgdump(path: Path, database_url: str) -> None:
    """pg_restore into an empty database (refused when it has tables: never mix two)."""
    import dj_database_url
    import psycopg

    settings = dj_database_url.parse(database_url)
    env = pg_environment(settings)
    try:
        with psycopg.connect(
            host=env.get("PGHOST"),
            port=int(env["PGPORT"]) if env.get("PGPORT") else None,
            user=env.get("PGUSER"),
            password=env.get("PGPASSWORD"),
            dbname=env.get("PGDATABASE"),
            connect_timeout=15,
        ) as db:
            row = db.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchone()
    except psycopg.Error as exc:
        raise DatabaseError(f"could not connect to {settings.get('NAME')}: {exc}") from exc
    if row and row[0]:
        raise DatabaseError(
            f"the database {settings.get('NAME')} already has {row[0]} tables: restore into an "
            "empty database (createdb NAME), so nothing is mixed or overwritten"
        )
    done = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={env.get('PGDATABASE', '')}",
            str(path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=DUMP_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise DatabaseError(f"pg_restore failed: {done.stderr.strip()[-2000:]}")
