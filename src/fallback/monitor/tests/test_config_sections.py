from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from fallback.accounts.membership import create_organisation
from fallback.audit.context import acting_as
from fallback.audit.models import AuditEvent
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.export import export_config
from fallback.configfile.loader import load_config
from fallback.monitor import editing
from fallback.monitor.models import Check, System

pytestmark = pytest.mark.django_db

HEAD = "version: 1\norganisation:\n  slug: acme\n"


@pytest.fixture
def acme():
    return create_organisation("Acme", slug="acme")


def apply(text: str, **kwargs):
    with acting_as(None, "cli"):
        return apply_documents(load_config(HEAD + textwrap.dedent(text), "acme.yaml"), **kwargs)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    return [str(e) for e in caught.value.errors]


FULL = """\
systems:
  - slug: cloudcrm
    name: CloudCRM
    kind: crm
    criticality: critical
    vendor: Cloud Ltd
    account_number: AC-1
    sla_percent: 99.9
    credit_terms: 10% of the fee per hour down
    credit_tiers: 99.9:10, 99:25
    monthly_fee: 120.5
    trigger_minutes: 15
    checks:
      - name: Health
        kind: http
        config:
          url: https://crm.example.com/health
          expected_status: [200]
        interval_seconds: 30
      - name: Vendor status
        kind: statuspage
        config:
          url: https://status.crm.example.com
          component: CRM API
  - slug: office-internet
    name: Office internet
    kind: internet
    checks:
      - name: Cloudflare DNS
        kind: tcp
        config: {host: 1.1.1.1, port: 53}
        is_canary: true
"""


def test_systems_and_checks_are_created_from_the_file(acme):
    result = apply(FULL)
    assert [(c.kind, c.text) for c in result.changes] == [
        ("create", "system cloudcrm (CloudCRM)"),
        ("create", "check cloudcrm/Health (http)"),
        ("create", "check cloudcrm/Vendor status (statuspage)"),
        ("create", "system office-internet (Office internet)"),
        ("create", "check office-internet/Cloudflare DNS (tcp)"),
    ]
    crm = System.objects.get(org=acme, slug="cloudcrm")
    assert (crm.kind, crm.criticality, crm.sla_percent, crm.trigger_minutes) == (
        "crm",
        "critical",
        Decimal("99.900"),
        15,
    )
    health = crm.checks.get(name="Health")
    assert (health.interval_seconds, health.config) == (
        30,
        {"url": "https://crm.example.com/health", "expected_status": [200]},
    )
    assert Check.objects.get(name="Cloudflare DNS").is_canary
    assert AuditEvent.objects.filter(org=acme, action="check.created", via="cli").count() == 3


def test_applying_the_same_file_twice_changes_nothing_the_second_time(acme):
    apply(FULL)
    events = AuditEvent.objects.count()
    assert apply(FULL).changes == []
    assert AuditEvent.objects.count() == events


def test_export_round_trips_losslessly(acme):
    apply(FULL)
    crm = System.objects.get(slug="cloudcrm")
    editing.create_check(
        crm,
        name="API",
        kind="http",
        config={
            "url": "https://crm.example.com/api",
            "headers": {"X-Key": "s"},
            "json_condition": {"path": "$.ok", "value": None},
        },
        retry_delay_seconds=1.5,
        enabled=False,
    )
    editing.create_check(crm, name="Backup", kind="heartbeat", config={"period_seconds": 3600})
    first = export_config([acme])
    events = AuditEvent.objects.count()
    result = apply_documents(load_config(first, "export.yaml"))
    assert result.changes == []
    assert AuditEvent.objects.count() == events
    assert export_config([acme]) == first
    assert "json_condition:\n" in first and "value: null" in first  # a null compared with


def test_export_writes_every_setting_and_leaves_out_empty_text(acme):
    apply(FULL)
    text = export_config([acme])
    section = text[text.index("systems:") :]
    assert section.startswith(
        textwrap.dedent(
            """\
            systems:
              - slug: cloudcrm
                name: CloudCRM
                kind: crm
                criticality: critical
                vendor: Cloud Ltd
                account_number: AC-1
                sla_percent: 99.9
                credit_terms: 10% of the fee per hour down
                credit_tiers: 99.9:10, 99:25
                monthly_fee: 120.5
                trigger_minutes: 15
                failures_to_down: 3
                successes_to_up: 2
                flap_changes: 6
                flap_window_minutes: 30
                paused: false
                checks:
                  - name: Health
                    kind: http
                    config:
                      url: https://crm.example.com/health
                      expected_status:
                        - 200
                    interval_seconds: 30
                    timeout_seconds: 10.0
                    retries: 2
                    retry_delay_seconds: 3.0
                    is_canary: false
                    enabled: true
            """
        )
    )
    assert "vendor_contacts" not in section  # empty


def test_organisation_without_systems_exports_no_systems_key(acme):
    assert "systems" not in export_config([acme])


def test_systems_and_checks_not_listed_are_removed(acme):
    apply(FULL)
    result = apply(
        """\
        systems:
          - slug: cloudcrm
            name: CloudCRM
            checks:
              - name: Health
                kind: http
                config:
                  url: https://crm.example.com/health
                  expected_status: [200]
                interval_seconds: 30
        """
    )
    assert [(c.kind, c.text) for c in result.changes] == [
        ("remove", "check cloudcrm/Vendor status"),
        ("remove", "system office-internet (with its checks and history)"),
    ]
    assert list(System.objects.values_list("slug", flat=True)) == ["cloudcrm"]
    assert list(Check.objects.values_list("name", flat=True)) == ["Health"]


def test_settings_and_checks_left_out_are_left_as_they_are(acme):
    apply(FULL)
    result = apply(
        """\
        systems:
          - slug: cloudcrm
            name: CloudCRM
            vendor: Cloud Holdings
          - slug: office-internet
            name: Office internet
        """
    )
    assert [c.text for c in result.changes] == [
        "system cloudcrm: vendor: 'Cloud Ltd' → 'Cloud Holdings'"
    ]
    crm = System.objects.get(slug="cloudcrm")
    assert (crm.trigger_minutes, crm.checks.count()) == (15, 2)


def test_changed_check_settings_are_applied_and_reported(acme):
    apply(FULL)
    result = apply(FULL.replace("interval_seconds: 30", "interval_seconds: 120"))
    assert [c.text for c in result.changes] == ["check cloudcrm/Health: interval_seconds changed"]
    assert Check.objects.get(name="Health").interval_seconds == 120


def test_null_clears_the_promise_and_empty_text_clears_a_setting(acme):
    apply(FULL)
    apply(
        """\
        systems:
          - slug: cloudcrm
            name: CloudCRM
            sla_percent: null
            vendor: ""
          - slug: office-internet
            name: Office internet
        """
    )
    crm = System.objects.get(slug="cloudcrm")
    assert (crm.sla_percent, crm.vendor) == (None, "")


def test_dry_run_changes_nothing(acme):
    result = apply(FULL, dry_run=True)
    assert result.changes and not System.objects.exists()


# ---------------------------------------------------------------- bad files


def test_invalid_url_is_reported_at_its_line():
    assert problems(
        """\
        systems:
          - slug: crm
            name: CRM
            checks:
              - name: Health
                kind: http
                config:
                  url: ftp://crm.example.com
        """
    ) == [
        "acme.yaml:11: systems[0].checks[0].config.url: must start with http:// or https:// "
        "(got 'ftp://crm.example.com')"
    ]


def test_unknown_kind_is_reported_at_its_line():
    [problem] = problems(
        """\
        systems:
          - slug: crm
            name: CRM
            checks:
              - name: Health
                kind: htpp
        """
    )
    assert problem.startswith("acme.yaml:9: systems[0].checks[0].kind: unknown check kind 'htpp'")
    assert "did you mean 'http'?" in problem


def test_malformed_jsonpath_is_reported_at_its_line():
    [problem] = problems(
        """\
        systems:
          - slug: crm
            name: CRM
            checks:
              - name: API
                kind: http
                config:
                  url: https://crm.example.com/api
                  json_condition:
                    path: $.[
                    value: ok
        """
    )
    assert problem.startswith(
        "acme.yaml:13: systems[0].checks[0].config.json_condition.path: is not a valid JSONPath"
    )


def test_every_problem_of_the_section_is_reported_with_its_line():
    assert problems(
        """\
        systems:
          - slug: new
            name: New
            sla_percent: 120
          - slug: crm
            name: CRM
            kind: spaceship
            checks:
              - name: A
                kind: tcp
                config: {host: example.com, port: 80}
                interval_seconds: 1
              - name: A
                kind: tcp
                config: {host: example.com, port: 80}
                is_canary: true
          - slug: crm
            name: CRM again
        """
    ) == [
        "acme.yaml:5: systems[0].slug: 'new' is a word the system pages use; choose another "
        "(not card, claims, new, report)",
        "acme.yaml:7: systems[0].sla_percent: must be a percentage above 0, at most 100 (got 120)",
        "acme.yaml:10: systems[1].kind: must be one of crm, accounting, ecommerce, email, "
        "website, helpdesk, projects, phone, internet, other (got 'spaceship')",
        "acme.yaml:15: systems[1].checks[0].interval_seconds: must be between 5 and 86400 "
        "seconds (got 1)",
    ]


def test_cross_item_rules_are_reported_with_their_lines():
    assert problems(
        """\
        systems:
          - slug: crm
            name: CRM
            kind: crm
            checks:
              - name: A
                kind: tcp
                config: {host: example.com, port: 80}
              - name: A
                kind: tcp
                config: {host: 1.1.1.1, port: 53}
                is_canary: true
          - slug: crm
            name: CRM again
        """
    ) == [
        "acme.yaml:12: systems[0].checks[1].name: 'A' is listed twice in this system "
        "(also checks[0])",
        "acme.yaml:15: systems[0].checks[1].is_canary: " + editing.CANARY_RULE,
        "acme.yaml:16: systems[1].slug: 'crm' is listed twice (also systems[0])",
    ]


def test_a_rule_refused_while_applying_points_at_the_entry_and_changes_nothing(acme):
    apply(FULL)
    crm = FULL[: FULL.index("  - slug: office-internet")]
    # The link keeps its canary (checks left out), so it cannot become a CRM.
    assert problems(
        crm + "  - slug: office-internet\n    name: Office internet\n    kind: crm\n"
    ) == [
        "acme.yaml:30: systems[1].kind: This system has canary checks, which only an "
        "internet-link system may have."
    ]
    assert System.objects.get(slug="office-internet").kind == "internet"
    assert System.objects.get(slug="cloudcrm").checks.count() == 2


def test_credit_tiers_and_the_fee_are_checked_at_their_lines():
    assert problems(
        """\
        systems:
          - slug: crm
            name: CRM
            credit_tiers: 99.9:10, 99 25
            monthly_fee: -5
        """
    ) == [
        "acme.yaml:7: systems[0].credit_tiers: tier 2 (“99 25”): write availability:credit, "
        "e.g. 99.9:10",
        "acme.yaml:8: systems[0].monthly_fee: is zero or more, with at most two decimals (got -5)",
    ]
