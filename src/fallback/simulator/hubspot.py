"""The business as HubSpot's CRM v3 objects API would list it.

`GET /hubspot/crm/v3/objects/{companies,contacts,products,deals}` with the header
`Authorization: Bearer pat-demo`; query `limit` (default 10, at most 100), `after` (the
cursor from `paging.next.after`), `properties` (comma-separated: only those, plus
`hs_object_id`, `createdate` and `hs_lastmodifieddate`) and, not in HubSpot's list endpoint
(HubSpot offers it through its search API), `updatedAfter` (ISO 8601 or epoch milliseconds,
strictly after) for incremental reads. `paging` is absent on the last page; its `link`
repeats the query with the new `after`.

companies are the customers, deals the orders. Every property value is a string, or null
when the record has none.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import web

from fallback.simulator import api
from fallback.simulator.business import Contact, Customer, Order, Product, iso_utc_ms, parse_time
from fallback.simulator.service import service_of

PREFIX = "/hubspot/crm/v3/objects"
OBJECTS = {
    "companies": "customers",
    "contacts": "contacts",
    "products": "products",
    "deals": "orders",
}
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
ALWAYS = ("hs_object_id", "createdate", "hs_lastmodifieddate")

DIALECT = api.Dialect(
    name="hubspot",
    unauthorised={
        "status": "error",
        "message": "Authentication credentials not found. This API supports OAuth 2.0 "
        "authentication and private app access tokens.",
        "correlationId": "00000000-0000-4000-8000-000000000401",
        "category": "INVALID_AUTHENTICATION",
    },
    server_error={
        "status": "error",
        "message": "internal error",
        "correlationId": "00000000-0000-4000-8000-000000000500",
        "category": "INTERNAL_ERROR",
    },
    rate_limited={
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "00000000-0000-4000-8000-000000000429",
        "policyName": "SECONDLY",
        "category": "RATE_LIMITS",
    },
    unavailable={
        "status": "error",
        "message": "Service unavailable",
        "correlationId": "00000000-0000-4000-8000-000000000503",
        "category": "SERVICE_UNAVAILABLE",
    },
)


def _common(record_id: int, created: str, updated: str) -> dict[str, str | None]:
    return {"hs_object_id": str(record_id), "createdate": created, "hs_lastmodifieddate": updated}


def company(c: Customer, created: str, updated: str) -> dict[str, str | None]:
    return {
        "name": c.company,
        "domain": c.domain,
        "phone": c.phone,
        "address": c.address1,
        "address2": c.address2 or None,
        "city": c.city,
        "state": c.region,
        "zip": c.postcode,
        "country": c.country_name,
        "lifecyclestage": "customer",
        **_common(c.id, created, updated),
    }


def contact(c: Contact, created: str, updated: str) -> dict[str, str | None]:
    return {
        "firstname": c.first_name,
        "lastname": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "jobtitle": c.job_title,
        "company": c.company,
        "associatedcompanyid": str(c.customer_id),
        "lifecyclestage": "customer",
        **_common(c.id, created, updated),
    }


def product(p: Product, created: str, updated: str) -> dict[str, str | None]:
    return {
        "name": p.name,
        "hs_sku": p.sku,
        "price": p.price,
        "description": p.description,
        "hs_cost_of_goods_sold": p.cost,
        "tax": p.tax_rate,
        "hs_product_type": "inventory",
        **_common(p.id, created, updated),
    }


def deal(o: Order, created: str, updated: str) -> dict[str, str | None]:
    return {
        "dealname": f"#{o.number} {o.customer_company}",
        "amount": o.total,
        "deal_currency_code": o.currency,
        "closedate": f"{o.due_date}T00:00:00.000Z",
        "dealstage": "contractsent" if o.status == "open" else "closedwon",
        "pipeline": "default",
        "hs_is_closed": "false" if o.status == "open" else "true",
        "associatedcompanyid": str(o.customer_id),
        **_common(o.id, created, updated),
    }


_PROPERTIES: dict[str, Callable[[Any, str, str], dict[str, str | None]]] = {
    "companies": company,
    "contacts": contact,
    "products": product,
    "deals": deal,
}


def record(kind: str, item: Any, wanted: list[str] | None = None) -> dict[str, Any]:
    created, updated = iso_utc_ms(item.created), iso_utc_ms(item.updated)
    properties = _PROPERTIES[kind](item, created, updated)
    if wanted is not None:
        properties = {k: properties[k] for k in wanted if k in properties}
    return {
        "id": str(item.id),
        "properties": properties,
        "createdAt": created,
        "updatedAt": updated,
        "archived": False,
    }


def _bad_request(message: str) -> web.Response:
    return api.json_response(
        {
            "status": "error",
            "message": message,
            "correlationId": "00000000-0000-4000-8000-000000000400",
            "category": "VALIDATION_ERROR",
        },
        400,
    )


async def listing(request: web.Request) -> web.Response:
    service = service_of(request)
    token = api.bearer(request)
    authorised = secrets.compare_digest(token.encode(), service.credentials.hubspot_token.encode())
    refused = await api.admit(request, DIALECT, authorised)
    if refused is not None:
        return refused
    kind = request.match_info["kind"]
    entity = OBJECTS[kind]
    query = request.query
    try:
        limit = api.limit_param(query.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    except ValueError:
        return _bad_request("limit must be a whole number from 1 to 100")
    since: float | None = None
    if query.get("updatedAfter"):
        try:
            since = parse_time(query["updatedAfter"])
        except ValueError:
            return _bad_request("updatedAfter must be ISO 8601 or milliseconds since 1970")
    wanted: list[str] | None = None
    if "properties" in query:
        names = [p.strip() for p in ",".join(query.getall("properties")).split(",")]
        wanted = list(dict.fromkeys([*(n for n in names if n), *ALWAYS]))
    edge, page = -1, 1
    if query.get("after"):
        cursor = api.decode_cursor(query["after"])
        try:
            if cursor is None or cursor.get("k") != kind:
                raise ValueError("not our cursor")
            edge, page = api.cursor_int(cursor, "e", 0), api.cursor_int(cursor, "p", 2)
        except ValueError:
            return _bad_request(f"Invalid 'after' value: {query['after']!r}")
    refused = api.refuse_page(service, DIALECT, page)
    if refused is not None:
        return refused
    indexes, more = api.window(service, entity, page, edge, limit, since, strict=True)
    business = service.business
    body: dict[str, Any] = {
        "results": [record(kind, item, wanted) for item in business.records(entity, indexes)]
    }
    if indexes and more:
        after = api.encode_cursor({"k": kind, "e": indexes[-1], "p": page + 1})
        pairs = [(k, v) for k, v in query.items() if k != "after"]
        link = request.url.with_query([*pairs, ("after", after)])
        body["paging"] = {"next": {"after": after, "link": str(link)}}
    return api.respond(service, body, page)


def add_routes(app: web.Application) -> None:
    kinds = "|".join(OBJECTS)
    app.add_routes([web.get(f"{PREFIX}/{{kind:{kinds}}}", listing)])
