"""Shopify-like shops: Link-header pages, `updated_at_min`, an access-token header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from fallback.replica.connectors.base import FetchContext, Secret, Stream
from fallback.replica.connectors.preset import PresetConfig, PresetKind
from fallback.replica.connectors.rest import Auth, dlt_auth

_ADDRESS = {
    "address": "{default_address.address1} {default_address.address2}",
    "city": "default_address.city",
    "region": "default_address.province",
    "postcode": "default_address.zip",
    "country": "default_address.country",
}

STREAMS = {
    "customers": Stream(
        "customers",
        {
            "entity": "customer",
            "key": "id",
            "fields": {
                "name": ["default_address.company", "{first_name} {last_name}"],
                "contact_name": "{first_name} {last_name}",
                "email": "email",
                "phone": ["phone", "default_address.phone"],
                **_ADDRESS,
                "currency": "currency",
                "notes": "note",
                "active": "state",
                "updated_at": "updated_at",
            },
        },
        cursor="updated_at",
    ),
    "products": Stream(
        "products",
        {
            "entity": "product",
            "key": "id",
            "fields": {
                "sku": "variants.0.sku",
                "name": "title",
                "description": "product_type",
                "price": "variants.0.price",
                "stock": "variants.0.inventory_quantity",
                "active": "status",
                "updated_at": "updated_at",
            },
        },
        cursor="updated_at",
    ),
    "orders": Stream(
        "orders",
        {
            "entity": "order",
            "key": "id",
            "fields": {
                "number": "name",
                "customer": "customer.id",
                "customer_name": "{customer.first_name} {customer.last_name}",
                "status": ["fulfillment_status", "=open"],
                "order_date": "created_at",
                "due_date": "note_attributes[name=due_date].value",
                "currency": "currency",
                "subtotal": "subtotal_price",
                "tax": "total_tax",
                "total": "total_price",
                "lines": {
                    "path": "line_items",
                    "fields": {
                        "sku": "sku",
                        "description": "title",
                        "quantity": "quantity",
                        "unit_price": "price",
                    },
                },
                "notes": "note",
                "updated_at": "updated_at",
            },
        },
        cursor="updated_at",
    ),
}


class ShopifyKind(PresetKind):
    key = "shopify"
    label = "Shopify-like shop"
    description = (
        "Customers, products and orders from a Shopify-style admin API "
        "(e.g. https://SHOP.myshopify.com/admin/api/2024-10/)."
    )
    Config = PresetConfig
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("token", "Admin API access token", "Sent as X-Shopify-Access-Token"),
    )
    STREAMS = STREAMS

    def fetch(
        self, config: PresetConfig, ctx: FetchContext, stream: Stream, since: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {"limit": config.page_size or 250}
        if since:
            params["updated_at_min"] = since
        auth = Auth(type="api_key", name="X-Shopify-Access-Token")
        client = {
            "base_url": config.base_url,
            "auth": dlt_auth(auth, ctx.secrets),
            "paginator": "header_link",
        }
        endpoint = {"path": f"{stream.name}.json", "params": params, "data_selector": stream.name}
        yield from self.read(client, endpoint, stream, ctx)
