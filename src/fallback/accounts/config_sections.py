"""The accounts app's config sections: `organisation` (who) and `members` (who may do what).

Found by the config registry's autodiscovery. Changes go through accounts.membership, so
every one is audited, and its rules (an organisation keeps an owner) hold here too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, StringConstraints

from fallback.accounts.membership import (
    MembershipError,
    add_member,
    change_role,
    create_organisation,
    remove_member,
    update_organisation,
)
from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.accounts.validators import validate_currency, validate_locale, validate_time_zone
from fallback.configfile.context import ApplyContext
from fallback.configfile.document import IDENTITY
from fallback.configfile.errors import SectionError
from fallback.configfile.fields import Email, Slug, Text, django_check
from fallback.configfile.registry import Problem, Section, register

MEMBERS = "members"
# The organisation settings a file may set, besides its slug (which identifies it).
SETTINGS = ["name", "time_zone", "currency", "locale"]


class OrganisationSpec(BaseModel):
    """The organisation the document sets up. Fields left out are left as they are (or
    take their defaults when the organisation is created)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug = Field(description="Identifies the organisation; never changes.")
    name: Annotated[Text, StringConstraints(max_length=200)] | None = None
    time_zone: Annotated[StrictStr, django_check(validate_time_zone)] | None = None
    currency: Annotated[StrictStr, django_check(validate_currency)] | None = None
    locale: Annotated[StrictStr, django_check(validate_locale)] | None = None


def _fits_account(name: str) -> str:
    # Accounts keep the first word as first name and the rest as last name, 150 each.
    first, _, last = name.strip().partition(" ")
    if len(first) > 150 or len(last) > 150:
        raise ValueError("is too long for an account (at most 150 characters per part)")
    return name


class MemberSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Email
    role: Role
    name: Annotated[Text, AfterValidator(_fits_account)] | None = Field(
        default=None, description="Used when the account is created; people edit their own."
    )


# Organisation


def export_organisation(org: Organisation) -> OrganisationSpec:
    # Not validated: a value stored before today's rules is exported as is, and the apply
    # then points at it instead of the export failing.
    return OrganisationSpec.model_construct(
        slug=org.slug,
        name=org.name,
        time_zone=org.time_zone,
        currency=org.currency,
        locale=org.locale,
    )


def apply_organisation(ctx: ApplyContext, spec: OrganisationSpec) -> None:
    given = {f: getattr(spec, f) for f in SETTINGS if getattr(spec, f) is not None}
    org = Organisation.objects.filter(slug=spec.slug).first()
    if org is None:
        ctx.org = _create(ctx, spec, given)
        return
    try:
        changes = update_organisation(org, **given)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        loc = (IDENTITY, field) if field in SETTINGS else (IDENTITY,)
        raise SectionError(loc, " ".join(messages)) from exc
    for field, (old, new) in changes.items():
        ctx.updated(f"{field}: {old!r} → {new!r}")
    ctx.org = org


def _create(ctx: ApplyContext, spec: OrganisationSpec, given: dict[str, str]) -> Organisation:
    name = given.pop("name", None)
    if name is None:
        raise SectionError(
            (IDENTITY,), f"there is no organisation {spec.slug!r} yet: give its name to create it"
        )
    if MEMBERS not in ctx.document.sections:
        raise SectionError(
            (IDENTITY,),
            f"a new organisation needs a {MEMBERS} list with at least one owner",
        )
    org = create_organisation(name, None, spec.slug, **given)
    ctx.created(f"organisation {org.name!r} ({org.time_zone}, {org.currency}, {org.locale})")
    return org


# Members


def check_members(members: list[MemberSpec], document: Mapping[str, Any]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for i, member in enumerate(members):
        earlier = first.setdefault(member.email, i)
        if earlier != i:
            yield (i, "email"), f"{member.email} is listed twice (also {MEMBERS}[{earlier}])"
    # The list is complete, so an owner missing here would be removed.
    if not any(m.role == Role.OWNER for m in members):
        yield (), "must include at least one owner"


def export_members(org: Organisation) -> list[MemberSpec] | None:
    memberships = list(org.memberships.select_related("user"))
    if not memberships:
        return None  # leave the section out: an empty list would say "remove everyone"
    return [
        MemberSpec.model_construct(
            email=m.user.email, role=Role(m.role), name=m.user.get_full_name() or None
        )
        for m in sorted(memberships, key=lambda m: m.user.email.lower())
    ]


def apply_members(ctx: ApplyContext, members: list[MemberSpec]) -> None:
    """Make the organisation's members exactly `members`.

    Additions first, then role changes (promotions to owner before the others), removals
    last: when the list names an owner, no step ever leaves the organisation without one.
    """
    org = ctx.organisation
    current = {m.user.email.lower(): m for m in org.memberships.select_related("user")}
    listed = {m.email for m in members}
    for i, spec in enumerate(members):
        if spec.email not in current:
            _add(ctx, org, i, spec)
    changing = [
        (i, spec, current[spec.email])
        for i, spec in enumerate(members)
        if spec.email in current and current[spec.email].role != spec.role
    ]
    changing.sort(key=lambda item: item[1].role != Role.OWNER)
    for i, spec, membership in changing:
        old = membership.role
        try:
            change_role(membership, spec.role.value)
        except MembershipError as exc:
            raise SectionError((MEMBERS, i, "role"), str(exc)) from exc
        ctx.updated(f"member {spec.email}: {old} → {spec.role.value}")
    for email in sorted(set(current) - listed):
        membership = current[email]
        try:
            remove_member(membership)
        except MembershipError as exc:
            raise SectionError((MEMBERS,), f"cannot remove {email}: {exc}") from exc
        ctx.removed(f"member {email} (was {membership.role})")
    for spec in members:
        if spec.email in current:
            _compare_name(ctx, spec, current[spec.email].user)


def _add(ctx: ApplyContext, org: Organisation, i: int, spec: MemberSpec) -> None:
    try:
        new = add_member(org, spec.email, spec.role.value, name=spec.name or "")
    except MembershipError as exc:
        raise SectionError((MEMBERS, i), str(exc)) from exc
    if new.temporary_password is None:
        ctx.created(f"member {spec.email} as {spec.role.value}")
        _compare_name(ctx, spec, new.membership.user)
        return
    # Nobody saw the generated password: make it unusable until the person gets one.
    user = new.membership.user
    user.set_unusable_password()
    user.save(update_fields=["password"])
    ctx.created(f"member {spec.email} as {spec.role.value} (new account)")
    ctx.notice(
        f"{spec.email} has a new account without a password: "
        f"set one with `fallback passwd {spec.email}`"
    )


def _compare_name(ctx: ApplyContext, spec: MemberSpec, user: User) -> None:
    if spec.name is None:
        return
    actual = user.get_full_name()
    if spec.name.strip() != actual:
        ctx.notice(
            f"{spec.email}: the account's name is {actual!r}, not {spec.name!r}; "
            "names belong to their owners and were left as they are"
        )


ORGANISATION_SECTION = register(
    Section(
        key=IDENTITY,
        schema=OrganisationSpec,
        export=export_organisation,
        apply=apply_organisation,
        order=0,
        required=True,
    )
)
MEMBERS_SECTION = register(
    Section(
        key=MEMBERS,
        schema=list[MemberSpec],
        export=export_members,
        apply=apply_members,
        check=check_members,
        order=10,
        refusals=(ValidationError, MembershipError),
    )
)
