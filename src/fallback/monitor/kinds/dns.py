"""DNS: a name resolves (A, AAAA, CNAME, MX or TXT), optionally to an expected value."""

from __future__ import annotations

import ipaddress
import time
from functools import lru_cache
from typing import Annotated, Any, Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr, field_validator
from pydantic_core.core_schema import ValidationInfo

from fallback.configfile.messages import show
from fallback.monitor.kinds.base import CheckKind, Outcome, RunContext, clip, duration_text
from fallback.monitor.kinds.fields import (
    Hostname,
    Milliseconds,
    Nameserver,
    hostname,
    parse_nameserver,
    upper_choice,
)
from fallback.monitor.kinds.registry import register
from fallback.monitor.models import State

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT"]
RECORD_TYPES: tuple[str, ...] = ("A", "AAAA", "CNAME", "MX", "TXT")
# The machine's own resolver settings are re-read now and then (a laptop changes networks).
SYSTEM_RESOLVER_SECONDS = 300.0


def _nameservers(value: Any) -> Any:
    if value is not None and (not isinstance(value, list) or not value):
        raise ValueError(f"must be a list of one or more DNS server addresses (got {show(value)})")
    return value


class DnsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Hostname
    record_type: Annotated[RecordType, BeforeValidator(upper_choice(RECORD_TYPES))] = "A"
    expected: str | None = None
    nameservers: Annotated[list[Nameserver] | None, BeforeValidator(_nameservers)] = None
    max_response_ms: Milliseconds | None = None

    _qname: dns.name.Name = PrivateAttr()
    _expected: Any = PrivateAttr()

    @field_validator("expected", mode="before")
    @classmethod
    def _expected_fits_type(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must be the value to find, as text (got {show(value)})")
        record_type = (info.data or {}).get("record_type")
        if record_type is not None:
            _parse_expected(record_type, value.strip())
        return value.strip()

    def model_post_init(self, context: Any) -> None:
        self._qname = dns.name.from_text(self.name.strip())
        self._expected = _parse_expected(self.record_type, self.expected) if self.expected else None


def _parse_expected(record_type: str, value: str) -> Any:
    """The expected value in the form answers are compared in; ValueError if it can't be."""
    if record_type in ("A", "AAAA"):
        version = 4 if record_type == "A" else 6
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        if address is None or address.version != version:
            raise ValueError(f"must be an IPv{version} address for {record_type} (got {value!r})")
        return address
    if record_type == "CNAME":
        return _name(hostname(value))
    if record_type == "MX":
        preference, _, host = value.rpartition(" ")
        if preference and not preference.strip().isdigit():
            raise ValueError(
                f"must be a mail server, optionally after its priority (got {value!r})"
            )
        return (int(preference) if preference else None, _name(hostname(host)))
    return value


def _name(text: str) -> str:
    return text.strip().rstrip(".").lower()


@lru_cache(maxsize=256)
def _resolver_for(nameservers: tuple[str, ...]) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    servers: list[dns.nameserver.Nameserver | str] = []
    for server in nameservers:
        address, port = parse_nameserver(server)
        servers.append(dns.nameserver.Do53Nameserver(address, port))
    resolver.nameservers = servers
    return resolver


_system: tuple[float, dns.asyncresolver.Resolver] | None = None


def _system_resolver() -> dns.asyncresolver.Resolver:
    global _system
    clock = time.monotonic()
    if _system is None or clock - _system[0] > SYSTEM_RESOLVER_SECONDS:
        _system = (clock, dns.asyncresolver.Resolver())
    return _system[1]


class DnsKind(CheckKind[DnsConfig]):
    key = "dns"
    label = "Domain name (DNS)"
    Config = DnsConfig

    async def run(self, config: DnsConfig, ctx: RunContext) -> Outcome:
        name, rtype = config.name.strip().rstrip("."), config.record_type
        try:
            if config.nameservers:
                resolver = _resolver_for(tuple(config.nameservers))
            elif ctx.resolver_nameservers:
                resolver = _resolver_for(tuple(ctx.resolver_nameservers))
            else:
                resolver = _system_resolver()
        except dns.resolver.NoResolverConfiguration:
            # Our machine's problem, not the vendor's.
            return Outcome(State.UNKNOWN, None, "this machine has no DNS servers configured")
        started = time.perf_counter()
        try:
            answer = await resolver.resolve(
                config._qname, rtype, lifetime=ctx.timeout, search=False
            )
        except dns.resolver.NXDOMAIN:
            return Outcome(State.DOWN, None, f"{name} does not exist (NXDOMAIN)")
        except dns.resolver.NoAnswer:
            return Outcome(State.DOWN, None, f"{name} has no {rtype} record")
        except dns.resolver.NoNameservers as exc:
            return Outcome(State.DOWN, None, f"no DNS server could answer for {name}: {_why(exc)}")
        except dns.exception.Timeout:
            message = (
                f"no answer for {name} from the DNS servers within {duration_text(ctx.timeout)}"
            )
            return Outcome(State.DOWN, None, message)
        except dns.exception.DNSException as exc:
            return Outcome(State.DOWN, None, f"looking up {name} failed: {clip(str(exc), 100)}")
        elapsed_ms = (time.perf_counter() - started) * 1000

        values = [_answer_text(rtype, rdata) for rdata in answer]
        shown = clip(", ".join(values), 160)
        details: dict[str, Any] = {"answers": values[:20]}
        if config._expected is not None and not any(
            _matches(rtype, rdata, config._expected) for rdata in answer
        ):
            message = f"{name} {rtype} is {shown}, expected {config.expected}"
            return Outcome(State.DOWN, elapsed_ms, message, details)
        took = duration_text(elapsed_ms / 1000)
        if config.max_response_ms is not None and elapsed_ms > config.max_response_ms:
            limit = duration_text(config.max_response_ms / 1000)
            return Outcome(
                State.DEGRADED, elapsed_ms, f"lookup took {took}, limit {limit}", details
            )
        return Outcome(State.UP, elapsed_ms, f"{name} {rtype} → {shown} in {took}", details)


def _answer_text(rtype: str, rdata: Any) -> str:
    if rtype in ("A", "AAAA"):
        return str(rdata.address)
    if rtype == "CNAME":
        return _name(rdata.target.to_text())
    if rtype == "MX":
        return f"{rdata.preference} {_name(rdata.exchange.to_text())}"
    return b"".join(rdata.strings).decode("utf-8", errors="replace")


def _matches(rtype: str, rdata: Any, expected: Any) -> bool:
    if rtype in ("A", "AAAA"):
        return bool(ipaddress.ip_address(rdata.address) == expected)
    if rtype == "CNAME":
        return bool(_name(rdata.target.to_text()) == expected)
    if rtype == "MX":
        preference, host = expected
        return _name(rdata.exchange.to_text()) == host and preference in (None, rdata.preference)
    return bool(_answer_text(rtype, rdata) == expected)


def _why(exc: dns.resolver.NoNameservers) -> str:
    # dnspython lists (server, tcp, port, error or rcode, response) per server tried.
    errors = exc.kwargs.get("errors") or []
    reasons = []
    for entry in errors:
        reason = entry[3] if len(entry) > 3 else entry
        reasons.append(clip(str(reason), 60))
    return ", ".join(dict.fromkeys(reasons)) or "no usable answer"


register(DnsKind())
