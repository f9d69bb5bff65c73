"""Organisations and their members: the rules, each change audited in its transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.text import slugify

from fallback.accounts.models import Membership, Organisation, User
from fallback.accounts.roles import Role, grantable_roles
from fallback.audit.trail import diff, record, snapshot

ORG_FIELDS = ["name", "time_zone", "currency", "locale"]


class MembershipError(Exception):
    """A change to members that the rules forbid; the message says which rule."""


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def create_organisation(
    name: str, owner: User | None = None, slug: str = "", **fields: str
) -> Organisation:
    org = Organisation.objects.create(name=name, slug=slug or unique_slug(name), **fields)
    record(org, "organisation.created", org, snapshot(org, ["slug", *ORG_FIELDS]))
    if owner is not None:
        membership = Membership.objects.create(org=org, user=owner, role=Role.OWNER)
        record(org, "member.added", membership, {"role": [None, Role.OWNER]})
    return org


@transaction.atomic
def update_organisation(org: Organisation, **fields: str) -> dict[str, list[object]]:
    before = snapshot(org, ORG_FIELDS)
    for key, value in fields.items():
        if key not in ORG_FIELDS:
            raise ValueError(f"unknown organisation field {key!r}")
        setattr(org, key, value)
    org.full_clean()
    changes = diff(before, snapshot(org, ORG_FIELDS))
    if changes:
        org.save(update_fields=list(changes))
        record(org, "organisation.updated", org, changes)
    return changes


@dataclass
class NewMember:
    membership: Membership
    temporary_password: str | None  # set when the person had no account yet


def _check_grant(by: Membership | None, role: str) -> None:
    if by is not None and role not in grantable_roles(by.role):
        raise MembershipError(f"A {by.get_role_display().lower()} cannot give the role {role!r}.")


@transaction.atomic
def add_member(
    org: Organisation, email: str, role: str, by: Membership | None = None, name: str = ""
) -> NewMember:
    """Add a person by email, creating their account with a one-time password if needed."""
    _check_grant(by, role)
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    temporary = None
    if user is None:
        temporary = secrets.token_urlsafe(9)
        first, _, last = name.strip().partition(" ")
        user = User.objects.create_user(
            email, temporary, first_name=first, last_name=last, must_change_password=True
        )
    if Membership.objects.filter(org=org, user=user).exists():
        raise MembershipError(f"{email} is already a member of {org.name}.")
    membership = Membership.objects.create(org=org, user=user, role=role)
    record(org, "member.added", membership, {"role": [None, role]})
    return NewMember(membership, temporary)


def _owners_left(org: Organisation, excluding: Membership) -> int:
    return Membership.objects.filter(org=org, role=Role.OWNER).exclude(pk=excluding.pk).count()


@transaction.atomic
def change_role(membership: Membership, role: str, by: Membership | None = None) -> None:
    _check_grant(by, role)
    if by is not None and membership.role not in grantable_roles(by.role):
        raise MembershipError("Only an owner can change an owner's role.")
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and not _owners_left(membership.org, membership)
    ):
        raise MembershipError("An organisation needs at least one owner.")
    old = membership.role
    if old == role:
        return
    membership.role = role
    membership.save(update_fields=["role"])
    record(membership.org, "member.role_changed", membership, {"role": [old, role]})


@transaction.atomic
def remove_member(membership: Membership, by: Membership | None = None) -> None:
    if by is not None and membership.role not in grantable_roles(by.role):
        raise MembershipError("Only an owner can remove an owner.")
    if membership.role == Role.OWNER and not _owners_left(membership.org, membership):
        raise MembershipError("An organisation needs at least one owner.")
    record(membership.org, "member.removed", membership, {"role": [membership.role, None]})
    membership.delete()
