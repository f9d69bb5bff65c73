"""A small HTTP client for the simulator's tests: plain urllib, as a sync client would be."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

from fallback.simulator import hubspot, quickbooks, shopify

SHOPIFY = {"X-Shopify-Access-Token": "shpat_demo"}
HUBSPOT = {"Authorization": "Bearer pat-demo"}
REALM = quickbooks.DEMO_REALM


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Reply:
    request = urllib.request.Request(url, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.headers, exc.read())


def links(reply: Reply) -> dict[str, str]:
    """The Link header's URLs by rel."""
    return {
        rel: url
        for url, rel in re.findall(r'<([^>]+)>;\s*rel="(\w+)"', reply.headers.get("Link", ""))
    }


# ------------------------------------------------------------------ Shopify


def shopify_url(base: str, resource: str, **query: Any) -> str:
    url = f"{base}{shopify.PREFIX}/{resource}.json"
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def shopify_walk(base: str, resource: str, **query: Any) -> tuple[list[dict[str, Any]], int]:
    """Every record of a listing, following the Link header; (records, pages)."""
    url: str | None = shopify_url(base, resource, **query)
    records: list[dict[str, Any]] = []
    pages = 0
    while url:
        reply = call(url, headers=SHOPIFY)
        assert reply.status == 200, (reply.status, reply.body[:300])
        records += reply.json()[resource]
        pages += 1
        url = links(reply).get("next")
    return records, pages


# ------------------------------------------------------------------ HubSpot


def hubspot_url(base: str, kind: str, **query: Any) -> str:
    url = f"{base}{hubspot.PREFIX}/{kind}"
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def hubspot_walk(base: str, kind: str, **query: Any) -> tuple[list[dict[str, Any]], int]:
    """Every record of a listing, following paging.next.link; (records, pages)."""
    url: str | None = hubspot_url(base, kind, **query)
    records: list[dict[str, Any]] = []
    pages = 0
    while url:
        reply = call(url, headers=HUBSPOT)
        assert reply.status == 200, (reply.status, reply.body[:300])
        data = reply.json()
        records += data["results"]
        pages += 1
        url = data.get("paging", {}).get("next", {}).get("link")
    return records, pages


# --------------------------------------------------------------- QuickBooks


def basic(client_id: str = "demo-client", secret: str = "demo-secret") -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {
        "Authorization": f"Basic {encoded}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }


def quickbooks_token_reply(base: str, form: dict[str, str], **auth: str) -> Reply:
    body = urllib.parse.urlencode(form).encode()
    return call(base + quickbooks.TOKEN_PATH, "POST", basic(**auth), body)


def quickbooks_token(base: str) -> str:
    reply = quickbooks_token_reply(
        base, {"grant_type": "refresh_token", "refresh_token": "demo-refresh"}
    )
    assert reply.status == 200, reply.body
    token: str = reply.json()["access_token"]
    return token


def quickbooks_query(base: str, token: str | None, query: str) -> Reply:
    url = f"{base}{quickbooks.PREFIX}/v3/company/{REALM}/query?" + urllib.parse.urlencode(
        {"query": query, "minorversion": "75"}
    )
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return call(url, headers=headers)


def quickbooks_walk(
    base: str, token: str, entity: str, where: str = "", page_size: int = 100
) -> tuple[list[dict[str, Any]], int]:
    """Every record of an entity, STARTPOSITION by STARTPOSITION; (records, pages)."""
    records: list[dict[str, Any]] = []
    pages = 0
    start = 1
    while True:
        reply = quickbooks_query(
            base,
            token,
            f"select * from {entity} {where} STARTPOSITION {start} MAXRESULTS {page_size}",
        )
        assert reply.status == 200, (reply.status, reply.body[:300])
        found = reply.json()["QueryResponse"].get(entity, [])
        if not found:
            return records, pages
        records += found
        pages += 1
        start += len(found)
