"""Small helpers to make organisations and people in tests."""

from __future__ import annotations

from fallback.accounts.membership import add_member, create_organisation
from fallback.accounts.models import ApiToken, Membership, Organisation, User
from fallback.accounts.roles import Role

PASSWORD = "a long test password 42"


def make_user(email: str, password: str = PASSWORD) -> User:
    return User.objects.create_user(email, password)


def make_org(name: str, owner: User | None = None) -> Organisation:
    return create_organisation(name, owner=owner)


def join(org: Organisation, user: User, role: str = Role.STAFF) -> Membership:
    return add_member(org, user.email, role).membership


def token_for(user: User) -> str:
    return ApiToken.issue(user, "test")[1]
