"""The DNS kind against a real DNS server on loopback (dnslib)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

from fallback.monitor.kinds import InvalidCheckConfig, Outcome, validate_config
from fallback.monitor.kinds.dns import DnsConfig
from fallback.monitor.models import State

Run = Callable[..., Outcome]

ZONE = """
crm.example.com. 60 A 192.0.2.10
crm.example.com. 60 A 192.0.2.11
crm.example.com. 60 AAAA 2001:db8::10
www.example.com. 60 CNAME crm.vendor.net.
example.com. 60 MX 10 mail.example.com.
example.com. 60 MX 20 backup-mail.example.com.
example.com. 60 TXT "v=spf1 include:_spf.vendor.net -all"
slow.example.com. 60 A 192.0.2.20
"""


class Zone(BaseResolver):  # type: ignore[misc]
    def __init__(self) -> None:
        self.records = RR.fromZone(ZONE)

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        qname, qtype = request.q.qname, QTYPE[request.q.qtype]
        if qname.matchGlob("broken.example.com"):
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if qname.matchGlob("slow.example.com"):
            time.sleep(0.2)
        names = [rr for rr in self.records if rr.rname == qname]
        if not names:
            reply.header.rcode = RCODE.NXDOMAIN
        for rr in names:
            if QTYPE[rr.rtype] == qtype:
                reply.add_answer(rr)
        return reply


@pytest.fixture(scope="module")
def nameserver() -> Iterator[str]:
    quiet = DNSLogger(logf=lambda _line: None)
    server = DNSServer(Zone(), address="127.0.0.1", port=0, logger=quiet)
    server.start_thread()
    yield f"127.0.0.1:{server.server.server_address[1]}"
    server.stop()
    server.server.server_close()  # stop() leaves the socket open


@pytest.fixture
def silent_nameserver() -> Iterator[str]:
    """A UDP port that takes queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def lookup(run_check: Run, nameserver: str) -> Callable[..., Outcome]:
    def run(config: dict[str, object], **context: object) -> Outcome:
        return run_check("dns", config, resolver_nameservers=[nameserver], **context)

    return run


def test_up_when_the_name_resolves(lookup: Callable[..., Outcome]) -> None:
    outcome = lookup({"name": "crm.example.com"})
    assert outcome.status == State.UP
    assert outcome.message.startswith("crm.example.com A → 192.0.2.10, 192.0.2.11 in ")
    assert outcome.details["answers"] == ["192.0.2.10", "192.0.2.11"]
    assert outcome.response_ms is not None


def test_up_when_the_expected_value_is_among_the_answers(lookup: Callable[..., Outcome]) -> None:
    assert lookup({"name": "crm.example.com", "expected": "192.0.2.11"}).status == State.UP


def test_down_with_what_was_found_when_the_expected_value_is_missing(
    lookup: Callable[..., Outcome],
) -> None:
    outcome = lookup({"name": "crm.example.com", "expected": "192.0.2.99"})
    assert outcome.status == State.DOWN
    assert outcome.message == "crm.example.com A is 192.0.2.10, 192.0.2.11, expected 192.0.2.99"


@pytest.mark.parametrize(
    ("config", "status"),
    [
        ({"name": "crm.example.com", "record_type": "aaaa", "expected": "2001:db8:0::10"}, "up"),
        ({"name": "www.example.com", "record_type": "CNAME", "expected": "CRM.vendor.net."}, "up"),
        ({"name": "www.example.com", "record_type": "CNAME", "expected": "other.net"}, "down"),
        ({"name": "example.com", "record_type": "MX", "expected": "mail.example.com"}, "up"),
        (
            {"name": "example.com", "record_type": "MX", "expected": "20 backup-mail.example.com"},
            "up",
        ),
        ({"name": "example.com", "record_type": "MX", "expected": "20 mail.example.com"}, "down"),
        (
            {
                "name": "example.com",
                "record_type": "TXT",
                "expected": "v=spf1 include:_spf.vendor.net -all",
            },
            "up",
        ),
        ({"name": "example.com", "record_type": "TXT", "expected": "v=spf1 -all"}, "down"),
    ],
)
def test_expected_values_are_compared_the_way_each_record_type_means(
    lookup: Callable[..., Outcome], config: dict[str, object], status: str
) -> None:
    assert lookup(config).status == status


def test_down_when_the_name_does_not_exist(lookup: Callable[..., Outcome]) -> None:
    outcome = lookup({"name": "missing.example.com"})
    assert outcome.status == State.DOWN
    assert outcome.message == "missing.example.com does not exist (NXDOMAIN)"


def test_down_when_there_is_no_record_of_the_type(lookup: Callable[..., Outcome]) -> None:
    outcome = lookup({"name": "www.example.com", "record_type": "MX"})
    assert outcome.status == State.DOWN
    assert outcome.message == "www.example.com has no MX record"


def test_down_when_the_server_fails(lookup: Callable[..., Outcome]) -> None:
    outcome = lookup({"name": "broken.example.com"})
    assert outcome.status == State.DOWN
    assert outcome.message.startswith("no DNS server could answer for broken.example.com: ")
    assert "SERVFAIL" in outcome.message


def test_down_when_no_answer_comes_within_the_timeout(
    run_check: Run, silent_nameserver: str
) -> None:
    outcome = run_check(
        "dns", {"name": "crm.example.com", "nameservers": [silent_nameserver]}, timeout=0.3
    )
    assert outcome.status == State.DOWN
    assert outcome.message == "no answer for crm.example.com from the DNS servers within 300 ms"


def test_the_checks_own_nameservers_come_first(
    run_check: Run, nameserver: str, silent_nameserver: str
) -> None:
    outcome = run_check(
        "dns",
        {"name": "crm.example.com", "nameservers": [nameserver]},
        resolver_nameservers=[silent_nameserver],
        timeout=1,
    )
    assert outcome.status == State.UP


def test_degraded_when_the_lookup_is_slower_than_the_limit(
    lookup: Callable[..., Outcome],
) -> None:
    outcome = lookup({"name": "slow.example.com", "max_response_ms": 50})
    assert outcome.status == State.DEGRADED
    assert outcome.message.startswith("lookup took ")
    assert outcome.message.endswith(", limit 50 ms")


def test_the_defaults_are_sensible() -> None:
    model = validate_config("dns", {"name": "crm.example.com"})
    assert isinstance(model, DnsConfig)
    assert (model.record_type, model.expected, model.nameservers) == ("A", None, None)


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({}, "config.name", "is required"),
        ({"name": "-bad-.example.com"}, "config.name", "is not a valid host name"),
        (
            {"name": "example.com", "record_type": "SRV"},
            "config.record_type",
            "must be one of A, AAAA",
        ),
        (
            {"name": "example.com", "expected": "mail.example.com"},
            "config.expected",
            "IPv4 address",
        ),
        (
            {"name": "example.com", "record_type": "AAAA", "expected": "192.0.2.1"},
            "config.expected",
            "IPv6 address",
        ),
        (
            {"name": "example.com", "record_type": "MX", "expected": "x y"},
            "config.expected",
            "priority",
        ),
        ({"name": "example.com", "nameservers": "1.1.1.1"}, "config.nameservers", "must be a list"),
        (
            {"name": "example.com", "nameservers": ["dns.google"]},
            "config.nameservers[0]",
            "IP address",
        ),
        (
            {"name": "example.com", "nameservers": ["[::1]:0"]},
            "config.nameservers[0]",
            "IP address",
        ),
    ],
)
def test_bad_definitions_are_refused_with_the_field_path(
    config: dict[str, object], path: str, message: str
) -> None:
    with pytest.raises(InvalidCheckConfig) as caught:
        validate_config("dns", config)
    assert [p for p, _ in caught.value.errors] == [path]
    assert message in caught.value.errors[0][1]


def test_nameservers_may_carry_a_port_and_ipv6_addresses() -> None:
    config = {
        "name": "example.com",
        "nameservers": ["192.0.2.53", "192.0.2.53:5353", "::1", "[::1]:53"],
    }
    model = validate_config("dns", config)
    assert isinstance(model, DnsConfig) and model.nameservers == config["nameservers"]
