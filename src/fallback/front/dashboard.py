"""What the dashboard of an organisation shows.

The dashboard is two lists of cards: the main column (`CARDS`) and the side column of short
state-at-a-glance cards (`SIDE_CARDS`). A feature adds its card by appending a template to
one of them; each card template gets the context built here plus `org` and `membership`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from fallback.accounts.models import ApiToken, Membership, Organisation, User
from fallback.accounts.roles import Capability
from fallback.audit.models import AuditEvent

CARDS: list[str] = [
    "plans/cards/readiness.html",  # first: the score and the next thing to do
    "plans/cards/plan.html",
    "front/cards/getting_ready.html",
    "front/cards/activity.html",
]

# Short state-at-a-glance cards, stacked down the side column (under the main ones on a
# phone): a separate list, because a grid would stretch each to the height of its row.
SIDE_CARDS: list[str] = [
    "monitor/cards/systems.html",
    "desk/cards/desk.html",
    "comms/cards/notices.html",
    "replica/cards/replica.html",
    "vault/cards/backups.html",
    "front/cards/team.html",
]

RECENT_EVENTS = 10


@dataclass(frozen=True)
class Step:
    """One next step in getting ready. Either a page to open or a command to run."""

    title: str
    text: str
    url: str = ""
    link_text: str = ""
    command: str = ""
    done: bool | None = None  # None: Fallback cannot tell from here


def getting_ready(membership: Membership, user: User, member_count: int) -> list[Step]:
    """The steps this person can take today, in the order that makes sense."""
    org = membership.org
    steps: list[Step] = []
    if membership.can(Capability.MANAGE_ORGANISATION):
        steps.append(
            Step(
                title="Check the organisation's details",
                text="Name, time zone and currency are used on every page and document.",
                url=reverse("accounts:org_settings", kwargs={"org_slug": org.slug}),
                link_text="Open settings",
            )
        )
    if membership.can(Capability.MANAGE_MEMBERS):
        steps.append(
            Step(
                title="Add your team",
                text="Everyone who will need Fallback during an outage, each with a role.",
                url=reverse("accounts:members", kwargs={"org_slug": org.slug}),
                link_text="Add people",
                done=member_count > 1,
            )
        )
    steps.append(
        Step(
            title="Make an API token",
            text="For scripts and tools that talk to Fallback on your behalf.",
            url=reverse("accounts:tokens"),
            link_text="API tokens",
            done=ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists(),
        )
    )
    if membership.can(Capability.EDIT_SETUP):
        steps.append(
            Step(
                title="Keep a copy of the configuration",
                text="On the machine that runs Fallback, export this organisation's set-up "
                "to a file you can keep with your records:",
                command=f"fallback export --org {org.slug}",
            )
        )
    return steps


def context(membership: Membership, user: User) -> dict[str, Any]:
    org: Organisation = membership.org
    member_count = Membership.objects.filter(org=org).count()
    return {
        "cards": CARDS,
        "side_cards": SIDE_CARDS,
        "steps": getting_ready(membership, user, member_count),
        "member_count": member_count,
        "recent_events": list(AuditEvent.objects.filter(org=org)[:RECENT_EVENTS]),
    }
