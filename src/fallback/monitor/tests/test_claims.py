import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from fallback.monitor import claims, kinds
from fallback.monitor.models import Check
from fallback.monitor.tests.engine_helpers import make_check, make_system
from fallback.testing.factories import make_org

URL = {"url": "http://127.0.0.1:9/health"}


@pytest.fixture
def system(db):
    return make_system(make_org("Acme"))


def test_due_check_is_claimed_and_moved_one_interval_on(system):
    now = timezone.now()
    due = now - timedelta(seconds=2)
    check = make_check(system, config=URL, interval_seconds=30, next_run_at=due)
    claimed = claims.claim_due("w1", now, 10)
    assert [c.id for c in claimed] == [check.pk]
    assert claimed[0].due_at == due
    check.refresh_from_db()
    assert check.next_run_at == due + timedelta(seconds=30)
    assert check.claimed_by == "w1"
    assert claims.claim_due("w2", now, 10) == []


def test_not_due_disabled_and_paused_checks_are_not_claimed(system):
    now = timezone.now()
    make_check(system, "later", config=URL, next_run_at=now + timedelta(seconds=5))
    make_check(system, "off", config=URL, enabled=False)
    paused = make_system(system.org, "Paused one", paused=True)
    make_check(paused, "paused", config=URL)
    assert claims.claim_due("w1", now, 10) == []


def test_cadence_is_kept_when_a_run_is_late():
    now = timezone.now()
    previous = now - timedelta(seconds=20)
    assert claims.next_run(previous, 60, now) == previous + timedelta(seconds=60)


def test_far_behind_check_skips_missed_runs_but_keeps_its_cadence():
    now = timezone.now()
    previous = now - timedelta(minutes=10, seconds=15)
    assert claims.next_run(previous, 60, now) == now + timedelta(seconds=45)


def test_a_run_late_by_more_than_half_an_interval_is_not_followed_by_a_quick_one():
    now = timezone.now()
    assert claims.next_run(now - timedelta(seconds=29), 60, now) == now + timedelta(seconds=31)
    assert claims.next_run(now - timedelta(seconds=31), 60, now) == now + timedelta(seconds=89)


def test_checks_all_overdue_after_a_restart_stay_spread_over_the_interval():
    now = timezone.now()
    spread = [now - timedelta(minutes=5, seconds=s) for s in range(60)]
    following = sorted(claims.next_run(p, 60, now) for p in spread)
    assert len(set(following)) == 60
    assert following[0] >= now + timedelta(seconds=30)
    assert following[-1] - following[0] == timedelta(seconds=59)


def test_oldest_due_first_and_limit_respected(system):
    now = timezone.now()
    checks = [
        make_check(system, f"c{i}", config=URL, next_run_at=now - timedelta(seconds=10 - i))
        for i in range(5)
    ]
    first = claims.claim_due("w1", now, 3)
    assert [c.id for c in first] == [c.pk for c in checks[:3]]
    rest = claims.claim_due("w1", now, 3)
    assert [c.id for c in rest] == [c.pk for c in checks[3:]]


def test_claim_carries_what_the_run_needs(system):
    check = make_check(
        system,
        config=URL,
        timeout_seconds=4.5,
        retries=2,
        retry_delay_seconds=1.5,
        is_canary=True,
    )
    (claim,) = claims.claim_due("w1", timezone.now(), 10)
    assert (claim.org_id, claim.system_id, claim.kind) == (system.org_id, system.pk, "http")
    assert (claim.timeout, claim.retries, claim.retry_delay, claim.is_canary) == (
        4.5,
        2,
        1.5,
        True,
    )
    assert claim.config is not None and claim.config.url == URL["url"]
    assert claim.created_at == check.created_at and claim.error == ""


def test_invalid_definition_is_claimed_with_a_plain_error(system):
    make_check(system, "typo", kind="htp", config=URL)
    make_check(system, "bad url", config={"url": "ftp://example.com"})
    claimed = claims.claim_due("w1", timezone.now(), 10)
    assert [c.config for c in claimed] == [None, None]
    errors = [c.error for c in claimed]
    assert all(e.startswith("the check's definition is not valid: ") for e in errors)
    assert any("unknown check kind 'htp'" in e for e in errors)
    assert any("config.url" in e for e in errors)


def test_passive_check_is_next_due_when_it_becomes_overdue(system):
    now = timezone.now()
    pinged = now - timedelta(seconds=10)
    check = make_check(
        system,
        kind="heartbeat",
        config={"period_seconds": 60, "grace_seconds": 30},
        last_ping_at=pinged,
        interval_seconds=15,
    )
    claims.claim_due("w1", now, 10)
    check.refresh_from_db()
    assert check.next_run_at == pinged + timedelta(seconds=90)


def test_overdue_passive_check_is_looked_at_every_interval(system):
    now = timezone.now()
    check = make_check(
        system,
        kind="heartbeat",
        config={"period_seconds": 60, "grace_seconds": 0},
        last_ping_at=now - timedelta(hours=1),
        interval_seconds=15,
    )
    claims.claim_due("w1", now, 10)
    check.refresh_from_db()
    assert check.next_run_at == now + timedelta(seconds=15)


def url(host: str) -> str:
    return json.dumps({"url": f"http://{host}/"})


def test_config_cache_revalidates_when_the_config_changes():
    cache = claims.ConfigCache()
    first = cache.get(1, "http", url("a.example"))
    assert cache.get(1, "http", url("a.example")) is first
    second = cache.get(1, "http", url("b.example"))
    assert second is not first and second.url == "http://b.example/"
    assert cache.get(1, "http", url("b.example")) is second


def test_a_full_config_cache_keeps_what_it_has():
    cache = claims.ConfigCache(size=2)
    kept = [cache.get(i, "http", url(f"{i}.example")) for i in (1, 2)]
    cache.get(3, "http", url("3.example"))
    assert len(cache) == 2
    assert [cache.get(i, "http", url(f"{i}.example")) for i in (1, 2)] == kept
    changed = cache.get(2, "http", url("two.example"))
    assert cache.get(2, "http", url("two.example")) is changed  # still cached
    cache.clear()
    assert len(cache) == 0


def test_stored_config_that_is_not_json_is_a_definition_error():
    with pytest.raises(kinds.InvalidCheckConfig, match="config: is not valid JSON"):
        claims.ConfigCache().get(1, "http", "{not json")


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_take_each_due_check_exactly_once():
    system = make_system(make_org("Acme"))
    now = timezone.now()
    Check.objects.bulk_create(
        Check(
            org=system.org,
            system=system,
            name=f"c{i}",
            kind="http",
            config=URL,
            next_run_at=now - timedelta(seconds=1),
        )
        for i in range(300)
    )
    taken: dict[str, list[int]] = {}
    start = threading.Barrier(6)

    def claimer(name: str) -> None:
        mine: list[int] = []
        try:
            start.wait()
            while batch := claims.claim_due(name, now, 7):
                mine.extend(c.id for c in batch)
                time.sleep(0.002)  # as the engine does between claims: let the others in
        finally:
            taken[name] = mine
            connections.close_all()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [i for ids in taken.values() for i in ids]
    assert len(everything) == 300
    assert set(everything) == set(Check.objects.values_list("id", flat=True))
    assert sum(1 for ids in taken.values() if ids) > 1  # really concurrent, not one thread
    by = dict(Check.objects.values_list("id", "claimed_by"))
    assert all(by[i] == name for name, ids in taken.items() for i in ids)
