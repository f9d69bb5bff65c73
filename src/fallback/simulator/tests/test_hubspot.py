from __future__ import annotations

import urllib.parse

from fallback.simulator.business import iso_utc_ms
from fallback.simulator.tests.client import HUBSPOT, call, hubspot_url, hubspot_walk


def test_pagination_walks_every_company_exactly_once(sim):
    records, pages = hubspot_walk(sim.url, "companies", limit=100)
    assert pages == 5
    assert [r["id"] for r in records] == [str(i) for i in range(1, 501)]


def test_default_page_is_10_and_limit_is_capped_at_100(sim):
    assert len(call(hubspot_url(sim.url, "companies"), headers=HUBSPOT).json()["results"]) == 10
    reply = call(hubspot_url(sim.url, "companies", limit=500), headers=HUBSPOT)
    assert len(reply.json()["results"]) == 100


def test_contacts_products_and_deals_walk_once_each(sim):
    counts = sim.service.business.counts
    for kind, entity in (("contacts", "contacts"), ("products", "products"), ("deals", "orders")):
        records, _ = hubspot_walk(sim.url, kind, limit=100)
        assert [r["id"] for r in records] == [str(i) for i in range(1, counts[entity] + 1)]


def test_paging_links_are_absolute_keep_the_query_and_are_absent_on_the_last_page(sim):
    first = call(
        hubspot_url(sim.url, "companies", limit=100, properties="name,phone"), headers=HUBSPOT
    ).json()
    link = first["paging"]["next"]["link"]
    assert link.startswith(sim.url + "/hubspot/crm/v3/objects/companies?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert query["after"] == [first["paging"]["next"]["after"]]
    assert query["limit"] == ["100"] and query["properties"] == ["name,phone"]
    last = call(
        hubspot_url(sim.url, "companies", limit=100, after=query["after"][0]), headers=HUBSPOT
    ).json()
    assert last["results"][0]["id"] == "101"
    everything = call(hubspot_url(sim.url, "products", limit=100), headers=HUBSPOT).json()
    final = call(everything["paging"]["next"]["link"], headers=HUBSPOT).json()
    assert len(final["results"]) == 100 and "paging" not in final


def test_a_bad_after_cursor_is_refused(sim):
    reply = call(hubspot_url(sim.url, "companies", after="garbage"), headers=HUBSPOT)
    assert reply.status == 400 and reply.json()["category"] == "VALIDATION_ERROR"


def test_missing_or_wrong_token_is_refused_with_401(sim):
    for headers in ({}, {"Authorization": "Bearer pat-wrong"}, {"Authorization": "pat-demo"}):
        reply = call(hubspot_url(sim.url, "companies"), headers=headers)
        assert reply.status == 401
        assert reply.json()["category"] == "INVALID_AUTHENTICATION"


def test_properties_asked_for_come_with_the_always_present_three(sim):
    reply = call(
        hubspot_url(sim.url, "companies", properties="name,phone,nonsense"), headers=HUBSPOT
    )
    record = reply.json()["results"][0]
    assert set(record["properties"]) == {
        "name",
        "phone",
        "hs_object_id",
        "createdate",
        "hs_lastmodifieddate",
    }
    assert record["properties"]["name"] == sim.service.business.customer(0).company


def test_records_look_like_hubspots_with_string_properties(sim):
    business = sim.service.business
    for kind in ("companies", "contacts", "products", "deals"):
        record = call(hubspot_url(sim.url, kind, limit=1), headers=HUBSPOT).json()["results"][0]
        assert set(record) == {"id", "properties", "createdAt", "updatedAt", "archived"}
        assert record["archived"] is False
        assert all(v is None or isinstance(v, str) for v in record["properties"].values())
        assert record["properties"]["hs_object_id"] == record["id"]
    company = call(hubspot_url(sim.url, "companies", limit=1), headers=HUBSPOT).json()["results"]
    expected = business.customer(0)
    assert company[0]["properties"]["domain"] == expected.domain
    assert company[0]["updatedAt"] == iso_utc_ms(expected.updated)
    contact = call(hubspot_url(sim.url, "contacts", limit=1), headers=HUBSPOT).json()["results"]
    assert contact[0]["properties"]["associatedcompanyid"] == "1"
    product = call(hubspot_url(sim.url, "products", limit=1), headers=HUBSPOT).json()["results"]
    assert product[0]["properties"]["hs_sku"] == business.product(0).sku
    deal = call(hubspot_url(sim.url, "deals", limit=1), headers=HUBSPOT).json()["results"]
    assert deal[0]["properties"]["amount"] == business.order(0).total
    assert deal[0]["properties"]["dealstage"] in ("contractsent", "closedwon")


def test_updated_after_a_change_lists_only_the_changed_records(sim):
    business = sim.service.business
    since = iso_utc_ms(business.started)
    assert hubspot_walk(sim.url, "companies", updatedAfter=since)[0] == []
    business.change(0.04, "customers")
    business.change(0.02, "contacts")
    records, pages = hubspot_walk(sim.url, "companies", updatedAfter=since, limit=10)
    assert pages == 2
    assert [r["id"] for r in records] == [str(i + 1) for i in business.changed("customers")]
    by_ms = hubspot_walk(sim.url, "contacts", updatedAfter=str(business.started * 1000), limit=100)[
        0
    ]
    assert [r["id"] for r in by_ms] == [str(i + 1) for i in business.changed("contacts")]
    changed = business.customer(business.changed("customers")[0])
    assert records[0]["properties"]["phone"] == changed.phone
    bad = call(hubspot_url(sim.url, "companies", updatedAfter="soon"), headers=HUBSPOT)
    assert bad.status == 400
