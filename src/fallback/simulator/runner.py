"""Serve the simulator in a background thread, registered in the data folder while it runs,
with its SMTP sink (fallback.simulator.mailbox) beside it when asked for.

The registration (REGISTRATION in FALLBACK_HOME: its URL and process id) is how the web
interface knows to offer its "take it down" button, and how `fallback sim` finds it.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import threading
from pathlib import Path

from aiohttp import web

from fallback.simulator.app import Service, make_app
from fallback.simulator.business import DEFAULT_CUSTOMERS, Business
from fallback.simulator.mailbox import serve_smtp

REGISTRATION = "simulator.json"
DEFAULT_PORT = 8081


class Simulator:
    """A running simulator; `stop()` ends it and removes its registration."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        home: Path | None = None,
        scale: int = DEFAULT_CUSTOMERS,
        smtp_port: int | None = None,
    ) -> None:
        """`scale`: how many customers the business has (the other records in proportion);
        ValueError when outside 1..100,000. `smtp_port`: where the SMTP sink listens (0: any
        free port; None: no sink)."""
        self.host = host
        self.port = port
        self.smtp_port = smtp_port
        self._smtp: asyncio.Server | None = None
        self.home = home
        self.service = Service(business=Business(customers=scale))
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fallback-simulator", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def smtp_problem(self) -> str:
        """Why the SMTP sink asked for is not listening ('' when it is, or was not asked for)."""
        return self.service.mailbox.problem

    def start(self, timeout: float = 10.0) -> Simulator:
        """Start serving; raises OSError when the HTTP port is taken. A taken SMTP port
        leaves the sink off and says why in `smtp_problem`, the HTTP side serving."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the simulator did not start in time")
        if self._error is not None:
            raise self._error
        if self.home is not None:
            register(self.home, self.url)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start() in the calling thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self) -> None:
        self._runner = web.AppRunner(make_app(self.service), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests ask for any free port
            server = site._server
            assert server is not None and isinstance(server, asyncio.Server)
            self.port = server.sockets[0].getsockname()[1]
        if self.smtp_port is not None:
            try:
                self._smtp = await serve_smtp(self.service.mailbox, self.host, self.smtp_port)
            except OSError as exc:
                why = "the port is taken" if exc.errno == errno.EADDRINUSE else str(exc)
                self.service.mailbox.problem = (
                    f"cannot listen on {self.host}:{self.smtp_port}: {why}"
                )
            else:
                self.smtp_port = self._smtp.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            await asyncio.wait_for(self._smtp.wait_closed(), 5)
            self.service.mailbox.listening = ""
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self.home is not None:
            unregister(self.home, self.url)
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def register(home: Path, url: str) -> None:
    path = home / REGISTRATION
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n", encoding="utf-8")


def unregister(home: Path, url: str) -> None:
    """Remove the registration if it is still ours (another demo may have replaced it)."""
    path = home / REGISTRATION
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("url") == url and data.get("pid") == os.getpid():
        path.unlink(missing_ok=True)
