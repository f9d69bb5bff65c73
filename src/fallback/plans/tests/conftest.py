"""Shared fixtures of the plan's tests: Acme, a one-system business, and its people."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fallback.accounts.models import Organisation, User
from fallback.accounts.roles import Role
from fallback.monitor import editing as monitor_editing
from fallback.testing.factories import join, make_org, make_user


@pytest.fixture(autouse=True)
def data_folder(settings: Any, tmp_path: Any) -> Any:
    """Each test its own data folder: the binder keeps its PDFs there."""
    settings.FALLBACK_HOME = tmp_path / "home"
    settings.FALLBACK_HOME.mkdir(mode=0o700)
    return settings.FALLBACK_HOME


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    """Ann owns Acme, which runs on CloudCRM (Mo manages, Sid is staff, Val views); Bob owns
    Bravo."""
    ann, bob = make_user("ann@acme.test"), make_user("bob@bravo.test")
    ann.first_name, ann.last_name = "Ann", "Archer"
    ann.save()
    acme, bravo = make_org("Acme", owner=ann), make_org("Bravo", owner=bob)
    people: dict[str, Any] = {"ann": ann, "bob": bob, "acme": acme, "bravo": bravo}
    for name, role in [("mo", Role.MANAGER), ("sid", Role.STAFF), ("val", Role.VIEWER)]:
        people[name] = make_user(f"{name}@acme.test")
        join(acme, people[name], role)
    people["crm"] = monitor_editing.create_system(
        acme,
        name="CloudCRM",
        kind="crm",
        criticality="critical",
        vendor="CloudCo Ltd",
        vendor_contacts="0800 123 4567\nsupport@cloudco.test\nhttps://help.cloudco.test",
        account_number="ACME-991",
        status_page_url="https://status.cloudco.test",
    )
    return people


def files_connector(org: Organisation, system: Any = None, name: str = "CRM copy") -> Any:
    """A valid connector (a folder of CSV exports) copying `system`."""
    from fallback.replica import editing as replica_editing

    return replica_editing.create_connector(
        org,
        name=name,
        kind="files",
        system=system,
        config={
            "streams": [
                {
                    "name": "customers",
                    "pattern": "customers*.csv",
                    "entity": "customer",
                    "key": "id",
                }
            ]
        },
    )


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, org: Organisation, **kwargs: Any) -> str:
    return reverse(f"plans:{name}", kwargs={"org_slug": org.slug, **kwargs})


def complete_one_system_plan(plan: Any, world: dict[str, Any]) -> Any:
    """What a new owner does for a one-system plan: keep orders, drop the rest."""
    from fallback.plans import editing
    from fallback.plans.models import Band, ContactKind

    for a in plan.activities.exclude(name="Taking orders"):
        editing.remove(a)
    orders = plan.activities.get()
    editing.save_activity(
        plan,
        orders,
        owner=world["ann"],
        impacts={Band.HOURS_8_24: editing.ImpactInput(money=2000, customers=30)},
    )
    for r in plan.risks.all():
        editing.confirm(r)
    for s in plan.scenarios.all():
        editing.confirm(s)
    lead = plan.roles.get()
    editing.save_role(plan, lead, holder=world["ann"], alternates=[world["mo"]])
    editing.save_contact(plan, None, kind=ContactKind.STAFF, name="Ann", phones="07700 900123")
    editing.save_contact(
        plan,
        None,
        kind=ContactKind.VENDOR_SUPPORT,
        name="CloudCo support",
        phones="0800 123 4567",
        system=world["crm"],
    )
    return plan
