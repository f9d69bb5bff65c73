"""Declarative mapping of source records onto canonical ones (fallback.replica.schema).

A stream's mapping is JSON:

    {"entity": "customer", "key": "id",
     "fields": {"name": ["default_address.company", "{first_name} {last_name}"],
                "email": "email", "currency": "=EUR",
                "lines": {"path": "line_items", "fields": {"sku": "sku", "quantity": "quantity"}}}}

A value is found by:
- a path: `a.b.c` (nested keys), `items.0.sku` (a list position),
  `note_attributes[name=due_date].value` (the first list element whose `name` is `due_date`);
- a template: `{first_name} {last_name}` (paths in braces; empty parts drop out);
- a literal: `=EUR`;
- a JSONPath starting with `$` (python-jsonpath; the first match) — slower, for odd shapes;
- a list of the above: the first that gives a non-empty value.

Mappings are compiled once into plain functions: a sync maps every record it fetches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fallback.replica.schema import COERCE, ENTITIES, GENERIC, LINE_FIELDS, ValueProblem, derive

Getter = Callable[[Any], Any]

_MISSING = None
_STEP = re.compile(r"([^.\[\]]+)(?:\[([^=\]]+)=([^\]]*)\])?")
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


class MappingError(ValueError):
    """A mapping that cannot be used: every problem, each with where it is."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _step(name: str, match_key: str | None, match_value: str | None) -> Getter:
    index = int(name) if name.lstrip("-").isdigit() else None

    def get(value: Any) -> Any:
        if isinstance(value, dict):
            value = value.get(name)
        elif isinstance(value, list) and index is not None:
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return None
        if match_key is not None:
            if not isinstance(value, list):
                return None
            for item in value:
                if isinstance(item, dict) and str(item.get(match_key)) == match_value:
                    return item
            return None
        return value

    return get


def compile_path(expr: str) -> Getter:
    """A getter for a dotted path; raises MappingError for a malformed one."""
    expr = expr.strip()
    if not expr:
        raise MappingError([("", "an empty path")])
    if expr.startswith("$"):
        return _jsonpath(expr)
    parts = expr.split(".")
    plain = all(p and "[" not in p and "]" not in p and not p.lstrip("-").isdigit() for p in parts)
    if plain:  # the common case, kept fast: nested dict look-ups
        if len(parts) == 1:
            key = parts[0]
            return lambda record: record.get(key) if isinstance(record, dict) else None
        first, *rest = parts

        def nested(record: Any) -> Any:
            value = record.get(first) if isinstance(record, dict) else None
            for key in rest:
                if not isinstance(value, dict):
                    return None
                value = value.get(key)
            return value

        return nested
    steps: list[Getter] = []
    for part in parts:
        match = _STEP.fullmatch(part)
        if match is None:
            raise MappingError([("", f"{expr!r} is not a path (at {part!r})")])
        steps.append(_step(match.group(1), match.group(2), match.group(3)))

    def walk(record: Any) -> Any:
        value = record
        for step in steps:
            value = step(value)
            if value is None:
                return None
        return value

    return walk


def _jsonpath(expr: str) -> Getter:
    import jsonpath

    try:
        compiled = jsonpath.compile(expr)
    except jsonpath.JSONPathError as exc:
        raise MappingError([("", f"{expr!r} is not a valid JSONPath: {exc}")]) from None

    def get(record: Any) -> Any:
        match = compiled.match(record)
        return match.obj if match is not None else None

    return get


def _inline_path(var: str, source: str, parts: list[str]) -> list[str]:
    """Lines setting `var` to the value at a plain path of `source` (keys through repr)."""
    first, *rest = parts
    lines = [f"    {var} = {source}.get({first!r}) if isinstance({source}, dict) else None"]
    lines.extend(f"    {var} = {var}.get({k!r}) if isinstance({var}, dict) else None" for k in rest)
    return lines


def _generate_template(literals: list[str], names: list[str]) -> Getter:
    lines = ["def template(record):"]
    env: dict[str, Any] = {}
    pieces = [f"L{0}"]
    env["L0"] = literals[0]
    for n, name in enumerate(names):
        parts = plain_path(name)
        if parts is not None:
            lines.extend(_inline_path(f"p{n}", "record", parts))
        else:
            env[f"G{n}"] = compile_path(name)
            lines.append(f"    p{n} = G{n}(record)")
        env[f"L{n + 1}"] = literals[n + 1]
        pieces.append(f"('' if p{n} is None else str(p{n}))")
        pieces.append(f"L{n + 1}")
    lines.append(f"    return ' '.join(({' + '.join(pieces)}).split()) or None")
    exec(compile("\n".join(lines), "<template>", "exec"), env)  # noqa: S102 (names via repr)
    template: Getter = env["template"]
    return template


def compile_value(spec: Any) -> Getter:
    """A getter for one field's spec: path, template, literal, JSONPath or a list of them."""
    if isinstance(spec, list):
        if not spec:
            raise MappingError([("", "an empty list of alternatives")])
        getters = [compile_value(s) for s in spec]

        def first(record: Any) -> Any:
            for get in getters:
                value = get(record)
                if not _empty(value):
                    return value
            return None

        return first
    if not isinstance(spec, str):
        raise MappingError([("", f"expected a path, a template or a list of them, got {spec!r}")])
    if spec.startswith("="):
        literal = spec[1:]
        return lambda record: literal
    if "{" in spec and not spec.startswith("$"):
        names = _TEMPLATE.findall(spec)
        rest = _TEMPLATE.sub("", spec)
        if not names or "{" in rest or "}" in rest:
            raise MappingError([("", f"{spec!r} is not a template: use {{path}} for each value")])
        # Compiled once into Python (plain paths inlined), so filling it is string joins.
        return _generate_template(_TEMPLATE.split(spec)[::2], names)
    return compile_path(spec)


@dataclass
class FieldRule:
    name: str
    get: Getter
    coerce: Callable[[Any], Any] | None  # None for generic records: values kept as they came
    lines: list[FieldRule] = field(default_factory=list)
    is_lines: bool = False
    path: list[str] | None = None  # a plain dotted path: inlined by _generate


@dataclass
class StreamMapping:
    """A compiled mapping: `apply(source record)` → (key, canonical data, problems)."""

    entity: str
    key_spec: Any
    get_key: Getter
    rules: list[FieldRule]
    keep_all: bool  # a generic record with no fields listed keeps the whole source record
    map_fields: Callable[[Any, list[str], list[int]], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.map_fields is None:
            self.map_fields = _generate(self.rules)

    def apply(
        self, record: Any, filled: list[int] | None = None
    ) -> tuple[str | None, dict[str, Any], list[str]]:
        """Map one record; `filled` (one counter per rule) counts the fields given a value."""
        problems: list[str] = []
        raw_key = self.get_key(record)
        key = None if _empty(raw_key) else str(raw_key)
        if self.keep_all:
            data = dict(record) if isinstance(record, dict) else {"value": record}
            return key, data, problems
        assert self.map_fields is not None
        data = self.map_fields(record, problems, filled if filled is not None else [0] * 64)
        derive(self.entity, data)
        return key, data, problems


def _map_fields(rules: list[FieldRule], record: Any, problems: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for rule in rules:
        value = rule.get(record)
        if rule.is_lines:
            items = value if isinstance(value, list) else []
            data[rule.name] = [_map_fields(rule.lines, item, problems) for item in items]
            continue
        if value is None or value == "":
            data[rule.name] = None
        elif rule.coerce is None:
            data[rule.name] = value
        elif type(value) is str and rule.coerce is _TEXT:
            data[rule.name] = value.strip()  # the common case, without the call
        else:
            try:
                data[rule.name] = rule.coerce(value)
            except ValueProblem as exc:
                data[rule.name] = None
                problems.append(f"{rule.name}: {exc}")
    return data


_TEXT = COERCE["text"]


def plain_path(spec: Any) -> list[str] | None:
    """The keys of a plain dotted path (`a.b.c`), else None."""
    if not isinstance(spec, str) or spec.startswith(("$", "=")) or "{" in spec:
        return None
    parts = spec.strip().split(".")
    if all(p and "[" not in p and "]" not in p and not p.lstrip("-").isdigit() for p in parts):
        return parts
    return None


def _generate(
    rules: list[FieldRule],
) -> Callable[[Any, list[str], list[int]], dict[str, Any]]:
    """One Python function mapping a record by all `rules`, plain paths inlined as dict
    look-ups: a sync maps every record it fetches, and a call per field adds up. Its result
    is exactly `_map_fields`'s; names and keys enter the source only through repr()."""
    lines = ["def mapped(record, problems, filled):", "    data = {}"]
    env: dict[str, Any] = {"ValueProblem": ValueProblem, "_map_fields": _map_fields}
    for n, rule in enumerate(rules):
        name = repr(rule.name)
        env[f"G{n}"], env[f"C{n}"], env[f"L{n}"] = rule.get, rule.coerce, rule.lines
        if rule.path is not None and not rule.is_lines:
            lines.extend(_inline_path("v", "record", rule.path))
        else:
            lines.append(f"    v = G{n}(record)")
        if rule.is_lines:
            lines.append(
                f"    data[{name}] = [_map_fields(L{n}, i, problems) for i in v]"
                " if type(v) is list else []"
            )
            lines.append(f"    if data[{name}]:")
            lines.append(f"        filled[{n}] += 1")
            continue
        lines.append("    if v is None or v == '':")
        lines.append(f"        data[{name}] = None")
        if rule.coerce is None:
            lines.append("    else:")
            lines.append(f"        data[{name}] = v")
            lines.append(f"        filled[{n}] += 1")
            continue
        if rule.coerce is _TEXT:
            lines.append("    elif type(v) is str:")
            lines.append(f"        data[{name}] = v.strip()")
            lines.append(f"        filled[{n}] += 1")
        lines.append("    else:")
        lines.append("        try:")
        lines.append(f"            data[{name}] = C{n}(v)")
        lines.append(f"            filled[{n}] += 1")
        lines.append("        except ValueProblem as exc:")
        lines.append(f"            data[{name}] = None")
        lines.append(f"            problems.append({rule.name + ': '!r} + str(exc))")
    lines.append("    return data")
    exec(compile("\n".join(lines), "<mapping>", "exec"), env)  # noqa: S102 (see docstring)
    function: Callable[[Any, list[str], list[int]], dict[str, Any]] = env["mapped"]
    return function


def parse(spec: Any, where: str = "mapping") -> StreamMapping:
    """Validate and compile one stream's mapping; MappingError lists every problem."""
    problems: list[tuple[str, str]] = []
    if not isinstance(spec, dict):
        raise MappingError(
            [(where, f"expected a mapping with entity, key and fields, got {spec!r}")]
        )
    unknown = set(spec) - {"entity", "key", "fields"}
    for name in sorted(unknown):
        problems.append((f"{where}.{name}", "unknown setting (use entity, key and fields)"))
    entity_key = spec.get("entity", GENERIC)
    entity = ENTITIES.get(entity_key) if isinstance(entity_key, str) else None
    if entity is None:
        known = ", ".join(ENTITIES)
        problems.append((f"{where}.entity", f"unknown record type {entity_key!r} (known: {known})"))
    get_key: Getter = lambda record: None  # noqa: E731
    key_spec = spec.get("key")
    if key_spec is None:
        problems.append((f"{where}.key", "required: the source field that identifies a record"))
    else:
        try:
            get_key = compile_value(key_spec)
        except MappingError as exc:
            problems.extend((f"{where}.key", what) for _, what in exc.problems)
    fields = spec.get("fields", {})
    rules: list[FieldRule] = []
    if not isinstance(fields, dict):
        problems.append((f"{where}.fields", "expected field names mapped to paths"))
        fields = {}
    for name, value_spec in fields.items():
        loc = f"{where}.fields.{name}"
        target = entity.field(name) if entity is not None else None
        generic = entity is not None and entity.key == GENERIC
        if entity is not None and target is None and not generic:
            known = ", ".join(f.name for f in entity.fields)
            problems.append(
                (loc, f"{entity.label.lower()} has no field {name!r} (fields: {known})")
            )
            continue
        try:
            if target is not None and target.type == "lines":
                rules.append(_lines_rule(name, value_spec, loc))
            else:
                coerce = COERCE[target.type] if target is not None else None
                rule = FieldRule(name, compile_value(value_spec), coerce)
                rule.path = plain_path(value_spec)
                rules.append(rule)
        except MappingError as exc:
            problems.extend((loc + (f" {w}" if w else ""), what) for w, what in exc.problems)
    if problems:
        raise MappingError(problems)
    assert entity is not None
    keep_all = entity.key == GENERIC and not rules
    return StreamMapping(entity.key, key_spec, get_key, rules, keep_all)


def _lines_rule(name: str, spec: Any, loc: str) -> FieldRule:
    if not isinstance(spec, dict) or "path" not in spec:
        raise MappingError([("", 'expected {"path": …, "fields": {…}} for lines')])
    rules = []
    problems = []
    known = {f.name: f for f in LINE_FIELDS}
    for line_field, line_spec in (spec.get("fields") or {}).items():
        target = known.get(line_field)
        if target is None:
            names = ", ".join(known)
            problems.append(
                (f"fields.{line_field}", f"a line has no field {line_field!r} ({names})")
            )
            continue
        try:
            rules.append(FieldRule(line_field, compile_value(line_spec), COERCE[target.type]))
        except MappingError as exc:
            problems.extend((f"fields.{line_field}", what) for _, what in exc.problems)
    if problems:
        raise MappingError(problems)
    return FieldRule(name, compile_path(str(spec["path"])), None, rules, is_lines=True)
