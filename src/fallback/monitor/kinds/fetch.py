"""What the HTTP-based kinds share: bounded reads, timeouts, and errors in plain words."""

from __future__ import annotations

import ssl
from functools import lru_cache

import aiohttp
from yarl import URL

from fallback import __version__
from fallback.monitor.kinds.base import clip, duration_text

USER_AGENT = f"Fallback/{__version__} (availability check)"

# Certificate verification results (OpenSSL X509_V_ERR_*) as people would say them.
_CERT_PROBLEMS = {
    9: "is not valid yet",
    10: "has expired",
    18: "is self-signed, so it is not trusted",
    19: "is signed by an unknown authority, so it is not trusted",
    20: "is signed by an unknown authority, so it is not trusted",
    21: "is signed by an unknown authority, so it is not trusted",
    23: "has been revoked",
    62: "does not match the host name",
    64: "does not match the IP address",
}


def display_url(url: URL) -> str:
    """The address for messages, without what may be secret: a password or the query
    (API keys often travel there); messages reach the UI, alerts and chat rooms."""
    shown = url.with_user(None).with_password(None).with_query(None).with_fragment(None)
    return clip(str(shown) + ("?…" if url.query_string else ""), 100)


@lru_cache(maxsize=64)
def client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the body, and whether there was more."""
    length = response.content_length
    if length is not None and length <= limit:
        return await response.read(), False
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = await response.content.read(limit - len(buffer))
        if not chunk:
            return bytes(buffer), False
        buffer += chunk
    return bytes(buffer), not response.content.at_eof()


def describe_error(exc: BaseException, url: str, timeout: float) -> str:
    """Why a request to `url` (as display_url shows it) got no usable response."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        code = getattr(cert_error, "verify_code", None)
        problem = _CERT_PROBLEMS.get(code) if isinstance(code, int) else None
        if problem is None:
            reason = getattr(cert_error, "verify_message", None) or str(cert_error)
            problem = f"was refused: {clip(str(reason), 80)}"
        return f"the TLS certificate of {exc.host} {problem}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"the host name {exc.host} could not be resolved"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"the TLS handshake with {exc.host}:{exc.port} failed: {_reason(exc)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return f"connection refused by {exc.host}:{exc.port}"
        return f"could not connect to {exc.host}:{exc.port}: {_reason(exc.os_error)}"
    if isinstance(exc, TimeoutError):
        return f"no response from {url} within {duration_text(timeout)}"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"too many redirects from {url}"
    if isinstance(
        exc, aiohttp.NonHttpUrlRedirectClientError | aiohttp.InvalidUrlRedirectClientError
    ):
        return f"{url} redirects to an address that is not http or https"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"{url} closed the connection without answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"the response from {url} was cut off: {_reason(exc)}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{url} sent an invalid HTTP response: {clip(exc.message, 80)}"
    return f"the request to {url} failed: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return clip(exc.strerror, 80)
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return clip(exc.reason.replace("_", " ").lower(), 80)
    return clip(str(exc), 80) or type(exc).__name__


# Errors a request can end with; anything else is a bug and should propagate.
REQUEST_ERRORS = (aiohttp.ClientError, TimeoutError, OSError, ValueError)
