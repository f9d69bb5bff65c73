"""REST JSON APIs, read with dlt's `rest_api` source.

dlt does the HTTP: authentication (bearer, API key, basic, OAuth2), pagination (Link header,
next URL, cursor, page number, offset), retries with backoff, and 429/Retry-After. Fallback
adds what dlt cannot know: which lists to read, how records map, and the incremental cursor,
kept with each sync in the database (so it moves only when a sync is applied) and passed to
the source as an ordinary query parameter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fallback.replica.connectors.base import ConnectorKind, FetchContext, FetchError, Secret, Stream

PAGE_RECORDS = 1000  # records handed to the sync at a time

# Retry policy for every request (dlt's defaults wait up to 5 min between attempts; a sync
# that should come every 15 min is better failing and trying again at its next turn).
MAX_ATTEMPTS = int(os.environ.get("FALLBACK_SYNC_MAX_ATTEMPTS", "5"))
BACKOFF_FACTOR = float(os.environ.get("FALLBACK_SYNC_BACKOFF", "1"))
MAX_RETRY_DELAY = float(os.environ.get("FALLBACK_SYNC_MAX_RETRY_DELAY", "60"))
REQUEST_TIMEOUT = 60.0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Auth(Strict):
    type: Literal[
        "none", "bearer", "api_key", "basic", "oauth2_client_credentials", "oauth2_refresh_token"
    ] = "none"
    name: str = Field(default="Authorization", description="API key: the header or parameter name")
    location: Literal["header", "query"] = "header"
    username: str = ""
    client_id: str = ""
    token_url: str = ""
    scopes: str = ""


class Paginator(Strict):
    type: Literal[
        "auto", "header_link", "json_link", "cursor", "page_number", "offset", "single_page"
    ] = "auto"
    next_url_path: str = Field(default="next", description="json_link: where the next URL is")
    cursor_path: str = Field(default="cursors.next", description="cursor: where the next cursor is")
    cursor_param: str = Field(
        default="cursor", description="cursor: the query parameter to send it in"
    )
    page_param: str = "page"
    base_page: int = 1
    total_path: str | None = Field(default=None, description="where the total count is, if any")
    limit: int = Field(default=100, ge=1, le=10_000)
    offset_param: str = "offset"
    limit_param: str = "limit"


class Resource(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    path: str
    params: dict[str, str | int | float | bool] = {}
    data_selector: str | None = Field(default=None, description="where the list is in the response")
    entity: str = "record"
    key: str = "id"
    fields: dict[str, Any] = {}
    incremental_param: str | None = Field(
        default=None, description="query parameter that asks for records changed since a time"
    )
    cursor_path: str | None = Field(
        default=None, description="field of a record: when it last changed"
    )


class RestConfig(Strict):
    base_url: str
    headers: dict[str, str] = {}
    auth: Auth = Field(default_factory=Auth)
    paginator: Paginator = Field(default_factory=Paginator)
    resources: list[Resource] = Field(min_length=1)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError(f"must be an http:// or https:// address (got {value!r})")
        return value.rstrip("/") + "/"

    @field_validator("resources")
    @classmethod
    def _unique(cls, value: list[Resource]) -> list[Resource]:
        names = [r.name for r in value]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"resource names must be unique ({', '.join(doubles)} repeated)")
        return value


SECRETS = (
    Secret("token", "Token or API key", "Bearer token, or the API key's value"),
    Secret("password", "Password", "For basic authentication"),
    Secret("client_secret", "OAuth2 client secret"),
    Secret("refresh_token", "OAuth2 refresh token"),
)


def dlt_session() -> Any:
    """A requests session with Fallback's retry policy (dlt's retrying client)."""
    from dlt.sources.helpers.requests import Client

    return Client(
        request_timeout=REQUEST_TIMEOUT,
        raise_for_status=False,
        request_max_attempts=MAX_ATTEMPTS,
        request_backoff_factor=BACKOFF_FACTOR,
        request_max_retry_delay=MAX_RETRY_DELAY,
    ).session


def dlt_auth(auth: Auth, secrets: dict[str, str]) -> Any:
    from dlt.sources.helpers.rest_client import auth as dauth

    from fallback.replica.connectors.oauth import OAuth2RefreshToken

    token = secrets.get("token", "")
    if auth.type == "none":
        return None
    if auth.type == "bearer":
        return dauth.BearerTokenAuth(token=token)
    if auth.type == "api_key":
        return dauth.APIKeyAuth(name=auth.name, api_key=token, location=auth.location)
    if auth.type == "basic":
        return dauth.HttpBasicAuth(username=auth.username, password=secrets.get("password", ""))
    extra = {"scope": auth.scopes} if auth.scopes else {}
    if auth.type == "oauth2_client_credentials":
        return dauth.OAuth2ClientCredentials(
            access_token_url=auth.token_url,
            client_id=auth.client_id,
            client_secret=secrets.get("client_secret", ""),
            access_token_request_data=extra,
        )
    return OAuth2RefreshToken(
        access_token_url=auth.token_url,
        client_id=auth.client_id,
        client_secret=secrets.get("client_secret", ""),
        refresh_token=secrets.get("refresh_token", ""),
        access_token_request_data=extra,
    )


def dlt_paginator(p: Paginator) -> Any:
    if p.type in ("auto", "header_link", "single_page"):
        return p.type if p.type != "single_page" else "single_page"
    if p.type == "json_link":
        return {"type": "json_link", "next_url_path": p.next_url_path}
    if p.type == "cursor":
        return {"type": "cursor", "cursor_path": p.cursor_path, "cursor_param": p.cursor_param}
    if p.type == "page_number":
        return {
            "type": "page_number",
            "page_param": p.page_param,
            "base_page": p.base_page,
            "total_path": p.total_path,
        }
    return {
        "type": "offset",
        "limit": p.limit,
        "offset_param": p.offset_param,
        "limit_param": p.limit_param,
        "total_path": p.total_path,
    }


def read_pages(
    client: dict[str, Any],
    endpoint: dict[str, Any],
    name: str,
    ctx: FetchContext,
) -> Iterator[list[dict[str, Any]]]:
    """Run one dlt rest_api resource and hand its records on in pages.

    Errors become FetchError saying what failed and whether records had already come.
    """
    from dlt.common.jsonpath import compile_path
    from dlt.sources.rest_api import rest_api_source

    if isinstance(endpoint.get("data_selector"), str):
        # dlt parses a text selector again for every page (a yacc parser: slow); once is enough.
        endpoint = {**endpoint, "data_selector": compile_path(endpoint["data_selector"])}
    config: Any = {
        "client": {**client, "session": dlt_session()},
        "resources": [{"name": name, "endpoint": endpoint}],
    }
    source = rest_api_source(config, name="fallback")
    page: list[dict[str, Any]] = []
    fetched = 0
    try:
        for item in source.resources[name]:
            page.append(item)
            if len(page) >= PAGE_RECORDS:
                fetched += len(page)
                yield page
                page = []
                if ctx.progress is not None:
                    ctx.progress(fetched)
    except Exception as exc:
        raise FetchError(explain(exc), partial=fetched + len(page) > 0) from exc
    if page:
        yield page


def explain(exc: BaseException) -> str:
    """The root cause of a dlt pipe error, in one line a bookkeeper can act on."""
    cause: BaseException = exc
    while True:
        inner = getattr(cause, "__cause__", None) or getattr(cause, "__context__", None)
        if inner is None or inner is cause:
            break
        cause = inner
    import requests

    if isinstance(cause, requests.HTTPError) and cause.response is not None:
        r = cause.response
        return f"HTTP {r.status_code} {r.reason} from {r.url}"
    # requests may decode with simplejson: its error is another class of the same name.
    if isinstance(cause, json.JSONDecodeError) or type(cause).__name__ == "JSONDecodeError":
        return f"the response was not complete JSON ({cause})"
    if isinstance(cause, requests.ConnectionError):
        return f"could not connect: {cause}"
    if isinstance(cause, requests.Timeout):
        return f"no answer in time: {cause}"
    return f"{type(cause).__name__}: {cause}"


class RestKind(ConnectorKind[RestConfig]):
    key = "rest"
    label = "REST JSON API"
    description = "Any JSON API: base URL, authentication, pagination, one entry per list."
    Config = RestConfig
    secrets: ClassVar[tuple[Secret, ...]] = SECRETS
    incremental = True

    def streams(self, config: RestConfig) -> list[Stream]:
        return [
            Stream(r.name, {"entity": r.entity, "key": r.key, "fields": r.fields}, r.cursor_path)
            for r in config.resources
        ]

    def fetch(
        self, config: RestConfig, ctx: FetchContext, stream: Stream, since: str | None
    ) -> Iterator[list[dict[str, Any]]]:
        resource = next(r for r in config.resources if r.name == stream.name)
        params: dict[str, Any] = dict(resource.params)
        if since and resource.incremental_param:
            params[resource.incremental_param] = since
        endpoint: dict[str, Any] = {"path": resource.path, "params": params}
        if resource.data_selector:
            endpoint["data_selector"] = resource.data_selector
        client: dict[str, Any] = {
            "base_url": config.base_url,
            "headers": config.headers,
            "paginator": dlt_paginator(config.paginator),
        }
        auth = dlt_auth(config.auth, ctx.secrets)
        if auth is not None:
            client["auth"] = auth
        yield from read_pages(client, endpoint, resource.name, ctx)

    def supports_since(self, config: RestConfig, stream: Stream) -> bool:
        resource = next(r for r in config.resources if r.name == stream.name)
        return bool(resource.incremental_param and resource.cursor_path)
