from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fallback.incidents.models import Incident, Status
from fallback.monitor import availability
from fallback.monitor.availability import (
    daily,
    measure,
    merge,
    month_bounds,
    month_report,
    org_report,
    outages_csv,
    overall,
    parse_month,
    subtract,
    summary_csv,
)
from fallback.monitor.models import MaintenanceWindow, State, StateChange, System
from fallback.testing.factories import make_org

LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def org(db):
    return make_org("Acme")  # Europe/London


@pytest.fixture
def crm(org):
    return System.objects.create(
        org=org,
        name="CloudCRM",
        slug="cloudcrm",
        vendor="Cloud Ltd",
        account_number="AC-1",
        sla_percent=Decimal("99.9"),
        credit_terms="10% of the monthly fee per hour",
        state=State.UP,
        created_at=utc(2024, 1, 1),
    )


def change(system: System, at: datetime, to: str, frm: str = "") -> StateChange:
    if not frm:
        last = StateChange.objects.filter(system=system, at__lt=at).order_by("-at").first()
        frm = last.to_state if last else State.UP
    return StateChange.objects.create(
        org=system.org, system=system, at=at, from_state=frm, to_state=to
    )


def down(system: System, start: datetime, end: datetime | None) -> None:
    change(system, start, State.DOWN)
    if end is not None:
        change(system, end, State.UP)


MARCH = date(2025, 3, 1)
AFTER_MARCH = utc(2025, 5, 1)


# ------------------------------------------------------------- boundaries


def test_month_bounds_are_local_midnights_in_utc():
    start, end = month_bounds(date(2025, 7, 15), LONDON)
    assert (start, end) == (utc(2025, 6, 30, 23), utc(2025, 7, 31, 23))


def test_march_in_london_is_one_hour_short_for_the_clock_change(crm):
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.measure.period == timedelta(days=31) - timedelta(hours=1)
    assert report.measure.downtime == timedelta(0)
    assert report.availability == Decimal("100.000")


def test_parse_month_reads_year_and_month():
    assert parse_month("2025-03") == MARCH


def test_parse_month_refuses_other_forms_saying_which_form():
    with pytest.raises(ValueError, match=r"YYYY-MM.*'March'"):
        parse_month("March")


# --------------------------------------------------------------- downtime


def test_downtime_is_time_spent_down(crm):
    down(crm, london(2025, 3, 10, 10), london(2025, 3, 10, 10, 30))
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.downtime_minutes == 30
    assert [(o.start, o.end, o.ongoing) for o in report.measure.outages] == [
        (utc(2025, 3, 10, 10), utc(2025, 3, 10, 10, 30), False)
    ]


def test_outage_across_the_month_start_is_split_between_months(crm):
    # Down 23:00 on 28 February until 01:00 on 1 March (London = UTC in winter).
    down(crm, london(2025, 2, 28, 23), london(2025, 3, 1, 1))
    assert month_report(crm, date(2025, 2, 1), AFTER_MARCH).downtime_minutes == 60
    march = month_report(crm, MARCH, AFTER_MARCH)
    assert march.downtime_minutes == 60
    assert march.measure.outages[0].start == utc(2025, 3, 1, 0)


def test_state_at_month_start_comes_from_the_last_change_before_it(crm):
    # Went down in January and stayed down until 2 March 00:00.
    down(crm, london(2025, 1, 20), london(2025, 3, 2))
    assert month_report(crm, date(2025, 2, 1), AFTER_MARCH).downtime_minutes == 28 * 24 * 60
    assert month_report(crm, MARCH, AFTER_MARCH).downtime_minutes == 24 * 60


def test_month_boundaries_follow_the_organisation_time_zone(crm):
    crm.org.time_zone = "America/New_York"
    crm.org.save()
    # 31 March 22:00 to 23:30 in New York is 1 April 02:00 to 03:30 UTC: still March there.
    ny = ZoneInfo("America/New_York")
    down(
        crm,
        datetime(2025, 3, 31, 22, tzinfo=ny).astimezone(UTC),
        datetime(2025, 3, 31, 23, 30, tzinfo=ny).astimezone(UTC),
    )
    crm.refresh_from_db()
    assert month_report(crm, MARCH, AFTER_MARCH).downtime_minutes == 90
    assert month_report(crm, date(2025, 4, 1), AFTER_MARCH).downtime_minutes == 0


def test_ongoing_outage_counts_up_to_now_in_an_unfinished_month(crm):
    down(crm, london(2025, 3, 10, 10), None)
    now = london(2025, 3, 10, 12)
    report = month_report(crm, MARCH, now)
    assert not report.complete
    assert report.downtime_minutes == 120
    assert report.measure.outages[-1].ongoing
    # Measured up to now only: 9 days 12 hours from 1 March 00:00.
    assert report.measure.period == timedelta(days=9, hours=12)


def test_outage_still_going_at_month_end_is_marked_ongoing(crm):
    down(crm, london(2025, 3, 31, 23), None)
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.downtime_minutes == 60
    assert report.measure.outages[-1].ongoing


def test_system_added_mid_month_is_measured_from_then(crm):
    crm.created_at = london(2025, 3, 16)
    crm.save()
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.measure.period == timedelta(days=16) - timedelta(hours=1)


def test_system_added_after_the_month_has_nothing_measured(crm):
    crm.created_at = utc(2025, 4, 2)
    crm.save()
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.measure.period == timedelta(0)
    assert report.availability is None
    assert report.sla_met is None


def test_unknown_and_paused_are_unmeasured_not_downtime(crm):
    change(crm, london(2025, 3, 5, 9), State.UNKNOWN)
    change(crm, london(2025, 3, 5, 10), State.PAUSED)
    change(crm, london(2025, 3, 5, 12), State.UP)
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.measure.downtime == timedelta(0)
    assert report.measure.unmeasured == timedelta(hours=3)
    assert report.availability == Decimal("100.000")


def test_degraded_is_available(crm):
    change(crm, london(2025, 3, 5, 9), State.DEGRADED)
    change(crm, london(2025, 3, 5, 10), State.UP)
    assert month_report(crm, MARCH, AFTER_MARCH).downtime_minutes == 0


# ------------------------------------------------------------ maintenance


def test_downtime_inside_a_maintenance_window_is_not_held_against_the_vendor(crm):
    MaintenanceWindow.objects.create(
        org=crm.org,
        system=crm,
        title="Upgrade",
        starts_at=london(2025, 3, 9, 2),
        ends_at=london(2025, 3, 9, 3),
    )
    down(crm, london(2025, 3, 9, 2, 30), london(2025, 3, 9, 3, 30))
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.downtime_minutes == 30
    assert report.measure.excluded == timedelta(hours=1)
    assert report.measure.measured == timedelta(days=31) - timedelta(hours=2)


def test_maintenance_state_is_excluded_like_a_window(crm):
    change(crm, london(2025, 3, 9, 2), State.MAINTENANCE)
    change(crm, london(2025, 3, 9, 4), State.UP)
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert report.measure.excluded == timedelta(hours=2)
    assert report.measure.downtime == timedelta(0)


def test_recurring_window_keeps_its_local_time_across_the_clock_change(crm):
    # Every Sunday 01:30 to 02:30 London time; the clocks went forward on Sunday 30 March.
    window = MaintenanceWindow.objects.create(
        org=crm.org,
        system=crm,
        title="Weekly",
        weekdays="7",
        start_time=time(1, 30),
        duration_minutes=60,
        time_zone="Europe/London",
    )
    spans = availability.window_spans(window, utc(2025, 3, 22), utc(2025, 4, 1))
    assert spans == [
        (utc(2025, 3, 23, 1, 30), utc(2025, 3, 23, 2, 30)),
        # 01:30 does not exist that day; zoneinfo reads it as 01:30 GMT = 01:30 UTC.
        (utc(2025, 3, 30, 1, 30), utc(2025, 3, 30, 2, 30)),
    ]
    summer = availability.window_spans(window, utc(2025, 4, 5), utc(2025, 4, 7))
    assert summer == [(utc(2025, 4, 6, 0, 30), utc(2025, 4, 6, 1, 30))]


def test_organisation_wide_windows_count_for_every_system(crm):
    MaintenanceWindow.objects.create(
        org=crm.org,
        system=None,
        title="Office move",
        starts_at=london(2025, 3, 9, 0),
        ends_at=london(2025, 3, 9, 6),
    )
    down(crm, london(2025, 3, 9, 1), london(2025, 3, 9, 2))
    assert month_report(crm, MARCH, AFTER_MARCH).downtime_minutes == 0


def test_other_organisations_windows_do_not_count(crm):
    other = make_org("Bravo")
    MaintenanceWindow.objects.create(
        org=other, title="Theirs", starts_at=london(2025, 3, 9), ends_at=london(2025, 3, 10)
    )
    down(crm, london(2025, 3, 9, 1), london(2025, 3, 9, 2))
    assert month_report(crm, MARCH, AFTER_MARCH).downtime_minutes == 60


# -------------------------------------------------------------------- SLA


def test_sla_met_exactly_at_the_promised_figure(crm):
    # 99.9 % of April (30 days = 43,200 minutes) allows 43.2 minutes.
    down(crm, london(2025, 4, 10, 10), london(2025, 4, 10, 10, 43, 12))
    report = month_report(crm, date(2025, 4, 1), utc(2025, 6, 1))
    assert report.availability == Decimal("99.900")
    assert report.sla_met is True


def test_sla_missed_by_one_second_even_when_the_figure_shows_the_promise(crm):
    down(crm, london(2025, 4, 10, 10), london(2025, 4, 10, 10, 43, 13))
    report = month_report(crm, date(2025, 4, 1), utc(2025, 6, 1))
    assert report.availability == Decimal("99.899")
    assert report.sla_met is False


def test_no_promise_means_no_verdict(crm):
    crm.sla_percent = None
    crm.save()
    assert month_report(crm, MARCH, AFTER_MARCH).sla_met is None


# -------------------------------------------------------------- incidents


def test_incidents_open_during_the_month_are_listed_and_drills_set_apart(crm):
    def incident(title, opened, resolved, exercise=False):
        i = Incident.objects.create(
            org=crm.org,
            title=title,
            opened_at=opened,
            resolved_at=resolved,
            status=Status.RESOLVED if resolved else Status.DECLARED,
            is_exercise=exercise,
        )
        i.systems.add(crm)
        return i

    incident("February only", london(2025, 2, 3), london(2025, 2, 4))
    incident("Across the start", london(2025, 2, 28, 22), london(2025, 3, 1, 2))
    incident("Drill", london(2025, 3, 12), london(2025, 3, 12, 1), exercise=True)
    incident("Still open", london(2025, 3, 30), None)
    incident("April", london(2025, 4, 2), None)
    report = month_report(crm, MARCH, AFTER_MARCH)
    assert [i.title for i in report.incidents] == ["Across the start", "Drill", "Still open"]
    assert [i.title for i in report.real_incidents] == ["Across the start", "Still open"]


def test_incidents_of_other_systems_are_not_listed(crm):
    other = System.objects.create(org=crm.org, name="Xero", slug="xero")
    i = Incident.objects.create(org=crm.org, title="Xero down", opened_at=london(2025, 3, 3))
    i.systems.add(other)
    assert month_report(crm, MARCH, AFTER_MARCH).incidents == []


# -------------------------------------------------------------------- CSV


def test_summary_csv_has_one_row_per_system_with_the_figures(crm):
    System.objects.create(org=crm.org, name="Xero", slug="xero", created_at=utc(2024, 1, 1))
    down(crm, london(2025, 3, 10, 10), london(2025, 3, 10, 11))
    rows = list(csv.DictReader(io.StringIO(summary_csv(org_report(crm.org, MARCH, AFTER_MARCH)))))
    assert [r["system"] for r in rows] == ["CloudCRM", "Xero"]
    first = rows[0]
    assert first["month"] == "2025-03"
    assert first["downtime_minutes"] == "60.0"
    assert first["measured_minutes"] == str(float(31 * 24 * 60 - 60))
    assert first["availability_percent"] == "99.865"
    assert first["sla_percent"] == "99.9"
    assert first["sla_met"] == "no"
    assert first["outages"] == "1"
    assert first["credit_terms"] == "10% of the monthly fee per hour"
    assert rows[1]["sla_met"] == ""  # no promise


def test_outages_csv_lists_each_outage_in_local_time(crm):
    down(crm, london(2025, 3, 31, 9), london(2025, 3, 31, 9, 45))  # BST by then
    text = outages_csv([month_report(crm, MARCH, AFTER_MARCH)])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {
            "system": "CloudCRM",
            "vendor": "Cloud Ltd",
            "down_from": "2025-03-31T09:00:00+01:00",
            "down_until": "2025-03-31T09:45:00+01:00",
            "minutes": "45.0",
            "ongoing": "no",
        }
    ]


# ------------------------------------------------------------------- days


def test_daily_gives_each_day_with_today_last_and_nothing_before_the_system(crm):
    crm.created_at = london(2025, 3, 8, 12)
    crm.save()
    down(crm, london(2025, 3, 9, 23, 30), london(2025, 3, 10, 0, 30))
    days = daily(crm, 5, london(2025, 3, 10, 6))
    assert [d.day for d in days] == [date(2025, 3, n) for n in range(6, 11)]
    assert [d.measure is None for d in days] == [True, True, False, False, False]
    assert [d.downtime_minutes for d in days] == [0, 0, 0, 30, 30]
    assert days[-1].measure is not None
    assert days[-1].measure.period == timedelta(hours=6)  # today, so far
    # 60 minutes down in 12 + 24 + 6 hours measured, not the mean of the daily figures.
    assert overall(days) == Decimal("97.619")


# --------------------------------------------------------------- the sums


def test_merge_joins_overlapping_and_touching_spans():
    a, b, c, d = utc(2025, 1, 1, 1), utc(2025, 1, 1, 2), utc(2025, 1, 1, 3), utc(2025, 1, 1, 4)
    assert merge([(c, d), (a, b), (b, c)]) == [(a, d)]


def test_subtract_cuts_holes_out_of_spans():
    h = [utc(2025, 1, 1, n) for n in range(8)]
    assert subtract([(h[0], h[6])], [(h[1], h[2]), (h[3], h[4])]) == [
        (h[0], h[1]),
        (h[2], h[3]),
        (h[4], h[6]),
    ]


def test_measure_of_an_empty_timeline_is_nothing():
    m = measure([], [], utc(2025, 1, 1), utc(2025, 2, 1))
    assert (m.period, m.downtime, m.availability) == (timedelta(0), timedelta(0), None)
