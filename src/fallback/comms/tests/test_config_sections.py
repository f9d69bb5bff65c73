"""The comms section of `fallback apply` / `fallback export`."""

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from fallback.accounts.membership import create_organisation
from fallback.audit.context import acting_as
from fallback.audit.models import AuditEvent
from fallback.comms import preferences, statuspage
from fallback.comms.models import CommsSettings, KeyAccount, MessageTemplate
from fallback.comms.tests.builders import put_records
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.export import export_config
from fallback.configfile.loader import load_config
from fallback.monitor import editing

pytestmark = pytest.mark.django_db

HEAD = "version: 1\norganisation:\n  slug: acme\n"

FULL = """\
comms:
  mail:
    host: smtp.backup.example
    port: 587
    security: starttls
    username: acme
    password: env:ACME_MAIL_PASSWORD
    from_address: notices@backup.example
    from_name: Acme Ltd
    reply_to: help@backup.example
  routes:
    phone_numbers: ["01632 960123", "07700 900123"]
    backup_email: help@backup.example
    status_url: https://status.acme.example
    usual_email: office@acme.example
    usual_phone: "01632 960000"
    email_systems: [office365]
  sending:
    affected_window_days: 14
    email_per_second: 50
    stall_minutes: 10
  drill_recipients: [drill@acme.example, "07700 900999"]
  key_accounts:
    - customer: C1
      phone: "07700 900111"
      contact: Jo Smith
  templates:
    - audience: staff
      phase: first_notice
      subject: "Fallback mode: {{ systems }} is down"
"""


@pytest.fixture
def acme():
    org = create_organisation("Acme", slug="acme")
    editing.create_system(org, slug="office365", name="Office 365")
    put_records(
        org, "customer", [{"key": "C1", "name": "Smith Plumbing"}, {"key": "C2", "name": "Brown"}]
    )
    return org


def apply(text, **kwargs):
    with acting_as(None, "cli"):
        return apply_documents(load_config(HEAD + textwrap.dedent(text), "acme.yaml"), **kwargs)


def problems(text):
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    return [str(e) for e in caught.value.errors]


def test_apply_sets_the_settings_key_accounts_and_templates(acme):
    result = apply(FULL)
    settings = CommsSettings.objects.get(org=acme)
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_password_env) == (
        "smtp.backup.example",
        587,
        "ACME_MAIL_PASSWORD",
    )
    assert settings.smtp_password_sealed == ""
    assert settings.phone_numbers == "01632 960123\n07700 900123"
    assert [s.slug for s in settings.email_systems.all()] == ["office365"]
    assert (settings.affected_window_days, settings.email_per_second, settings.stall_minutes) == (
        14,
        50,
        10,
    )
    assert settings.drill_recipients == "drill@acme.example\n07700 900999"
    account = KeyAccount.objects.get(org=acme)
    assert (account.customer_key, account.name, account.contact_name) == (
        "C1",
        "Smith Plumbing",
        "Jo Smith",
    )
    template = MessageTemplate.objects.get(org=acme, audience="staff", phase="first_notice")
    assert template.subject == "Fallback mode: {{ systems }} is down"
    texts = [c.text for c in result.changes]
    assert "comms: mail.host changed" in texts and "comms: key account C1" in texts
    assert "comms: template staff/first_notice: subject changed" in texts
    assert AuditEvent.objects.filter(org=acme, action="comms.settings.changed", via="cli").exists()


def test_applying_twice_changes_nothing_the_second_time(acme):
    apply(FULL)
    assert apply(FULL).changes == []


def test_export_gives_back_what_apply_took_and_never_a_sealed_password(acme):
    apply(FULL)
    preferences.update_settings(acme, smtp_password_env="", password="sealed secret")
    exported = export_config([acme])
    assert "sealed secret" not in exported and "age1:" not in exported
    assert "password" not in exported.split("mail:")[1].split("routes:")[0]
    assert "office365" in exported and "Jo Smith" in exported
    apply(FULL)
    again = export_config([acme])
    assert "password: env:ACME_MAIL_PASSWORD" in again
    # Its comms section applies cleanly and changes nothing.
    section = yaml.safe_load(again)["comms"]
    assert apply(yaml.safe_dump({"comms": section}, allow_unicode=True)).changes == []


def test_a_key_account_not_listed_is_removed(acme):
    apply(FULL)
    preferences.save_key_account(acme, "C2")
    result = apply("comms:\n  key_accounts:\n    - customer: C1\n")
    assert [a.customer_key for a in KeyAccount.objects.filter(org=acme)] == ["C1"]
    assert "comms: key account C2 removed (not listed)" in [c.text for c in result.changes]


def test_a_password_in_clear_is_refused(acme):
    found = problems("comms:\n  mail:\n    password: hunter2\n")
    assert any("mail.password" in p and "env:NAME" in p for p in found)
    assert not CommsSettings.objects.filter(org=acme).exists()


def test_bad_values_are_named_and_nothing_is_applied(acme):
    found = problems(
        "comms:\n  routes:\n    email_systems: [nope]\n  drill_recipients: [not a thing]\n"
    )
    assert any("email_systems" in p and "nope" in p for p in found) or any(
        "drill_recipients" in p for p in found
    )
    assert not CommsSettings.objects.filter(org=acme, drill_recipients__contains="thing").exists()
    found = problems("comms:\n  templates:\n    - {audience: everyone, phase: update}\n")
    assert any("templates[0].audience" in p and "unknown audience" in p for p in found)
    found = problems("comms:\n  key_accounts:\n    - {customer: C9}\n")
    assert any("key_accounts[0].customer" in p and "C9" in p for p in found)


def test_the_comms_example_in_the_guide_applies(acme):
    put_records(acme, "customer", [{"key": "C1042", "name": "Smith Plumbing"}])
    docs = Path(__file__).resolve().parents[4] / "docs" / "CONFIG.md"
    blocks = re.findall(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    [example] = [b for b in blocks if b.startswith("comms:")]
    apply(example)
    settings = CommsSettings.objects.get(org=acme)
    assert settings.smtp_password_env == "HARTLEY_MAIL_PASSWORD"
    assert KeyAccount.objects.get(org=acme).contact_name == "Jo Smith"
    assert apply(example).changes == []


PAGE = """\
comms:
  status_page:
    title: Acme status
    public_url: https://status.acme.example/
    fallback_url: https://fallback.acme.example
    history_days: 10
    folder: /srv/status/acme
    s3:
      endpoint: https://s3.eu.example
      bucket: acme-status
      prefix: public
      region: eu-west-1
      access_key: env:ACME_STATUS_KEY
      secret_key: env:ACME_STATUS_SECRET
    components:
      - system: office365
        name: Email
        description: Our usual mail
"""


def test_apply_sets_the_status_page_and_export_gives_it_back(acme):
    result = apply(PAGE)
    page = statuspage.page_for(acme)
    assert (page.title, page.history_days, page.folder_path) == (
        "Acme status",
        10,
        "/srv/status/acme",
    )
    assert (page.s3_bucket, page.s3_access_key_env) == ("acme-status", "ACME_STATUS_KEY")
    assert [(c.system.slug, c.name) for c in statuspage.components(acme)] == [
        ("office365", "Email")
    ]
    texts = [c.text for c in result.changes]
    assert "comms: status_page.s3.bucket changed" in texts
    assert "comms: status page: Office 365 shown as “Email”" in texts
    assert apply(PAGE).changes == []
    statuspage.update_page(acme, s3_access_key_id="AKIA1", secret_key="typed secret")
    exported = export_config([acme])
    assert "typed secret" not in exported and "secret_key: env:ACME_STATUS_SECRET" in exported
    section = yaml.safe_load(exported)["comms"]
    assert section["status_page"]["components"] == [
        {"system": "office365", "name": "Email", "description": "Our usual mail"}
    ]
    assert apply(yaml.safe_dump({"comms": section}, allow_unicode=True)).changes == []


def test_bad_status_page_values_are_named_and_nothing_is_applied(acme):
    found = problems(
        """\
        comms:
          status_page:
            history_days: 3
            s3: {bucket: "Not A Bucket"}
            components: [{system: nope}]
        """
    )
    assert any("status_page.s3.bucket" in p and "lower-case" in p for p in found), found
    assert statuspage.page_for(acme).history_days == 14
    found = problems("comms:\n  status_page:\n    s3: {access_key: IN_CLEAR}\n")
    assert any("status_page.s3.access_key" in p for p in found), found
