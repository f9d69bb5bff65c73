"""Connector kinds. Importing this package registers the built-in ones."""

from fallback.replica.connectors import registry
from fallback.replica.connectors.files import FilesKind
from fallback.replica.connectors.hubspot import HubSpotKind
from fallback.replica.connectors.kept import KeptFilesKind
from fallback.replica.connectors.quickbooks import QuickBooksKind
from fallback.replica.connectors.rest import RestKind
from fallback.replica.connectors.shopify import ShopifyKind

for _kind in (
    ShopifyKind(),
    HubSpotKind(),
    QuickBooksKind(),
    RestKind(),
    FilesKind(),
    KeptFilesKind(),
):
    registry.register(_kind)
