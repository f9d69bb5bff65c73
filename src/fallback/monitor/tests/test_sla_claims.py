import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fallback.incidents.models import Incident, Status
from fallback.monitor import availability, sla_claims
from fallback.monitor.models import (
    Check,
    CheckRollup,
    ClaimStatus,
    MaintenanceWindow,
    Resolution,
    SlaClaim,
    State,
    StateChange,
    System,
    SystemKind,
)
from fallback.monitor.sla_claims import ClaimError, Tier, parse_tiers
from fallback.testing.factories import make_org

LONDON = ZoneInfo("Europe/London")
MARCH = date(2025, 3, 1)
LATER = datetime(2025, 4, 10, 12, 0, tzinfo=UTC)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def org(db):
    return make_org("Acme")  # Europe/London, GBP


@pytest.fixture
def crm(org):
    system = System.objects.create(
        org=org,
        name="CloudCRM",
        slug="cloudcrm",
        vendor="Cloud Ltd",
        vendor_contacts="support@cloud.example\n0800 000 000",
        account_number="AC-1",
        sla_percent=Decimal("99.9"),
        credit_terms="See schedule 3.",
        credit_tiers="99.9:10, 99:25",
        monthly_fee=Decimal("120.00"),
        state=State.UP,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    # 3 March 10:00 to 12:00 down (120 min); 9 March 01:00 to 03:00 down, but 02:00 to 04:00 was
    # announced maintenance, so 60 min count.
    changes = [
        (london(2025, 3, 3, 10, 0), State.UP, State.DOWN, "HTTP 503 from the API"),
        (london(2025, 3, 3, 12, 0), State.DOWN, State.UP, ""),
        (london(2025, 3, 9, 1, 0), State.UP, State.DOWN, "connection refused"),
        (london(2025, 3, 9, 3, 0), State.DOWN, State.UP, ""),
    ]
    for at, frm, to, reason in changes:
        StateChange.objects.create(
            org=org, system=system, at=at, from_state=frm, to_state=to, reason=reason
        )
    MaintenanceWindow.objects.create(
        org=org,
        system=system,
        title="Vendor upgrade",
        starts_at=london(2025, 3, 9, 2, 0),
        ends_at=london(2025, 3, 9, 4, 0),
    )
    return system


def test_tiers_are_read_and_a_bad_one_is_named():
    assert parse_tiers("99:25, 99.9:10%") == [
        Tier(Decimal("99.9"), Decimal("10")),
        Tier(Decimal("99"), Decimal("25")),
    ]
    with pytest.raises(ValueError, match=r"tier 2 .“99 25”.: write availability:credit"):
        parse_tiers("99.9:10, 99 25")
    with pytest.raises(ValueError, match=r"tier 1 .*up to 100"):
        parse_tiers("101:5")
    assert parse_tiers("") == []


def test_the_letter_s_figures_are_the_vendor_report_s_with_maintenance_left_out(crm):
    with time_machine.travel(LATER, tick=False):
        f = sla_claims.figures(crm, MARCH, None)
        report = availability.month_report(crm, MARCH, LATER)
    # 31 days less the hour lost to summer time = 44,580 minutes; 120 in maintenance.
    assert f["measured_minutes"] == 44_460 == availability.minutes(report.measure.measured)
    assert f["maintenance_minutes"] == 120
    assert f["month_downtime_minutes"] == 180 == report.downtime_minutes
    assert f["availability_percent"] == "99.595" == str(report.availability)
    assert f["sla_percent"] == "99.9" and f["sla_met"] is False
    assert f["credit_percent"] == "10" and f["credit_amount"] == "12.00"
    assert [(o["start"], o["end"], o["minutes"]) for o in f["outages"]] == [
        ("Mon 03 Mar 2025, 10:00", "Mon 03 Mar 2025, 12:00", 120.0),
        ("Sun 09 Mar 2025, 01:00", "Sun 09 Mar 2025, 02:00", 60.0),
    ]
    assert f["outages"][0]["reason"] == "HTTP 503 from the API"
    assert f["claimed_minutes"] == 180 and f["claimed_downtime"] == "3 h 00 min"


def test_a_claim_for_an_incident_lists_only_its_outages_but_the_month_s_availability(crm, org):
    incident = Incident.objects.create(
        org=org,
        title="CRM down",
        status=Status.RESOLVED,
        opened_at=london(2025, 3, 3, 10, 5),
        resolved_at=london(2025, 3, 3, 13, 0),
    )
    incident.systems.add(crm)
    with time_machine.travel(LATER, tick=False):
        f = sla_claims.figures(crm, MARCH, incident)
    # It opened while the system was already down: from the start of that spell.
    assert [o["start"] for o in f["outages"]] == ["Mon 03 Mar 2025, 10:00"]
    assert f["claimed_minutes"] == 120 and f["month_downtime_minutes"] == 180
    assert f["availability_percent"] == "99.595"
    assert f["window"] == ["Mon 03 Mar 2025, 10:00", "Mon 03 Mar 2025, 13:00"]


def test_the_evidence_counts_check_results_and_the_canaries(crm, org):
    check = Check.objects.create(
        org=org, system=crm, name="API", kind="http", config={"url": "https://x.example"}
    )
    link = System.objects.create(org=org, name="Office line", slug="line", kind="internet")
    canary = Check.objects.create(
        org=org, system=link, name="Cloudflare DNS", kind="tcp", is_canary=True
    )
    day = datetime(2025, 3, 3, tzinfo=UTC)
    CheckRollup.objects.create(
        org=org, for_check=check, resolution=Resolution.DAY, bucket=day, up=1300, down=130
    )
    CheckRollup.objects.create(
        org=org, for_check=canary, resolution=Resolution.DAY, bucket=day, up=1440
    )
    with time_machine.travel(LATER, tick=False):
        f = sla_claims.figures(crm, MARCH, None)
    assert f["checks"] == [{"name": "API", "kind": "http", "every_seconds": 60}]
    assert f["results"]["failed"] == 130 and f["tally_resolution"] == "day"
    assert f["canaries"] == ["Cloudflare DNS"] and f["canary_results"]["ok"] == 1440
    assert f["first_down"] == "Mon 03 Mar 2025, 10:00"
    assert f["last_back"] == "Sun 09 Mar 2025, 02:00"


def test_the_same_claim_is_made_once_and_numbered(crm, org):
    first, made = sla_claims.create(crm, MARCH, request_key="k1")
    again, made_again = sla_claims.create(crm, MARCH, request_key="k1")
    same, made_same = sla_claims.create(crm, date(2025, 3, 17))
    assert made and not made_again and not made_same
    assert first.pk == again.pk == same.pk and first.reference == "SLA-202503-001"
    assert "CloudCRM, account AC-1, for March 2025" in first.opening
    other = System.objects.create(org=org, name="Xero", slug="xero", kind=SystemKind.ACCOUNTING)
    second, _ = sla_claims.create(other, MARCH)
    assert second.reference == "SLA-202503-002"


def test_a_drill_earns_no_credit(crm, org):
    drill = Incident.objects.create(org=org, title="Drill", is_exercise=True)
    with pytest.raises(ClaimError, match="drill is not an outage"):
        sla_claims.create(crm, MARCH, drill)
    assert not SlaClaim.objects.exists()


def test_a_sent_claim_keeps_its_figures_as_sent(crm, org):
    claim, _ = sla_claims.create(crm, MARCH)
    with time_machine.travel(LATER, tick=False):
        assert sla_claims.mark_sent(claim)
        assert not sla_claims.mark_sent(claim)
    # A late correction of the history does not change the letter on file.
    StateChange.objects.create(
        org=org,
        system=crm,
        at=london(2025, 3, 20, 9, 0),
        from_state=State.UP,
        to_state=State.DOWN,
    )
    assert sla_claims.current_figures(claim)["month_downtime_minutes"] == 180
    with pytest.raises(ClaimError, match="kept as it was sent"):
        sla_claims.edit(claim, opening="New words", closing="")


def test_the_vendor_s_answer_is_recorded_with_the_amount(crm):
    claim, _ = sla_claims.create(crm, MARCH)
    with pytest.raises(ClaimError, match="Mark the claim sent first"):
        sla_claims.answer(claim, ClaimStatus.CREDITED, amount="12")
    sla_claims.mark_sent(claim)
    with pytest.raises(ClaimError, match="Give the amount credited"):
        sla_claims.answer(claim, ClaimStatus.CREDITED)
    with pytest.raises(ClaimError, match="must be a number"):
        sla_claims.answer(claim, ClaimStatus.CREDITED, amount="twelve")
    sla_claims.answer(claim, ClaimStatus.CREDITED, amount="12.00", note="On the next invoice")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CREDITED and claim.credited_amount == Decimal("12.00")


@pytest.mark.skipif(
    subprocess.run(["which", "pdftotext"], capture_output=True).returncode != 0,
    reason="poppler-utils is not installed",
)
def test_the_letter_renders_as_a_pdf_with_the_figures(crm, tmp_path):
    claim, _ = sla_claims.create(crm, MARCH)
    sla_claims.edit(claim, opening="Dear Cloud Ltd,\n\nWe claim our credit.", closing="Thanks.")
    with time_machine.travel(LATER, tick=False):
        pdf = sla_claims.letter_pdf(claim)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "claim.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "SLA-202503-001",
        "We claim our credit.",
        "99.595%",
        "99.9%",
        "3 h 00 min (180 minutes)",
        "Mon 03 Mar 2025, 10:00",
        "Sun 09 Mar 2025, 02:00",
        "10% of the monthly fee",
        "£12.00",
        "120 minutes this month were in maintenance",
    ):
        assert expected in flat, expected
