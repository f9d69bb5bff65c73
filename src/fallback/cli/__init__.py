"""The `fallback` command."""

from fallback.cli.app import main

__all__ = ["main"]
