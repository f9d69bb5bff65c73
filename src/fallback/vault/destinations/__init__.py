"""Destination kinds: a local folder and S3-compatible storage with Object Lock."""

from fallback.vault.destinations import local, s3  # noqa: F401  (registers the kinds)
from fallback.vault.destinations.base import (
    DestinationError,
    ObjectMeta,
    Store,
    StoredObject,
    Written,
    open_store,
)

__all__ = [
    "DestinationError",
    "ObjectMeta",
    "Store",
    "StoredObject",
    "Written",
    "open_store",
]
