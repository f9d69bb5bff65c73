"""The HTTP kind against real servers on loopback (plain and TLS)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from fallback.monitor.kinds import InvalidCheckConfig, Outcome, validate_config
from fallback.monitor.kinds.http import BODY_LIMIT, HttpConfig, certificate_state
from fallback.monitor.models import State

from .conftest import Certificates

Run = Callable[..., Outcome]


async def _welcome(request: web.Request) -> web.Response:
    return web.Response(text="<h1>Welcome to the CRM</h1>", content_type="text/html")


async def _unavailable(request: web.Request) -> web.Response:
    return web.Response(status=503, text="Service Unavailable")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.3)
    return web.Response(text="Welcome, eventually")


async def _hang(request: web.Request) -> web.Response:
    await asyncio.sleep(10)
    return web.Response(text="too late")


async def _health(request: web.Request) -> web.Response:
    return web.json_response(
        {"status": "ok", "queue": 12, "db": {"up": True}, "tags": ["eu", "primary"]}
    )


async def _plain(request: web.Request) -> web.Response:
    return web.Response(text="all good")


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/")


async def _echo(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "method": request.method,
            "token": request.headers.get("X-Token"),
            "content_type": request.headers.get("Content-Type"),
            "user_agent": request.headers.get("User-Agent"),
            "body": await request.text(),
        }
    )


async def _latin1(request: web.Request) -> web.Response:
    return web.Response(
        body="Bienvenue au Café".encode("latin-1"),
        headers={"Content-Type": "text/html; charset=iso-8859-1"},
    )


async def _big(request: web.Request) -> web.StreamResponse:
    # Chunked, so the size is not known up front: the keyword comes after the first megabyte.
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(3):
        await response.write(b"x" * (BODY_LIMIT // 2))
    await response.write(b"Welcome")
    await response.write_eof()
    return response


async def _big_json(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "padding": "x" * BODY_LIMIT})


async def _closing(request: web.Request) -> web.Response:
    response = web.Response(text="Welcome")
    response.force_close()
    return response


def _app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", _welcome)
    app.router.add_get("/down", _unavailable)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/hang", _hang)
    app.router.add_get("/health", _health)
    app.router.add_get("/plain", _plain)
    app.router.add_get("/redirect", _redirect)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/latin1", _latin1)
    app.router.add_get("/big", _big)
    app.router.add_get("/bigjson", _big_json)
    app.router.add_get("/closing", _closing)
    return app


@pytest.fixture
def site(serve: Callable[..., str]) -> str:
    return serve(_app())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Status codes


def test_up_when_the_status_is_in_the_default_range(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/"})
    assert outcome.status == State.UP
    assert outcome.response_ms is not None and outcome.response_ms > 0
    assert outcome.message.startswith("HTTP 200 in ")
    assert outcome.details["http_status"] == 200


def test_down_on_503_says_which_status_came_from_where(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/down"})
    assert outcome.status == State.DOWN
    assert outcome.message == f"HTTP 503 from {site}/down (expected 200-399)"


def test_messages_do_not_repeat_a_secret_from_the_address(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/down?api_key=s3cret"})
    assert outcome.message == f"HTTP 503 from {site}/down?… (expected 200-399)"


def test_expected_status_takes_codes_ranges_and_classes(run_check: Run, site: str) -> None:
    assert run_check("http", {"url": site + "/down", "expected_status": "5xx"}).status == State.UP
    assert (
        run_check("http", {"url": site + "/down", "expected_status": [200, "500-503"]}).status
        == State.UP
    )
    outcome = run_check("http", {"url": site + "/", "expected_status": [201, "3xx"]})
    assert outcome.status == State.DOWN
    assert outcome.message.endswith("(expected 201, 300-399)")


# Keywords


def test_up_when_the_keyword_is_present(run_check: Run, site: str) -> None:
    assert run_check("http", {"url": site + "/", "keyword": "Welcome"}).status == State.UP


def test_down_when_the_keyword_is_missing(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/", "keyword": "Goodbye"})
    assert outcome.status == State.DOWN
    assert outcome.message == "keyword 'Goodbye' not found"


def test_keyword_is_case_sensitive(run_check: Run, site: str) -> None:
    assert run_check("http", {"url": site + "/", "keyword": "welcome"}).status == State.DOWN


def test_down_when_the_unwanted_keyword_is_present(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/", "keyword_absent": "CRM"})
    assert outcome.status == State.DOWN
    assert outcome.message == "unwanted keyword 'CRM' found"
    assert run_check("http", {"url": site + "/", "keyword_absent": "Error"}).status == State.UP


def test_keyword_is_found_in_a_body_in_another_charset(run_check: Run, site: str) -> None:
    assert run_check("http", {"url": site + "/latin1", "keyword": "Café"}).status == State.UP


def test_only_the_first_megabyte_is_searched(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/big", "keyword": "Welcome"})
    assert outcome.status == State.DOWN
    assert outcome.message == "keyword 'Welcome' not found in the first 1 MB"


# JSON condition


@pytest.mark.parametrize(
    "condition",
    [
        {"path": "$.status", "value": "ok"},
        {"path": "$.queue", "op": "<", "value": 100},
        {"path": "$.db.up", "op": "==", "value": True},
        {"path": "$.tags", "op": "contains", "value": "eu"},
        {"path": "$.db", "op": "exists"},
    ],
)
def test_up_when_the_json_condition_holds(
    run_check: Run, site: str, condition: dict[str, object]
) -> None:
    assert run_check("http", {"url": site + "/health", "json_condition": condition}).status == (
        State.UP
    )


def test_down_when_the_json_condition_fails(run_check: Run, site: str) -> None:
    outcome = run_check(
        "http",
        {"url": site + "/health", "json_condition": {"path": "$.queue", "op": "<", "value": 10}},
    )
    assert outcome.status == State.DOWN
    assert outcome.message == "$.queue is 12, expected < 10"


def test_down_when_the_json_path_finds_nothing(run_check: Run, site: str) -> None:
    config = {"url": site + "/health", "json_condition": {"path": "$.version", "op": "exists"}}
    outcome = run_check("http", config)
    assert outcome.status == State.DOWN
    assert outcome.message == "nothing found at $.version"


def test_down_when_the_answer_is_not_json(run_check: Run, site: str) -> None:
    config = {"url": site + "/plain", "json_condition": {"path": "$.status", "value": "ok"}}
    outcome = run_check("http", config)
    assert outcome.status == State.DOWN
    assert outcome.message.startswith("the response is not JSON")


def test_down_when_the_json_is_too_large_to_check(run_check: Run, site: str) -> None:
    config = {"url": site + "/bigjson", "json_condition": {"path": "$.status", "value": "ok"}}
    outcome = run_check("http", config)
    assert outcome.status == State.DOWN
    assert outcome.message == "the response is over 1 MB, too large to check the JSON condition"


# Time


def test_slow_response_is_degraded_with_the_time_and_the_limit(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/slow", "max_response_ms": 100})
    assert outcome.status == State.DEGRADED
    assert outcome.response_ms is not None and outcome.response_ms >= 300
    assert re.fullmatch(r"took (\d+ ms|\d+(\.\d)? s), limit 100 ms", outcome.message), (
        outcome.message
    )


def test_fast_response_within_the_limit_is_up(run_check: Run, site: str) -> None:
    assert run_check("http", {"url": site + "/", "max_response_ms": 2000}).status == State.UP


def test_down_when_no_response_within_the_timeout(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/hang"}, timeout=0.3)
    assert outcome.status == State.DOWN
    assert outcome.response_ms is None
    assert outcome.message == f"no response from {site}/hang within 300 ms"


# Requests


def test_redirects_are_followed_by_default(run_check: Run, site: str) -> None:
    outcome = run_check("http", {"url": site + "/redirect", "keyword": "Welcome"})
    assert outcome.status == State.UP
    assert outcome.details["final_url"] == site + "/"


def test_redirects_are_not_followed_when_turned_off(run_check: Run, site: str) -> None:
    config = {"url": site + "/redirect", "follow_redirects": False, "expected_status": 200}
    outcome = run_check("http", config)
    assert outcome.status == State.DOWN
    assert outcome.message.startswith("HTTP 302 from")


def test_post_sends_the_body_and_headers(run_check: Run, site: str) -> None:
    model = validate_config(
        "http",
        {
            "url": site + "/echo",
            "method": "post",
            "body": {"order": 42},
            "headers": {"X-Token": "s3"},
        },
    )
    assert isinstance(model, HttpConfig) and model.method == "POST"
    for path, value in [
        ("$.method", "POST"),
        ("$.token", "s3"),
        ("$.content_type", "application/json"),
        ("$.body", json.dumps({"order": 42})),
    ]:
        config = {
            "url": site + "/echo",
            "method": "POST",
            "body": {"order": 42},
            "headers": {"X-Token": "s3"},
            "json_condition": {"path": path, "value": value},
        }
        outcome = run_check("http", config)
        assert outcome.status == State.UP, outcome.message


def test_requests_name_fallback_unless_the_check_sets_a_user_agent(
    run_check: Run, site: str
) -> None:
    ours = {"path": "$.user_agent", "op": "contains", "value": "Fallback/"}
    assert run_check("http", {"url": site + "/echo", "json_condition": ours}).status == State.UP
    theirs = {"path": "$.user_agent", "value": "probe"}
    config = {"url": site + "/echo", "headers": {"user-agent": "probe"}, "json_condition": theirs}
    assert run_check("http", config).status == State.UP


def test_head_request_is_up_on_success(run_check: Run, site: str) -> None:
    assert run_check("http", {"url": site + "/", "method": "HEAD"}).status == State.UP


def test_down_when_the_connection_is_refused(run_check: Run) -> None:
    port = _free_port()
    outcome = run_check("http", {"url": f"http://127.0.0.1:{port}/"})
    assert outcome.status == State.DOWN
    assert outcome.message == f"connection refused by 127.0.0.1:{port}"


def test_down_when_the_host_name_does_not_resolve(run_check: Run) -> None:
    outcome = run_check("http", {"url": "http://no-such-host.invalid/"}, timeout=3)
    assert outcome.status == State.DOWN
    assert outcome.message == "the host name no-such-host.invalid could not be resolved"


# TLS


def _tls_site(serve: Callable[..., str], certificates: Certificates, expires_in: timedelta) -> str:
    now = datetime.now(UTC)
    context = certificates.server(not_after=now + expires_in, not_before=now - timedelta(days=60))
    return serve(_app(), context)


def test_up_with_a_valid_certificate(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=90))
    outcome = run_check("http", {"url": url + "/"}, trust=certificates.client())
    assert outcome.status == State.UP
    assert "tls_expires" in outcome.details


def test_degraded_when_the_certificate_expires_within_the_warning_days(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=5))
    outcome = run_check("http", {"url": url + "/"}, trust=certificates.client())
    assert outcome.status == State.DEGRADED
    date = f"{datetime.now(UTC) + timedelta(days=5):%Y-%m-%d}"
    assert outcome.message == f"the TLS certificate of 127.0.0.1 expires on {date} (in 5 days)"


def test_certificate_is_read_when_the_server_closes_each_connection(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=5))
    outcome = run_check("http", {"url": url + "/closing"}, trust=certificates.client())
    assert outcome.status == State.DEGRADED


def test_expiry_warning_can_be_turned_off(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=5))
    config = {"url": url + "/", "tls_expiry_warn_days": None}
    assert run_check("http", config, trust=certificates.client()).status == State.UP
    config = {"url": url + "/", "tls_expiry_warn_days": 3}
    assert run_check("http", config, trust=certificates.client()).status == State.UP


def test_down_with_an_expired_certificate(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=-1))
    outcome = run_check("http", {"url": url + "/"}, trust=certificates.client())
    assert outcome.status == State.DOWN
    assert outcome.message == "the TLS certificate of 127.0.0.1 has expired"


def test_down_with_an_untrusted_certificate(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=90))
    outcome = run_check("http", {"url": url + "/"})  # the test CA is not trusted here
    assert outcome.status == State.DOWN
    assert outcome.message == (
        "the TLS certificate of 127.0.0.1 is signed by an unknown authority, so it is not trusted"
    )


def test_untrusted_certificate_is_accepted_when_verification_is_off(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=90))
    assert run_check("http", {"url": url + "/", "verify_tls": False}).status == State.UP


def test_expired_certificate_is_down_even_when_verification_is_off(
    run_check: Run, serve: Callable[..., str], certificates: Certificates
) -> None:
    url = _tls_site(serve, certificates, timedelta(days=-1))
    outcome = run_check("http", {"url": url + "/", "verify_tls": False})
    date = f"{datetime.now(UTC) - timedelta(days=1):%Y-%m-%d}"
    assert outcome.status == State.DOWN
    assert outcome.message == f"the TLS certificate of 127.0.0.1 expired on {date}"


def test_certificate_state_counts_days_from_the_run_time() -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    host = "crm.example.com"
    assert certificate_state(now + timedelta(days=20), now, host, 14) is None
    assert certificate_state(now + timedelta(days=13, hours=23), now, host, 14) == (
        State.DEGRADED,
        "the TLS certificate of crm.example.com expires on 2025-03-15 (in 14 days)",
    )
    assert certificate_state(now + timedelta(hours=3), now, host, 14) == (
        State.DEGRADED,
        "the TLS certificate of crm.example.com expires on 2025-03-01 (within a day)",
    )
    assert certificate_state(now, now, host, 14) == (
        State.DOWN,
        "the TLS certificate of crm.example.com expired on 2025-03-01",
    )
    assert certificate_state(now + timedelta(hours=3), now, host, 0) is None


# Definitions


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({}, "config.url", "is required"),
        ({"url": "crm.example.com"}, "config.url", "must start with http:// or https://"),
        ({"url": "ftp://example.com/"}, "config.url", "must start with http:// or https://"),
        ({"url": "https://"}, "config.url", "must name a host"),
        ({"url": "https://exa mple.com/"}, "config.url", "must not contain spaces"),
        (
            {"url": "https://a.test", "json_condition": {"path": "$.items[?@.x ==]"}},
            "config.json_condition.path",
            "is not a valid JSONPath: unexpected end of expression at character 16",
        ),
        (
            {"url": "https://a.test", "json_condition": {"path": "status", "value": 1}},
            "config.json_condition.path",
            "must start with '$'",
        ),
        (
            {"url": "https://a.test", "expected_status": ["200-2x9"]},
            "config.expected_status[0]",
            "must be a status code (200), a range ('200-299') or a class ('2xx')",
        ),
        (
            {"url": "https://a.test", "method": "GET", "body": "x"},
            "config.body",
            "is sent only with POST, PUT, PATCH or DELETE, not GET",
        ),
        (
            {"url": "https://a.test", "method": "HEAD", "keyword": "x"},
            "config.keyword",
            "cannot be checked: the answer to HEAD has no body; use GET",
        ),
        (
            {"url": "https://a.test", "method": "FETCH"},
            "config.method",
            "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
        (
            {"url": "https://a.test", "headers": {"Bad Header": "x"}},
            "config.headers",
            "'Bad Header' is not a valid header name",
        ),
        ({"url": "https://a.test", "max_response_ms": -1}, "config.max_response_ms", "more than 0"),
        ({"url": "https://a.test", "verify_tls": "no"}, "config.verify_tls", "true or false"),
        (
            {"url": "https://a.test", "tls_expiry_warn_days": -3},
            "config.tls_expiry_warn_days",
            "at least 0",
        ),
        ({"url": "https://a.test", "keyword": ""}, "config.keyword", "must not be empty"),
        ({"url": "https://a.test", "timeout": 5}, "config.timeout", "unknown key"),
    ],
)
def test_bad_definitions_are_refused_with_the_field_path(
    config: dict[str, object], path: str, message: str
) -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("http", config)
    assert [p for p, _ in caught.value.errors] == [path]
    assert message in caught.value.errors[0][1]


def test_the_defaults_are_sensible() -> None:
    model = validate_config("http", {"url": "https://crm.example.com/login"})
    assert isinstance(model, HttpConfig)
    assert (model.method, model.expected_status, model.follow_redirects) == (
        "GET",
        ["200-399"],
        True,
    )
    assert (model.tls_expiry_warn_days, model.verify_tls, model.max_response_ms) == (14, True, None)
