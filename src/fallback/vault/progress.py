"""How long work tells whoever started it how far it got (a progress bar on the command
line; nothing in a worker)."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def start(self, label: str, total: int) -> None:
        """A new phase of `total` bytes begins."""
        ...

    def advance(self, done: int) -> None:
        """`done` more bytes of the current phase."""
        ...


class Quiet:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass
