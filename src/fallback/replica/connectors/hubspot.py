"""HubSpot-like CRMs: `paging.next.after` cursors, `properties`, a private-app bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from fallback.replica.connectors.base import FetchContext, Secret, Stream
from fallback.replica.connectors.preset import PresetConfig, PresetKind
from fallback.replica.connectors.rest import Auth, dlt_auth


def _p(name: str) -> str:
    return f"properties.{name}"


STREAMS = {
    "companies": Stream(
        "companies",
        {
            "entity": "customer",
            "key": "id",
            "fields": {
                "name": _p("name"),
                "phone": _p("phone"),
                "address": _p("address"),
                "city": _p("city"),
                "postcode": _p("zip"),
                "country": _p("country"),
                "updated_at": "updatedAt",
            },
        },
        cursor="updatedAt",
    ),
    "contacts": Stream(
        "contacts",
        {
            "entity": "contact",
            "key": "id",
            "fields": {
                "name": "{properties.firstname} {properties.lastname}",
                "customer": _p("associatedcompanyid"),
                "role": _p("jobtitle"),
                "email": _p("email"),
                "phone": _p("phone"),
                "updated_at": "updatedAt",
            },
        },
        cursor="updatedAt",
    ),
    "products": Stream(
        "products",
        {
            "entity": "product",
            "key": "id",
            "fields": {
                "sku": _p("hs_sku"),
                "name": _p("name"),
                "description": _p("description"),
                "price": _p("price"),
                "cost": _p("hs_cost_of_goods_sold"),
                "tax_rate": _p("tax"),
                "updated_at": "updatedAt",
            },
        },
        cursor="updatedAt",
    ),
    "deals": Stream(
        "deals",
        {
            "entity": "order",
            "key": "id",
            "fields": {
                "number": "id",
                "customer": _p("associatedcompanyid"),
                "status": _p("dealstage"),
                "due_date": _p("closedate"),
                "total": _p("amount"),
                "notes": _p("dealname"),
                "updated_at": "updatedAt",
            },
        },
        cursor="updatedAt",
    ),
}

PROPERTIES = {
    "companies": "name,domain,phone,address,city,zip,country",
    "contacts": "firstname,lastname,email,phone,jobtitle,associatedcompanyid",
    "products": "name,hs_sku,price,description,hs_cost_of_goods_sold,tax",
    "deals": "dealname,amount,closedate,dealstage,associatedcompanyid",
}


class HubSpotKind(PresetKind):
    key = "hubspot"
    label = "HubSpot-like CRM"
    description = (
        "Companies, contacts, products and deals from a HubSpot-style CRM API "
        "(e.g. https://api.hubapi.com/)."
    )
    Config = PresetConfig
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("token", "Private app access token", "Sent as a bearer token"),
    )
    STREAMS = STREAMS

    def fetch(
        self, config: PresetConfig, ctx: FetchContext, stream: Stream, since: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {
            "limit": config.page_size or 100,
            "properties": PROPERTIES[stream.name],
        }
        if since:
            params["updatedAfter"] = since
        client = {
            "base_url": config.base_url,
            "auth": dlt_auth(Auth(type="bearer"), ctx.secrets),
            "paginator": {
                "type": "cursor",
                "cursor_path": "paging.next.after",
                "cursor_param": "after",
            },
        }
        endpoint = {
            "path": f"crm/v3/objects/{stream.name}",
            "params": params,
            "data_selector": "results",
        }
        yield from self.read(client, endpoint, stream, ctx)
