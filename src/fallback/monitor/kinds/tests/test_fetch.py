"""Bounded reads, and request errors put into words, against real servers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from fallback.monitor.kinds.fetch import (
    client_timeout,
    describe_error,
    display_url,
    read_bounded,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def raw_server(loop: asyncio.AbstractEventLoop) -> Iterator[Callable[[Handler], str]]:
    """A TCP server that answers with whatever bytes the test writes."""
    servers: list[asyncio.Server] = []

    def start(handler: Handler) -> str:
        server = loop.run_until_complete(asyncio.start_server(handler, "127.0.0.1", 0))
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    yield start
    for server in servers:
        server.close()
        loop.run_until_complete(server.wait_closed())


def _fetch(loop: asyncio.AbstractEventLoop, url: str, limit: int) -> tuple[bytes, bool]:
    async def go() -> tuple[bytes, bool]:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return await read_bounded(response, limit)

    return loop.run_until_complete(go())


def _error(loop: asyncio.AbstractEventLoop, url: str) -> str:
    async def go() -> str:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.get(url, timeout=client_timeout(2.0)) as response:
                    await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                return describe_error(exc, url, 2.0)
        raise AssertionError("the request succeeded")

    return loop.run_until_complete(go())


@pytest.fixture
def site(serve: Callable[..., str]) -> str:
    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"a" * 100)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"b" * 100)
        await response.write_eof()
        return response

    async def loop_redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app = web.Application()
    app.router.add_get("/sized", sized)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/loop", loop_redirect)
    return serve(app)


def test_a_body_within_the_limit_is_read_whole(loop: asyncio.AbstractEventLoop, site: str) -> None:
    assert _fetch(loop, site + "/sized", 100) == (b"a" * 100, False)
    assert _fetch(loop, site + "/chunked", 1000) == (b"b" * 1000, False)


def test_a_longer_body_is_cut_at_the_limit(loop: asyncio.AbstractEventLoop, site: str) -> None:
    assert _fetch(loop, site + "/sized", 40) == (b"a" * 40, True)
    assert _fetch(loop, site + "/chunked", 250) == (b"b" * 250, True)


def test_a_redirect_loop_is_too_many_redirects(loop: asyncio.AbstractEventLoop, site: str) -> None:
    assert _error(loop, site + "/loop") == f"too many redirects from {site}/loop"


def test_a_server_that_hangs_up_closed_the_connection(
    loop: asyncio.AbstractEventLoop, raw_server: Callable[[Handler], str]
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    url = raw_server(hang_up)
    assert _error(loop, url) == f"{url} closed the connection without answering"


def test_a_body_shorter_than_announced_was_cut_off(
    loop: asyncio.AbstractEventLoop, raw_server: Callable[[Handler], str]
) -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()
        writer.close()

    url = raw_server(short)
    assert _error(loop, url).startswith(f"the response from {url} was cut off: ")


def test_an_answer_that_is_not_http_is_invalid(
    loop: asyncio.AbstractEventLoop, raw_server: Callable[[Handler], str]
) -> None:
    async def gibberish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        writer.close()

    url = raw_server(gibberish)
    assert _error(loop, url).startswith(f"{url} sent an invalid HTTP response: ")


def test_timeouts_are_made_once_per_length() -> None:
    assert client_timeout(10.0) is client_timeout(10.0)
    assert client_timeout(10.0).total == 10.0


def test_addresses_in_messages_leave_out_passwords_and_queries() -> None:
    url = URL("https://ops:hunter2@api.example.com/health?key=s3cret#top")
    assert display_url(url) == "https://api.example.com/health?…"
    assert display_url(URL("https://api.example.com/health")) == "https://api.example.com/health"
