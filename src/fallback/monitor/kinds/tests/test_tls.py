"""Reading certificate expiry by handshake, and remembering it."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from fallback.monitor.kinds import tls

from .conftest import Certificates


class CountingServer:
    """A TLS server on loopback that counts the connections it gets."""

    def __init__(self, loop: asyncio.AbstractEventLoop, context: ssl.SSLContext) -> None:
        self.connections = 0
        self.loop = loop
        self.server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=context)
        )
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    def close(self) -> None:
        self.server.close()
        self.loop.run_until_complete(self.server.wait_closed())


@pytest.fixture
def not_after() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)


@pytest.fixture
def server(
    loop: asyncio.AbstractEventLoop, certificates: Certificates, not_after: datetime
) -> Iterator[CountingServer]:
    server = CountingServer(loop, certificates.server(not_after=not_after))
    yield server
    server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_reads_the_expiry_of_the_served_certificate(
    loop: asyncio.AbstractEventLoop, server: CountingServer, not_after: datetime
) -> None:
    got = loop.run_until_complete(tls.certificate_expiry("127.0.0.1", server.port, 2.0))
    assert got == not_after


def test_a_second_read_within_the_hour_does_not_connect_again(
    loop: asyncio.AbstractEventLoop, server: CountingServer, not_after: datetime
) -> None:
    for _ in range(3):
        assert (
            loop.run_until_complete(tls.certificate_expiry("127.0.0.1", server.port, 2.0))
            == not_after
        )
    assert server.connections == 1
    tls.clear()
    loop.run_until_complete(tls.certificate_expiry("127.0.0.1", server.port, 2.0))
    assert server.connections == 2


def test_no_expiry_when_nothing_answers(loop: asyncio.AbstractEventLoop) -> None:
    port = _free_port()
    assert loop.run_until_complete(tls.certificate_expiry("127.0.0.1", port, 1.0)) is None


def test_no_expiry_from_a_server_without_tls(
    loop: asyncio.AbstractEventLoop, serve: Callable[..., str]
) -> None:
    url = serve(web.Application())
    port = int(url.rsplit(":", 1)[1])
    assert loop.run_until_complete(tls.certificate_expiry("127.0.0.1", port, 1.0)) is None
