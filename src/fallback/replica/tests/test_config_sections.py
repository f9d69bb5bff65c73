"""Connectors in `fallback apply` / `fallback export`: secrets only by environment variable."""

import textwrap

import pytest

from fallback.accounts.membership import create_organisation
from fallback.audit.context import acting_as
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.export import export_config
from fallback.configfile.loader import load_config
from fallback.replica import credentials
from fallback.replica.models import Connector

pytestmark = pytest.mark.django_db

HEAD = "version: 1\norganisation:\n  slug: acme\n"

SHOP = """\
connectors:
  - slug: shop
    name: Web shop
    kind: shopify
    config:
      base_url: https://acme.example.com/admin/api/2024-10/
      streams: [customers, products]
    mapping:
      customers:
        fields:
          notes: tags
    interval_minutes: 10
    secrets:
      token: env:ACME_SHOP_TOKEN
"""


@pytest.fixture
def acme():
    return create_organisation("Acme", slug="acme")


def apply(text, **kwargs):
    with acting_as(None, "cli"):
        return apply_documents(load_config(HEAD + textwrap.dedent(text), "acme.yaml"), **kwargs)


def problems(text):
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    return [str(e) for e in caught.value.errors]


def test_connector_is_created_with_its_secret_from_the_environment(acme, monkeypatch):
    monkeypatch.setenv("ACME_SHOP_TOKEN", "shpat_from_env")
    apply(SHOP)
    shop = Connector.objects.get(org=acme, slug="shop")
    assert shop.interval_minutes == 10
    assert credentials.secrets_of(shop) == {"token": "shpat_from_env"}


def test_export_round_trips_without_secrets(acme, monkeypatch):
    monkeypatch.setenv("ACME_SHOP_TOKEN", "shpat_from_env")
    apply(SHOP)
    text = export_config([acme])
    assert "shpat_from_env" not in text
    assert "slug: shop" in text
    result = apply(text.split("---")[-1] if text.startswith("---") else text.replace(HEAD, "", 1))
    assert Connector.objects.filter(org=acme).count() == 1
    assert result is not None


def test_a_secret_written_in_the_file_is_refused_at_its_line(acme):
    found = problems(SHOP.replace("env:ACME_SHOP_TOKEN", "shpat_plain_text"))
    assert any("acme.yaml:" in p and "env:NAME" in p for p in found)
    assert not Connector.objects.exists()


def test_unset_environment_variable_is_named(acme, monkeypatch):
    monkeypatch.delenv("ACME_SHOP_TOKEN", raising=False)
    found = problems(SHOP)
    assert any("ACME_SHOP_TOKEN is not set" in p for p in found)


def test_bad_config_is_reported_at_its_line(acme, monkeypatch):
    monkeypatch.setenv("ACME_SHOP_TOKEN", "x")
    found = problems(SHOP.replace("https://acme.example.com", "ftp:/acme"))
    assert any("acme.yaml:9:" in p and "base_url" in p for p in found), found
    assert not Connector.objects.exists()


def test_bad_mapping_is_reported_at_its_line(acme, monkeypatch):
    monkeypatch.setenv("ACME_SHOP_TOKEN", "x")
    found = problems(SHOP.replace("notes: tags", "nmae: tags"))
    assert any("acme.yaml:" in p and "no field 'nmae'" in p for p in found), found
    assert not Connector.objects.exists()


def test_a_connector_left_out_is_disabled_not_deleted(acme, monkeypatch):
    monkeypatch.setenv("ACME_SHOP_TOKEN", "x")
    apply(SHOP)
    apply("connectors: []\n")
    shop = Connector.objects.get(org=acme, slug="shop")
    assert shop.enabled is False


def test_a_connector_may_name_a_system_declared_in_the_same_file(acme, monkeypatch):
    monkeypatch.setenv("ACME_SHOP_TOKEN", "shpat_from_env")
    apply(
        "systems:\n  - slug: web-shop\n    name: Web shop\n    kind: ecommerce\n"
        + SHOP.replace(
            "    interval_minutes: 10\n", "    interval_minutes: 10\n    system: web-shop\n"
        )
    )
    assert Connector.objects.get(org=acme, slug="shop").system.slug == "web-shop"


def test_a_connector_naming_a_system_the_file_leaves_out_is_refused(acme, monkeypatch):
    monkeypatch.setenv("ACME_SHOP_TOKEN", "shpat_from_env")
    found = problems(
        "systems:\n  - slug: crm\n    name: CRM\n"
        + SHOP.replace(
            "    interval_minutes: 10\n", "    interval_minutes: 10\n    system: web-shop\n"
        )
    )
    assert any("no system 'web-shop' is listed under systems" in p for p in found)
