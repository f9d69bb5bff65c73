"""Field types the kinds' Config models share, each with a plain message when wrong.

Validators run before pydantic's own so that "(got ...)" shows what the person wrote.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator
from yarl import URL

from fallback.configfile.messages import show

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def _number(what: str, *, minimum: float, above: bool) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number of {what} (got {show(value)})")
        if value < minimum or (above and value == minimum):
            bound = f"more than {minimum:g}" if above else f"at least {minimum:g}"
            raise ValueError(f"must be {bound} {what} (got {show(value)})")
        return float(value)

    return check


def _whole(what: str, *, minimum: int, maximum: int) -> Callable[[Any], int]:
    def unit(n: int) -> str:
        if not what:
            return ""
        return f" {what.removesuffix('s')}" if n == 1 else f" {what}"

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            kind = f"a whole number of {what}" if what else "a whole number"
            raise ValueError(f"must be {kind} (got {show(value)})")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}{unit(minimum)} (got {value})")
        if value > maximum:
            raise ValueError(f"must be at most {maximum}{unit(maximum)} (got {value})")
        return int(value)

    return check


# A response-time limit: slower runs are degraded.
Milliseconds = Annotated[float, BeforeValidator(_number("milliseconds", minimum=0, above=True))]
Days = Annotated[int, BeforeValidator(_whole("days", minimum=0, maximum=3650))]
PositiveSeconds = Annotated[int, BeforeValidator(_whole("seconds", minimum=1, maximum=366 * 86400))]
Seconds = Annotated[int, BeforeValidator(_whole("seconds", minimum=0, maximum=366 * 86400))]
Port = Annotated[int, BeforeValidator(_whole("", minimum=1, maximum=65535))]


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text {_got_with_hint(value)}")
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _got_with_hint(value: Any) -> str:
    hint = "; put it in quotes to mean the text" if isinstance(value, bool | int | float) else ""
    return f"(got {show(value)}){hint}"


def http_url(raw: Any) -> str:
    """An absolute http:// or https:// URL with a host."""
    value = text(raw).strip()
    if any(c.isspace() for c in value):
        raise ValueError(f"must not contain spaces (got {show(value)})")
    try:
        url = URL(value)
        host = url.host
    except (ValueError, UnicodeError) as exc:
        reason = "its port must be 1 to 65535" if "port" in str(exc).lower() else str(exc)
        raise ValueError(f"is not a valid URL: {reason} (got {show(value)})") from None
    if url.scheme not in ("http", "https"):
        raise ValueError(f"must start with http:// or https:// (got {show(value)})")
    if not host:
        raise ValueError(f"must name a host, as in https://example.com/ (got {show(value)})")
    if url.port == 0:
        raise ValueError(f"has an invalid port (got {show(value)})")
    return value


HttpUrl = Annotated[str, BeforeValidator(http_url)]


def hostname(raw: Any) -> str:
    """A DNS host name (IDN allowed) or an IP address, returned as written (stripped)."""
    value = text(raw).strip()
    try:
        ipaddress.ip_address(value.strip("[]"))
        return value.strip("[]")
    except ValueError:
        pass
    try:
        ascii_name = value.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"is not a valid host name (got {show(value)})") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"is not a valid host name (got {show(value)})")
    return value


Hostname = Annotated[str, BeforeValidator(hostname)]


def parse_nameserver(value: str) -> tuple[str, int]:
    """ "192.0.2.53", "192.0.2.53:5353", "2001:db8::53" or "[2001:db8::53]:5353" -> (ip, port)."""
    address, port = value, 53
    if value.startswith("["):
        address, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError
        if rest:
            port = int(rest[1:])
    elif value.count(":") == 1:
        address, _, port_text = value.partition(":")
        port = int(port_text)
    ipaddress.ip_address(address)
    if not 1 <= port <= 65535:
        raise ValueError
    return address, port


def nameserver(raw: Any) -> str:
    value = text(raw).strip()
    try:
        parse_nameserver(value)
    except ValueError:
        raise ValueError(
            "must be an IP address, optionally with a port: '192.0.2.53', "
            f"'192.0.2.53:5353' or '[2001:db8::53]:5353' (got {show(value)})"
        ) from None
    return value


Nameserver = Annotated[str, BeforeValidator(nameserver)]
Text = Annotated[str, BeforeValidator(text)]


def upper_choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    """One of `choices`, written in any case."""

    def check(value: Any) -> str:
        if isinstance(value, str) and value.strip().upper() in choices:
            return value.strip().upper()
        raise ValueError(f"must be one of {', '.join(choices)} (got {show(value)})")

    return check


def strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false (got {show(value)})")
    return value


Bool = Annotated[bool, BeforeValidator(strict_bool)]
