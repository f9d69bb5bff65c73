from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError

from fallback.incidents.tests.builders import make_system
from fallback.monitor.maintenance import (
    in_maintenance,
    occurrence_at,
    parse_weekdays,
    validate_window,
)
from fallback.monitor.models import MaintenanceWindow
from fallback.testing.factories import make_org

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(**fields) -> MaintenanceWindow:
    fields.setdefault("title", "Weekly updates")
    fields.setdefault("time_zone", "Europe/London")
    return MaintenanceWindow(**fields)


def test_one_off_window_covers_start_but_not_end():
    w = MaintenanceWindow(title="Move", starts_at=utc(2026, 5, 1, 9), ends_at=utc(2026, 5, 1, 11))
    assert occurrence_at(w, utc(2026, 5, 1, 8, 59)) is None
    assert occurrence_at(w, utc(2026, 5, 1, 9)) == (utc(2026, 5, 1, 9), utc(2026, 5, 1, 11))
    assert occurrence_at(w, utc(2026, 5, 1, 11)) is None


def test_weekly_window_follows_local_time_in_winter_and_summer():
    # Sunday 02:00 London: 02:00 UTC in January, 01:00 UTC in July.
    w = weekly(weekdays="7", start_time=time(2, 0), duration_minutes=60)
    assert occurrence_at(w, utc(2026, 1, 4, 2, 30)) is not None  # Sun 4 Jan
    assert occurrence_at(w, utc(2026, 1, 4, 1, 30)) is None
    assert occurrence_at(w, utc(2026, 7, 5, 1, 30)) is not None  # Sun 5 Jul (BST)
    assert occurrence_at(w, utc(2026, 7, 5, 2, 30)) is None
    assert occurrence_at(w, utc(2026, 7, 6, 1, 30)) is None  # Monday


def test_start_time_skipped_by_spring_forward_starts_when_the_clock_shows_it():
    # 29 Mar 2026, London: 01:00 GMT jumps to 02:00 BST; 01:30 does not exist that day.
    w = weekly(weekdays="7", start_time=time(1, 30), duration_minutes=60)
    start, end = occurrence_at(w, utc(2026, 3, 29, 1, 45))
    assert start == utc(2026, 3, 29, 1, 30)  # = 02:30 BST
    assert end == utc(2026, 3, 29, 2, 30)  # a real hour later, 03:30 BST
    assert occurrence_at(w, utc(2026, 3, 29, 1, 29)) is None


def test_window_spanning_spring_forward_lasts_its_real_duration():
    # Sunday 00:30 local for 2 hours on 29 Mar 2026: 00:30 GMT → 02:30 UTC (03:30 BST).
    w = weekly(weekdays="7", start_time=time(0, 30), duration_minutes=120)
    assert occurrence_at(w, utc(2026, 3, 29, 0, 30)) is not None
    assert occurrence_at(w, utc(2026, 3, 29, 2, 29)) is not None
    assert occurrence_at(w, utc(2026, 3, 29, 2, 30)) is None


def test_ambiguous_start_time_after_fall_back_takes_its_first_occurrence():
    # 25 Oct 2026, London: 02:00 BST goes back to 01:00 GMT; 01:30 happens twice.
    w = weekly(weekdays="7", start_time=time(1, 30), duration_minutes=30)
    start, end = occurrence_at(w, utc(2026, 10, 25, 0, 40))
    assert (start, end) == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 0))  # 01:30 BST
    assert occurrence_at(w, utc(2026, 10, 25, 1, 40)) is None  # 01:40 GMT, the second 01:30s


def test_window_after_fall_back_is_an_hour_later_in_utc():
    w = weekly(weekdays="7", start_time=time(3, 0), duration_minutes=60)
    assert occurrence_at(w, utc(2026, 10, 18, 2, 30)) is not None  # Sun before: BST
    assert occurrence_at(w, utc(2026, 10, 25, 2, 30)) is None  # clocks went back
    assert occurrence_at(w, utc(2026, 10, 25, 3, 30)) is not None  # GMT


def test_weekly_window_crossing_midnight_covers_the_next_morning():
    # Saturday 23:00 for 3 hours: until Sunday 02:00.
    w = weekly(weekdays="6", start_time=time(23, 0), duration_minutes=180, time_zone="UTC")
    assert occurrence_at(w, utc(2026, 6, 6, 23, 30)) is not None  # Sat
    assert occurrence_at(w, utc(2026, 6, 7, 1, 59)) is not None  # Sun
    assert occurrence_at(w, utc(2026, 6, 7, 2, 0)) is None
    assert occurrence_at(w, utc(2026, 6, 5, 23, 30)) is None  # a Friday


def test_window_in_another_time_zone():
    w = weekly(
        weekdays="1,2,3,4,5", start_time=time(12), duration_minutes=60, time_zone="America/New_York"
    )
    assert occurrence_at(w, utc(2026, 6, 3, 16, 30)) is not None  # 12:30 EDT, Wednesday
    assert occurrence_at(w, utc(2026, 6, 3, 12, 30)) is None


def test_system_window_applies_only_to_its_system():
    org = make_org("Acme")
    crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
    MaintenanceWindow.objects.create(
        org=org, system=crm, title="CRM upgrade", starts_at=utc(2026, 5, 1), ends_at=utc(2026, 5, 2)
    )
    assert in_maintenance(crm, utc(2026, 5, 1, 12)).title == "CRM upgrade"
    assert in_maintenance(shop, utc(2026, 5, 1, 12)) is None


def test_org_wide_window_applies_to_every_system_of_its_org_only():
    org, other = make_org("Acme"), make_org("Other")
    crm, shop = make_system(org, "CRM"), make_system(org, "Shop")
    theirs = make_system(other, "CRM")
    MaintenanceWindow.objects.create(
        org=org, title="Office move", starts_at=utc(2026, 5, 1), ends_at=utc(2026, 5, 2)
    )
    assert in_maintenance(crm, utc(2026, 5, 1, 12)) is not None
    assert in_maintenance(shop, utc(2026, 5, 1, 12)) is not None
    assert in_maintenance(theirs, utc(2026, 5, 1, 12)) is None


def test_parse_weekdays_names_the_bad_part():
    assert parse_weekdays(" 1, 3,5 ") == {1, 3, 5}
    with pytest.raises(ValueError, match="'8' is not an ISO weekday"):
        parse_weekdays("1,8")


def test_validate_window_names_each_bad_field():
    org = make_org("Acme")
    w = MaintenanceWindow(
        org=org,
        title="x",
        weekdays="0",
        start_time=None,
        duration_minutes=None,
        time_zone="Mars/Base",
    )
    with pytest.raises(ValidationError) as exc:
        validate_window(w)
    assert set(exc.value.message_dict) == {
        "weekdays",
        "start_time",
        "duration_minutes",
        "time_zone",
    }


def test_validate_window_refuses_end_before_start_and_half_defined_windows():
    org = make_org("Acme")
    backwards = MaintenanceWindow(
        org=org, title="x", starts_at=utc(2026, 5, 2), ends_at=utc(2026, 5, 1)
    )
    with pytest.raises(ValidationError) as exc:
        validate_window(backwards)
    assert exc.value.message_dict == {"ends_at": ["The end must come after the start."]}
    with pytest.raises(ValidationError) as exc:
        validate_window(MaintenanceWindow(org=org, title="x", start_time=time(2)))
    assert {"starts_at", "ends_at", "weekdays"} <= set(exc.value.message_dict)


def test_validate_window_refuses_another_orgs_system():
    org, other = make_org("Acme"), make_org("Other")
    theirs = make_system(other, "CRM")
    w = MaintenanceWindow(
        org=org, system=theirs, title="x", starts_at=utc(2026, 5, 1), ends_at=utc(2026, 5, 2)
    )
    with pytest.raises(ValidationError) as exc:
        validate_window(w)
    assert exc.value.message_dict == {"system": ["No such system in this organisation."]}


def test_valid_windows_pass_validation():
    org = make_org("Acme")
    validate_window(
        MaintenanceWindow(org=org, title="x", starts_at=utc(2026, 5, 1), ends_at=utc(2026, 5, 2))
    )
    validate_window(
        MaintenanceWindow(
            org=org, title="x", weekdays="6,7", start_time=time(23), duration_minutes=180
        )
    )
