"""What a section's apply function works with, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fallback.configfile.document import Document

if TYPE_CHECKING:
    from fallback.accounts.models import Organisation


@dataclass(frozen=True)
class Change:
    """One change made (or, in a dry run, that would be made) to an organisation."""

    org: str  # slug
    kind: str  # "create", "update" or "remove": how the summary marks it
    text: str


@dataclass
class ApplyContext:
    document: Document
    # Everything is rolled back after a dry run; a section that would act outside the
    # database (send an invitation, call a vendor) must skip that when this is set.
    dry_run: bool
    # Set by the organisation section, which is applied first.
    org: Organisation | None = None
    changes: list[Change] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def organisation(self) -> Organisation:
        if self.org is None:
            raise RuntimeError("the organisation section must be applied first")
        return self.org

    def created(self, text: str) -> None:
        self.changes.append(Change(self.document.slug, "create", text))

    def updated(self, text: str) -> None:
        self.changes.append(Change(self.document.slug, "update", text))

    def removed(self, text: str) -> None:
        self.changes.append(Change(self.document.slug, "remove", text))

    def notice(self, text: str) -> None:
        self.notices.append(text)
