from __future__ import annotations

import re
import time
import tracemalloc
from decimal import Decimal

import pytest

from fallback.simulator.business import (
    DAY,
    ENTITIES,
    FIRST_NAMES,
    MARGIN,
    SURNAMES,
    YEAR,
    Business,
    iso_local,
    iso_utc_ms,
    parse_time,
    scaled_counts,
)

NOW = 1_780_000_000  # 2026-05-28, a Thursday in British Summer Time
MONEY = re.compile(r"^-?\d+\.\d\d$")
DRAMA_PHONE = re.compile(
    r"^\+44 (113 496 0|114 496 0|115 496 0|116 496 0|117 496 0|118 496 0|121 496 0|"
    r"131 496 0|141 496 0|151 496 0|161 496 0|191 498 0|20 7946 0|28 9649 6|29 2018 0|"
    r"1632 960|7700 900)\d\d\d$"
)


@pytest.fixture
def shop() -> Business:
    return Business(now=NOW)


def test_same_seed_gives_the_same_business_and_another_seed_another(shop):
    again = Business(now=NOW)
    other = Business(seed=2, now=NOW)
    for entity in ENTITIES:
        assert [again.get(entity, i) for i in range(20)] == [shop.get(entity, i) for i in range(20)]
    assert [other.customer(i).company for i in range(20)] != [
        shop.customer(i).company for i in range(20)
    ]


def test_default_business_has_the_documented_counts(shop):
    assert shop.counts == {
        "customers": 500,
        "contacts": 700,
        "suppliers": 30,
        "products": 200,
        "orders": 400,
        "invoices": 600,
    }


def test_counts_scale_with_customers_and_suppliers_stay_between_30_and_200():
    big = scaled_counts(100_000)
    assert big["products"] == 40_000 and big["orders"] == 80_000
    assert big["suppliers"] == 200
    assert scaled_counts(10)["suppliers"] == 30
    assert scaled_counts(1000)["suppliers"] == 60
    with pytest.raises(ValueError, match="100,000"):
        Business(customers=100_001)
    with pytest.raises(ValueError):
        Business(customers=0)


def test_a_hundred_thousand_customers_cost_no_time_or_memory_until_asked_for():
    tracemalloc.start()
    try:
        started = time.perf_counter()
        big = Business(customers=100_000)
        elapsed = time.perf_counter() - started
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.05
    assert size < 200_000
    assert big.customer(99_999).id == 100_000


def test_records_are_realistic_not_numbered(shop):
    customers = [shop.customer(i) for i in range(shop.count("customers"))]
    assert not any(re.search(r"\d", c.company) for c in customers)
    assert all(c.first_name in FIRST_NAMES and c.last_name in SURNAMES for c in customers)
    assert len({c.company for c in customers}) == len(customers)
    assert len({c.email for c in customers}) == len(customers)
    assert all(re.fullmatch(r"[a-z.]+@[a-z0-9-]+\.test", c.email) for c in customers)
    assert all(DRAMA_PHONE.match(c.phone) for c in customers)
    assert {c.currency for c in customers} == {"GBP", "EUR"}  # a few Irish customers
    products = [shop.product(i) for i in range(shop.count("products"))]
    assert len({p.sku for p in products}) == len(products)
    assert not any(p.name.startswith("Product") for p in products)
    suppliers = [shop.supplier(i) for i in range(30)]
    assert len({s.company for s in suppliers}) == 30
    assert all(s.account_number and DRAMA_PHONE.match(s.phone) for s in suppliers)


def test_scaled_up_names_and_emails_stay_unique():
    big = Business(customers=30_000)
    emails = {big.customer(i).email for i in range(30_000)}
    assert len(emails) == 30_000


def test_each_customer_has_one_or_two_contacts_the_first_being_its_own_person(shop):
    contacts = [shop.contact(i) for i in range(shop.count("contacts"))]
    per_customer: dict[int, list] = {}
    for contact in contacts:
        per_customer.setdefault(contact.customer_id, []).append(contact)
    assert sorted(per_customer) == list(range(1, 501))
    assert {len(people) for people in per_customer.values()} == {1, 2}
    for customer_id, people in per_customer.items():
        customer = shop.customer(customer_id - 1)
        first = shop.contact(shop.first_contact(customer_id - 1))
        assert first is not None and first.primary
        assert (first.first_name, first.last_name, first.email) == (
            customer.first_name,
            customer.last_name,
            customer.email,
        )
        assert len({p.email for p in people}) == len(people)
        assert all(p.company == customer.company for p in people)


def test_money_has_two_decimals_and_orders_and_invoices_add_up(shop):
    for entity in ("orders", "invoices"):
        for i in range(shop.count(entity)):
            doc = shop.get(entity, i)
            assert 1 <= len(doc.lines) <= 5
            for line in doc.lines:
                assert all(MONEY.match(v) for v in (line.unit_price, line.amount, line.tax))
                assert Decimal(line.amount) == Decimal(line.unit_price) * line.quantity
            assert Decimal(doc.subtotal) == sum(Decimal(line.amount) for line in doc.lines)
            assert Decimal(doc.tax) == sum(Decimal(line.tax) for line in doc.lines)
            assert Decimal(doc.total) == Decimal(doc.subtotal) + Decimal(doc.tax)
            assert all(MONEY.match(v) for v in (doc.subtotal, doc.tax, doc.total))
    for i in range(shop.count("products")):
        product = shop.product(i)
        assert MONEY.match(product.price) and MONEY.match(product.cost)
        assert Decimal(product.cost) < Decimal(product.price)
    invoices = [shop.invoice(i) for i in range(shop.count("invoices"))]
    assert all(Decimal(inv.balance) == 0 for inv in invoices if inv.paid)
    assert any(not inv.paid for inv in invoices) and any(inv.paid for inv in invoices)


def test_there_are_open_orders_some_due_in_the_next_days(shop):
    orders = [shop.order(i) for i in range(shop.count("orders"))]
    open_orders = [o for o in orders if o.status == "open"]
    assert 5 < len(open_orders) < len(orders) / 2
    today = iso_local(NOW)[:10]
    in_a_week = iso_local(NOW + 7 * DAY)[:10]
    assert any(today <= o.due_date <= in_a_week for o in open_orders)
    assert all(o.fulfillment_status is None and o.closed is None for o in open_orders)
    assert all(o.fulfillment_status == "fulfilled" for o in orders if o.status == "closed")
    assert [o.number for o in orders[:3]] == [1001, 1002, 1003]
    assert [o.created for o in orders] == sorted(o.created for o in orders)  # numbered in time


def test_every_record_was_updated_in_the_year_before_the_start(shop):
    for entity in ENTITIES:
        for i in range(shop.count(entity)):
            record = shop.get(entity, i)
            assert NOW - YEAR - MARGIN <= record.updated <= NOW - MARGIN
            assert record.created <= record.updated
            assert shop.updated(entity, i) == record.updated


def test_change_alters_the_share_asked_for_and_stamps_it_now(shop):
    before = [shop.customer(i) for i in range(500)]
    assert shop.change(0.02, "customers", now=NOW + 60) == 10
    after = [shop.customer(i) for i in range(500)]
    changed = [i for i in range(500) if after[i] != before[i]]
    assert changed == shop.changed("customers") and len(changed) == 10
    for i in changed:
        assert after[i].phone != before[i].phone
        assert after[i].updated == NOW + 60 and after[i].version == 1
        assert after[i].company == before[i].company
    assert shop.change(0.01, "products", now=NOW + 120) == 2
    for i in shop.changed("products"):
        assert Decimal(shop.product(i).price) > Decimal(Business(now=NOW).product(i).price)


def test_change_of_orders_closes_open_ones_and_of_invoices_pays_them(shop):
    shop.change(1.0, "orders", now=NOW + 60)
    assert all(shop.order(i).status == "closed" for i in range(shop.count("orders")))
    shop.change(1.0, "invoices", now=NOW + 60)
    assert all(shop.invoice(i).balance == "0.00" for i in range(shop.count("invoices")))


def test_change_refuses_a_share_out_of_range_or_an_unknown_entity(shop):
    with pytest.raises(ValueError, match="share"):
        shop.change(0, "customers")
    with pytest.raises(ValueError, match="entity"):
        shop.change(0.1, "widgets")


def test_updated_since_the_start_lists_the_changes_without_generating_anything(shop, monkeypatch):
    shop.change(0.01, "customers", now=NOW + 60)

    def no(*args):
        raise AssertionError("generated a record")

    monkeypatch.setattr(shop, "_makers", {e: no for e in ENTITIES})
    found, more = shop.after("customers", -1, 100, since=NOW)
    assert found == shop.changed("customers") and not more
    assert list(shop.matching("customers", NOW)) == found
    assert shop.after("customers", -1, 100, since=NOW + 60, strict=True) == ([], False)


def test_updated_since_a_past_time_pages_through_exactly_the_matching_records(shop):
    shop.change(0.05, "contacts", now=NOW + 60)
    since = NOW - 120 * DAY
    expected = [i for i in range(700) if shop.updated("contacts", i) >= since]
    assert 100 < len(expected) < 600
    pages, after, more = [], -1, True
    while more:
        found, more = shop.after("contacts", after, 37, since)
        pages += found
        after = found[-1] if found else after
    assert pages == expected
    assert list(shop.matching("contacts", since)) == expected
    found, more = shop.before("contacts", expected[40], 10, since)
    assert found == expected[30:40] and more


def test_times_are_formatted_with_the_uk_offset_and_parsed_back():
    assert iso_local(NOW) == "2026-05-28T21:26:40+01:00"
    assert iso_local(NOW - 150 * DAY) == "2025-12-29T20:26:40+00:00"
    assert iso_utc_ms(NOW) == "2026-05-28T20:26:40.000Z"
    assert parse_time("2026-05-28T21:26:40+01:00") == NOW
    assert parse_time("2026-05-28T20:26:40Z") == NOW
    assert parse_time(str(NOW * 1000)) == NOW
    with pytest.raises(ValueError):
        parse_time("yesterday")
