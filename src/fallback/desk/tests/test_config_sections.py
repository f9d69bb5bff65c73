"""The desk's settings in `fallback apply` / `fallback export`: one mapping per organisation."""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from fallback.accounts.membership import create_organisation
from fallback.audit.context import acting_as
from fallback.audit.models import AuditEvent
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.export import export_config
from fallback.configfile.loader import load_config
from fallback.desk import mode
from fallback.desk.models import DeskSettings
from fallback.desk.tests.conftest import put_records
from fallback.monitor import editing
from fallback.monitor.models import System

pytestmark = pytest.mark.django_db

HEAD = "version: 1\norganisation:\n  slug: acme\n"

FULL = """\
desk:
  number_prefix: HS
  covered_systems: [cloudcrm, xero]
  tax: {name: GST, rate: 17.5, prices_include_tax: true}
  payment_terms_days: 14
  quote_valid_days: 60
  letterhead:
    name: Hartley & Sons Plumbing Supplies Ltd
    address: |
      Unit 4, Canal Wharf
      Leeds LS11 5PS
    phone: 0113 496 0123
    email: orders@hartley-plumbing.test
    tax_number: GB 123 4567 89
  footer: Registered in England No. 01234567.
  document_css: "h1 { color: navy; }"
  system_back_checklist:
    - Log in to the CRM and open a recent order
    - Enter every document on the reconciliation list
"""


@pytest.fixture
def acme():
    org = create_organisation("Acme", slug="acme")
    editing.create_system(org, slug="cloudcrm", name="CloudCRM")
    editing.create_system(org, slug="xero", name="Xero")
    return org


def apply(text: str, **kwargs):
    with acting_as(None, "cli"):
        return apply_documents(load_config(HEAD + textwrap.dedent(text), "acme.yaml"), **kwargs)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    return [str(e) for e in caught.value.errors]


def stored(org) -> dict:
    """Every desk setting as stored, covered systems by slug."""
    desk = DeskSettings.objects.get(org=org)
    values = {f.name: getattr(desk, f.name) for f in DeskSettings._meta.concrete_fields}
    values["covered_systems"] = sorted(desk.covered_systems.values_list("slug", flat=True))
    return values


def test_apply_sets_every_desk_setting(acme):
    result = apply(FULL)
    desk = DeskSettings.objects.get(org=acme)
    assert (desk.number_prefix, desk.tax_name, desk.tax_rate, desk.prices_include_tax) == (
        "HS",
        "GST",
        Decimal("17.5"),
        True,
    )
    assert (desk.payment_terms_days, desk.quote_valid_days) == (14, 60)
    assert desk.letterhead_name == "Hartley & Sons Plumbing Supplies Ltd"
    assert desk.letterhead_address == "Unit 4, Canal Wharf\nLeeds LS11 5PS\n"
    assert (desk.letterhead_phone, desk.letterhead_email, desk.letterhead_tax_number) == (
        "0113 496 0123",
        "orders@hartley-plumbing.test",
        "GB 123 4567 89",
    )
    assert desk.footer == "Registered in England No. 01234567."
    assert desk.document_css == "h1 { color: navy; }"
    assert desk.system_back_checklist == (
        "Log in to the CRM and open a recent order\nEnter every document on the reconciliation list"
    )
    assert sorted(desk.covered_systems.values_list("slug", flat=True)) == ["cloudcrm", "xero"]
    texts = [c.text for c in result.changes]
    assert all(c.kind == "update" and c.org == "acme" for c in result.changes)
    assert "desk: number_prefix: 'FB' → 'HS'" in texts
    assert "desk: tax.rate: 20 → 17.5" in texts
    assert "desk: tax.prices_include_tax: false → true" in texts
    assert "desk: letterhead.address changed" in texts
    assert "desk: system_back_checklist changed (2 steps)" in texts
    assert "desk: covered_systems: any system → cloudcrm, xero" in texts
    [event] = AuditEvent.objects.filter(org=acme, action="desk.settings.changed")
    assert event.via == "cli"
    assert event.changes["number_prefix"] == ["FB", "HS"]
    assert event.changes["covered_systems"] == [[], ["CloudCRM", "Xero"]]


def test_applying_the_same_file_twice_changes_nothing_the_second_time(acme):
    apply(FULL)
    events = AuditEvent.objects.count()
    assert apply(FULL).changes == []
    assert AuditEvent.objects.count() == events


def test_settings_left_out_are_left_as_they_are(acme):
    apply(FULL)
    result = apply("desk:\n  tax: {rate: 5}\n  letterhead: {phone: ''}\n")
    assert [c.text for c in result.changes] == [
        "desk: tax.rate: 17.5 → 5",
        "desk: letterhead.phone: '0113 496 0123' → ''",
    ]
    desk = DeskSettings.objects.get(org=acme)
    assert (desk.tax_name, desk.tax_rate, desk.prices_include_tax) == ("GST", Decimal(5), True)
    assert (desk.letterhead_phone, desk.letterhead_email) == ("", "orders@hartley-plumbing.test")
    assert (desk.number_prefix, desk.covered_systems.count()) == ("HS", 2)


def test_an_empty_covered_systems_list_means_any_system(acme):
    apply(FULL)
    result = apply("desk:\n  covered_systems: []\n")
    assert [c.text for c in result.changes] == [
        "desk: covered_systems: cloudcrm, xero → any system"
    ]
    assert {s.slug for s in mode.covered_systems(acme)} == {"cloudcrm", "xero"}
    assert not DeskSettings.objects.get(org=acme).covered_systems.exists()


def test_export_round_trips_losslessly(acme):
    apply(FULL)
    # As the settings page leaves them: Windows line ends, blank lines, spaces.
    DeskSettings.objects.filter(org=acme).update(
        letterhead_address="Unit 4\r\nLeeds  \r\n",
        system_back_checklist="  Log in\r\n\r\nEnter the orders\r\n",
        footer="",
    )
    first = export_config([acme])
    events = AuditEvent.objects.count()
    with acting_as(None, "cli"):
        result = apply_documents(load_config(first, "export.yaml"))
    assert result.changes == []
    assert AuditEvent.objects.count() == events
    assert export_config([acme]) == first


def test_export_writes_every_setting_in_the_documented_shape(acme):
    apply(FULL)
    text = export_config([acme])
    assert text[text.index("desk:") :] == textwrap.dedent(
        """\
        desk:
          number_prefix: HS
          covered_systems:
            - cloudcrm
            - xero
          tax:
            name: GST
            rate: 17.5
            prices_include_tax: true
          payment_terms_days: 14
          quote_valid_days: 60
          letterhead:
            name: Hartley & Sons Plumbing Supplies Ltd
            address: |
              Unit 4, Canal Wharf
              Leeds LS11 5PS
            phone: 0113 496 0123
            email: orders@hartley-plumbing.test
            tax_number: GB 123 4567 89
          footer: Registered in England No. 01234567.
          document_css: 'h1 { color: navy; }'
          system_back_checklist:
            - Log in to the CRM and open a recent order
            - Enter every document on the reconciliation list
        """
    )


def test_export_copies_the_setup_to_another_installation(acme):
    apply(FULL)
    text = export_config([acme])
    DeskSettings.objects.filter(org=acme).delete()
    with acting_as(None, "cli"):
        apply_documents(load_config(text, "export.yaml"))
    assert export_config([acme]) == text


def test_organisation_without_desk_settings_exports_no_desk_key(acme):
    assert "desk" not in export_config([acme])


def test_a_covered_system_declared_in_the_same_file_is_covered():
    create_organisation("Acme", slug="acme")
    apply(
        """\
        systems:
          - slug: shop
            name: Web shop
        desk:
          covered_systems: [shop]
        """
    )
    desk = DeskSettings.objects.get(org__slug="acme")
    assert list(desk.covered_systems.values_list("slug", flat=True)) == ["shop"]


def test_a_new_organisation_gets_its_desk_from_the_same_file():
    with acting_as(None, "cli"):
        apply_documents(
            load_config(
                "version: 1\norganisation: {slug: beta, name: Beta}\n"
                "members: [{email: b@beta.test, role: owner}]\n"
                "systems: [{slug: crm, name: CRM}]\n"
                "desk: {number_prefix: BB, covered_systems: [crm]}\n",
                "beta.yaml",
            )
        )
    desk = DeskSettings.objects.get(org__slug="beta")
    assert (desk.number_prefix, desk.letterhead_name) == ("BB", "Beta")
    assert list(desk.covered_systems.values_list("slug", flat=True)) == ["crm"]


def test_dry_run_changes_nothing(acme):
    result = apply(FULL, dry_run=True)
    assert result.changes
    assert not DeskSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="desk.settings.changed").exists()


# ---------------------------------------------------------------- bad files


@pytest.fixture
def applied(acme):
    apply(FULL)
    return stored(acme)


def test_an_unknown_key_is_reported_at_its_line_and_changes_nothing(acme, applied):
    assert problems("desk:\n  number_prefix: ZZ\n  colour: red\n  tax: {rat: 5}\n") == [
        "acme.yaml:6: desk.colour: unknown key (known keys: number_prefix, covered_systems, "
        "tax, payment_terms_days, quote_valid_days, letterhead, footer, document_css, "
        "system_back_checklist)",
        "acme.yaml:7: desk.tax.rat: unknown key (known keys: name, rate, prices_include_tax); "
        "did you mean 'rate'?",
    ]
    assert stored(acme) == applied


@pytest.mark.parametrize("prefix", ["hs", "1HS", "HARTLEY", "H-S"])
def test_a_bad_prefix_is_reported_at_its_line_and_changes_nothing(acme, applied, prefix):
    assert problems(f"desk:\n  footer: new\n  number_prefix: '{prefix}'\n") == [
        "acme.yaml:6: desk.number_prefix: must be 1 to 6 capital letters or digits, "
        f"starting with a letter (got '{prefix}')"
    ]
    assert stored(acme) == applied


@pytest.mark.parametrize("rate", ["-1", "100.5", "120"])
def test_a_tax_rate_outside_0_to_100_is_refused(acme, applied, rate):
    assert problems(f"desk:\n  footer: new\n  tax:\n    rate: {rate}\n") == [
        f"acme.yaml:7: desk.tax.rate: must be a percentage from 0 to 100 (got {rate})"
    ]
    assert stored(acme) == applied


def test_a_tax_rate_that_is_not_a_number_or_too_precise_is_refused(acme):
    assert problems("desk:\n  tax:\n    rate: twenty\n") == [
        "acme.yaml:6: desk.tax.rate: must be a percentage from 0 to 100, e.g. 20 (got 'twenty')"
    ]
    assert problems("desk:\n  tax:\n    rate: 17.5001\n") == [
        "acme.yaml:6: desk.tax.rate: has at most three decimals, e.g. 17.5 (got 17.5001)"
    ]


def test_bad_days_and_checklist_steps_are_reported_at_their_lines(acme):
    assert problems(
        """\
        desk:
          payment_terms_days: -3
          quote_valid_days: "30"
          system_back_checklist:
            - Log in
            - ""
            - |
              two
              lines
        """
    ) == [
        "acme.yaml:5: desk.payment_terms_days: must be a number of days from 0 to 32767 (got -3)",
        "acme.yaml:6: desk.quote_valid_days: must be a whole number (got '30')",
        "acme.yaml:9: desk.system_back_checklist[1]: must not be empty",
        "acme.yaml:10: desk.system_back_checklist[2]: must be one line: give each step as its "
        "own item of the list",
    ]


def test_a_covered_system_the_organisation_lacks_is_refused_and_changes_nothing(acme, applied):
    events = AuditEvent.objects.count()
    assert problems("desk:\n  footer: new\n  covered_systems: [cloudcrm, nope]\n") == [
        "acme.yaml:6: desk.covered_systems[1]: the organisation has no system 'nope' "
        "(add it under systems)"
    ]
    assert stored(acme) == applied
    assert AuditEvent.objects.count() == events


def test_a_covered_system_of_another_organisation_is_refused(acme):
    other = create_organisation("Other", slug="other")
    editing.create_system(other, slug="theirs", name="Theirs")
    assert problems("desk:\n  covered_systems: [theirs]\n") == [
        "acme.yaml:5: desk.covered_systems[0]: the organisation has no system 'theirs' "
        "(add it under systems)"
    ]
    assert not DeskSettings.objects.filter(org=acme).exists()


def test_a_covered_system_missing_from_the_same_files_systems_is_refused(acme, applied):
    # The systems list is complete: cloudcrm would be removed, so it cannot be covered.
    assert problems(
        """\
        systems:
          - slug: xero
            name: Xero
        desk:
          covered_systems: [xero, cloudcrm, xero]
        """
    ) == [
        "acme.yaml:8: desk.covered_systems[1]: no system 'cloudcrm' is listed under systems",
        "acme.yaml:8: desk.covered_systems[2]: 'xero' is listed twice (also covered_systems[0])",
    ]
    assert stored(acme) == applied
    assert System.objects.filter(org=acme).count() == 2


def test_a_prefix_the_main_system_uses_is_refused(acme, applied):
    put_records(acme, "invoice", [{"key": "7", "number": "INV2041"}])
    assert problems("desk:\n  footer: new\n  number_prefix: IN\n") == [
        "acme.yaml:6: desk.number_prefix: the main system already has invoice INV2041, which "
        "starts with IN: choose a prefix it never uses"
    ]
    assert stored(acme) == applied
    # The prefix already stored is not checked again: other settings still apply.
    put_records(acme, "order", [{"key": "8", "number": "HS-77"}])
    apply("desk:\n  number_prefix: HS\n  footer: new\n")
    assert DeskSettings.objects.get(org=acme).footer == "new"


def test_the_desk_example_in_the_guide_applies(acme):
    docs = Path(__file__).resolve().parents[4] / "docs" / "CONFIG.md"
    blocks = re.findall(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    [example] = [b for b in blocks if b.startswith("desk:")]
    apply(example)
    desk = DeskSettings.objects.get(org=acme)
    assert (desk.number_prefix, desk.covered_systems.count()) == ("HS", 2)
    assert apply(example).changes == []
