import textwrap

import pytest

from fallback.accounts.membership import add_member, create_organisation
from fallback.accounts.models import Organisation
from fallback.audit.models import AuditEvent
from fallback.configfile.apply import apply_documents
from fallback.configfile.export import export_config
from fallback.configfile.loader import load_config

pytestmark = pytest.mark.django_db


def export_all():
    return export_config(Organisation.objects.all())


def apply(text):
    return apply_documents(load_config(text, "export.yaml"))


def test_nothing_to_export_is_empty_text():
    assert export_all() == ""


def test_export_is_the_documented_format_ordered_for_clean_diffs():
    beta = create_organisation("Beta", slug="beta", currency="EUR")
    add_member(beta, "zoe@beta.test", "owner", name="Zoe Zed")
    add_member(beta, "adam@beta.test", "viewer")
    create_organisation("Acme", slug="acme")
    assert export_all() == textwrap.dedent(
        """\
        version: 1
        organisation:
          slug: acme
          name: Acme
          time_zone: Europe/London
          currency: GBP
          locale: en-GB
        ---
        version: 1
        organisation:
          slug: beta
          name: Beta
          time_zone: Europe/London
          currency: EUR
          locale: en-GB
        members:
          - email: adam@beta.test
            role: viewer
          - email: zoe@beta.test
            role: owner
            name: Zoe Zed
        """
    )


def test_round_trip_is_lossless_and_the_second_apply_changes_nothing():
    org = create_organisation('Acme: the "best" #1', slug="acme", locale="fr-FR")
    add_member(org, "ann@acme.test", "owner", name="Ann Marie O'Neil")
    add_member(org, "bob@acme.test", "staff")
    create_organisation("yes", slug="yes")  # a name YAML would read as true if unquoted
    add_member(Organisation.objects.get(slug="yes"), "ann@acme.test", "owner")
    create_organisation("1.0", slug="one")
    add_member(Organisation.objects.get(slug="one"), "ann@acme.test", "owner")
    first = export_all()

    events = AuditEvent.objects.count()
    result = apply(first)
    assert result.changes == []
    assert AuditEvent.objects.count() == events
    assert export_all() == first


def test_export_recreates_deleted_organisations_as_they_were():
    org = create_organisation("Acme", slug="acme", time_zone="America/New_York")
    add_member(org, "ann@acme.test", "owner", name="Ann Archer")
    add_member(org, "bob@acme.test", "manager", name="Bob")
    first = export_all()
    Organisation.objects.all().delete()

    apply(first)
    assert export_all() == first
