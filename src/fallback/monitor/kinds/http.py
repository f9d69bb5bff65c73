"""HTTP(S): status code, keyword, JSON condition, response time and TLS certificate expiry."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr, field_validator
from pydantic_core.core_schema import ValidationInfo
from yarl import URL

from fallback.configfile.messages import show
from fallback.monitor.kinds import tls
from fallback.monitor.kinds.base import CheckKind, Outcome, RunContext, clip, duration_text
from fallback.monitor.kinds.conditions import (
    JsonCondition,
    StatusList,
    StatusRange,
    status_range,
    status_text,
)
from fallback.monitor.kinds.fetch import (
    REQUEST_ERRORS,
    USER_AGENT,
    client_timeout,
    describe_error,
    display_url,
    read_bounded,
)
from fallback.monitor.kinds.fields import Bool, Days, HttpUrl, Milliseconds, upper_choice
from fallback.monitor.kinds.registry import register
from fallback.monitor.models import State

# Keyword and JSON checks look at the first megabyte; more is not read at all.
BODY_LIMIT = 1024 * 1024
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Body encodings in which a UTF-8 keyword can be searched for as bytes, without decoding.
_UTF8_LIKE = {None, "utf-8", "utf8", "us-ascii", "ascii"}


def _headers(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping of header names to values (got {show(value)})")
    for name, text in value.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValueError(f"{show(name)} is not a valid header name")
        if not isinstance(text, str):
            raise ValueError(
                f"the value of {name} must be text (got {show(text)}); "
                "put it in quotes to mean the text"
            )
        if "\r" in text or "\n" in text:
            raise ValueError(f"the value of {name} must be on one line")
    return value


def _optional_text(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be text (got {show(value)})")
    if not value:
        raise ValueError("must not be empty")
    return value


def _body(value: Any) -> Any:
    # Text is sent as is; a mapping or list is sent as JSON.
    if value is None or isinstance(value, str | dict | list):
        return value
    raise ValueError(f"must be text, or a mapping or list to send as JSON (got {show(value)})")


OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]


@dataclass(frozen=True, slots=True)
class _Plan:
    url: URL
    ranges: tuple[StatusRange, ...]
    headers: dict[str, str]
    data: bytes | None
    keyword: bytes | None
    keyword_absent: bytes | None
    needs_body: bool
    shown_url: str  # for messages: no password, no query


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    method: Annotated[str, BeforeValidator(upper_choice(METHODS))] = "GET"
    headers: Annotated[dict[str, str], BeforeValidator(_headers)] = {}
    body: Annotated[str | dict[str, Any] | list[Any] | None, BeforeValidator(_body)] = None
    expected_status: StatusList = ["200-399"]
    keyword: OptionalText = None
    keyword_absent: OptionalText = None
    json_condition: JsonCondition | None = None
    max_response_ms: Milliseconds | None = None
    follow_redirects: Bool = True
    tls_expiry_warn_days: Days | None = 14
    verify_tls: Bool = True

    # Worked out once, so that a run does no parsing (one private attribute: pydantic's
    # private attributes are slow to read, and a run reads them thousands of times a second).
    _plan: _Plan = PrivateAttr()

    @field_validator("body")
    @classmethod
    def _body_needs_method(cls, value: Any, info: ValidationInfo) -> Any:
        method = (info.data or {}).get("method")
        if value is not None and method is not None and method not in _BODY_METHODS:
            raise ValueError(f"is sent only with POST, PUT, PATCH or DELETE, not {method}")
        return value

    @field_validator("keyword", "keyword_absent", "json_condition")
    @classmethod
    def _needs_a_body(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and (info.data or {}).get("method") == "HEAD":
            raise ValueError("cannot be checked: the answer to HEAD has no body; use GET")
        return value

    def model_post_init(self, context: Any) -> None:
        headers = {"User-Agent": USER_AGENT}
        data: bytes | None
        if isinstance(self.body, dict | list):
            headers["Content-Type"] = "application/json"
            data = json.dumps(self.body).encode()
        else:
            data = self.body.encode() if self.body is not None else None
        # The person's headers win, whatever case they wrote them in.
        given = {name.lower() for name in self.headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in given}
        url = URL(self.url)
        self._plan = _Plan(
            url=url,
            shown_url=display_url(url),
            ranges=tuple(status_range(item) for item in self.expected_status),
            headers=headers | self.headers,
            data=data,
            keyword=self.keyword.encode() if self.keyword else None,
            keyword_absent=self.keyword_absent.encode() if self.keyword_absent else None,
            needs_body=(
                self.keyword is not None
                or self.keyword_absent is not None
                or self.json_condition is not None
            ),
        )


class HttpKind(CheckKind[HttpConfig]):
    key = "http"
    label = "Web address (HTTP/HTTPS)"
    Config = HttpConfig

    async def run(self, config: HttpConfig, ctx: RunContext) -> Outcome:
        # Straight from pydantic's private store: `config._plan` goes through the model's
        # __getattr__, which cost 5% of a full engine's time.
        plan: _Plan = config.__pydantic_private__["_plan"]  # type: ignore[index]
        started = time.perf_counter()
        try:
            async with ctx.session.request(
                config.method,
                plan.url,
                headers=plan.headers,
                data=plan.data,
                allow_redirects=config.follow_redirects,
                ssl=config.verify_tls,
                timeout=client_timeout(ctx.timeout),
            ) as response:
                # Always read: an unread body would close the connection instead of reusing it.
                body, truncated = await read_bounded(response, BODY_LIMIT)
                elapsed_ms = (time.perf_counter() - started) * 1000
                code = response.status
                final_url = response.url
                charset = response.charset if plan.needs_body else None
        except REQUEST_ERRORS as exc:
            return Outcome(State.DOWN, None, describe_error(exc, plan.shown_url, ctx.timeout))

        details: dict[str, Any] = {"http_status": code}
        if final_url != plan.url:
            details["final_url"] = display_url(final_url)
        if not any(low <= code <= high for low, high in plan.ranges):
            expected = status_text(plan.ranges)
            message = f"HTTP {code} from {plan.shown_url} (expected {expected})"
            return Outcome(State.DOWN, elapsed_ms, message, details)
        if plan.needs_body:
            problem = _body_problem(config, plan, body, truncated, charset)
            if problem is not None:
                return Outcome(State.DOWN, elapsed_ms, problem, details)

        warnings: list[str] = []
        if final_url.scheme == "https" and config.tls_expiry_warn_days is not None:
            # The handshake gets what is left of the run's time (at least a little).
            left = max(ctx.timeout - elapsed_ms / 1000, 0.5)
            expiry = await _certificate_warning(config, final_url, left, ctx.now, details)
            if expiry is not None:
                state, message = expiry
                if state == State.DOWN:
                    return Outcome(State.DOWN, elapsed_ms, message, details)
                warnings.append(message)
        if config.max_response_ms is not None and elapsed_ms > config.max_response_ms:
            limit = duration_text(config.max_response_ms / 1000)
            warnings.append(f"took {duration_text(elapsed_ms / 1000)}, limit {limit}")
        if warnings:
            return Outcome(State.DEGRADED, elapsed_ms, "; ".join(warnings), details)
        return Outcome(
            State.UP, elapsed_ms, f"HTTP {code} in {duration_text(elapsed_ms / 1000)}", details
        )


def _body_problem(
    config: HttpConfig, plan: _Plan, body: bytes, truncated: bool, charset: str | None
) -> str | None:
    """What is wrong with the body, or None."""
    if config.keyword is not None or config.keyword_absent is not None:
        if charset is not None and charset.lower() not in _UTF8_LIKE:
            text = _decode(body, charset)
            found = config.keyword is None or config.keyword in text
            unwanted = config.keyword_absent is not None and config.keyword_absent in text
        else:
            found = plan.keyword is None or plan.keyword in body
            unwanted = plan.keyword_absent is not None and plan.keyword_absent in body
        if not found:
            where = " in the first 1 MB" if truncated else ""
            return f"keyword {config.keyword!r} not found{where}"
        if unwanted:
            return f"unwanted keyword {config.keyword_absent!r} found"
    if config.json_condition is not None:
        if truncated:
            return "the response is over 1 MB, too large to check the JSON condition"
        try:
            data = json.loads(body)
        except ValueError as exc:
            return f"the response is not JSON ({clip(str(exc), 60)})"
        return config.json_condition.failure(data)
    return None


def _decode(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


async def _certificate_warning(
    config: HttpConfig, url: URL, timeout: float, now: datetime, details: dict[str, Any]
) -> tuple[State, str] | None:
    """DOWN if the certificate has expired, DEGRADED if it expires within the warning days."""
    assert url.host is not None and url.port is not None and config.tls_expiry_warn_days is not None
    not_after = await tls.certificate_expiry(url.host, url.port, timeout)
    if not_after is None:
        return None
    details["tls_expires"] = not_after.isoformat()
    return certificate_state(not_after, now, url.host, config.tls_expiry_warn_days)


def certificate_state(
    not_after: datetime, now: datetime, host: str, warn_days: int
) -> tuple[State, str] | None:
    """DOWN once expired; DEGRADED within `warn_days` of expiring; else None."""
    left = not_after - now
    date = f"{not_after:%Y-%m-%d}"
    if left <= timedelta(0):
        return State.DOWN, f"the TLS certificate of {host} expired on {date}"
    if left < timedelta(days=warn_days):
        days = math.ceil(left / timedelta(days=1))
        when = "within a day" if days == 1 else f"in {days} days"
        return State.DEGRADED, f"the TLS certificate of {host} expires on {date} ({when})"
    return None


register(HttpKind())
