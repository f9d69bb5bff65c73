import pytest

from fallback.accounts import membership
from fallback.accounts.models import Membership, Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.models import AuditEvent
from fallback.testing.factories import join, make_org, make_user

pytestmark = pytest.mark.django_db


def test_create_organisation_makes_unique_slug_and_audits():
    a = membership.create_organisation("Acme Ltd")
    b = membership.create_organisation("Acme Ltd")
    assert (a.slug, b.slug) == ("acme-ltd", "acme-ltd-2")
    assert AuditEvent.objects.filter(action="organisation.created").count() == 2


def test_add_member_creates_account_that_must_change_password():
    org = make_org("Acme")
    new = membership.add_member(org, " Carl@Acme.TEST ", Role.STAFF, name="Carl Jones")
    user = new.membership.user
    assert user.email == "carl@acme.test"
    assert user.must_change_password
    assert user.check_password(new.temporary_password)
    assert (user.first_name, user.last_name) == ("Carl", "Jones")


def test_add_existing_person_needs_no_password():
    org = make_org("Acme")
    make_user("dee@acme.test")
    assert membership.add_member(org, "dee@acme.test", Role.VIEWER).temporary_password is None


def test_manager_cannot_make_an_owner():
    owner = make_user("o@acme.test")
    org = make_org("Acme", owner=owner)
    manager = join(org, make_user("m@acme.test"), Role.MANAGER)
    with pytest.raises(membership.MembershipError):
        membership.add_member(org, "x@acme.test", Role.OWNER, by=manager)
    assert not User.objects.filter(email="x@acme.test").exists()


def test_manager_cannot_remove_an_owner():
    owner = make_user("o@acme.test")
    org = make_org("Acme", owner=owner)
    join(org, make_user("o2@acme.test"), Role.OWNER)
    manager = join(org, make_user("m@acme.test"), Role.MANAGER)
    with pytest.raises(membership.MembershipError, match="Only an owner"):
        membership.remove_member(Membership.objects.get(user=owner), by=manager)


def test_last_owner_cannot_be_removed_or_demoted():
    owner = make_user("o@acme.test")
    make_org("Acme", owner=owner)
    m = Membership.objects.get(user=owner)
    with pytest.raises(membership.MembershipError, match="at least one owner"):
        membership.remove_member(m)
    with pytest.raises(membership.MembershipError, match="at least one owner"):
        membership.change_role(m, Role.STAFF)
    m.refresh_from_db()
    assert m.role == Role.OWNER


def test_second_owner_allows_demoting_the_first():
    owner = make_user("o@acme.test")
    org = make_org("Acme", owner=owner)
    join(org, make_user("o2@acme.test"), Role.OWNER)
    m = Membership.objects.get(user=owner)
    membership.change_role(m, Role.MANAGER)
    assert AuditEvent.objects.filter(
        action="member.role_changed", changes={"role": ["owner", "manager"]}
    ).exists()


def test_update_organisation_records_only_changed_fields():
    org = make_org("Acme")
    changes = membership.update_organisation(org, name="Acme", currency="EUR")
    assert changes == {"currency": ["GBP", "EUR"]}
    assert Organisation.objects.get().currency == "EUR"


def test_update_organisation_rejects_bad_currency_and_saves_nothing():
    from django.core.exceptions import ValidationError

    org = make_org("Acme")
    with pytest.raises(ValidationError):
        membership.update_organisation(org, currency="pounds")
    assert Organisation.objects.get().currency == "GBP"
    assert not AuditEvent.objects.filter(action="organisation.updated").exists()
