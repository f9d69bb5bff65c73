"""What the desk reads from the replica: open and urgent orders, a customer's contacts,
unpaid invoices and balance, a supplier, a product — always of one organisation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fallback.desk import lookup
from fallback.desk.tests.conftest import put_records
from fallback.testing.factories import make_org, make_user

pytestmark = pytest.mark.django_db

TODAY = date(2025, 3, 10)


@pytest.fixture
def acme():
    return make_org("Acme", owner=make_user("ann@acme.test"))


def order(key: str, due: str | None, status: str = "open", customer: str = "C1", **more):
    row = {"key": key, "number": key, "customer": customer, "customer_name": "Smith Ltd"}
    row["status"] = status
    if due:
        row["due_date"] = due
    return row | more


def test_open_orders_leave_out_those_whose_status_means_done_in_any_case(acme):
    put_records(
        acme,
        "order",
        [
            order("SO-1", "2025-03-12", "Completed"),
            order("SO-2", "2025-03-12", "CANCELLED"),
            order("SO-3", "2025-03-12", "fulfilled"),
            order("SO-4", "2025-03-12", "Paid"),
            order("SO-5", "2025-03-12", "closed"),
            order("SO-6", "2025-03-12", "Awaiting stock"),
            order("SO-7", "2025-03-12", ""),
        ],
    )
    assert [o.number for o in lookup.open_orders(acme)] == ["SO-6", "SO-7"]


def test_open_orders_come_soonest_due_first_and_undated_last(acme):
    put_records(
        acme,
        "order",
        [order("A", None), order("B", "2025-03-20"), order("C", "2025-03-01"), order("D", "bad")],
    )
    assert [o.number for o in lookup.open_orders(acme)] == ["C", "B", "A", "D"]


def test_in_fallback_mode_orders_due_by_tomorrow_are_urgent(acme):
    put_records(
        acme,
        "order",
        [
            order("today", "2025-03-10"),
            order("tomorrow", "2025-03-11"),
            order("later", "2025-03-12"),
        ],
    )
    rows = {o.number: o for o in lookup.urgent_orders(acme, TODAY, in_fallback=True)}
    assert rows["today"].urgent and rows["tomorrow"].urgent
    assert not rows["later"].urgent
    assert not any(r.overdue for r in rows.values())


def test_without_fallback_mode_only_overdue_orders_are_urgent(acme):
    put_records(acme, "order", [order("late", "2025-03-09"), order("today", "2025-03-10")])
    rows = {o.number: o for o in lookup.urgent_orders(acme, TODAY, in_fallback=False)}
    assert rows["late"].urgent and rows["late"].overdue
    assert not rows["today"].urgent


def test_urgent_orders_of_one_customer(acme):
    put_records(acme, "order", [order("A", "2025-03-10"), order("B", "2025-03-10", customer="C2")])
    rows = lookup.urgent_orders(acme, TODAY, True, customer_key="C2")
    assert [o.number for o in rows] == ["B"]


def test_customer_balance_is_the_replicas_own_when_it_gives_one(acme):
    put_records(acme, "customer", [{"key": "C1", "name": "Smith Ltd", "balance": "120.50"}])
    put_records(acme, "invoice", [{"key": "I1", "number": "I1", "customer": "C1", "total": "99"}])
    view = lookup.customer(acme, "C1", TODAY, False)
    assert view is not None
    assert view.balance == Decimal("120.50") and view.balance_from_replica


def test_customer_balance_otherwise_adds_up_what_unpaid_invoices_still_ask(acme):
    put_records(acme, "customer", [{"key": "C1", "name": "Smith Ltd"}])
    put_records(
        acme,
        "invoice",
        [
            {"key": "I1", "number": "I1", "customer": "C1", "status": "open", "total": "100.00"},
            {"key": "I2", "number": "I2", "customer": "C1", "total": "80.00", "balance": "30.00"},
            {"key": "I3", "number": "I3", "customer": "C1", "status": "Paid", "total": "500"},
            {"key": "I4", "number": "I4", "customer": "C1", "status": "void", "total": "500"},
            {"key": "I5", "number": "I5", "customer": "C1", "paid": True, "total": "500"},
            {"key": "I6", "number": "I6", "customer": "C1", "total": "70", "balance": "0"},
            {"key": "I7", "number": "I7", "customer": "C2", "total": "900"},
        ],
    )
    view = lookup.customer(acme, "C1", TODAY, False)
    assert view is not None
    assert [i.number for i in view.invoices] == ["I1", "I2"]
    assert view.balance == Decimal("130.00") and not view.balance_from_replica


def test_customer_page_data_holds_their_contacts_and_open_orders_only(acme):
    put_records(acme, "customer", [{"key": "C1", "name": "Smith Ltd"}])
    put_records(
        acme,
        "contact",
        [
            {"key": "P1", "name": "Jo Smith", "customer": "C1"},
            {"key": "P2", "name": "Al Other", "customer": "C2"},
            {"key": "P3", "name": "Sue Supply", "supplier": "C1"},
        ],
    )
    put_records(acme, "order", [order("SO-1", "2025-03-11"), order("SO-2", "2025-03-11", "done")])
    put_records(acme, "order", [order("SO-3", "2025-03-11", "closed")])
    view = lookup.customer(acme, "C1", TODAY, True)
    assert view is not None
    assert [c.name for c in view.contacts] == ["Jo Smith"]
    assert [o.number for o in view.orders] == ["SO-1", "SO-2"]
    assert view.orders[0].urgent


def test_a_customer_of_another_organisation_is_not_found(acme):
    other = make_org("Bravo", owner=make_user("bob@bravo.test"))
    put_records(other, "customer", [{"key": "C1", "name": "Bravo's customer"}])
    assert lookup.customer(acme, "C1", TODAY, False) is None
    assert lookup.customer(other, "C1", TODAY, False) is not None


def test_the_latest_version_of_a_customer_is_the_one_shown(acme):
    put_records(acme, "customer", [{"key": "C1", "name": "Old Name"}])
    put_records(acme, "customer", [{"key": "C1", "name": "New Name"}])
    view = lookup.customer(acme, "C1", TODAY, False)
    assert view is not None and view.record.name == "New Name"


def test_supplier_with_contacts_and_our_account_number(acme):
    put_records(acme, "supplier", [{"key": "S1", "name": "Parts Co", "account_number": "AC-77"}])
    put_records(acme, "contact", [{"key": "P9", "name": "Sue Supply", "supplier": "S1"}])
    view = lookup.supplier(acme, "S1")
    assert view is not None
    assert view.account_number == "AC-77"
    assert [c.name for c in view.contacts] == ["Sue Supply"]
    assert lookup.supplier(acme, "S2") is None


def test_product_with_price_tax_stock_and_price_list_entries(acme):
    put_records(
        acme,
        "product",
        [{"key": "P1", "name": "Widget", "price": "12.50", "tax_rate": "5", "stock": "40"}],
    )
    put_records(acme, "price_list", [{"key": "L1", "name": "Widget trade", "product": "P1"}])
    view = lookup.product(acme, "P1")
    assert view is not None
    assert (view.price, view.tax_rate, view.stock) == (Decimal("12.50"), Decimal(5), Decimal(40))
    assert [p.key for p in view.prices] == ["L1"]


def test_a_contact_belongs_to_its_customer_or_supplier(acme):
    c, s, n = put_records(
        acme,
        "contact",
        [
            {"key": "P1", "name": "A", "customer": "C1"},
            {"key": "P2", "name": "B", "supplier": "S1"},
            {"key": "P3", "name": "C"},
        ],
    )
    assert lookup.contact_party(c) == ("customer", "C1")
    assert lookup.contact_party(s) == ("supplier", "S1")
    assert lookup.contact_party(n) == ("", "")


def test_an_order_with_only_its_customers_key_shows_the_customers_name(acme):
    put_records(acme, "customer", [{"key": "C7", "name": "Hartley Heating"}])
    put_records(acme, "order", [{"key": "O1", "number": "SO-7", "customer": "C7"}])
    assert [r.customer_name for r in lookup.open_orders(acme)] == ["Hartley Heating"]
