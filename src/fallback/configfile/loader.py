"""Read a config file: YAML syntax, then each document against the registered sections.

Every problem in the file is collected, each with its line, so one run shows them all.
Usable from anywhere (the CLI today, the web UI later): text in, documents or errors out.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from fallback.configfile.document import IDENTITY, VERSION, Document
from fallback.configfile.errors import ConfigError, ConfigInvalid
from fallback.configfile.messages import describe, show, suggestion
from fallback.configfile.registry import Registry, registry
from fallback.configfile.source import SourceDocument, read_documents


def load_config(text: str, filename: str, sections: Registry = registry) -> list[Document]:
    """The validated documents of `text`, or ConfigInvalid listing every problem.

    `filename` is only used in messages: give it as the person named the file.
    """
    sources, errors = read_documents(text, filename)
    if not sources and not errors:
        raise ConfigInvalid(
            [ConfigError(filename, 1, f"the file is empty: start it with 'version: {VERSION}'")]
        )
    documents: list[Document] = []
    for source in sources:
        document, problems = _validate(source, filename, sections)
        errors.extend(problems)
        if document is not None:
            documents.append(document)
    errors.extend(_one_document_per_organisation(documents))
    if errors:
        raise ConfigInvalid(errors)
    return documents


def _validate(
    source: SourceDocument, filename: str, sections: Registry
) -> tuple[Document | None, list[ConfigError]]:
    known = {s.key: s for s in sections.sections()}
    if IDENTITY not in known:
        raise RuntimeError(f"no {IDENTITY!r} config section is registered")
    data = source.data
    if not isinstance(data, dict):
        keys = ", ".join(["version", *known])
        message = f"a document must be a mapping with the keys {keys} (got {show(data)})"
        return None, [ConfigError(filename, source.line, message)]

    document = Document(filename, source.locator, {})
    problem = _version_problem(data)
    if problem is not None:
        # Another version may mean something else by the same keys: check no further.
        return None, [document.error(("version",), problem)]

    errors: list[ConfigError] = []
    for key in data:
        if key != "version" and key not in known:
            names = ["version", *known]
            message = f"unknown section (known: {', '.join(names)}){suggestion(key, names)}"
            errors.append(document.error((key,), message))
    values: dict[str, Any] = {}
    for section in known.values():
        if section.key not in data:
            if section.required:
                why = ": it names the organisation to set up" if section.key == IDENTITY else ""
                errors.append(document.error((section.key,), f"is required{why}"))
            continue
        try:
            values[section.key] = section.adapter.validate_python(data[section.key])
        except ValidationError as exc:
            for detail in exc.errors():
                loc = (section.key, *detail["loc"])
                errors.append(document.error(loc, describe(detail, section.schema)))
    for key, value in values.items():
        check = known[key].check
        if check is not None:
            for loc, message in check(value, values):
                errors.append(document.error((key, *loc), message))
    if errors:
        return None, errors
    return Document(filename, source.locator, values), []


def _version_problem(data: dict[str, Any]) -> str | None:
    if "version" not in data:
        return f"is required: start the document with 'version: {VERSION}'"
    version = data["version"]
    # bool is an int in Python, and `version: true` is no version.
    if type(version) is not int or version != VERSION:
        return f"must be {VERSION}, the format this Fallback reads (got {show(version)})"
    return None


def _one_document_per_organisation(documents: list[Document]) -> list[ConfigError]:
    errors = []
    first: dict[str, Document] = {}
    for document in documents:
        earlier = first.setdefault(document.slug, document)
        if earlier is not document:
            errors.append(
                document.error(
                    (IDENTITY, "slug"),
                    f"{document.slug!r} is already set up by the document at line "
                    f"{earlier.line}; give each organisation one document",
                )
            )
    return errors
