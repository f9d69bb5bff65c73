"""The TCP kind against a real listener on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator

import pytest

from fallback.monitor.kinds import InvalidCheckConfig, Outcome, validate_config
from fallback.monitor.models import State

Run = Callable[..., Outcome]


@pytest.fixture
def listener(loop: asyncio.AbstractEventLoop) -> Iterator[int]:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = loop.run_until_complete(asyncio.start_server(accept, "127.0.0.1", 0))
    yield int(server.sockets[0].getsockname()[1])
    server.close()
    loop.run_until_complete(server.wait_closed())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_up_when_the_port_accepts_a_connection(run_check: Run, listener: int) -> None:
    outcome = run_check("tcp", {"host": "127.0.0.1", "port": listener})
    assert outcome.status == State.UP
    assert outcome.response_ms is not None and outcome.response_ms >= 0
    assert outcome.message.startswith(f"127.0.0.1:{listener} accepted a connection in ")


def test_down_when_the_connection_is_refused(run_check: Run) -> None:
    port = _free_port()
    outcome = run_check("tcp", {"host": "127.0.0.1", "port": port})
    assert outcome.status == State.DOWN
    assert outcome.message == f"connection refused by 127.0.0.1:{port}"


@pytest.fixture
def full_listener() -> Iterator[int]:
    """A port whose accept queue is full: the kernel ignores further connection attempts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in [*fillers, server]:
        sock.close()


def test_down_when_nothing_answers_within_the_timeout(run_check: Run, full_listener: int) -> None:
    outcome = run_check("tcp", {"host": "127.0.0.1", "port": full_listener}, timeout=0.3)
    assert outcome.status == State.DOWN
    assert outcome.response_ms is None
    assert outcome.message == f"no connection to 127.0.0.1:{full_listener} within 300 ms"


def test_down_when_the_host_name_does_not_resolve(run_check: Run) -> None:
    outcome = run_check("tcp", {"host": "no-such-host.invalid", "port": 443}, timeout=3)
    assert outcome.status == State.DOWN
    assert outcome.message == "the host name no-such-host.invalid could not be resolved"


def test_degraded_when_connecting_takes_longer_than_the_limit(
    run_check: Run, listener: int
) -> None:
    outcome = run_check("tcp", {"host": "127.0.0.1", "port": listener, "max_response_ms": 0.0001})
    assert outcome.status == State.DEGRADED
    assert outcome.message.startswith("connecting took ")
    assert outcome.message.endswith(", limit 0 ms")


def test_ipv6_addresses_are_shown_in_brackets(run_check: Run) -> None:
    port = _free_port()
    outcome = run_check("tcp", {"host": "::1", "port": port})
    assert outcome.status == State.DOWN
    assert f"[::1]:{port}" in outcome.message


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({"port": 80}, "config.host", "is required"),
        ({"host": "db.example.com"}, "config.port", "is required"),
        ({"host": "db..example.com", "port": 5432}, "config.host", "is not a valid host name"),
        ({"host": "db.example.com", "port": 70000}, "config.port", "must be at most 65535"),
        ({"host": "db.example.com", "port": "5432"}, "config.port", "must be a whole number"),
    ],
)
def test_bad_definitions_are_refused_with_the_field_path(
    config: dict[str, object], path: str, message: str
) -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("tcp", config)
    assert [p for p, _ in caught.value.errors] == [path]
    assert message in caught.value.errors[0][1]
