from __future__ import annotations

import urllib.parse
from decimal import Decimal

from fallback.simulator.business import iso_local
from fallback.simulator.tests.client import (
    SHOPIFY,
    call,
    links,
    shopify_url,
    shopify_walk,
)


def test_pagination_walks_every_customer_exactly_once(sim):
    records, pages = shopify_walk(sim.url, "customers", limit=50)
    assert pages == 10
    assert [c["id"] for c in records] == list(range(1, 501))
    records, pages = shopify_walk(sim.url, "customers", limit=250)
    assert pages == 2 and len(records) == 500


def test_default_page_is_50_and_limit_is_capped_at_250(sim):
    reply = call(shopify_url(sim.url, "customers"), headers=SHOPIFY)
    assert len(reply.json()["customers"]) == 50
    reply = call(shopify_url(sim.url, "customers", limit=1000), headers=SHOPIFY)
    assert len(reply.json()["customers"]) == 250
    assert call(shopify_url(sim.url, "customers", limit="x"), headers=SHOPIFY).status == 400


def test_products_and_orders_walk_once_each(sim):
    products, _ = shopify_walk(sim.url, "products", limit=250)
    orders, _ = shopify_walk(sim.url, "orders", limit=250)
    assert [p["id"] for p in products] == list(range(1, 201))
    assert [o["id"] for o in orders] == list(range(1, 401))


def test_next_links_are_absolute_and_carry_only_limit_and_page_info(sim):
    reply = call(shopify_url(sim.url, "customers", limit=100), headers=SHOPIFY)
    assert reply.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    next_url = links(reply)["next"]
    assert next_url.startswith(sim.url + "/shopify/admin/api/2024-10/customers.json?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(next_url).query)
    assert set(query) == {"limit", "page_info"}
    assert "previous" not in links(reply)


def test_previous_link_leads_back_to_the_page_before(sim):
    first = call(shopify_url(sim.url, "customers", limit=100), headers=SHOPIFY)
    second = call(links(first)["next"], headers=SHOPIFY)
    third = call(links(second)["next"], headers=SHOPIFY)
    back = call(links(third)["previous"], headers=SHOPIFY)
    assert back.json() == second.json()
    assert "previous" in links(second)
    assert "previous" not in links(call(links(second)["previous"], headers=SHOPIFY))


def test_last_page_has_no_next_link(sim):
    reply = call(shopify_url(sim.url, "customers", limit=250), headers=SHOPIFY)
    last = call(links(reply)["next"], headers=SHOPIFY)
    assert len(last.json()["customers"]) == 250
    assert "next" not in links(last) and "previous" in links(last)


def test_page_info_with_a_filter_or_from_elsewhere_is_refused(sim):
    reply = call(shopify_url(sim.url, "customers", limit=10), headers=SHOPIFY)
    next_url = links(reply)["next"]
    mixed = call(next_url + "&updated_at_min=2020-01-01T00:00:00Z", headers=SHOPIFY)
    assert mixed.status == 400 and "page_info" in mixed.json()["errors"]
    page_info = urllib.parse.parse_qs(urllib.parse.urlsplit(next_url).query)["page_info"][0]
    elsewhere = call(shopify_url(sim.url, "orders", page_info=page_info), headers=SHOPIFY)
    assert elsewhere.status == 400
    junk = call(shopify_url(sim.url, "orders", page_info="not-a-cursor"), headers=SHOPIFY)
    assert junk.status == 400


def test_missing_or_wrong_token_is_refused_with_401(sim):
    for headers in ({}, {"X-Shopify-Access-Token": "shpat_wrong"}):
        reply = call(shopify_url(sim.url, "customers"), headers=headers)
        assert reply.status == 401
        assert reply.json() == {"errors": "[API] Invalid API key or access token"}


def test_updated_at_min_after_a_change_lists_only_the_changed_customers(sim):
    since = iso_local(sim.service.business.started)
    assert shopify_walk(sim.url, "customers", updated_at_min=since)[0] == []
    sim.service.business.change(0.05, "customers")
    records, pages = shopify_walk(sim.url, "customers", updated_at_min=since, limit=10)
    assert pages == 3  # the cursor keeps the filter
    assert [c["id"] for c in records] == [i + 1 for i in sim.service.business.changed("customers")]
    first = records[0]
    current = sim.service.business.customer(first["id"] - 1)
    assert first["phone"] == current.phone and first["updated_at"] == iso_local(current.updated)


def test_updated_at_min_in_the_past_is_inclusive(sim):
    business = sim.service.business
    some = business.customer(10)
    records, _ = shopify_walk(
        sim.url, "customers", updated_at_min=iso_local(some.updated), limit=250
    )
    ids = {c["id"] for c in records}
    assert some.id in ids
    assert ids == {i + 1 for i in range(500) if business.updated("customers", i) >= some.updated}
    bad = call(shopify_url(sim.url, "customers", updated_at_min="last week"), headers=SHOPIFY)
    assert bad.status == 400


def test_customer_product_and_order_look_like_shopifys(sim):
    business = sim.service.business
    customer = call(shopify_url(sim.url, "customers", limit=1), headers=SHOPIFY).json()[
        "customers"
    ][0]
    expected = business.customer(0)
    assert customer["email"] == expected.email and customer["state"] == "enabled"
    assert isinstance(customer["id"], int) and isinstance(customer["total_spent"], str)
    assert set(customer["default_address"]) >= {
        "company",
        "address1",
        "address2",
        "city",
        "province",
        "zip",
        "country",
        "phone",
    }
    assert customer["default_address"]["company"] == expected.company
    assert customer["created_at"].endswith(("+00:00", "+01:00"))

    product = call(shopify_url(sim.url, "products", limit=1), headers=SHOPIFY).json()["products"]
    (variant,) = product[0]["variants"]
    assert variant["sku"] == business.product(0).sku
    assert variant["price"] == business.product(0).price and variant["weight_unit"] == "kg"
    assert product[0]["status"] in ("active", "archived")

    orders, _ = shopify_walk(sim.url, "orders", limit=250)
    order = orders[0]
    assert order["name"] == "#1001" and order["order_number"] == 1001
    assert order["note_attributes"][0]["name"] == "due_date"
    assert sum(Decimal(li["price"]) * li["quantity"] for li in order["line_items"]) == Decimal(
        order["subtotal_price"]
    )
    assert Decimal(order["total_price"]) == Decimal(order["subtotal_price"]) + Decimal(
        order["total_tax"]
    )
    assert {o["fulfillment_status"] for o in orders} == {None, "fulfilled"}
    assert order["customer"]["id"] == business.order(0).customer_id


def test_count_counts_all_or_the_updated(sim):
    url = sim.url + "/shopify/admin/api/2024-10/customers/count.json"
    assert call(url, headers=SHOPIFY).json() == {"count": 500}
    sim.service.business.change(0.01, "customers")
    since = urllib.parse.quote(iso_local(sim.service.business.started))
    assert call(f"{url}?updated_at_min={since}", headers=SHOPIFY).json() == {"count": 5}
