"""YAML text to plain Python data, remembering the line of every key and value.

PyYAML's composer keeps each node's position; we convert the nodes ourselves so that each
value's place in the document (its `Loc`) can be mapped back to a line, and so that what
PyYAML would silently accept is reported instead: duplicate keys, keys that are not text,
merge keys, custom tags, aliases that expand without end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from fallback.configfile.errors import ConfigError, Loc, format_loc

# An alias-heavy document can expand exponentially ("billion laughs"); real configs are tiny.
MAX_VALUES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Locator:
    """Lines (1-based) of the keys and values of one document."""

    start: int
    values: dict[Loc, int] = field(default_factory=dict)
    keys: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Loc) -> int:
        """Where to point for a problem at `loc`.

        A mapping entry points at its key (for `members:` the key line says more than the
        first item). A place that is not in the document (a missing key) points at its
        nearest ancestor that is.
        """
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            if prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return self.start


@dataclass
class SourceDocument:
    data: Any
    locator: Locator

    @property
    def line(self) -> int:
        return self.locator.start


def read_documents(text: str, filename: str) -> tuple[list[SourceDocument], list[ConfigError]]:
    """Parse every YAML document in `text`; empty documents are skipped.

    A syntax error stops parsing (nothing after it can be trusted) but the problems already
    found in earlier documents are kept.
    """
    documents: list[SourceDocument] = []
    errors: list[ConfigError] = []
    try:
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if node is None or _is_empty(node):
                continue
            converter = _Converter(filename, node.start_mark.line + 1)
            data = converter.convert(node, ())
            documents.append(SourceDocument(data, converter.locator))
            errors.extend(converter.errors)
    except yaml.MarkedYAMLError as exc:
        errors.append(_syntax_error(filename, exc))
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        errors.append(_reader_error(filename, text, exc))
    return documents, errors


def _is_empty(node: yaml.Node) -> bool:
    # `---` followed by nothing (or only comments) composes to an empty plain scalar.
    return (
        isinstance(node, yaml.ScalarNode)
        and node.tag == "tag:yaml.org,2002:null"
        and node.value == ""
    )


# PyYAML's wording for the usual slips, and what they mean to someone editing by hand.
_PLAIN = [
    ("'\\t'", "a tab character where YAML only allows spaces: indent with spaces"),
    ("expected <block end>", "this line is not indented in line with the lines above it"),
    (
        "mapping values are not allowed here",
        "unexpected ':' here: check this line's "
        "indentation, or put a value that contains ': ' in quotes",
    ),
    (
        "could not find expected ':'",
        "expected 'key: value' (is a ':' missing, or is this line indented wrongly?)",
    ),
    ("expected <block mapping start>", "this line is not indented in line with the lines above it"),
]


def _syntax_error(filename: str, exc: yaml.MarkedYAMLError) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem = exc.problem or "this is not valid YAML"
    for pattern, plain in _PLAIN:
        if pattern in problem:
            problem = plain
            break
    else:
        if exc.context:
            problem = f"{problem} ({exc.context})"
    return ConfigError(filename, line, f"YAML syntax: {problem}")


def _reader_error(filename: str, text: str, exc: yaml.YAMLError) -> ConfigError:
    position = getattr(exc, "position", 0)
    line = text.count("\n", 0, position) + 1
    character = getattr(exc, "character", None)  # a code point
    what = f"the character {chr(character)!r}" if isinstance(character, int) else "a character"
    return ConfigError(filename, line, f"YAML syntax: {what} is not allowed in a YAML file")


class _Converter:
    """Turns one composed document into dicts, lists and scalars, filling a Locator."""

    def __init__(self, filename: str, start: int) -> None:
        self.filename = filename
        self.locator = Locator(start)
        self.errors: list[ConfigError] = []
        # Builds scalars exactly as yaml.safe_load would (ints, bools, dates, nulls...).
        self._scalars = yaml.SafeLoader("")
        self._stack: set[int] = set()
        self._count = 0
        self._too_big = False

    def error(self, line: int, loc: Loc, message: str) -> None:
        where = format_loc(loc)
        self.errors.append(
            ConfigError(self.filename, line, f"{where}: {message}" if where else message)
        )

    def convert(self, node: yaml.Node, loc: Loc) -> Any:
        line = node.start_mark.line + 1
        self.locator.values.setdefault(loc, line)
        self._count += 1
        if self._count > MAX_VALUES:
            if not self._too_big:
                self._too_big = True
                # Point at the top-level entry being expanded, not at the anchor.
                top = self.locator.line(loc[:1])
                self.error(top, (), f"the document expands to more than {MAX_VALUES} values")
            return None
        if id(node) in self._stack:
            self.error(line, loc, "an alias refers to itself")
            return None
        self._stack.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, yaml.SequenceNode):
                return [self.convert(item, (*loc, i)) for i, item in enumerate(node.value)]
            return self._scalar(node, loc)
        finally:
            self._stack.discard(id(node))

    def _scalar(self, node: yaml.Node, loc: Loc) -> Any:
        try:
            return self._scalars.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self.error(node.start_mark.line + 1, loc, f"the tag {node.tag} is not supported")
            return None
        except ValueError as exc:  # looks like a date or number but is not one, e.g. 2025-02-30
            self.error(node.start_mark.line + 1, loc, f"{node.value!r} cannot be read: {exc}")
            return None

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                self.error(key_line, loc, "merge keys (<<) are not supported; write the keys out")
                continue
            key = self._scalar(key_node, loc) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                self.error(key_line, loc, f"the key {shown!s} must be text (put it in quotes)")
                continue
            child = (*loc, key)
            if key in result:
                first = self.locator.keys[child]
                self.error(key_line, child, f"duplicate key (first given at line {first})")
                continue
            self.locator.keys[child] = key_line
            result[key] = self.convert(value_node, child)
        return result
