"""The business as a Shopify store's Admin REST API (2024-10) would list it.

`GET /shopify/admin/api/2024-10/{customers,products,orders}.json` with the header
`X-Shopify-Access-Token: shpat_demo`; query `limit` (default 50, at most 250),
`updated_at_min` (ISO 8601, at or after) and `page_info` (the cursor from a `Link` header).
As in Shopify, pages follow the `Link` header (`rel="next"`, `rel="previous"`), whose URLs
carry only `limit` and `page_info`: the cursor remembers the filter, and combining
`page_info` with a filter is refused. `…/{resource}/count.json` counts.

Unlike Shopify, orders.json lists every order, open and closed, not only the open ones.
Each product has exactly one variant, with the product's id.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from fallback.simulator import api
from fallback.simulator.business import Customer, Order, Product, iso_local, parse_time
from fallback.simulator.service import service_of

PREFIX = "/shopify/admin/api/2024-10"
RESOURCES = {"customers": "customers", "products": "products", "orders": "orders"}
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
CALL_LIMIT = 40

DIALECT = api.Dialect(
    name="shopify",
    unauthorised={"errors": "[API] Invalid API key or access token"},
    server_error={"errors": "Internal Server Error"},
    rate_limited={
        "errors": "Exceeded 2 calls per second for api client. "
        "Reduce request rates to resume uninterrupted service."
    },
    unavailable={"errors": "Unavailable Shop"},
)


def customer(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "email": c.email,
        "created_at": iso_local(c.created),
        "updated_at": iso_local(c.updated),
        "first_name": c.first_name,
        "last_name": c.last_name,
        "orders_count": c.orders_count,
        "state": "enabled" if c.active else "disabled",
        "total_spent": c.total_spent,
        "note": c.note or None,
        "tags": c.tags,
        "currency": c.currency,
        "phone": c.phone,
        "default_address": {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company": c.company,
            "address1": c.address1,
            "address2": c.address2 or None,
            "city": c.city,
            "province": c.region,
            "country": c.country_name,
            "zip": c.postcode,
            "phone": c.phone,
            "country_code": c.country,
        },
    }


def product(p: Product) -> dict[str, Any]:
    updated = iso_local(p.updated)
    created = iso_local(p.created)
    return {
        "id": p.id,
        "title": p.name,
        "body_html": f"<p>{p.description}</p>",
        "vendor": p.supplier,
        "product_type": p.category,
        "created_at": created,
        "updated_at": updated,
        "status": "active" if p.active else "archived",
        "tags": p.unit,
        "variants": [
            {
                "id": p.id,
                "product_id": p.id,
                "title": "Default Title",
                "sku": p.sku,
                "price": p.price,
                "compare_at_price": p.compare_at_price,
                "position": 1,
                "taxable": p.taxable,
                "inventory_quantity": p.quantity,
                "weight": p.weight,
                "weight_unit": "kg",
                "created_at": created,
                "updated_at": updated,
            }
        ],
    }


def order(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "name": f"#{o.number}",
        "order_number": o.number,
        "email": o.customer_email,
        "created_at": iso_local(o.created),
        "updated_at": iso_local(o.updated),
        "closed_at": iso_local(o.closed) if o.closed is not None else None,
        "cancelled_at": None,
        "currency": o.currency,
        "financial_status": o.financial_status,
        "fulfillment_status": o.fulfillment_status,
        "subtotal_price": o.subtotal,
        "total_tax": o.tax,
        "total_price": o.total,
        "note": o.note or None,
        "note_attributes": [{"name": "due_date", "value": o.due_date}],
        "customer": {
            "id": o.customer_id,
            "email": o.customer_email,
            "first_name": o.customer_first_name,
            "last_name": o.customer_last_name,
        },
        "line_items": [
            {
                "id": o.id * 100 + line.number,
                "product_id": line.product_id,
                "variant_id": line.product_id,
                "sku": line.sku,
                "title": line.name,
                "quantity": line.quantity,
                "price": line.unit_price,
            }
            for line in o.lines
        ],
    }


_SERIALISE: dict[str, Any] = {"customers": customer, "products": product, "orders": order}


def _bad_request(field: str, message: str) -> web.Response:
    return api.json_response({"errors": {field: [message]}}, 400)


async def _admit(request: web.Request) -> web.Response | None:
    service = service_of(request)
    token = request.headers.get("X-Shopify-Access-Token", "")
    authorised = secrets.compare_digest(token.encode(), service.credentials.shopify_token.encode())
    return await api.admit(request, DIALECT, authorised)


def _since(request: web.Request) -> float | None:
    text = request.query.get("updated_at_min")
    return parse_time(text) if text else None


async def listing(request: web.Request) -> web.Response:
    refused = await _admit(request)
    if refused is not None:
        return refused
    service = service_of(request)
    resource = request.match_info["resource"]
    entity = RESOURCES[resource]
    query = request.query
    try:
        limit = api.limit_param(query.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    except ValueError:
        return _bad_request("limit", "must be a whole number from 1 to 250")
    page_info = query.get("page_info")
    if page_info is not None:
        others = sorted(set(query) - {"limit", "page_info", "fields"})
        if others:
            return _bad_request(
                "page_info",
                f"cannot be combined with {', '.join(others)}: follow the Link header as it is",
            )
        cursor = api.decode_cursor(page_info)
        try:
            if cursor is None or cursor.get("r") != resource or cursor.get("d") not in ("n", "p"):
                raise ValueError("not our cursor")
            edge = api.cursor_int(cursor, "e", 0)
            page = api.cursor_int(cursor, "p", 1)
            since = api.cursor_since(cursor)
        except ValueError:
            return _bad_request("page_info", "Invalid value.")
        backwards = cursor["d"] == "p"
    else:
        try:
            since = _since(request)
        except ValueError:
            return _bad_request("updated_at_min", "must be a time in ISO 8601 format")
        edge, page, backwards = -1, 1, False
    refused = api.refuse_page(service, DIALECT, page)
    if refused is not None:
        return refused
    indexes, more = api.window(service, entity, page, edge, limit, since, backwards=backwards)
    parts = api.rendered(service, DIALECT.name, entity, list(indexes), _SERIALISE[resource])
    has_next, has_previous = (True, more) if backwards else (more, page > 1)
    links = []

    def link(direction: str, edge: int, to_page: int, rel: str) -> str:
        cursor = {"r": resource, "d": direction, "e": edge, "p": to_page, "s": since}
        url = request.url.with_query({"limit": str(limit), "page_info": api.encode_cursor(cursor)})
        return f'<{url}>; rel="{rel}"'

    if indexes and has_previous:
        links.append(link("p", indexes[0], max(1, page - 1), "previous"))
    if indexes and has_next:
        links.append(link("n", indexes[-1], page + 1, "next"))
    headers = {"X-Shopify-Shop-Api-Call-Limit": f"1/{CALL_LIMIT}"}
    if links:
        headers["Link"] = ", ".join(links)
    return api.respond_list(service, resource, parts, page, headers)


async def count(request: web.Request) -> web.Response:
    refused = await _admit(request)
    if refused is not None:
        return refused
    service = service_of(request)
    try:
        since = _since(request)
    except ValueError:
        return _bad_request("updated_at_min", "must be a time in ISO 8601 format")
    entity = RESOURCES[request.match_info["resource"]]
    found = 0 if service.faults.on("empty") else len(service.business.matching(entity, since))
    return api.json_response({"count": found})


def add_routes(app: web.Application) -> None:
    resources = "|".join(RESOURCES)
    app.add_routes(
        [
            web.get(f"{PREFIX}/{{resource:{resources}}}.json", listing),
            web.get(f"{PREFIX}/{{resource:{resources}}}/count.json", count),
        ]
    )
