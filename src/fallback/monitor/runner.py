"""The thread that owns the check engine's asyncio loop inside `fallback serve` and `worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from fallback.monitor import rollups  # noqa: F401  (registers the pruning job)
from fallback.monitor.engine import Engine, wait_for_event

log = logging.getLogger("fallback.monitor")

RESTART_DELAY = 5.0  # seconds before the engine starts again after an unexpected crash


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it exists (Linux, macOS): the engine spends most of its time
    in the loop's transport code, which uvloop does in C. Otherwise asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class EngineThread(threading.Thread):
    """Runs `Engine.run` on its own event loop until `stop()`."""

    def __init__(self, worker_id: str, **options: Any) -> None:
        super().__init__(name="fallback-engine", daemon=True)
        self.engine = Engine(worker_id, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._stopping = False

    def run(self) -> None:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._ready.set()
        if self._stopping:  # stop() came before the loop existed
            self._stop_event.set()
        while not self._stop_event.is_set():
            try:
                await self.engine.run(self._stop_event)
            except Exception:
                log.exception("check engine crashed; restarting in %s s", RESTART_DELAY)
                await wait_for_event(self._stop_event, RESTART_DELAY)

    def stop(self) -> None:
        """Ask the engine to stop (thread-safe); `join()` waits for running checks to finish."""
        self._stopping = True
        if self._ready.is_set() and self._loop is not None and self._stop_event is not None:
            # RuntimeError: the loop has already finished.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop_event.set)
