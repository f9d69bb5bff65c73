"""Readiness: a score from weighted checks (systems watched, replica within RPO, plan
complete, contacts verified, last drill passed, backups verified) and the next most useful
thing to do."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from fallback.accounts.membership import create_organisation
from fallback.incidents import lifecycle
from fallback.monitor import editing as monitor_editing
from fallback.plans import editing, readiness
from fallback.plans.models import ContactKind
from fallback.plans.tests.conftest import complete_one_system_plan
from fallback.replica.models import Connector

pytestmark = pytest.mark.django_db
REAL_VAULT_STATUS = readiness.vault_status


@pytest.fixture(autouse=True)
def no_backups_yet(monkeypatch):
    """The vault (another app) may be installed: these tests say what it reports."""
    monkeypatch.setattr(readiness, "vault_status", lambda: None)


def checks(org):
    return {c.key: c for c in readiness.readiness(org).checks}


def test_weights_add_up_to_a_hundred():
    assert sum(readiness.WEIGHTS.values()) == 100


def test_an_empty_organisation_scores_nothing_and_starts_with_the_plan():
    org = create_organisation("Empty", slug="empty")
    result = readiness.readiness(org)
    assert result.score == 0
    assert [c.done for c in result.checks] == [False] * 6
    best = result.next_check
    assert best is not None and best.key == "plan"
    assert (best.action, best.url) == ("Start the plan", "/o/empty/plan/")
    found = checks(org)
    assert found["systems"].url == "/o/empty/systems/new/"
    assert found["replica"].why == "No replica yet: copy the records you need to keep trading."


def test_systems_count_as_watched_when_each_has_an_enabled_check(world):
    acme = world["acme"]
    check = checks(acme)["systems"]
    assert (check.done, check.action) == (False, "Add a check to CloudCRM")
    assert check.url == "/o/acme/systems/cloudcrm/checks/new/"
    monitor_editing.create_check(
        world["crm"], name="Ping", kind="tcp", config={"host": "127.0.0.1", "port": 9}
    )
    other = monitor_editing.create_system(acme, name="Xero", kind="accounting")
    check = checks(acme)["systems"]
    assert (check.done, check.fraction) == (False, 0.5)
    assert check.why.startswith("Nothing watches Xero")
    monitor_editing.create_check(
        other, name="Ping", kind="tcp", config={"host": "127.0.0.1", "port": 9}
    )
    check = checks(acme)["systems"]
    assert check.done and check.points == readiness.WEIGHTS["systems"]


def test_the_replica_must_be_within_the_rpo_of_the_connector_and_of_the_plan(world):
    acme = world["acme"]
    now = timezone.now()
    connector = Connector.objects.create(
        org=acme,
        name="CRM copy",
        slug="crm-copy",
        kind="files",
        system=world["crm"],
        rpo_minutes=120,
        last_good_at=now - timedelta(minutes=90),
    )
    assert checks(acme)["replica"].done
    plan = editing.start(acme, world["ann"])
    editing.confirm(plan.activities.get(name="Taking orders"))  # needs data no older than 1 h
    check = checks(acme)["replica"]
    assert not check.done
    assert check.why == "The copy of CRM copy is older than its RPO."
    connector.last_good_at = now - timedelta(minutes=10)
    connector.save()
    check = checks(acme)["replica"]
    assert check.done and check.fraction == 1


def test_a_connector_that_never_synced_is_not_ready(world):
    Connector.objects.create(org=world["acme"], name="Shop", slug="shop", kind="files")
    check = checks(world["acme"])["replica"]
    assert (check.done, check.why) == (False, "The copy of Shop has never synced.")


def test_the_plan_check_earns_its_share_and_points_at_what_is_missing(world):
    plan = editing.start(world["acme"], world["ann"])
    check = checks(world["acme"])["plan"]
    assert not check.done and 0 < check.points < readiness.WEIGHTS["plan"]
    assert check.why.startswith("0 of 5 sections complete. The first thing missing: Say which work")
    assert check.url == "/o/acme/plan/continue/"
    complete_one_system_plan(plan, world)
    check = checks(world["acme"])["plan"]
    assert check.done and check.why == "5 of 5 sections complete."


def test_contacts_verified_within_their_cadence(world):
    plan = editing.start(world["acme"], world["ann"])
    assert (
        checks(world["acme"])["contacts"].why
        == "No contacts yet: who to call when the systems are down."
    )
    a = editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Sid")
    editing.save_contact(plan, None, kind=ContactKind.SUPPLIER, name="Pipes")
    check = checks(world["acme"])["contacts"]
    assert (check.done, check.why, check.fraction) == (
        False,
        "2 of 2 contacts due for a check.",
        0.0,
    )
    editing.verify_contacts(plan, [a], world["ann"])
    check = checks(world["acme"])["contacts"]
    assert (check.done, check.fraction) == (False, 0.5)
    editing.verify_contacts(plan, list(plan.contacts.all()), world["ann"])
    assert checks(world["acme"])["contacts"].done


def _drill(world, plan, at: datetime, passed: bool = True):
    """A drill of the "system lost" scenario finished at `at`."""
    from fallback.plans import drills
    from fallback.plans.models import Milestone

    scenario = plan.scenarios.get(kind="system_lost")
    with time_machine.travel(at - timedelta(hours=1), tick=False):
        drill = drills.start(plan, scenario, by=world["ann"])
    with time_machine.travel(at - timedelta(minutes=30), tick=False):
        if passed:
            drills.mark(drill, Milestone.DESK_PRODUCING, world["ann"])
            drills.mark(drill, Milestone.RECOVERED, world["ann"])
        for step in drill.steps.all():
            drills.time_step(step, "done", world["ann"])
    with time_machine.travel(at, tick=False):
        drills.finish(drill, world["ann"])
    return drill


def test_the_last_drill_passed_within_a_year(world):
    acme = world["acme"]
    plan = complete_one_system_plan(editing.start(acme, world["ann"]), world)
    assert readiness.last_drill(acme) is None
    assert checks(acme)["drill"].url == "/o/acme/plan/drills/"
    start = datetime(2026, 1, 10, 10, 0, tzinfo=UTC)
    # An exercise incident declared by hand measured nothing: not a drill.
    exercise = lifecycle.declare_manually(
        acme, [world["crm"]], "Hand-made drill", world["ann"], is_exercise=True
    )
    lifecycle.resolve(exercise, world["ann"])
    assert readiness.last_drill(acme) is None
    drill = _drill(world, plan, start)
    with time_machine.travel(start + timedelta(days=30), tick=False):
        found = readiness.last_drill(acme)
        assert found is not None and (found.title, found.passed) == (
            "A system or its data is lost",
            True,
        )
        check = checks(acme)["drill"]
        assert check.done and check.why == "“A system or its data is lost” passed on 10 Jan 2026."
        assert check.url == f"/o/acme/plan/drills/{drill.pk}/"
    with time_machine.travel(start + timedelta(days=400), tick=False):
        check = checks(acme)["drill"]
        assert (check.done, check.fraction) == (False, 0.5)
        assert check.why == "The last drill, “A system or its data is lost”, was over a year ago."


def test_a_failed_drill_is_not_ready_and_says_why(world):
    plan = complete_one_system_plan(editing.start(world["acme"], world["ann"]), world)
    _drill(world, plan, timezone.now(), passed=False)
    check = checks(world["acme"])["drill"]
    assert not check.done
    assert check.why == (
        "The last drill, “A system or its data is lost”, did not pass "
        "(“Taking orders”: RTO not reached in the drill): fix the plan and run it again."
    )


@dataclass
class VaultStatus:
    last_snapshot_at: datetime | None
    last_verified_at: datetime | None
    verified_ok: bool
    problems: list[str]


def test_backups_without_the_vault_are_not_set_up(monkeypatch):
    real_import = builtins.__import__

    def no_vault(name, *args, **kwargs):
        if name.startswith("fallback.vault"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_vault)
    monkeypatch.setattr(readiness.importlib, "import_module", lambda name: no_vault(name))
    assert REAL_VAULT_STATUS() is None
    monkeypatch.setattr(readiness, "vault_status", REAL_VAULT_STATUS)
    check = readiness.backups_check(timezone.now())
    assert not check.done and check.why.startswith("Backups are not set up")


def test_a_vault_that_fails_to_answer_does_not_break_readiness(monkeypatch, caplog):
    class Broken:
        @staticmethod
        def readiness():
            raise RuntimeError("no such table: vault_snapshot")

    monkeypatch.setattr(readiness.importlib, "import_module", lambda name: Broken)
    monkeypatch.setattr(readiness, "vault_status", REAL_VAULT_STATUS)
    check = readiness.backups_check(timezone.now())
    assert not check.done
    assert check.why == "Fallback could not read the state of the backups (see its log)."
    assert "Reading the vault's readiness failed" in caplog.text


def test_the_backups_link_is_for_the_installations_administrators(world):
    from fallback.plans.tests.conftest import as_user

    check = readiness.backups_check(timezone.now())
    assert check.admin_only
    page = as_user(world["ann"]).get("/o/acme/plan/readiness/").content.decode()
    if check.url:
        assert f'href="{check.url}"' not in page
        world["ann"].is_superuser = True
        world["ann"].save()
        page = as_user(world["ann"]).get("/o/acme/plan/readiness/").content.decode()
        assert f'href="{check.url}"' in page


def test_backups_verified_recently_are_ready():
    now = timezone.now()
    ok = VaultStatus(now - timedelta(hours=2), now - timedelta(hours=1), True, [])
    check = readiness.backups_check(now, ok)
    assert check.done and check.why == "The last backup was verified."
    old = VaultStatus(now, now - timedelta(days=20), True, [])
    check = readiness.backups_check(now, old)
    assert (check.done, check.fraction) == (False, 0.5)
    failed = VaultStatus(now, now, False, ["The copy at office-usb is corrupt"])
    check = readiness.backups_check(now, failed)
    assert (check.done, check.why) == (False, "The copy at office-usb is corrupt")
    none = VaultStatus(None, None, False, [])
    assert readiness.backups_check(now, none).why == "No backup has been made yet."


def test_the_next_thing_to_do_is_the_undone_check_worth_most(world):
    plan = editing.start(world["acme"], world["ann"])
    complete_one_system_plan(plan, world)
    editing.verify_contacts(plan, list(plan.contacts.all()), world["ann"])
    result = readiness.readiness(world["acme"])
    assert {c.key for c in result.checks if c.done} == {"plan", "contacts"}
    best = result.next_check
    assert best is not None and best.key == "systems"  # 20 points, the most left
    assert result.score == readiness.WEIGHTS["plan"] + readiness.WEIGHTS["contacts"]
