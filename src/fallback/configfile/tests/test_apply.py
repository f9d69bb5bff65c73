import textwrap

import pytest
from django.core.exceptions import ValidationError

from fallback.accounts.config_sections import MEMBERS_SECTION, ORGANISATION_SECTION
from fallback.accounts.models import Membership, Organisation, User
from fallback.audit.context import acting_as
from fallback.audit.models import AuditEvent
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid, SectionError
from fallback.configfile.loader import load_config
from fallback.configfile.registry import Registry, Section

pytestmark = pytest.mark.django_db

ACME = """\
version: 1
organisation:
  slug: acme
  name: Acme
members:
  - email: ann@acme.test
    role: owner
"""


def apply(text, **kwargs):
    sections = kwargs.pop("sections", None)
    extra = {"sections": sections} if sections is not None else {}
    documents = load_config(textwrap.dedent(text), "f.yaml", **extra)
    return apply_documents(documents, **kwargs, **extra)


def state():
    return (
        list(Organisation.objects.order_by("slug").values_list("slug", "name", "currency")),
        list(Membership.objects.order_by("pk").values_list("org__slug", "user__email", "role")),
        User.objects.count(),
        AuditEvent.objects.count(),
    )


def test_creates_then_updates_field_by_field():
    created = apply(ACME)
    assert [(c.kind, c.text) for c in created.changes] == [
        ("create", "organisation 'Acme' (Europe/London, GBP, en-GB)"),
        ("create", "member ann@acme.test as owner (new account)"),
    ]
    updated = apply(ACME.replace("name: Acme", "name: Acme Ltd\n  currency: EUR"))
    assert [(c.org, c.kind, c.text) for c in updated.changes] == [
        ("acme", "update", "name: 'Acme' → 'Acme Ltd'"),
        ("acme", "update", "currency: 'GBP' → 'EUR'"),
    ]
    org = Organisation.objects.get(slug="acme")
    assert (org.name, org.currency, org.time_zone) == ("Acme Ltd", "EUR", "Europe/London")
    assert list(
        AuditEvent.objects.filter(action="organisation.updated").values_list("changes", flat=True)
    ) == [{"name": ["Acme", "Acme Ltd"], "currency": ["GBP", "EUR"]}]


def test_applying_again_changes_nothing_and_records_nothing():
    apply(ACME)
    before = state()
    result = apply(ACME)
    assert result.changes == []
    assert result.organisations == []
    assert state() == before


def test_changes_are_audited_as_whoever_is_acting():
    with acting_as(None, "cli"):
        apply(ACME)
    assert set(AuditEvent.objects.values_list("via", "actor_label")) == {("cli", "command line")}


def test_dry_run_reports_the_plan_and_changes_nothing():
    apply(ACME)
    before = state()
    result = apply(
        ACME.replace("name: Acme", "name: Acme Ltd")
        + "  - email: bob@acme.test\n    role: staff\n",
        dry_run=True,
    )
    assert result.dry_run
    assert [c.text for c in result.changes] == [
        "name: 'Acme' → 'Acme Ltd'",
        "member bob@acme.test as staff (new account)",
    ]
    assert state() == before


def test_a_refused_document_rolls_back_every_document():
    before = state()
    # The first document is fine; the second names an organisation that does not exist
    # without giving its name, which only the apply can tell.
    text = ACME + "---\nversion: 1\norganisation:\n  slug: beta\n"
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    assert [str(e) for e in caught.value.errors] == [
        "f.yaml:10: organisation: there is no organisation 'beta' yet: give its name to create it"
    ]
    assert state() == before


def test_every_refused_document_is_reported():
    text = "version: 1\norganisation:\n  slug: a\n---\nversion: 1\norganisation:\n  slug: b\n"
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    assert [e.line for e in caught.value.errors] == [2, 6]


class Refused(Exception):
    pass


def registry_with(apply_extra, refusals=(ValidationError,)):
    reg = Registry()
    reg.register(ORGANISATION_SECTION)
    reg.register(MEMBERS_SECTION)
    reg.register(
        Section(
            key="extra",
            schema=list[str],
            export=lambda org: None,
            apply=apply_extra,
            order=50,
            refusals=refusals,
        )
    )
    return reg


def test_section_error_points_at_the_value_it_names():
    def refuse(ctx, value):
        raise SectionError(("extra", 1), "not this one")

    with pytest.raises(ConfigInvalid) as caught:
        apply(ACME + "extra:\n  - fine\n  - bad\n", sections=registry_with(refuse))
    assert [str(e) for e in caught.value.errors] == ["f.yaml:10: extra[1]: not this one"]
    assert not Organisation.objects.exists()


def test_a_rule_refusal_points_at_its_section_and_undoes_the_document():
    def refuse(ctx, value):
        raise Refused("the rules say no")

    before = state()
    with pytest.raises(ConfigInvalid) as caught:
        apply(ACME + "extra: [x]\n", sections=registry_with(refuse, refusals=(Refused,)))
    assert [str(e) for e in caught.value.errors] == ["f.yaml:8: extra: the rules say no"]
    assert state() == before


def test_django_validation_errors_are_refusals_by_default():
    def refuse(ctx, value):
        raise ValidationError("bad value")

    with pytest.raises(ConfigInvalid) as caught:
        apply(ACME + "extra: [x]\n", sections=registry_with(refuse))
    assert [str(e) for e in caught.value.errors] == ["f.yaml:8: extra: bad value"]


def test_other_exceptions_are_bugs_and_propagate_after_rollback():
    def crash(ctx, value):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        apply(ACME + "extra: [x]\n", sections=registry_with(crash))
    assert not Organisation.objects.exists()


def test_sections_left_out_are_left_alone():
    seen = []
    apply(ACME, sections=registry_with(lambda ctx, value: seen.append(value)))
    assert seen == []
    apply(ACME + "extra: [x]\n", sections=registry_with(lambda ctx, value: seen.append(value)))
    assert seen == [["x"]]
