"""Make the database match validated documents: all of them, or nothing at all.

Each document is applied in its own savepoint so that, when one is refused, the others are
still tried and every refusal is reported; then the whole transaction is rolled back. A dry
run does the same work and always rolls back, so its plan is exactly what an apply would do,
rule checks included. The caller chooses who is acting (`audit.context.acting_as`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from fallback.configfile.context import ApplyContext, Change
from fallback.configfile.document import Document
from fallback.configfile.errors import ConfigError, ConfigInvalid, SectionError
from fallback.configfile.registry import Registry, registry


@dataclass(frozen=True)
class ApplyResult:
    changes: list[Change]
    notices: list[str]
    dry_run: bool

    @property
    def organisations(self) -> list[str]:
        """Slugs of the organisations changed, in file order."""
        return list(dict.fromkeys(c.org for c in self.changes))


def apply_documents(
    documents: Sequence[Document], *, dry_run: bool = False, sections: Registry = registry
) -> ApplyResult:
    """Apply every document in one transaction; ConfigInvalid (and no change) on refusal."""
    errors: list[ConfigError] = []
    changes: list[Change] = []
    notices: list[str] = []
    with transaction.atomic():
        for document in documents:
            context = ApplyContext(document, dry_run)
            error = _apply_document(context, sections)
            if error is not None:
                errors.append(error)
                continue
            changes.extend(context.changes)
            notices.extend(context.notices)
        if errors or dry_run:
            transaction.set_rollback(True)
    if errors:
        raise ConfigInvalid(errors)
    return ApplyResult(changes, notices, dry_run)


def _apply_document(context: ApplyContext, sections: Registry) -> ConfigError | None:
    """Apply one document in a savepoint; on refusal undo it and say where."""
    document = context.document
    present = [s for s in sections.sections() if s.key in document.sections]
    if not present:
        return None
    section = present[0]
    try:
        with transaction.atomic():
            for section in present:
                section.apply(context, document.sections[section.key])
    except SectionError as exc:
        return document.error(exc.loc, exc.message)
    except Exception as exc:
        if isinstance(exc, section.refusals):
            return document.error((section.key,), _refusal_message(exc))
        raise
    return None


def _refusal_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)
