from __future__ import annotations

import json
import time

import pytest

from fallback.simulator import control
from fallback.simulator.faults import Faults, fault_params
from fallback.simulator.tests.client import (
    HUBSPOT,
    SHOPIFY,
    Reply,
    call,
    hubspot_url,
    links,
    quickbooks_query,
    quickbooks_token,
    shopify_url,
)


def first_pages(sim, token: str) -> dict[str, Reply]:
    """Each dialect's first page of customers."""
    return {
        "shopify": call(shopify_url(sim.url, "customers", limit=100), headers=SHOPIFY),
        "hubspot": call(hubspot_url(sim.url, "companies", limit=100), headers=HUBSPOT),
        "quickbooks": quickbooks_query(sim.url, token, "select * from Customer maxresults 100"),
    }


def nth_pages(sim, token: str, n: int) -> dict[str, Reply]:
    """Each dialect's n-th page of 100 customers, reached as a client would."""
    shopify = call(shopify_url(sim.url, "customers", limit=100), headers=SHOPIFY)
    hubspot = call(hubspot_url(sim.url, "companies", limit=100), headers=HUBSPOT)
    for _ in range(n - 1):
        shopify = call(links(shopify)["next"], headers=SHOPIFY)
        hubspot = call(hubspot.json()["paging"]["next"]["link"], headers=HUBSPOT)
    start = (n - 1) * 100 + 1
    quickbooks = quickbooks_query(
        sim.url, token, f"select * from Customer startposition {start} maxresults 100"
    )
    return {"shopify": shopify, "hubspot": hubspot, "quickbooks": quickbooks}


def records(dialect: str, reply: Reply) -> list:
    data = reply.json()
    if dialect == "shopify":
        return data["customers"]
    if dialect == "hubspot":
        return data["results"]
    return data["QueryResponse"].get("Customer", [])


@pytest.fixture
def token(sim):
    return quickbooks_token(sim.url)


def test_errors_make_every_api_call_answer_500_until_turned_off(sim, token):
    control.set_fault(sim.url, "errors")
    for dialect, reply in first_pages(sim, token).items():
        assert reply.status == 500, dialect
        assert reply.json()  # in the dialect's own words
    control.clear_fault(sim.url, "errors")
    assert {r.status for r in first_pages(sim, token).values()} == {200}


def test_fail_after_answers_the_first_pages_then_500(sim, token):
    control.set_fault(sim.url, "fail_after", pages=2)
    shopify = call(shopify_url(sim.url, "customers", limit=100), headers=SHOPIFY)
    hubspot = call(hubspot_url(sim.url, "companies", limit=100), headers=HUBSPOT)
    for page in (2, 3):
        assert shopify.status == 200 and hubspot.status == 200, page
        shopify = call(links(shopify)["next"], headers=SHOPIFY)
        hubspot = call(hubspot.json()["paging"]["next"]["link"], headers=HUBSPOT)
    assert shopify.status == 500 and hubspot.status == 500  # page 3
    query = "select * from Customer startposition {} maxresults 100"
    assert quickbooks_query(sim.url, token, query.format(101)).status == 200
    assert quickbooks_query(sim.url, token, query.format(201)).status == 500
    assert quickbooks_query(sim.url, token, query.format(1)).status == 200  # start again


def test_ratelimit_refuses_every_nth_call_with_retry_after(sim, token):
    control.set_fault(sim.url, "ratelimit", every=3, retry_after=2)
    statuses = []
    for _ in range(2):
        for reply in first_pages(sim, token).values():
            statuses.append(reply.status)
            if reply.status == 429:
                assert reply.headers["Retry-After"] == "2"
    assert statuses == [200, 200, 429, 200, 200, 429]
    assert quickbooks_token(sim.url)  # getting a token does not count


def test_empty_makes_every_list_empty(sim, token):
    control.set_fault(sim.url, "empty")
    pages = first_pages(sim, token)
    assert {dialect: records(dialect, reply) for dialect, reply in pages.items()} == {
        "shopify": [],
        "hubspot": [],
        "quickbooks": [],
    }
    assert "Link" not in pages["shopify"].headers
    assert "paging" not in pages["hubspot"].json()
    assert pages["quickbooks"].json()["QueryResponse"] == {}


def test_short_stops_after_a_normal_first_page(sim, token):
    control.set_fault(sim.url, "short")
    pages = first_pages(sim, token)
    assert all(len(records(d, r)) == 100 for d, r in pages.items())
    assert "next" not in links(pages["shopify"])
    assert "paging" not in pages["hubspot"].json()
    second = quickbooks_query(sim.url, token, "select * from Customer startposition 101")
    assert second.json()["QueryResponse"] == {}


def test_short_also_ends_a_listing_already_under_way(sim, token):
    shopify = call(shopify_url(sim.url, "customers", limit=100), headers=SHOPIFY)
    control.set_fault(sim.url, "short")
    assert call(links(shopify)["next"], headers=SHOPIFY).json() == {"customers": []}


def test_truncated_cuts_that_page_in_half_with_a_matching_content_length(sim, token):
    control.set_fault(sim.url, "truncated", page=2)
    for dialect, reply in first_pages(sim, token).items():
        assert len(records(dialect, reply)) == 100, dialect
    for dialect, reply in nth_pages(sim, token, 2).items():
        assert reply.status == 200
        assert int(reply.headers["Content-Length"]) == len(reply.body), dialect
        with pytest.raises(json.JSONDecodeError):
            json.loads(reply.body)
    control.clear_faults(sim.url)
    whole = nth_pages(sim, token, 2)["shopify"]
    control.set_fault(sim.url, "truncated", page=2)
    cut = nth_pages(sim, token, 2)["shopify"]
    assert len(cut.body) == len(whole.body) // 2 and whole.body.startswith(cut.body)


def test_faults_combine(sim, token):
    control.set_fault(sim.url, "short")
    control.set_fault(sim.url, "truncated", page=1)
    control.set_fault(sim.url, "ratelimit", every=2)
    shopify = call(shopify_url(sim.url, "customers", limit=100), headers=SHOPIFY)
    assert "Link" not in shopify.headers
    with pytest.raises(json.JSONDecodeError):
        shopify.json()
    assert call(shopify_url(sim.url, "customers"), headers=SHOPIFY).status == 429
    assert set(control.status(sim.url)["faults"]) == {"short", "truncated", "ratelimit"}


def test_down_makes_every_api_answer_503_and_slow_delays_them(sim, token):
    control.set_mode(sim.url, "down")
    assert {r.status for r in first_pages(sim, token).values()} == {503}
    control.set_mode(sim.url, "slow")
    started = time.monotonic()
    reply = call(hubspot_url(sim.url, "companies"), headers=HUBSPOT)
    assert reply.status == 200 and time.monotonic() - started >= 0.3


def test_auth_is_checked_before_the_faults(sim):
    control.set_fault(sim.url, "errors")
    assert call(shopify_url(sim.url, "customers")).status == 401


def test_control_api_lists_sets_and_clears_faults(sim):
    state = control.set_fault(sim.url, "fail-after", pages=5)
    assert state["faults"] == {"fail_after": {"pages": 5}}
    state = control.set_fault(sim.url, "empty")
    assert set(state["faults"]) == {"fail_after", "empty"}
    assert control.status(sim.url)["available_faults"]["ratelimit"] == {
        "every": 3,
        "retry_after": 1,
    }
    assert control.clear_fault(sim.url, "empty")["faults"] == {"fail_after": {"pages": 5}}
    assert control.clear_faults(sim.url)["faults"] == {}


def test_unknown_faults_and_bad_parameters_are_refused_by_name(sim):
    with pytest.raises(ValueError, match="errors, fail_after"):
        control.set_fault(sim.url, "gremlins")
    with pytest.raises(ValueError, match="every must be at least 1"):
        control.set_fault(sim.url, "ratelimit", every=0)
    reply = call(sim.url + "/_control/faults/truncated", "POST", body=b'{"pages": 2}')
    assert reply.status == 400 and "page" in reply.json()["error"]
    reply = call(sim.url + "/_control/faults/errors", "POST", body=b"[1]")
    assert reply.status == 400
    assert sim.service.faults.active() == {}


def test_ratelimit_counts_from_when_it_is_turned_on():
    faults = Faults()
    assert faults.rate_limited() is None
    faults.set("ratelimit", {"every": 2, "retry_after": 7})
    assert [faults.rate_limited() for _ in range(4)] == [None, 7, None, 7]
    assert fault_params("fail_after", {"pages": "4"}) == {"pages": 4}
