import textwrap

import pytest

from fallback.accounts import config_sections
from fallback.accounts.config_sections import (
    MemberSpec,
    OrganisationSpec,
    check_members,
    export_members,
    export_organisation,
)
from fallback.accounts.membership import MembershipError, add_member, create_organisation
from fallback.accounts.models import Membership, Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.configfile.apply import apply_documents
from fallback.configfile.errors import ConfigInvalid
from fallback.configfile.loader import load_config


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def apply(text, **kwargs):
    return apply_documents(load_config(textwrap.dedent(text), "acme.yaml"), **kwargs)


def problems(text):
    with pytest.raises(ConfigInvalid) as caught:
        apply(text)
    return [str(e) for e in caught.value.errors]


def members_of(slug):
    return sorted(Membership.objects.filter(org__slug=slug).values_list("user__email", "role"))


def acme(members):
    return "version: 1\norganisation:\n  slug: acme\n  name: Acme\nmembers:\n" + textwrap.indent(
        textwrap.dedent(members), "  "
    )


@pytest.fixture
def existing():
    org = create_organisation("Acme", slug="acme")
    add_member(org, "ann@acme.test", Role.OWNER, name="Ann Archer")
    add_member(org, "bob@acme.test", Role.STAFF)
    add_member(org, "cat@acme.test", Role.VIEWER)
    return org


# Schemas and checks


def test_organisation_needs_only_its_slug():
    spec = OrganisationSpec.model_validate({"slug": "acme"})
    assert (spec.name, spec.time_zone, spec.currency, spec.locale) == (None, None, None, None)


def test_member_role_is_a_role():
    assert MemberSpec.model_validate({"email": "A@x.test", "role": "viewer"}).role is Role.VIEWER


def test_duplicate_member_points_at_the_second():
    members = [
        MemberSpec(email="a@x.test", role=Role.OWNER),
        MemberSpec(email="a@x.test", role=Role.STAFF),
    ]
    assert list(check_members(members, {})) == [
        ((1, "email"), "a@x.test is listed twice (also members[0])")
    ]


def test_duplicate_member_reports_its_line():
    assert problems(
        acme(
            """\
            - email: ann@acme.test
              role: owner
            - email: ANN@acme.test
              role: staff
            """
        )
    ) == ["acme.yaml:8: members[1].email: ann@acme.test is listed twice (also members[0])"]


def test_name_longer_than_an_account_holds_is_refused():
    assert problems(acme(f"- {{email: ann@acme.test, role: owner, name: {'A' * 151}}}\n")) == [
        "acme.yaml:6: members[0].name: is too long for an account (at most 150 characters per part)"
    ]


# Organisation


@pytest.mark.django_db
def test_new_organisation_takes_defaults_for_what_the_file_leaves_out():
    apply(acme("- {email: ann@acme.test, role: owner}\n"))
    org = Organisation.objects.get(slug="acme")
    assert (org.name, org.time_zone, org.currency, org.locale) == (
        "Acme",
        "Europe/London",
        "GBP",
        "en-GB",
    )


@pytest.mark.django_db
def test_new_organisation_needs_a_name():
    assert problems(
        "version: 1\norganisation:\n  slug: acme\nmembers: [{email: a@x.test, role: owner}]\n"
    ) == [
        "acme.yaml:2: organisation: there is no organisation 'acme' yet: give its name to create it"
    ]


@pytest.mark.django_db
def test_new_organisation_needs_its_members():
    assert problems("version: 1\norganisation:\n  slug: acme\n  name: Acme\n") == [
        "acme.yaml:2: organisation: a new organisation needs a members list with at least one owner"
    ]
    assert not Organisation.objects.exists()


@pytest.mark.django_db
def test_settings_left_out_are_left_as_they_are(existing):
    existing.currency = "EUR"
    existing.save()
    result = apply("version: 1\norganisation:\n  slug: acme\n  locale: fr-FR\n")
    assert [c.text for c in result.changes] == ["locale: 'en-GB' → 'fr-FR'"]
    existing.refresh_from_db()
    assert (existing.name, existing.currency, existing.locale) == ("Acme", "EUR", "fr-FR")
    assert members_of("acme") == [
        ("ann@acme.test", "owner"),
        ("bob@acme.test", "staff"),
        ("cat@acme.test", "viewer"),
    ]


@pytest.mark.django_db
def test_export_organisation_gives_every_setting(existing):
    assert export_organisation(existing).model_dump() == {
        "slug": "acme",
        "name": "Acme",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "locale": "en-GB",
    }


# Members


@pytest.mark.django_db
def test_members_not_listed_are_removed(existing):
    result = apply(
        acme(
            """\
            - email: ann@acme.test
              role: owner
            - email: bob@acme.test
              role: staff
            """
        )
    )
    assert [(c.kind, c.text) for c in result.changes] == [
        ("remove", "member cat@acme.test (was viewer)")
    ]
    assert members_of("acme") == [("ann@acme.test", "owner"), ("bob@acme.test", "staff")]
    assert AuditEvent.objects.filter(action="member.removed").count() == 1
    assert User.objects.filter(email="cat@acme.test").exists()  # the account stays


@pytest.mark.django_db
def test_members_are_added_role_changed_and_removed_in_one_go(existing):
    result = apply(
        acme(
            """\
            - email: ann@acme.test
              role: manager
            - email: bob@acme.test
              role: owner
            - email: dan@acme.test
              role: staff
              name: Dan Dare
            """
        )
    )
    assert [(c.kind, c.text) for c in result.changes] == [
        ("create", "member dan@acme.test as staff (new account)"),
        ("update", "member bob@acme.test: staff → owner"),
        ("update", "member ann@acme.test: owner → manager"),
        ("remove", "member cat@acme.test (was viewer)"),
    ]
    assert members_of("acme") == [
        ("ann@acme.test", "manager"),
        ("bob@acme.test", "owner"),
        ("dan@acme.test", "staff"),
    ]


@pytest.mark.django_db
def test_a_person_without_an_account_gets_one_without_a_password(existing):
    result = apply(
        acme(
            """\
            - {email: ann@acme.test, role: owner}
            - {email: Dan@Acme.test, role: staff, name: Dan Dare}
            """
        )
    )
    dan = User.objects.get(email="dan@acme.test")
    assert not dan.has_usable_password()
    assert dan.must_change_password
    assert (dan.first_name, dan.last_name) == ("Dan", "Dare")
    assert result.notices == [
        "dan@acme.test has a new account without a password: "
        "set one with `fallback passwd dan@acme.test`"
    ]


@pytest.mark.django_db
def test_a_person_with_an_account_joins_with_it(existing):
    other = create_organisation("Other", slug="other")
    add_member(other, "zoe@other.test", Role.OWNER, name="Zoe Zed")
    result = apply(
        acme(
            """\
            - {email: ann@acme.test, role: owner}
            - {email: zoe@other.test, role: viewer, name: Zoe Zed}
            """
        )
    )
    assert "member zoe@other.test as viewer" in [c.text for c in result.changes]
    assert result.notices == []
    assert User.objects.filter(email="zoe@other.test").count() == 1


@pytest.mark.django_db
def test_a_different_name_for_an_account_is_noticed_not_applied(existing):
    result = apply(acme("- {email: ann@acme.test, role: owner, name: Annie}\n"))
    assert result.notices == [
        "ann@acme.test: the account's name is 'Ann Archer', not 'Annie'; "
        "names belong to their owners and were left as they are"
    ]
    assert User.objects.get(email="ann@acme.test").first_name == "Ann"


@pytest.mark.django_db
def test_last_owner_guard_rolls_back_everything(existing):
    before = (members_of("acme"), AuditEvent.objects.count(), Organisation.objects.count())
    text = (
        "version: 1\norganisation:\n  slug: beta\n  name: Beta\n"
        "members: [{email: ann@acme.test, role: owner}]\n---\n"
        + acme("- {email: bob@acme.test, role: manager}\n")
    )
    assert problems(text) == ["acme.yaml:11: members: must include at least one owner"]
    assert (members_of("acme"), AuditEvent.objects.count(), Organisation.objects.count()) == before


@pytest.mark.django_db
def test_a_membership_rule_refusal_during_apply_points_at_the_member(existing, monkeypatch):
    def refuse(membership, role, by=None):
        raise MembershipError("An organisation needs at least one owner.")

    monkeypatch.setattr(config_sections, "change_role", refuse)
    before = (members_of("acme"), AuditEvent.objects.count())
    assert problems(
        acme(
            """\
            - {email: ann@acme.test, role: owner}
            - {email: bob@acme.test, role: manager}
            - {email: eve@acme.test, role: staff}
            """
        )
    ) == ["acme.yaml:7: members[1].role: An organisation needs at least one owner."]
    assert (members_of("acme"), AuditEvent.objects.count()) == before
    assert not User.objects.filter(email="eve@acme.test").exists()


@pytest.mark.django_db
def test_export_members_sorted_by_email_with_names_when_known(existing):
    assert [m.model_dump() for m in export_members(existing)] == [
        {"email": "ann@acme.test", "role": Role.OWNER, "name": "Ann Archer"},
        {"email": "bob@acme.test", "role": Role.STAFF, "name": None},
        {"email": "cat@acme.test", "role": Role.VIEWER, "name": None},
    ]


@pytest.mark.django_db
def test_an_organisation_without_members_exports_no_members_section():
    assert export_members(create_organisation("Empty", slug="empty")) is None
