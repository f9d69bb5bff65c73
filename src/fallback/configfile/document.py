"""One validated document of a config file: one organisation's setup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fallback.configfile.errors import ConfigError, Loc, located
from fallback.configfile.source import Locator

VERSION = 1
# The section that names the organisation a document is about; its schema has `slug`.
IDENTITY = "organisation"


@dataclass(frozen=True)
class Document:
    file: str
    locator: Locator
    # Section key -> validated value, only for the sections the document has, in
    # registry order.
    sections: Mapping[str, Any]

    @property
    def slug(self) -> str:
        return str(self.sections[IDENTITY].slug)

    @property
    def line(self) -> int:
        return self.locator.start

    def error(self, loc: Loc, message: str) -> ConfigError:
        """A problem at `loc`, located in the file."""
        return ConfigError(self.file, self.locator.line(loc), located(loc, message))
