"""What the three dialects share: the mode and fault gates, paging windows, cursors, JSON.

A list endpoint calls, in order: `admit()` (down → 503, slow → delay, no credentials → 401,
`ratelimit` → 429, `errors` → 500), then `refuse_page()` once it knows which page is asked
for (`fail_after` → 500), `window()` or the business's own paging for the records (`empty`,
`short`), and `respond()` to serialise (`truncated`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fallback.simulator.service import Service, service_of


@dataclass(frozen=True)
class Dialect:
    """How one vendor's API words its failures."""

    name: str
    unauthorised: Mapping[str, Any]
    server_error: Mapping[str, Any]
    rate_limited: Mapping[str, Any]
    unavailable: Mapping[str, Any]


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=dumps(data), status=status, headers=headers, content_type="application/json"
    )


async def admit(
    request: web.Request, dialect: Dialect, authorised: bool, counted: bool = True
) -> web.Response | None:
    """The refusal this call gets from the mode and the call-wide faults, or None.

    `counted`: whether the call counts towards `ratelimit` (the API calls do; getting a
    token does not)."""
    service = service_of(request)
    if service.mode == "slow":
        await asyncio.sleep(service.slow_seconds)
    if service.mode == "down":
        return json_response(dialect.unavailable, 503, {"Retry-After": "120"})
    if not authorised:
        return json_response(dialect.unauthorised, 401)
    if counted:
        retry_after = service.faults.rate_limited()
        if retry_after is not None:
            return json_response(dialect.rate_limited, 429, {"Retry-After": str(retry_after)})
    if service.faults.on("errors"):
        return json_response(dialect.server_error, 500)
    return None


def refuse_page(service: Service, dialect: Dialect, page: int) -> web.Response | None:
    """A 500 for a page past `fail_after`'s limit, or None."""
    if service.faults.fails_page(page):
        return json_response(dialect.server_error, 500)
    return None


def window(
    service: Service,
    entity: str,
    page: int,
    after: int,
    limit: int,
    since: float | None,
    strict: bool = False,
    backwards: bool = False,
) -> tuple[list[int], bool]:
    """The indexes of a cursor page (after `after`, or before it when `backwards`) and
    whether more follow in that direction, as the `empty` and `short` faults allow."""
    faults = service.faults
    if faults.on("empty") or (faults.on("short") and page > 1):
        return [], False
    business = service.business
    if backwards:
        return business.before(entity, after, limit, since, strict)
    indexes, more = business.after(entity, after, limit, since, strict)
    return indexes, more and not faults.on("short")


RENDERED_LIMIT = 300_000  # records' JSON kept, so a large business serves at network speed


def rendered(
    service: Service, dialect: str, entity: str, indexes: list[int], serialise: Any
) -> list[bytes]:
    """Each record's JSON, made once per record version and kept (bounded): serialising a
    record costs more than sending it, and a sync reads the same records again and again."""
    cache = service.rendered
    business = service.business
    parts = []
    for index in indexes:
        key = (dialect, entity, index, business.version(entity, index))
        part = cache.get(key)
        if part is None:
            if len(cache) >= RENDERED_LIMIT:
                cache.clear()
            part = cache[key] = dumps(serialise(business.get(entity, index)))
        parts.append(part)
    return parts


def respond_list(
    service: Service,
    name: str,
    parts: list[bytes],
    page: int,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """`{"<name>": [records]}` from rendered records (see `respond` for the faults)."""
    body = b'{"' + name.encode() + b'":[' + b",".join(parts) + b"]}"
    return _respond_body(service, body, page, headers)


def respond(
    service: Service, data: Any, page: int, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Serialise a list page; the `truncated` fault cuts its page's body in half."""
    return _respond_body(service, dumps(data), page, headers)


def _respond_body(
    service: Service, body: bytes, page: int, headers: Mapping[str, str] | None
) -> web.Response:
    if service.faults.truncates_page(page):
        body = body[: len(body) // 2]
    return web.Response(body=body, headers=headers, content_type="application/json")


def encode_cursor(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> dict[str, Any] | None:
    """The cursor's data, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return data if isinstance(data, dict) else None


def cursor_int(data: Mapping[str, Any], key: str, least: int) -> int:
    """An integer field of a decoded cursor; ValueError when missing or out of range."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"bad cursor field {key}")
    return value


def cursor_since(data: Mapping[str, Any]) -> float | None:
    value = data.get("s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("bad cursor field s")
    return float(value)


def limit_param(text: str | None, default: int, most: int) -> int:
    """A page size: the default when absent, at most `most`; ValueError when not a number."""
    if text is None or text == "":
        return default
    value = int(text)
    if value < 1:
        raise ValueError("limit must be at least 1")
    return min(value, most)


def bearer(request: web.Request) -> str:
    """The token of an `Authorization: Bearer …` header, or ''."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
