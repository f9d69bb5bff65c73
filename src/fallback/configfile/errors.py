"""Problems with a config file, each tied to a line so the operator can go and fix it."""

from __future__ import annotations

from dataclasses import dataclass

# A place in a document: keys and list indexes from the top, e.g. ("members", 1, "role").
Loc = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class ConfigError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ConfigInvalid(Exception):
    """The file cannot be applied; `errors` lists every problem found, in line order."""

    def __init__(self, errors: list[ConfigError]) -> None:
        # Same problem reached twice (e.g. through a YAML alias) is reported once.
        self.errors = sorted(dict.fromkeys(errors), key=lambda e: (e.file, e.line))
        super().__init__("\n".join(str(e) for e in self.errors))


class SectionError(Exception):
    """Raised by a section's apply function: `loc` is relative to the document root."""

    def __init__(self, loc: Loc, message: str) -> None:
        self.loc = loc
        self.message = message
        super().__init__(message)


def format_loc(loc: Loc) -> str:
    """("members", 1, "role") -> "members[1].role"."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def located(loc: Loc, message: str) -> str:
    """The message prefixed with where it applies, when that is inside the document."""
    where = format_loc(loc)
    return f"{where}: {message}" if where else message
