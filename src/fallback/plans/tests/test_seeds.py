"""Sensible defaults: the seeded activities find the business's systems, and contacts are
suggested from the members, the replica and the monitored systems' vendors."""

from __future__ import annotations

import pytest

from fallback.accounts.membership import create_organisation
from fallback.desk.tests.conftest import put_records
from fallback.monitor import editing as monitor_editing
from fallback.plans import editing, seeds
from fallback.plans.models import ContactKind

pytestmark = pytest.mark.django_db


def test_a_one_system_business_links_its_only_system_to_the_core_work():
    org = create_organisation("Solo")
    shop = monitor_editing.create_system(org, name="Everything", kind="other")
    monitor_editing.create_system(org, name="Office internet", kind="internet")
    plan = editing.start(org, None)
    linked = {a.name: [s.name for s in a.systems.all()] for a in plan.activities.all()}
    assert linked == {
        "Taking orders": ["Everything"],
        "Invoicing": ["Everything"],
        "Dispatch": ["Everything"],
        "Payroll": [],
        "Answering the phone": [],
    }
    lines = {s.kind: [x.name for x in s.systems.all()] for s in plan.scenarios.all()}
    assert lines["system_lost"] == ["Everything"]
    assert lines["line_down"] == ["Office internet"]
    assert shop.name in plan.risks.get(unthinkable=True).title


def test_systems_are_matched_by_kind_when_there_are_several():
    org = create_organisation("Two")
    monitor_editing.create_system(org, name="Xero", kind="accounting")
    monitor_editing.create_system(org, name="Shopify", kind="ecommerce")
    plan = editing.start(org, None)
    linked = {a.name: [s.name for s in a.systems.all()] for a in plan.activities.all()}
    assert linked["Taking orders"] == ["Shopify"]
    assert linked["Invoicing"] == linked["Payroll"] == ["Xero"]


def test_without_systems_the_plan_still_starts():
    org = create_organisation("Nothing yet")
    plan = editing.start(org, None)
    assert plan.activities.count() == 5
    assert plan.risks.get(unthinkable=True).title.startswith("Our main system")
    assert plan.roles.get().holder_user is None


def test_contacts_are_suggested_from_members_replica_and_vendors(world):
    acme = world["acme"]
    put_records(
        acme,
        "customer",
        [
            {"key": "C1", "name": "Smith Plumbing", "phone": "01632 960123"},
            {"key": "C2", "name": "Jones Bakery", "email": "jo@jones.test"},
            {"key": "C3", "name": "Quiet Ltd"},
        ],
    )
    put_records(
        acme,
        "order",
        [
            {"key": "O1", "number": "SO-1", "customer": "C2"},
            {"key": "O2", "number": "SO-2", "customer": "C2"},
            {"key": "O3", "number": "SO-3", "customer": "C1"},
        ],
    )
    put_records(
        acme,
        "supplier",
        [{"key": "S1", "name": "Pipes Ltd", "account_number": "AC-7", "contact_name": "Pat"}],
    )
    plan = editing.start(acme, world["ann"])
    found = seeds.suggestions(plan)
    by_kind: dict[str, list[str]] = {}
    for s in found:
        by_kind.setdefault(s.kind, []).append(s.name)
    assert by_kind[ContactKind.STAFF] == [
        "Ann Archer",
        "mo@acme.test",
        "sid@acme.test",
        "val@acme.test",
    ]
    assert by_kind[ContactKind.KEY_CUSTOMER] == ["Jones Bakery", "Smith Plumbing"]
    assert by_kind[ContactKind.SUPPLIER] == ["Pipes Ltd"]
    assert by_kind[ContactKind.VENDOR_SUPPORT] == ["CloudCo Ltd support"]
    vendor = next(s for s in found if s.kind == ContactKind.VENDOR_SUPPORT)
    assert vendor.fields["phones"] == "0800 123 4567"
    assert vendor.fields["email"] == "support@cloudco.test"
    assert vendor.fields["account_number"] == "ACME-991"
    assert "https://status.cloudco.test" in vendor.fields["notes"]
    supplier = next(s for s in found if s.kind == ContactKind.SUPPLIER)
    assert supplier.fields["replica_key"] == "S1"
    assert (supplier.fields["account_number"], supplier.fields["notes"]) == ("AC-7", "Contact: Pat")
    editing.add_suggested(plan, [s for s in found if s.kind == ContactKind.KEY_CUSTOMER])
    left = {s.kind for s in seeds.suggestions(plan)}
    assert ContactKind.KEY_CUSTOMER not in left


def test_a_vendors_labelled_phone_line_is_a_phone():
    from fallback.plans.seeds import _split_vendor_lines

    phones, email, other = _split_vendor_lines(
        "Support: 0800 000 4242 (24 h)\n+44 (0)113 496 0000\nsupport@v.test\nOpen 9-5 weekdays"
    )
    assert phones == ["Support: 0800 000 4242 (24 h)", "+44 (0)113 496 0000"]
    assert (email, other) == ("support@v.test", ["Open 9-5 weekdays"])
