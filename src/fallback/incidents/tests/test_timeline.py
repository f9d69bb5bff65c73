from datetime import UTC, datetime, timedelta

import pytest

from fallback.incidents import timeline
from fallback.incidents.lifecycle import declare_manually
from fallback.incidents.models import EntryKind, TimelineEntry
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=59), "0 min"),
        (timedelta(minutes=4, seconds=50), "4 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=1, minutes=12), "1 h 12 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=3, minutes=5), "2 days 3 h"),
        (timedelta(minutes=-3), "0 min"),
    ],
)
def test_duration_in_plain_words(delta, text):
    assert timeline.duration(delta) == text


def test_local_time_is_on_the_organisations_clock():
    org = make_org("Acme")  # Europe/London
    summer = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
    assert timeline.local_time(summer, org, now=summer) == "10:00"
    assert timeline.local_time(summer, org, now=summer + timedelta(days=1)) == "10:00 on Mon 6 Jul"
    org.time_zone = "America/New_York"
    assert timeline.local_time(summer, org, now=summer) == "05:00"


def test_entry_records_the_person_or_fallback():
    org = make_org("Acme")
    ann = make_user("ann@acme.test")
    incident = declare_manually(org, [], "Phones dead", ann)
    by_ann = timeline.add(incident, EntryKind.NOTE, "Called the carrier", by=ann)
    by_fallback = timeline.add(incident, EntryKind.NOTE, "Checked again")
    assert (by_ann.actor, by_ann.actor_label) == (ann, "ann@acme.test")
    assert (by_fallback.actor, by_fallback.actor_label) == (None, "Fallback")
    assert by_ann.org_id == incident.org_id
    assert TimelineEntry.objects.filter(incident=incident).count() == 3


def test_incident_path():
    org = make_org("Acme Ltd")
    incident = declare_manually(org, [], "Phones dead", make_user("ann@acme.test"))
    assert timeline.incident_path(incident) == f"/o/acme-ltd/incidents/{incident.pk}/"
