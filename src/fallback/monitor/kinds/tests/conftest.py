"""Loopback servers and a runner for the check kinds' tests.

Each test gets its own event loop; servers and client sessions live on it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

from fallback.monitor.kinds import Outcome, RunContext, get, tls, validate_config


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    # Handlers still waiting (a server made to hang) are cancelled, not left to be destroyed.
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()

    async def drain() -> None:
        await asyncio.gather(*pending, return_exceptions=True)

    loop.run_until_complete(drain())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture(autouse=True)
def _forget_certificates() -> Iterator[None]:
    # Ports are reused between tests; a certificate read for one must not serve another.
    tls.clear()
    yield
    tls.clear()


@pytest.fixture
def serve(loop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., str]]:
    """serve(app, ssl_context=None) -> "http(s)://127.0.0.1:PORT"."""
    runners: list[web.AppRunner] = []

    def start(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> str:
        runner = web.AppRunner(app, shutdown_timeout=0.2)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        loop.run_until_complete(site.start())
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"

    yield start
    for runner in runners:
        loop.run_until_complete(runner.cleanup())


@dataclass
class Certificates:
    ca: trustme.CA

    def server(self, not_after: datetime, not_before: datetime | None = None) -> ssl.SSLContext:
        leaf = self.ca.issue_cert(
            "127.0.0.1",
            "localhost",
            not_before=not_before or datetime.now(UTC) - timedelta(days=30),
            not_after=not_after,
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        return context

    def client(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@pytest.fixture(scope="session")
def certificates() -> Certificates:
    return Certificates(trustme.CA())


@pytest.fixture
def run_check(loop: asyncio.AbstractEventLoop) -> Callable[..., Outcome]:
    """run_check(kind, config, trust=None, timeout=5, **context) -> Outcome."""

    def run(
        key: str,
        config: dict[str, Any],
        *,
        trust: ssl.SSLContext | None = None,
        timeout: float = 5.0,
        **context: Any,
    ) -> Outcome:
        model = validate_config(key, config)
        context.setdefault("now", datetime.now(UTC))

        async def go() -> Outcome:
            connector = aiohttp.TCPConnector(ssl=trust if trust is not None else True)
            async with aiohttp.ClientSession(connector=connector) as session:
                return await get(key).run(model, RunContext(session, timeout, **context))

        return loop.run_until_complete(go())

    return run
