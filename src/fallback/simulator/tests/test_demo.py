"""The demo's monitoring: what `fallback demo` sets up, and that it really watches the
simulator: the demo's own checks, run by the real check kinds, see it go down and come back."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import aiohttp
import pytest
from django.utils import timezone

from fallback.demo import build_demo
from fallback.incidents.models import AlertChannel, AlertDelivery, Incident, Status
from fallback.monitor import availability, kinds, sla_claims
from fallback.monitor.models import Check, CheckRollup, State, System
from fallback.simulator.runner import Simulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    simulator.service.slow_seconds = 0.3
    yield simulator
    simulator.stop()


def run_checks(checks: list[Check]) -> dict[str, str]:
    async def run() -> dict[str, str]:
        async with aiohttp.ClientSession() as session:
            results = {}
            for check in checks:
                kind = kinds.get(check.kind)
                config = kinds.validate_config(check.kind, check.config)
                ctx = kinds.RunContext(session, check.timeout_seconds, timezone.now())
                results[check.name] = (await kind.run(config, ctx)).status
            return results

    return asyncio.run(run())


def test_demo_sets_up_systems_checks_an_alert_channel_and_history(sim):
    build_demo("a long demo password 1", sim.url)
    hartley = System.objects.filter(org__slug="hartley-plumbing")
    assert sorted(hartley.values_list("slug", flat=True)) == [
        "cloudcrm",
        "nightly-backup",
        "office-internet",
        "xero",
    ]
    crm = hartley.get(slug="cloudcrm")
    assert crm.trigger_minutes == 2  # a newcomer sees a declaration within minutes
    assert {c.interval_seconds for c in crm.checks.all()} <= {10, 15}
    canaries = Check.objects.filter(system__slug="office-internet", is_canary=True)
    assert canaries.count() == 2
    assert all(c.config["url"].startswith(sim.url + "/canary/") for c in canaries)
    channel = AlertChannel.objects.get(org__slug="hartley-plumbing")
    assert channel.url == sim.url.replace("http://", "json://") + "/alerts"
    # Past incidents, all closed, and none of them alerting when the demo starts.
    assert set(Incident.objects.values_list("status", flat=True)) == {Status.RESOLVED}
    assert Incident.objects.filter(is_exercise=True).count() == 1
    assert not AlertDelivery.objects.exists()
    assert CheckRollup.objects.filter(for_check__system=crm).count() == 23
    backup = Check.objects.get(kind="heartbeat")
    assert backup.push_token and backup.status == State.UP


def test_demo_history_gives_the_vendor_report_a_missed_promise(sim):
    build_demo("a long demo password 1", sim.url)
    xero = System.objects.get(slug="xero")
    today = timezone.now().date()
    last_month = availability.previous_month(date(today.year, today.month, 1))
    report = availability.month_report(xero, last_month, timezone.now())
    assert report.downtime_minutes == 207 + 17
    assert report.sla_met is False
    assert len(report.real_incidents) == 2


def test_demo_systems_have_credit_tiers_and_a_fee_so_a_claim_states_the_credit(sim):
    build_demo("a long demo password 1", sim.url)
    crm = System.objects.get(slug="cloudcrm")
    assert (crm.credit_tiers, crm.monthly_fee) == ("99.9:10, 99:25", Decimal("249.00"))
    xero = System.objects.get(slug="xero")
    today = timezone.now().date()
    last_month = availability.previous_month(date(today.year, today.month, 1))
    claim = sla_claims.figures(xero, last_month, None)
    # 224 minutes down in a month is below 99.9 % (but not 99 %): 10 % of £59.
    assert (claim["credit_percent"], claim["monthly_fee"]) == ("10", "59.00")
    assert (claim["credit_amount"], claim["currency"]) == ("5.90", "GBP")


def test_demo_is_idempotent(sim):
    build_demo("a long demo password 1", sim.url)
    counts = (System.objects.count(), Check.objects.count(), Incident.objects.count())
    build_demo("a long demo password 1", sim.url)
    assert (System.objects.count(), Check.objects.count(), Incident.objects.count()) == counts


def test_demo_checks_see_the_simulator_go_down_and_come_back(sim):
    build_demo("a long demo password 1", sim.url)
    crm_checks = list(Check.objects.filter(system__slug="cloudcrm").order_by("name"))
    canaries = list(Check.objects.filter(is_canary=True))
    assert set(run_checks(crm_checks).values()) == {State.UP}
    sim.service.set_mode("down")
    assert run_checks(crm_checks) == {
        "Health endpoint": State.DOWN,
        "Login page": State.DOWN,
        "Vendor status page": State.DOWN,
    }
    assert set(run_checks(canaries).values()) == {State.UP}  # our own link is fine
    sim.service.set_mode("slow")
    sim.service.slow_seconds = 1.6  # past the health check's 1500 ms limit
    assert run_checks(crm_checks)["Health endpoint"] == State.DEGRADED
    sim.service.set_mode("up")
    assert set(run_checks(crm_checks).values()) == {State.UP}
