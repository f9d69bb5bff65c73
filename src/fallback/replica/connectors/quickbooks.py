"""QuickBooks-Online-like accounting: a query language paged with STARTPOSITION / MAXRESULTS.

The page position lives inside the `query` parameter, which none of dlt's paginators write,
so QueryPositionPaginator extends dlt's RangePaginator to put it there; requesting, retries
and the OAuth2 refresh-token flow stay dlt's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import Field

from fallback.replica.connectors.base import FetchContext, Secret, Stream
from fallback.replica.connectors.preset import PresetConfig, PresetKind
from fallback.replica.connectors.rest import Auth, dlt_auth


def _paginator(query: str, page_size: int) -> Any:
    from dlt.sources.helpers.rest_client.paginators import RangePaginator

    class QueryPositionPaginator(RangePaginator):
        def __init__(self) -> None:
            super().__init__(
                param_name="query",
                initial_value=1,
                value_step=page_size,
                base_index=1,
                stop_after_empty_page=True,
            )

        def update_request(self, request: Any) -> None:
            if request.params is None:
                request.params = {}
            request.params["query"] = (
                f"{query} STARTPOSITION {self.current_value} MAXRESULTS {page_size}"
            )

        def update_state(self, response: Any, data: list[Any] | None = None) -> None:
            super().update_state(response, data)
            if data is not None and len(data) < page_size:
                self._has_next_page = False  # a short page is the last one

    return QueryPositionPaginator()


_ADDRESS = {
    "address": "BillAddr.Line1",
    "city": "BillAddr.City",
    "region": "BillAddr.CountrySubDivisionCode",
    "postcode": "BillAddr.PostalCode",
    "country": "BillAddr.Country",
}
_CURSOR = "MetaData.LastUpdatedTime"

# Stream name → (QuickBooks entity, default mapping)
ENTITIES = {
    "customers": "Customer",
    "suppliers": "Vendor",
    "products": "Item",
    "invoices": "Invoice",
}

STREAMS = {
    "customers": Stream(
        "customers",
        {
            "entity": "customer",
            "key": "Id",
            "fields": {
                "name": "DisplayName",
                "contact_name": "{GivenName} {FamilyName}",
                "email": "PrimaryEmailAddr.Address",
                "phone": "PrimaryPhone.FreeFormNumber",
                **_ADDRESS,
                "currency": "CurrencyRef.value",
                "balance": "Balance",
                "active": "Active",
                "updated_at": _CURSOR,
            },
        },
        cursor=_CURSOR,
    ),
    "suppliers": Stream(
        "suppliers",
        {
            "entity": "supplier",
            "key": "Id",
            "fields": {
                "name": "DisplayName",
                "email": "PrimaryEmailAddr.Address",
                "phone": "PrimaryPhone.FreeFormNumber",
                "account_number": "AcctNum",
                "active": "Active",
                "updated_at": _CURSOR,
            },
        },
        cursor=_CURSOR,
    ),
    "products": Stream(
        "products",
        {
            "entity": "product",
            "key": "Id",
            "fields": {
                "sku": "Sku",
                "name": "Name",
                "price": "UnitPrice",
                "cost": "PurchaseCost",
                "stock": "QtyOnHand",
                "active": "Active",
                "updated_at": _CURSOR,
            },
        },
        cursor=_CURSOR,
    ),
    "invoices": Stream(
        "invoices",
        {
            "entity": "invoice",
            "key": "Id",
            "fields": {
                "number": "DocNumber",
                "customer": "CustomerRef.value",
                "customer_name": "CustomerRef.name",
                "issue_date": "TxnDate",
                "due_date": "DueDate",
                "currency": "CurrencyRef.value",
                "tax": "TxnTaxDetail.TotalTax",
                "total": "TotalAmt",
                "balance": "Balance",
                "lines": {
                    "path": "Line",
                    "fields": {
                        "sku": "SalesItemLineDetail.ItemRef.name",
                        "description": "Description",
                        "quantity": "SalesItemLineDetail.Qty",
                        "unit_price": "SalesItemLineDetail.UnitPrice",
                        "amount": "Amount",
                    },
                },
                "updated_at": _CURSOR,
            },
        },
        cursor=_CURSOR,
    ),
}


class QuickBooksConfig(PresetConfig):
    realm_id: str = Field(pattern=r"^[0-9]{1,30}$", description="The company ID")
    client_id: str = Field(min_length=1)
    token_url: str = Field(
        default="https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        description="Where refresh tokens are exchanged for access tokens",
    )


class QuickBooksKind(PresetKind):
    key = "quickbooks"
    label = "QuickBooks-Online-like accounting"
    description = (
        "Customers, suppliers, items and invoices from a QuickBooks-Online-style API "
        "(e.g. https://quickbooks.api.intuit.com/), with an OAuth2 refresh token."
    )
    Config = QuickBooksConfig
    secrets: ClassVar[tuple[Secret, ...]] = (
        Secret("client_secret", "OAuth2 client secret"),
        Secret("refresh_token", "OAuth2 refresh token"),
    )
    STREAMS = STREAMS

    def fetch(
        self, config: QuickBooksConfig, ctx: FetchContext, stream: Stream, since: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        entity = ENTITIES[stream.name]
        query = f"select * from {entity}"  # noqa: S608  (not SQL: QuickBooks' query language)
        if since:
            # Not SQL: QuickBooks' query language; the cursor is our own stored timestamp.
            clean = since.replace("'", "")
            query += f" where Metadata.LastUpdatedTime > '{clean}'"
        auth = Auth(
            type="oauth2_refresh_token", client_id=config.client_id, token_url=config.token_url
        )
        client = {
            "base_url": config.base_url,
            "auth": dlt_auth(auth, ctx.secrets),
            "paginator": _paginator(query, config.page_size or 1000),
        }
        endpoint = {
            "path": f"v3/company/{config.realm_id}/query",
            "params": {"query": query},
            "data_selector": f"QueryResponse.{entity}",
        }
        yield from self.read(client, endpoint, stream, ctx)
