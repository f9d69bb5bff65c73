"""Our own link first: canaries decide whether a failure blames the vendor."""

import asyncio
from datetime import UTC, datetime

import pytest

from fallback.incidents.models import Incident
from fallback.monitor import canary, claims
from fallback.monitor.models import CheckResult, State, System
from fallback.monitor.tests.engine_helpers import (
    Target,
    closed_port,
    make_check,
    make_internet_system,
    make_system,
    running_engine,
    seq,
    wait_until,
)
from fallback.testing.factories import make_org


@pytest.fixture
def target():
    server = Target().start()
    yield server
    server.stop()


T = datetime(2025, 1, 1, tzinfo=UTC)


def claim(check_id: int, org_id: int = 1) -> claims.Claim:
    return claims.Claim(
        id=check_id,
        org_id=org_id,
        system_id=1,
        kind="http",
        config=None,
        error="",
        interval=60,
        timeout=1,
        retries=0,
        retry_delay=0,
        is_canary=True,
        last_ping_at=None,
        due_at=T,
        created_at=T,
    )


class Link:
    """The org's canaries and what each would answer; counts the runs."""

    def __init__(self, answers: dict[int, str]) -> None:
        self.answers = answers
        self.runs: list[int] = []
        self.clock = 0.0

    async def load(self, org_id: int) -> list[claims.Claim]:
        return [claim(i, org_id) for i in self.answers]

    async def run(self, c: claims.Claim) -> str:
        self.runs.append(c.id)
        await asyncio.sleep(0.01)
        return self.answers[c.id]

    def canaries(self) -> canary.Canaries:
        return canary.Canaries(self.load, self.run, fresh=15, clock=lambda: self.clock)


def ask(canaries: canary.Canaries, org_id: int = 1) -> bool:
    return asyncio.run(canaries.link_is_down(org_id))


def test_an_organisation_without_canaries_gets_no_protection():
    assert ask(Link({}).canaries()) is False


def test_link_is_down_when_every_canary_fails():
    assert ask(Link({1: State.DOWN, 2: State.DOWN}).canaries()) is True


def test_one_working_canary_means_our_link_works():
    assert ask(Link({1: State.DOWN, 2: State.UP}).canaries()) is False
    assert ask(Link({1: State.DEGRADED}).canaries()) is False


def test_a_canary_that_cannot_tell_is_not_counted_as_failing():
    assert ask(Link({1: State.UNKNOWN}).canaries()) is False
    assert ask(Link({1: State.UNKNOWN, 2: State.DOWN}).canaries()) is True


def test_a_verdict_is_reused_while_fresh_then_asked_again():
    link = Link({1: State.DOWN})
    canaries = link.canaries()
    assert ask(canaries) is True
    link.answers[1] = State.UP
    link.clock = 14
    assert ask(canaries) is True and link.runs == [1]
    link.clock = 31
    assert ask(canaries) is False and link.runs == [1, 1]


def test_a_recent_scheduled_canary_run_is_used_instead_of_running_it_again():
    link = Link({1: State.UP, 2: State.UP})
    canaries = link.canaries()
    canaries.observe(1, 1, State.DOWN)
    canaries.observe(1, 2, State.DOWN)
    assert ask(canaries) is True and link.runs == []


def test_a_new_canary_observation_replaces_the_verdict():
    link = Link({1: State.DOWN})
    canaries = link.canaries()
    assert ask(canaries) is True
    canaries.observe(1, 1, State.UP)
    assert ask(canaries) is False and link.runs == [1]


def test_many_failing_checks_at_once_share_one_canary_run():
    link = Link({1: State.DOWN, 2: State.DOWN})
    canaries = link.canaries()

    async def many() -> list[bool]:
        return await asyncio.gather(*(canaries.link_is_down(1) for _ in range(200)))

    assert asyncio.run(many()) == [True] * 200
    assert sorted(link.runs) == [1, 2] and canaries.evaluations == 1


def test_canaries_that_cannot_be_loaded_protect_nothing():
    async def broken(org_id: int) -> list[claims.Claim]:
        raise RuntimeError("database went away")

    link = Link({1: State.DOWN})
    assert ask(canary.Canaries(broken, link.run)) is False


def test_organisations_are_judged_by_their_own_canaries():
    link = Link({1: State.DOWN})
    canaries = link.canaries()
    assert ask(canaries, org_id=1) is True
    assert ask(canaries, org_id=2) is True  # each org loads its own list (here: same answers)
    assert canaries.evaluations == 2


# -- the engine side, with real loopback servers --------------------------------------------


@pytest.fixture
def org(transactional_db):
    return make_org("Acme")


def _vendor(org, target, **fields):
    vendor = make_system(org, "CloudCRM", failures_to_down=1, **fields)
    return vendor, make_check(vendor, config={"url": target.url("/crm")}, interval_seconds=1)


def _canary(org, url):
    link = make_internet_system(org)
    link.failures_to_down = 1
    link.save()
    return link, make_check(
        link, "neutral target", config={"url": url}, is_canary=True, interval_seconds=1
    )


def test_when_the_canaries_fail_too_our_link_is_blamed_not_the_vendor(org, target):
    target.status["/crm"] = 503
    vendor, check = _vendor(org, target)
    link, canary_check = _canary(org, f"http://127.0.0.1:{closed_port()}/")
    with running_engine():
        assert wait_until(lambda: seq(check) >= 2 and seq(canary_check) >= 2)
    result = CheckResult.objects.filter(for_check=check).order_by("-seq").first()
    assert result.status == State.UNKNOWN
    assert result.message.startswith("unknown — our own connection is down")
    assert "HTTP 503" in result.message  # what the check saw is kept
    check.refresh_from_db()
    assert check.status == State.UNKNOWN and check.consecutive_failures == 0
    assert System.objects.get(pk=link.pk).state == State.DOWN
    assert System.objects.get(pk=vendor.pk).state != State.DOWN
    assert not Incident.objects.filter(systems=vendor).exists()


def test_when_the_canaries_work_the_vendor_is_down(org, target):
    target.status["/crm"] = 503
    vendor, check = _vendor(org, target)
    _canary(org, target.url("/neutral"))
    with running_engine():
        assert wait_until(lambda: System.objects.get(pk=vendor.pk).state == State.DOWN)
    check.refresh_from_db()
    assert check.status == State.DOWN and "HTTP 503" in check.last_message


def test_without_canaries_a_failure_blames_the_vendor(org, target):
    target.status["/crm"] = 503
    _, check = _vendor(org, target)
    other = make_org("Other")
    _canary(other, f"http://127.0.0.1:{closed_port()}/")  # another org's dead link
    with running_engine():
        assert wait_until(lambda: seq(check) >= 1)
    check.refresh_from_db()
    assert check.status == State.DOWN


def test_a_failing_canary_counts_for_its_own_system_only(org, target):
    _, check = _vendor(org, target)  # the vendor answers
    _link, canary_check = _canary(org, f"http://127.0.0.1:{closed_port()}/")
    with running_engine():
        assert wait_until(lambda: seq(check) >= 2 and seq(canary_check) >= 1)
    canary_check.refresh_from_db()
    assert canary_check.status == State.DOWN
    assert "refused" in canary_check.last_message
    check.refresh_from_db()
    assert check.status == State.UP
