"""Installation health checks, shared by `fallback doctor` (and later the UI)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from fallback.home import SECRET_KEY_FILE

MIN_FREE_BYTES = 200 * 1024**2
WARN_FREE_BYTES = 1024**3
MAX_CLOCK_SKEW_SECONDS = 5.0


class Status(Enum):
    OK = "ok"
    WARN = "warning"
    FAIL = "problem"


@dataclass
class Result:
    name: str
    status: Status
    detail: str
    fix: str = ""


def _home() -> Path:
    return Path(settings.FALLBACK_HOME)


def check_data_folder() -> Result:
    home = _home()
    name = "Data folder"
    if not home.is_dir():
        return Result(name, Status.FAIL, f"{home} does not exist", "run `fallback init`")
    if not os.access(home, os.W_OK):
        return Result(
            name,
            Status.FAIL,
            f"{home} is not writable by this user",
            "chown it to the user that runs Fallback, or set FALLBACK_HOME",
        )
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        return Result(
            name,
            Status.WARN,
            f"{home} is readable by other users (mode {mode:o})",
            f"chmod 700 {home}",
        )
    key = home / SECRET_KEY_FILE
    if key.exists() and stat.S_IMODE(key.stat().st_mode) & 0o077:
        return Result(name, Status.WARN, f"{key} is readable by other users", f"chmod 600 {key}")
    return Result(name, Status.OK, str(home))


def check_database() -> Result:
    name = "Database"
    vendor = connection.vendor
    try:
        connection.ensure_connection()
    except Exception as exc:
        fix = (
            "check DATABASE_URL and that PostgreSQL is running"
            if vendor == "postgresql"
            else "check the data folder is writable"
        )
        return Result(name, Status.FAIL, f"unreachable: {exc}".strip(), fix)
    detail = f"{vendor} reachable"
    if vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
        if str(mode).lower() != "wal":
            return Result(
                name,
                Status.WARN,
                f"SQLite journal mode is {mode}, not WAL",
                "restart Fallback; it switches to WAL on connect",
            )
        detail += " (WAL)"
    return Result(name, Status.OK, detail)


def check_migrations() -> Result:
    name = "Migrations"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return Result(
            name,
            Status.FAIL,
            f"cannot read migration state: {exc}",
            "fix the database problem above first",
        )
    if plan:
        return Result(
            name,
            Status.FAIL,
            f"{len(plan)} migration(s) not applied",
            "run `fallback init` or start `fallback serve` (it migrates on start)",
        )
    return Result(name, Status.OK, "database schema up to date")


def check_worker() -> Result:
    from fallback.runtime.heartbeat import alive_workers

    name = "Background worker"
    try:
        workers = alive_workers()
    except Exception as exc:
        return Result(name, Status.FAIL, f"cannot read heartbeats: {exc}", "fix the database first")
    if not workers:
        return Result(
            name,
            Status.FAIL,
            "no worker has reported in the last 30 seconds",
            "start `fallback serve` (includes a worker) or `fallback worker`",
        )
    names = ", ".join(f"{w.kind} on {w.hostname} (pid {w.pid})" for w in workers)
    return Result(name, Status.OK, f"{len(workers)} alive: {names}")


def check_disk() -> Result:
    name = "Disk space"
    usage = shutil.disk_usage(_home())
    free_mb = usage.free // 1024**2
    if usage.free < MIN_FREE_BYTES:
        return Result(name, Status.FAIL, f"only {free_mb} MB free", "free space on that disk")
    if usage.free < WARN_FREE_BYTES:
        return Result(name, Status.WARN, f"{free_mb} MB free", "free space on that disk soon")
    return Result(name, Status.OK, f"{free_mb // 1024} GB free")


def _ntp_synchronised() -> bool | None:
    try:
        out = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


def check_clock() -> Result:
    name = "Clock"
    now = datetime.now(UTC)
    if now.year < 2025:
        return Result(name, Status.FAIL, f"the clock says {now:%Y-%m-%d}", "set the system clock")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            db_now = cursor.fetchone()[0]
        skew = abs((db_now - datetime.now(UTC)).total_seconds())
        if skew > MAX_CLOCK_SKEW_SECONDS:
            return Result(
                name,
                Status.FAIL,
                f"{skew:.0f} s apart from the database server",
                "enable NTP on both machines",
            )
    synced = _ntp_synchronised()
    if synced is False:
        return Result(
            name,
            Status.WARN,
            "not synchronised with a time server",
            "enable NTP (timedatectl set-ntp true): outage times must be right",
        )
    return Result(name, Status.OK, f"{now:%Y-%m-%d %H:%M:%S} UTC")


CHECKS: list[Callable[[], Result]] = [
    check_data_folder,
    check_database,
    check_migrations,
    check_worker,
    check_disk,
    check_clock,
]


def check_task_round_trip(timeout: float = 15.0) -> Result:
    """Enqueue a ping and wait for a worker to run it: proves tasks flow end to end."""
    import time

    from django.utils.crypto import get_random_string
    from django_tasks import TaskResultStatus

    from fallback.runtime.tasks import ping

    name = "Task round trip"
    nonce = get_random_string(12)
    result = ping.enqueue(nonce)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result.refresh()
        if result.status == TaskResultStatus.SUCCESSFUL:
            host = (result.return_value or {}).get("host", "?")
            return Result(name, Status.OK, f"a worker on {host} ran it")
        if result.status == TaskResultStatus.FAILED:
            return Result(name, Status.FAIL, "the ping task failed", "see the worker's log")
        time.sleep(0.2)
    return Result(
        name,
        Status.FAIL,
        f"no worker ran a task within {timeout:.0f} s",
        "start `fallback serve` or `fallback worker`",
    )


def run_checks(deep: bool = False) -> list[Result]:
    results = [check() for check in CHECKS]
    if deep:
        results.append(check_task_round_trip())
    return results
