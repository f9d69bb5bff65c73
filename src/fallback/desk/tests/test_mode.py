"""Fallback mode: on with a declared outage of a covered system or by a manager, off again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fallback.desk import mode
from fallback.desk.models import FallbackPeriod
from fallback.incidents import lifecycle
from fallback.monitor.models import System
from fallback.replica.models import Connector
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org("Harbour Plumbing")


@pytest.fixture
def user():
    return make_user("lead@example.com")


def system(org, name):
    return System.objects.create(org=org, name=name, slug=name.lower())


def test_off_without_incidents_or_switch(org):
    assert not mode.state(org).active


def test_a_declared_outage_of_a_covered_system_switches_it_on(org, user):
    crm = system(org, "CRM")
    mode.settings_for(org).covered_systems.add(crm)
    lifecycle.declare_manually(org, [crm], "CRM down", user)
    state = mode.state(org)
    assert state.active and state.period.number == 1
    assert [d.name for d in state.down] == ["CRM"]


def test_an_outage_of_a_system_not_covered_leaves_it_off(org, user):
    crm, website = system(org, "CRM"), system(org, "Website")
    mode.settings_for(org).covered_systems.add(crm)
    lifecycle.declare_manually(org, [website], "Website down", user)
    assert not mode.state(org).active


def test_with_no_systems_chosen_every_system_is_covered(org, user):
    lifecycle.declare_manually(org, [system(org, "Website")], "Website down", user)
    assert mode.state(org).active


def test_the_period_ends_when_the_incident_is_resolved(org, user):
    incident = lifecycle.declare_manually(org, [system(org, "CRM")], "CRM down", user)
    mode.state(org)
    lifecycle.resolve(incident, user)
    assert not mode.state(org).active
    assert FallbackPeriod.objects.get(org=org).ended_at is not None


def test_a_drill_opens_an_exercise_period(org, user):
    lifecycle.declare_manually(org, [system(org, "CRM")], "Drill", user, is_exercise=True)
    state = mode.state(org)
    assert state.active and state.is_exercise


def test_manual_switch_on_needs_a_reason_and_is_idempotent(org, user):
    with pytest.raises(mode.ModeError, match="Say why"):
        mode.switch_on(org, user, " ")
    first = mode.switch_on(org, user, "Phones down")
    assert mode.switch_on(org, user, "again") == first
    assert mode.switch_off(org, user) == 1
    assert not mode.state(org).active
    assert mode.switch_on(org, user, "Again").number == 2


def test_freshness_says_how_long_before_the_outage_the_replica_was_synced(org, user):
    crm = system(org, "CRM")
    Connector.objects.create(
        org=org,
        name="CRM copy",
        slug="crm",
        kind="files",
        system=crm,
        last_good_at=timezone.now() - timedelta(minutes=37),
    )
    lifecycle.declare_manually(org, [crm], "CRM down", user)
    fresh = mode.state(org).freshness
    assert fresh[0].connector == "CRM copy"
    assert timedelta(minutes=36) < fresh[0].before_outage <= timedelta(minutes=38)


def test_the_scheduler_job_opens_periods_for_every_organisation(org, user):
    lifecycle.declare_manually(org, [system(org, "CRM")], "CRM down", user)
    mode.sync_all_periods()
    assert FallbackPeriod.objects.filter(org=org, ended_at__isnull=True).count() == 1
