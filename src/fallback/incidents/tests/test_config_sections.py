"""Alert channels in config files: URLs only by environment variable, never exported."""

import textwrap

import pytest

from fallback.accounts.membership import create_organisation
from fallback.audit.context import acting_as
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.export import export_config
from fallback.configfile.loader import load_config
from fallback.incidents.models import AlertChannel

pytestmark = pytest.mark.django_db

HEAD = "version: 1\norganisation:\n  slug: acme\n"
PAGER = """\
alert_channels:
  - name: Office phone
    url: env:ACME_PAGER
    events: [declared, recovered]
    remind_every_minutes: 30
"""


@pytest.fixture
def acme():
    return create_organisation("Acme", slug="acme")


def apply(text):
    with acting_as(None, "cli"):
        return apply_documents(load_config(HEAD + textwrap.dedent(text), "acme.yaml"))


def problems(text):
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    return [str(e) for e in caught.value.errors]


def test_channel_is_created_with_its_url_from_the_environment(acme, monkeypatch):
    monkeypatch.setenv("ACME_PAGER", "json://127.0.0.1:9/alerts")
    apply(PAGER)
    channel = AlertChannel.objects.get(org=acme)
    assert channel.url == "json://127.0.0.1:9/alerts"
    assert channel.events == ["declared", "recovered"]
    assert channel.remind_every_minutes == 30


def test_export_leaves_the_url_out_and_applies_back_unchanged(acme, monkeypatch):
    monkeypatch.setenv("ACME_PAGER", "json://127.0.0.1:9/alerts")
    apply(PAGER)
    text = export_config([acme])
    assert "127.0.0.1:9" not in text
    assert "name: Office phone" in text
    with acting_as(None, "cli"):
        apply_documents(load_config(text, "export.yaml"))
    assert AlertChannel.objects.get(org=acme).url == "json://127.0.0.1:9/alerts"


def test_a_url_written_in_the_file_is_refused_at_its_line(acme):
    found = problems(PAGER.replace("env:ACME_PAGER", "mailto://me:secret@example.com"))
    assert any("acme.yaml:6:" in p and "env:NAME" in p for p in found), found
    assert not AlertChannel.objects.exists()


def test_an_unset_variable_and_a_bad_url_are_named(acme, monkeypatch):
    monkeypatch.delenv("ACME_PAGER", raising=False)
    assert any("ACME_PAGER is not set" in p for p in problems(PAGER))
    monkeypatch.setenv("ACME_PAGER", "nonsense")
    assert any("does not recognise" in p for p in problems(PAGER))


def test_unknown_event_is_refused(acme, monkeypatch):
    monkeypatch.setenv("ACME_PAGER", "json://127.0.0.1:9/alerts")
    found = problems(PAGER.replace("recovered]", "exploded]"))
    assert any("events" in p for p in found), found


def test_a_channel_left_out_is_disabled(acme, monkeypatch):
    monkeypatch.setenv("ACME_PAGER", "json://127.0.0.1:9/alerts")
    apply(PAGER)
    apply("alert_channels: []\n")
    assert AlertChannel.objects.get(org=acme).enabled is False
