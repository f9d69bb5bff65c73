"""The business as QuickBooks Online's accounting API would answer queries about it.

OAuth 2: `POST /quickbooks/oauth2/v1/tokens/bearer` with HTTP Basic `demo-client:demo-secret`
and the form `grant_type=refresh_token&refresh_token=demo-refresh` (or
`grant_type=client_credentials`) gives an access token for an hour; API calls send it as
`Authorization: Bearer <token>`.

`GET /quickbooks/v3/company/<realm>/query?query=<query>` (any realm; the query may also be
POSTed as the body) answers

    select * from <Customer|Vendor|Item|Invoice>
        [where Metadata.LastUpdatedTime > '<ISO 8601>']   (or >=)
        [orderby Id] [startposition n] [maxresults m]
    select count(*) from <Entity> [where …]

case-insensitively; STARTPOSITION is 1-based (default 1), MAXRESULTS defaults to 100 and is
at most 1000. Records come ordered by Id. Past the end the QueryResponse is empty.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web

from fallback.simulator import api
from fallback.simulator.business import (
    Customer,
    Invoice,
    Product,
    Supplier,
    iso_local,
    parse_time,
)
from fallback.simulator.service import service_of

PREFIX = "/quickbooks"
TOKEN_PATH = f"{PREFIX}/oauth2/v1/tokens/bearer"
DEMO_REALM = "9130350000000001"
TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8_726_400  # 101 days, as Intuit says
TOKENS_KEPT = 1000
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS = 1000

DIALECT = api.Dialect(
    name="quickbooks",
    unauthorised={
        "Fault": {
            "Error": [
                {
                    "Message": "AuthenticationFailed",
                    "Detail": "Token invalid or expired",
                    "code": "3200",
                }
            ],
            "type": "AUTHENTICATION",
        }
    },
    server_error={
        "Fault": {
            "Error": [
                {
                    "Message": "An application error has occurred while processing your request",
                    "Detail": "System Failure Error: internal error",
                    "code": "10000",
                }
            ],
            "type": "SystemFault",
        }
    },
    rate_limited={
        "Fault": {
            "Error": [
                {
                    "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                    "Detail": "The request limit was exceeded for this company; retry later.",
                    "code": "3001",
                }
            ],
            "type": "ThrottleExceeded",
        }
    },
    unavailable={
        "Fault": {
            "Error": [{"Message": "Service Unavailable", "code": "503"}],
            "type": "SERVICE",
        }
    },
)

_CURRENCIES = {"GBP": "British Pound Sterling", "EUR": "Euro"}


def _meta(created: int, updated: int) -> dict[str, str]:
    return {"CreateTime": iso_local(created), "LastUpdatedTime": iso_local(updated)}


def _currency(code: str) -> dict[str, str]:
    return {"value": code, "name": _CURRENCIES.get(code, code)}


def _number(amount: str) -> float | int:
    value = float(amount)
    return int(value) if value.is_integer() else value


def customer(c: Customer) -> dict[str, Any]:
    return {
        "Id": str(c.id),
        "SyncToken": str(c.version),
        "DisplayName": c.company,
        "CompanyName": c.company,
        "GivenName": c.first_name,
        "FamilyName": c.last_name,
        "PrintOnCheckName": c.company,
        "PrimaryEmailAddr": {"Address": c.email},
        "PrimaryPhone": {"FreeFormNumber": c.phone},
        "BillAddr": {
            "Id": str(c.id),
            "Line1": c.address1,
            **({"Line2": c.address2} if c.address2 else {}),
            "City": c.city,
            "CountrySubDivisionCode": c.region,
            "PostalCode": c.postcode,
            "Country": c.country_name,
        },
        "Notes": c.note,
        "Balance": _number(c.balance),
        "CurrencyRef": _currency(c.currency),
        "Taxable": True,
        "Active": c.active,
        "domain": "QBO",
        "sparse": False,
        "MetaData": _meta(c.created, c.updated),
    }


def vendor(s: Supplier) -> dict[str, Any]:
    return {
        "Id": str(s.id),
        "SyncToken": str(s.version),
        "DisplayName": s.company,
        "CompanyName": s.company,
        "GivenName": s.first_name,
        "FamilyName": s.last_name,
        "PrimaryEmailAddr": {"Address": s.email},
        "PrimaryPhone": {"FreeFormNumber": s.phone},
        "BillAddr": {
            "Id": str(100_000 + s.id),
            "Line1": s.address1,
            "City": s.city,
            "CountrySubDivisionCode": s.region,
            "PostalCode": s.postcode,
            "Country": s.country_name,
        },
        "AcctNum": s.account_number,
        "Balance": 0,
        "CurrencyRef": _currency(s.currency),
        "Active": s.active,
        "domain": "QBO",
        "sparse": False,
        "MetaData": _meta(s.created, s.updated),
    }


def item(p: Product) -> dict[str, Any]:
    return {
        "Id": str(p.id),
        "SyncToken": str(p.version),
        "Name": p.name,
        "Sku": p.sku,
        "Description": p.description,
        "Type": "Inventory",
        "UnitPrice": _number(p.price),
        "PurchaseCost": _number(p.cost),
        "Taxable": p.taxable,
        "TrackQtyOnHand": True,
        "QtyOnHand": p.quantity,
        "Active": p.active,
        "domain": "QBO",
        "sparse": False,
        "MetaData": _meta(p.created, p.updated),
    }


def invoice(i: Invoice) -> dict[str, Any]:
    return {
        "Id": str(i.id),
        "SyncToken": str(i.version),
        "DocNumber": i.number,
        "TxnDate": i.date,
        "DueDate": i.due_date,
        "CustomerRef": {"value": str(i.customer_id), "name": i.customer_company},
        "BillEmail": {"Address": i.customer_email},
        "Line": [
            {
                "Id": str(line.number),
                "LineNum": line.number,
                "Amount": _number(line.amount),
                "Description": line.name,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": str(line.product_id), "name": line.name},
                    "Qty": line.quantity,
                    "UnitPrice": _number(line.unit_price),
                },
            }
            for line in i.lines
        ],
        "TxnTaxDetail": {"TotalTax": _number(i.tax)},
        "TotalAmt": _number(i.total),
        "Balance": _number(i.balance),
        "CurrencyRef": _currency(i.currency),
        "PrivateNote": i.note,
        "domain": "QBO",
        "sparse": False,
        "MetaData": _meta(i.created, i.updated),
    }


# QuickBooks' name for each entity -> (the business's entity, serialiser)
ENTITIES: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "Customer": ("customers", customer),
    "Vendor": ("suppliers", vendor),
    "Item": ("products", item),
    "Invoice": ("invoices", invoice),
}
_ENTITY_NAMES = {name.lower(): name for name in ENTITIES}

_QUERY = re.compile(
    r"""^\s*select\s+(?P<what>\*|count\(\s*\*\s*\))\s+from\s+(?P<entity>\w+)
    (?:\s+where\s+metadata\.lastupdatedtime\s*(?P<op>>=|>)\s*'(?P<since>[^']*)')?
    (?:\s+order\s*by\s+id(?:\s+asc)?)?
    (?:\s+startposition\s+(?P<start>\d+))?
    (?:\s+maxresults\s+(?P<max>\d+))?
    \s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


class Tokens:
    """The access tokens issued, each with its expiry (monotonic seconds)."""

    def __init__(self) -> None:
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def issue(self) -> str:
        token = "eyJ" + secrets.token_urlsafe(48)
        self._expiry[token] = time.monotonic() + TOKEN_SECONDS
        while len(self._expiry) > TOKENS_KEPT:
            self._expiry.popitem(last=False)
        return token

    def valid(self, token: str) -> bool:
        expiry = self._expiry.get(token)
        return expiry is not None and expiry > time.monotonic()


TOKENS = web.AppKey("quickbooks_tokens", Tokens)


def _now() -> str:
    return iso_local(int(time.time()))


def _fault(message: str, detail: str, status: int = 400) -> web.Response:
    return api.json_response(
        {
            "Fault": {
                "Error": [{"Message": message, "Detail": detail, "code": "4000"}],
                "type": "ValidationFault",
            },
            "time": _now(),
        },
        status,
    )


def _client(request: web.Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


async def token(request: web.Request) -> web.Response:
    service = service_of(request)
    refused = await api.admit(request, DIALECT, authorised=True, counted=False)
    if refused is not None:
        return refused
    credentials = service.credentials
    client = _client(request)
    if client is None or not (
        _same(client[0], credentials.quickbooks_client_id)
        and _same(client[1], credentials.quickbooks_client_secret)
    ):
        return api.json_response({"error": "invalid_client"}, 401)
    form = await request.post()
    grant = form.get("grant_type")
    if grant == "refresh_token":
        refresh = form.get("refresh_token")
        if not isinstance(refresh, str) or not _same(refresh, credentials.quickbooks_refresh_token):
            return api.json_response({"error": "invalid_grant"}, 400)
    elif grant != "client_credentials":
        return api.json_response({"error": "unsupported_grant_type"}, 400)
    return api.json_response(
        {
            "access_token": request.app[TOKENS].issue(),
            "token_type": "bearer",
            "expires_in": TOKEN_SECONDS,
            "refresh_token": credentials.quickbooks_refresh_token,
            "x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
        },
        headers={"Cache-Control": "no-store"},
    )


async def query(request: web.Request) -> web.Response:
    service = service_of(request)
    authorised = request.app[TOKENS].valid(api.bearer(request))
    refused = await api.admit(request, DIALECT, authorised)
    if refused is not None:
        return refused
    text = request.query.get("query")
    if text is None and request.method == "POST":
        text = await request.text()
    if not text:
        return _fault("Error parsing query", "QueryParserError: a query is required")
    match = _QUERY.match(text)
    if match is None:
        return _fault(
            "Error parsing query",
            "QueryParserError: expected select * from <Entity> [where "
            "Metadata.LastUpdatedTime > '<time>'] [startposition n] [maxresults m]",
        )
    name = _ENTITY_NAMES.get(match["entity"].lower())
    if name is None:
        return _fault(
            "Invalid query", f"QueryValidationError: unsupported entity {match['entity']!r}"
        )
    since: float | None = None
    if match["since"] is not None:
        try:
            since = parse_time(match["since"])
        except ValueError:
            return _fault("Invalid query", f"QueryValidationError: bad time {match['since']!r}")
    strict = match["op"] == ">"
    start = int(match["start"] or 1)
    most = min(int(match["max"] or DEFAULT_MAX_RESULTS), MAX_RESULTS)
    if start < 1 or most < 1:
        return _fault(
            "Invalid query", "QueryValidationError: startposition and maxresults start at 1"
        )
    entity, serialise = ENTITIES[name]
    business = service.business
    empty = service.faults.on("empty")
    if match["what"] != "*":
        found = 0 if empty else len(business.matching(entity, since, strict))
        return api.json_response({"QueryResponse": {"totalCount": found}, "time": _now()})
    page = (start - 1) // most + 1
    refused = api.refuse_page(service, DIALECT, page)
    if refused is not None:
        return refused
    if empty or (service.faults.on("short") and page > 1):
        indexes: list[int] = []
    else:
        indexes = list(business.matching(entity, since, strict)[start - 1 : start - 1 + most])
    response: dict[str, Any] = {}
    if indexes:
        response = {
            name: [serialise(record) for record in business.records(entity, indexes)],
            "startPosition": start,
            "maxResults": len(indexes),
        }
    return api.respond(service, {"QueryResponse": response, "time": _now()}, page)


def add_routes(app: web.Application) -> None:
    app[TOKENS] = Tokens()
    path = f"{PREFIX}/v3/company/{{realm:[0-9A-Za-z]+}}/query"
    app.add_routes(
        [
            web.post(TOKEN_PATH, token),
            web.get(path, query),
            web.post(path, query),
        ]
    )
