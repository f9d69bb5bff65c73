from __future__ import annotations

from decimal import Decimal

import pytest

from fallback.simulator.business import iso_local
from fallback.simulator.runner import Simulator
from fallback.simulator.tests.client import (
    REALM,
    call,
    quickbooks_query,
    quickbooks_token,
    quickbooks_token_reply,
    quickbooks_walk,
)


@pytest.fixture
def token(sim):
    return quickbooks_token(sim.url)


def test_refresh_token_grant_gives_an_hour_long_bearer_token(sim):
    reply = quickbooks_token_reply(
        sim.url, {"grant_type": "refresh_token", "refresh_token": "demo-refresh"}
    )
    assert reply.status == 200
    data = reply.json()
    assert data["token_type"] == "bearer" and data["expires_in"] == 3600
    assert data["refresh_token"] == "demo-refresh" and data["x_refresh_token_expires_in"] > 0
    assert quickbooks_query(sim.url, data["access_token"], "select * from Customer").status == 200


def test_client_credentials_grant_works_too(sim):
    reply = quickbooks_token_reply(sim.url, {"grant_type": "client_credentials"})
    assert reply.status == 200 and reply.json()["access_token"]


def test_wrong_client_refresh_token_or_grant_gets_no_token(sim):
    good = {"grant_type": "refresh_token", "refresh_token": "demo-refresh"}
    wrong_client = quickbooks_token_reply(sim.url, good, secret="nope")
    assert wrong_client.status == 401 and wrong_client.json() == {"error": "invalid_client"}
    wrong_refresh = quickbooks_token_reply(
        sim.url, {"grant_type": "refresh_token", "refresh_token": "stolen"}
    )
    assert wrong_refresh.status == 400 and wrong_refresh.json() == {"error": "invalid_grant"}
    wrong_grant = quickbooks_token_reply(sim.url, {"grant_type": "password"})
    assert wrong_grant.status == 400


def test_queries_without_an_issued_token_are_refused_with_a_fault(sim):
    for token in (None, "made-up"):
        reply = quickbooks_query(sim.url, token, "select * from Customer")
        assert reply.status == 401
        fault = reply.json()["Fault"]
        assert fault["type"] == "AUTHENTICATION"
        assert fault["Error"][0]["Message"] == "AuthenticationFailed"


def test_startposition_paging_walks_every_customer_exactly_once(sim, token):
    records, pages = quickbooks_walk(sim.url, token, "Customer", page_size=100)
    assert pages == 5
    assert [c["Id"] for c in records] == [str(i) for i in range(1, 501)]
    reply = quickbooks_query(sim.url, token, "select * from Customer startposition 101")
    response = reply.json()["QueryResponse"]
    assert response["startPosition"] == 101 and response["maxResults"] == 100
    assert response["Customer"][0]["Id"] == "101"


def test_past_the_end_the_query_response_is_empty(sim, token):
    reply = quickbooks_query(sim.url, token, "select * from Item STARTPOSITION 201")
    assert reply.status == 200
    data = reply.json()
    assert data["QueryResponse"] == {} and data["time"]


def test_vendors_items_and_invoices_walk_once_each(sim, token):
    counts = sim.service.business.counts
    for entity, name in (("Vendor", "suppliers"), ("Item", "products"), ("Invoice", "invoices")):
        records, _ = quickbooks_walk(sim.url, token, entity, page_size=1000)
        assert [r["Id"] for r in records] == [str(i) for i in range(1, counts[name] + 1)]


def test_queries_are_parsed_case_insensitively_and_maxresults_is_capped(sim, token):
    reply = quickbooks_query(
        sim.url, token, "SELECT * FROM customer ORDERBY Id StartPosition 3 MaxResults 2"
    )
    assert [c["Id"] for c in reply.json()["QueryResponse"]["Customer"]] == ["3", "4"]
    bigger = Simulator("127.0.0.1", 0, scale=1000).start()  # 1,200 invoices
    try:
        reply = quickbooks_query(
            bigger.url, quickbooks_token(bigger.url), "select * from Invoice maxresults 5000"
        )
    finally:
        bigger.stop()
    assert reply.json()["QueryResponse"]["maxResults"] == 1000


def test_malformed_queries_and_unknown_entities_are_400_faults(sim, token):
    for query in (
        "select name from Customer",
        "select * from Customer where DisplayName = 'x'",
        "delete from Customer",
        "select * from Widget",
        "select * from Customer where Metadata.LastUpdatedTime > 'someday'",
        "",
    ):
        reply = quickbooks_query(sim.url, token, query)
        assert reply.status == 400, query
        assert reply.json()["Fault"]["type"] == "ValidationFault"


def test_last_updated_time_after_a_change_lists_only_the_changed_customers(sim, token):
    business = sim.service.business
    since = iso_local(business.started)
    where = f"where Metadata.LastUpdatedTime > '{since}'"
    assert quickbooks_walk(sim.url, token, "Customer", where)[0] == []
    business.change(0.03, "customers")
    records, pages = quickbooks_walk(sim.url, token, "Customer", where, page_size=10)
    assert pages == 2
    assert [c["Id"] for c in records] == [str(i + 1) for i in business.changed("customers")]
    assert all(c["SyncToken"] == "1" for c in records)
    count = quickbooks_query(sim.url, token, f"select count(*) from Customer {where}")
    assert count.json()["QueryResponse"] == {"totalCount": 15}


def test_last_updated_time_in_the_past_pages_the_matching_records(sim, token):
    business = sim.service.business
    since_t = business.product(5).updated
    where = f"where Metadata.LastUpdatedTime >= '{iso_local(since_t)}'"
    records, _ = quickbooks_walk(sim.url, token, "Item", where, page_size=7)
    assert [int(r["Id"]) - 1 for r in records] == [
        i for i in range(200) if business.updated("products", i) >= since_t
    ]


def test_records_look_like_quickbooks_online(sim, token):
    business = sim.service.business
    query = "select * from Customer maxresults 1"
    customer = quickbooks_query(sim.url, token, query).json()["QueryResponse"]["Customer"][0]
    expected = business.customer(0)
    assert customer["DisplayName"] == expected.company
    assert customer["PrimaryEmailAddr"] == {"Address": expected.email}
    assert customer["PrimaryPhone"] == {"FreeFormNumber": expected.phone}
    assert customer["BillAddr"]["PostalCode"] == expected.postcode
    assert customer["CurrencyRef"]["value"] == expected.currency
    assert isinstance(customer["Balance"], int | float) and customer["Active"] is True
    assert customer["MetaData"]["LastUpdatedTime"] == iso_local(expected.updated)
    vendor = quickbooks_query(sim.url, token, "select * from Vendor maxresults 1").json()
    assert vendor["QueryResponse"]["Vendor"][0]["AcctNum"] == business.supplier(0).account_number
    item = quickbooks_query(sim.url, token, "select * from Item maxresults 1").json()
    item = item["QueryResponse"]["Item"][0]
    assert item["Type"] == "Inventory" and item["Sku"] == business.product(0).sku
    assert Decimal(str(item["UnitPrice"])) == Decimal(business.product(0).price)
    invoices = quickbooks_query(sim.url, token, "select * from Invoice maxresults 1000").json()
    for invoice in invoices["QueryResponse"]["Invoice"]:
        lines = sum(Decimal(str(line["Amount"])) for line in invoice["Line"])
        tax = Decimal(str(invoice["TxnTaxDetail"]["TotalTax"]))
        assert lines + tax == Decimal(str(invoice["TotalAmt"]))
        assert invoice["Line"][0]["DetailType"] == "SalesItemLineDetail"
        assert invoice["DueDate"] > invoice["TxnDate"]


def test_the_query_may_be_posted_as_the_body(sim, token):
    reply = call(
        f"{sim.url}/quickbooks/v3/company/{REALM}/query",
        "POST",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/text"},
        b"select * from Vendor maxresults 3",
    )
    assert [v["Id"] for v in reply.json()["QueryResponse"]["Vendor"]] == ["1", "2", "3"]
