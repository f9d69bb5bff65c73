"""The result writer in a process of its own, so the engine's event loop has the interpreter
to itself.

Writing a batch of results is Python work (building rows, binding parameters) as much as
SQLite work; on the engine's database thread it competed with the event loop for the GIL,
and the loop — which does the checking — got only about three quarters of a core. Here a
child process (spawned, so it starts clean) does `results.write_results` and keeps the hour
and day rollups between their writes; the engine's database thread sends it each batch over
a pipe and waits for the status changes back.

If the child dies, the batch in flight fails like a failed database write (the checks run
again at their next interval) and the next batch starts a new child. If the engine's
process dies, the child sees the pipe close and exits.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

# Nothing from Django or the models at import time: the spawned child imports this module
# to find `serve` before Django is set up.
if TYPE_CHECKING:
    from fallback.monitor.results import Result, StatusChange

log = logging.getLogger("fallback.monitor")

START_TIMEOUT = 60.0  # seconds for a child to import Django and answer


class WriterDied(RuntimeError):
    """The writer process went away while writing a batch."""


Row = tuple[int, int, float, str, float | None, str]


def _to_row(r: Result) -> Row:
    return (r.check_id, r.org_id, r.at.timestamp(), r.status, r.response_ms, r.message)


def _from_row(row: Row) -> Result:
    from fallback.monitor.results import Result

    check_id, org_id, at, status, response_ms, message = row
    return Result(check_id, org_id, datetime.fromtimestamp(at, UTC), status, response_ms, message)


class WriterProcess:
    """The engine's handle on its writer child; call from one thread at a time."""

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> Connection:
        from django.db import connection

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        # The child uses this process's database settings: under test, the test database.
        database = dict(connection.settings_dict)
        self._process = context.Process(
            target=serve,
            args=(child, database, os.environ.get("DJANGO_SETTINGS_MODULE", "fallback.settings")),
            name="fallback-result-writer",
            daemon=True,
        )
        self._process.start()
        child.close()
        if not parent.poll(START_TIMEOUT):
            self._stop_child()
            raise WriterDied("the result writer did not start")
        parent.recv()  # "ready"
        self._conn = parent
        return parent

    def start(self) -> None:
        """Start the child now (it takes a second or two), not with the first batch."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> Connection:
        if self._conn is None or self._process is None or not self._process.is_alive():
            self._stop_child()
            return self._start()
        return self._conn

    def _call(self, op: str, payload: Any = None) -> Any:
        with self._lock:
            conn = self._ensure()
            try:
                conn.send((op, payload))
                status, value = conn.recv()
            except (EOFError, OSError) as exc:
                self._stop_child()
                raise WriterDied(f"the result writer stopped: {exc or type(exc).__name__}") from exc
        if status != "ok":
            raise RuntimeError(f"the result writer failed: {value}")
        return value

    def write(self, batch: list[Result]) -> list[StatusChange]:
        from fallback.monitor.results import StatusChange

        changes = self._call("write", [_to_row(r) for r in batch])
        return [
            StatusChange(check_id, system_id, before, after, datetime.fromtimestamp(at, UTC))
            for check_id, system_id, before, after, at in changes
        ]

    def write_coarse(self) -> None:
        self._call("coarse")

    def close(self) -> None:
        """Write what the child holds (the hour and day rollups) and stop it."""
        with self._lock:
            if self._conn is not None and self._process is not None and self._process.is_alive():
                try:
                    self._conn.send(("stop", None))
                    if self._conn.poll(30):
                        self._conn.recv()
                except (EOFError, OSError):
                    pass
            self._stop_child()

    def _stop_child(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
            self._process = None


def serve(conn: Connection, database: dict[str, Any], settings_module: str) -> None:
    """The child: set Django up on the parent's database, then write what it is sent."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django
    from django.conf import settings

    settings.DATABASES = {"default": database}  # before anything opens a connection
    django.setup()
    from django.db import connections

    from fallback.monitor import results, rollups

    coarse = rollups.RollupBatch(rollups.COARSE)
    conn.send("ready")
    while True:
        try:
            op, payload = conn.recv()
        except (EOFError, OSError):  # the engine's process is gone
            break
        try:
            if op == "write":
                changes = results.write_results([_from_row(row) for row in payload], coarse)
                conn.send(
                    (
                        "ok",
                        [
                            (c.check_id, c.system_id, c.before, c.after, c.at.timestamp())
                            for c in changes
                        ],
                    )
                )
            elif op in ("coarse", "stop"):
                rollups.write(coarse)
                conn.send(("ok", None))
                if op == "stop":
                    break
            else:
                conn.send(("error", f"unknown operation {op!r}"))
        except Exception as exc:
            log.exception("the result writer could not %s", op)
            connections.close_all()  # the next batch starts on a fresh connection
            try:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
            except (EOFError, OSError):
                break
    connections.close_all()
