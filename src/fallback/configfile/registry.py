"""The sections a config document may have, contributed by the apps.

Each app that owns part of an organisation's setup puts a `config_sections.py` module next
to its models and calls `register(Section(...))` there; the registry imports those modules
of all installed apps the first time it is asked for its sections, as Django's admin does
with `admin.py`. A section brings:

- `schema`: the type pydantic validates the section's value against (a model with
  `extra="forbid"`, or a list of them);
- `check`: optional rules across items or sections that a schema cannot say (duplicates,
  references), returning (loc within the section, message) pairs;
- `export`: the organisation's current state as a schema value (None to leave it out);
- `apply`: make the organisation match a validated value, through the app's own audited
  functions, reporting each change on the ApplyContext; raise SectionError to refuse,
  pointing at the offending value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.utils.module_loading import autodiscover_modules
from pydantic import TypeAdapter

from fallback.configfile.context import ApplyContext
from fallback.configfile.errors import Loc

if TYPE_CHECKING:
    from fallback.accounts.models import Organisation

T = TypeVar("T")
Problem = tuple[Loc, str]
MODULE_NAME = "config_sections"
RESERVED = frozenset({"version"})


@dataclass
class Section(Generic[T]):
    key: str
    schema: Any
    export: Callable[[Organisation], T | None]
    apply: Callable[[ApplyContext, T], None]
    check: Callable[[T, Mapping[str, Any]], Iterable[Problem]] | None = None
    # Applied and exported in this order; the organisation section is 0.
    order: int = 100
    required: bool = False
    # Exceptions by which the app's rules refuse a change (besides SectionError, which
    # says where): reported at the section's line instead of crashing.
    refusals: tuple[type[Exception], ...] = (ValidationError,)
    adapter: TypeAdapter[T] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.adapter = TypeAdapter(self.schema)

    def dump(self, value: T) -> Any:
        """The value as plain YAML-ready data; unset optional fields are left out."""
        return self.adapter.dump_python(value, mode="json", exclude_none=True)


class Registry:
    def __init__(self, discover: bool = False) -> None:
        self._sections: dict[str, Section[Any]] = {}
        self._discover = discover

    def register(self, section: Section[Any]) -> Section[Any]:
        if section.key in RESERVED or section.key in self._sections:
            raise ValueError(f"config section {section.key!r} is already taken")
        self._sections[section.key] = section
        return section

    def sections(self) -> list[Section[Any]]:
        if self._discover:
            autodiscover_modules(MODULE_NAME)
            self._discover = False
        return sorted(self._sections.values(), key=lambda s: (s.order, s.key))

    def get(self, key: str) -> Section[Any] | None:
        return {s.key: s for s in self.sections()}.get(key)


registry = Registry(discover=True)


def register(section: Section[T]) -> Section[T]:
    """Add a section to the registry that `fallback apply` and `fallback export` use."""
    registry.register(section)
    return section


def listed_slugs(document: Mapping[str, Any], key: str) -> set[str]:
    """The slugs of the entries of section `key` in a document being checked (validated
    models, or plain mappings), for sections that refer to them (a connector's system)."""
    slugs = set()
    for entry in document.get(key) or []:
        slug = entry.get("slug") if isinstance(entry, Mapping) else getattr(entry, "slug", None)
        if slug is not None:
            slugs.add(str(slug))
    return slugs
