"""Periodic jobs run by `fallback serve` and `fallback worker`.

Each app registers its jobs here; later ones (check runner, sync scheduler…) claim their due
rows from the database, so running several workers never does the same work twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections, connections

log = logging.getLogger("fallback.schedulers")


@dataclass
class Job:
    name: str
    every: float  # seconds between runs
    run: Callable[[], object]
    next_at: float = field(default=0.0)


_REGISTRY: dict[str, Job] = {}


def register(name: str, every: float) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def decorator(fn: Callable[[], object]) -> Callable[[], object]:
        _REGISTRY[name] = Job(name=name, every=every, run=fn)
        return fn

    return decorator


def registered() -> list[Job]:
    return list(_REGISTRY.values())


class SchedulerLoop(threading.Thread):
    """Runs each job on its interval until `stop()`; a failing job is logged, not fatal."""

    def __init__(self, jobs: list[Job], tick: float = 0.5) -> None:
        super().__init__(name="fallback-schedulers", daemon=True)
        self.jobs = [Job(j.name, j.every, j.run) for j in jobs]
        self.tick = tick
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            now = time.monotonic()
            for job in self.jobs:
                if now >= job.next_at and not self._stop_event.is_set():
                    job.next_at = now + job.every
                    close_old_connections()
                    try:
                        job.run()
                    except Exception:
                        log.exception("scheduled job %s failed", job.name)
            self._stop_event.wait(self.tick)
        # This thread's connection must not outlive it (PostgreSQL counts open sessions).
        connections.close_all()
