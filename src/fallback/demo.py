"""The demo: two small businesses looked after by one bookkeeper, with realistic people.

Idempotent: running it again on the same data folder changes nothing. Later features add
their own sample data (systems, replica records, a plan…) from here.
"""

from __future__ import annotations

from django.db import transaction

from fallback.accounts.membership import add_member, create_organisation, update_organisation
from fallback.accounts.models import Membership, Organisation, User
from fallback.accounts.roles import Role
from fallback.audit.context import acting_as

DEMO_EMAIL = "demo@fallback.test"

BUSINESSES = [
    {
        "slug": "hartley-plumbing",
        "name": "Hartley & Sons Plumbing Supplies",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "locale": "en-GB",
        "people": [
            ("margaret.hartley@hartley-plumbing.test", "Margaret Hartley", Role.OWNER),
            ("dev.patel@hartley-plumbing.test", "Dev Patel", Role.MANAGER),
            ("sian.evans@hartley-plumbing.test", "Siân Evans", Role.STAFF),
            ("tom.okafor@hartley-plumbing.test", "Tom Okafor", Role.STAFF),
            ("warehouse@hartley-plumbing.test", "Warehouse Desk", Role.VIEWER),
        ],
    },
    {
        "slug": "bluebell-florists",
        "name": "Bluebell Florists",
        "time_zone": "Europe/Dublin",
        "currency": "EUR",
        "locale": "en-IE",
        "people": [
            ("aoife.byrne@bluebell-florists.test", "Aoife Byrne", Role.OWNER),
            ("liam.walsh@bluebell-florists.test", "Liam Walsh", Role.STAFF),
        ],
    },
]


@transaction.atomic
def build_demo(password: str) -> User:
    with acting_as(None, "cli"):
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                DEMO_EMAIL, password, first_name="Jo", last_name="Demo (bookkeeper)"
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        for spec in BUSINESSES:
            org = Organisation.objects.filter(slug=spec["slug"]).first()
            if org is None:
                org = create_organisation(str(spec["name"]), slug=str(spec["slug"]))
                update_organisation(
                    org,
                    time_zone=str(spec["time_zone"]),
                    currency=str(spec["currency"]),
                    locale=str(spec["locale"]),
                )
            if not Membership.objects.filter(org=org, user=user).exists():
                add_member(org, DEMO_EMAIL, Role.OWNER)
            for email, name, role in spec["people"]:
                if not Membership.objects.filter(org=org, user__email=email).exists():
                    add_member(org, email, role, name=name)
    return user
