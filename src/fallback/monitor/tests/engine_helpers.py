"""Shared by the engine's tests: a loopback HTTP target, and systems/checks to point at it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from aiohttp import web
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.monitor.engine import Engine
from fallback.monitor.models import Check, System, SystemKind
from fallback.monitor.runner import EngineThread


class Target:
    """An aiohttp server on 127.0.0.1 in its own thread, counting hits per path.

    `status[path]` sets the answer (default 200); `fail_first[path]` answers 503 that many
    times first; `delay[path]` (seconds) makes it slow.
    """

    def __init__(self) -> None:
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, int] = {}
        self.fail_first: dict[str, int] = {}
        self.delay: dict[str, float] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        self.hits[path].append(time.monotonic())
        if path in self.delay:
            await asyncio.sleep(self.delay[path])
        if self.fail_first.get(path, 0) > 0:
            self.fail_first[path] -= 1
            return web.Response(status=503, text="busy")
        return web.Response(status=self.status.get(path, 200), text="hello")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self) -> Target:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_system(org: Organisation, name: str = "CRM", **fields: Any) -> System:
    slug = fields.pop("slug", name.lower().replace(" ", "-"))
    return System.objects.create(org=org, name=name, slug=slug, **fields)


def make_check(system: System, name: str = "home page", **fields: Any) -> Check:
    fields.setdefault("kind", "http")
    fields.setdefault("interval_seconds", 60)
    fields.setdefault("retries", 0)
    fields.setdefault("retry_delay_seconds", 0.1)
    fields.setdefault("timeout_seconds", 5.0)
    fields.setdefault("next_run_at", timezone.now() - timedelta(seconds=1))
    return Check.objects.create(org=system.org, system=system, name=name, **fields)


def make_internet_system(org: Organisation) -> System:
    return make_system(org, "Internet link", kind=SystemKind.INTERNET)


@contextmanager
def running_engine(worker_id: str = "test-worker", **options: Any) -> Iterator[Engine]:
    """The engine in its thread, polling quickly; stopped (and checked stopped) afterwards."""
    options.setdefault("poll", 0.05)
    options.setdefault("flush_every", 0.05)
    thread = EngineThread(worker_id, **options)
    thread.start()
    try:
        yield thread.engine
    finally:
        thread.stop()
        thread.join(30)
        assert not thread.is_alive()


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def seq(check: Check) -> int:
    return int(Check.objects.values_list("result_seq", flat=True).get(pk=check.pk))
