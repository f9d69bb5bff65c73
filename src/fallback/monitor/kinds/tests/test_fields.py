"""The shared option types: URLs, host names, DNS servers, numbers."""

from __future__ import annotations

from typing import Any

import pytest

from fallback.monitor.kinds.fields import hostname, http_url, nameserver, parse_nameserver


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.com",
        "http://127.0.0.1:8080/health?full=1",
        "https://[2001:db8::1]/",
        "https://bücher.example/",
        "  https://padded.example.com/  ",
    ],
)
def test_http_urls_that_are_accepted(url: str) -> None:
    assert http_url(url) == url.strip()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "must be text (got 42); put it in quotes to mean the text"),
        ("", "must not be empty"),
        ("example.com", "must start with http:// or https://"),
        ("mailto:ops@example.com", "must start with http:// or https://"),
        ("https:///path", "must name a host"),
        ("https://example.com:99999/", "is not a valid URL: its port must be 1 to 65535"),
        ("https://example.com:0/", "has an invalid port"),
        ("https://exa mple.com", "must not contain spaces"),
    ],
)
def test_http_urls_that_are_refused(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        http_url(value)


@pytest.mark.parametrize(
    "name",
    ["db.example.com", "_dmarc.example.com", "example.com.", "bücher.example", "192.0.2.1", "::1"],
)
def test_host_names_and_addresses_that_are_accepted(name: str) -> None:
    assert hostname(name) == name


@pytest.mark.parametrize(
    "name", ["db..example.com", "-db.example.com", "a" * 64 + ".com", "db example"]
)
def test_host_names_that_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a valid host name"):
        hostname(name)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("192.0.2.53:5353", ("192.0.2.53", 5353)),
        ("2001:db8::53", ("2001:db8::53", 53)),
        ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
    ],
)
def test_nameservers_are_an_address_and_an_optional_port(
    value: str, parsed: tuple[str, int]
) -> None:
    assert nameserver(value) == value
    assert parse_nameserver(value) == parsed


@pytest.mark.parametrize("value", ["dns.google", "192.0.2.53:0", "192.0.2.53:x", "[::1", "[::1]x"])
def test_nameservers_that_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="must be an IP address, optionally with a port"):
        nameserver(value)
