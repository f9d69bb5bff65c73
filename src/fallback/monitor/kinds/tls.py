"""When a server's TLS certificate expires, read by a handshake of our own and remembered.

aiohttp does not keep the connection of a finished response (the certificate is gone once
the body has arrived), so HTTP checks ask here instead. A certificate changes rarely:
each host:port is read at most once an hour (every ten minutes while it is close to expiry),
which keeps the cost out of the thousands of runs per second.
The handshake does not verify the certificate: the HTTP request already did, when asked to.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509

FRESH_SECONDS = 3600.0
NEAR_EXPIRY_FRESH_SECONDS = 600.0
FAILED_FRESH_SECONDS = 300.0
NEAR_EXPIRY = timedelta(days=30)
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class _Entry:
    read_at: float  # time.monotonic()
    not_after: datetime | None  # None: the handshake failed


_cache: dict[tuple[str, int], _Entry] = {}


def _reading_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_CONTEXT = _reading_context()


@lru_cache(maxsize=4096)
def not_after_of(der: bytes) -> datetime:
    return x509.load_der_x509_certificate(der).not_valid_after_utc


def clear() -> None:
    """Forget every certificate read (tests; a host whose certificate was just replaced)."""
    _cache.clear()


def _fresh(entry: _Entry, now: float) -> bool:
    if entry.not_after is None:
        limit = FAILED_FRESH_SECONDS
    elif entry.not_after - datetime.now(UTC) < NEAR_EXPIRY:
        limit = NEAR_EXPIRY_FRESH_SECONDS
    else:
        limit = FRESH_SECONDS
    return now - entry.read_at < limit


async def certificate_expiry(host: str, port: int, timeout: float) -> datetime | None:
    """When the certificate served at host:port stops being valid; None if it can't be read."""
    key = (host, port)
    entry = _cache.get(key)
    clock = time.monotonic()
    if entry is not None and _fresh(entry, clock):
        return entry.not_after
    not_after = await _read(host, port, timeout)
    if len(_cache) >= MAX_ENTRIES:
        _cache.clear()
    _cache[key] = _Entry(read_at=clock, not_after=not_after)
    return not_after


async def _read(host: str, port: int, timeout: float) -> datetime | None:
    # Server name indication needs a name; an IP address is sent without one.
    server_hostname = None if _is_ip(host) else host
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(
                host, port, ssl=_CONTEXT, server_hostname=server_hostname
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        return not_after_of(der) if der else None
    except ValueError:  # a certificate cryptography cannot parse
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            async with asyncio.timeout(1.0):
                await writer.wait_closed()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
