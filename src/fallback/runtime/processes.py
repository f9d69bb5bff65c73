"""The long-running processes: `serve` (web + worker + schedulers) and `worker`.

Both stop cleanly on SIGTERM or Ctrl-C: no new task is claimed, the running one finishes,
the heartbeat is marked stopped.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from types import FrameType

from django.core.management import call_command
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker

from fallback.comms.sender import SenderThread
from fallback.monitor.runner import EngineThread
from fallback.runtime import heartbeat, housekeeping, schedulers  # noqa: F401  (registers jobs)

log = logging.getLogger("fallback.runtime")

HEARTBEAT_EVERY = 5.0


def migrate() -> None:
    """Bring the database schema up to date (idempotent, fast when nothing to do)."""
    call_command("migrate", interactive=False, verbosity=0)


class Background:
    """The task worker, scheduler and check engine threads of one process."""

    def __init__(self, kind: str, task_interval: float = 1.0) -> None:
        self.kind = kind
        self.worker_id = heartbeat.new_worker_id()
        self.task_worker = Worker(
            queue_names=["*"],
            interval=task_interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id[:64],
            excluded_queue_names=[],
        )
        self.task_thread = threading.Thread(
            target=self._run_tasks, name="fallback-tasks", daemon=True
        )
        jobs = schedulers.registered()
        jobs.append(
            schedulers.Job(
                "heartbeat", HEARTBEAT_EVERY, lambda: heartbeat.beat(self.worker_id, kind)
            )
        )
        self.scheduler = schedulers.SchedulerLoop(jobs)
        self.engine = EngineThread(self.worker_id, writer="process")
        # Notices to customers: the outbox sender (fallback.comms.sender).
        self.outbox = SenderThread(self.worker_id)

    def _run_tasks(self) -> None:
        try:
            self.task_worker.run()
        finally:
            connections.close_all()

    def start(self) -> None:
        heartbeat.beat(self.worker_id, self.kind)
        self.task_thread.start()
        self.scheduler.start()
        self.engine.start()
        self.outbox.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.task_worker.running = False
        self.scheduler.stop()
        self.engine.stop()
        self.outbox.stop()
        self.task_thread.join(timeout)
        self.scheduler.join(timeout)
        self.engine.join(timeout)
        self.outbox.join(timeout)
        heartbeat.stopped(self.worker_id)


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.strsignal(signum))
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while not stop.wait(1.0):
        pass


def settle_memory() -> None:
    """Move what start-up made (modules, templates, URL patterns, fonts) out of the garbage
    collector's reach: it lives as long as the process, and walking it in every full
    collection paused every thread for ~70 ms (a request's p95 under load)."""
    gc.collect()
    gc.freeze()


def run_worker() -> None:
    migrate()
    background = Background("worker")
    background.start()
    settle_memory()
    log.info("worker %s started", background.worker_id)
    try:
        wait_for_stop_signal()
    finally:
        background.stop()
    log.info("worker stopped")


def run_serve(host: str, port: int, with_background: bool = True) -> None:
    from waitress.server import create_server

    from fallback.wsgi import application

    migrate()
    server = create_server(application, host=host, port=port, threads=8, ident="Fallback")
    web = threading.Thread(target=server.run, name="fallback-web", daemon=True)
    background = Background("serve") if with_background else None
    if background:
        background.start()
    web.start()
    # The first PDF of a process pays for loading fonts (seconds): pay it now, not during
    # the first invoice someone prints in an outage.
    from fallback.desk import printing

    printing.warm_in_background(then=settle_memory)
    log.info("serving on http://%s:%s/", host, port)
    try:
        wait_for_stop_signal()
    finally:
        server.close()
        if background:
            background.stop()
    log.info("stopped")
