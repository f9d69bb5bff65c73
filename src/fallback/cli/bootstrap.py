"""Start Django from the command line, after global options (such as --home) are known."""

from __future__ import annotations

import os
from pathlib import Path

import django
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

_ready = False


def use_home(home: Path | None) -> None:
    if home is not None:
        os.environ["FALLBACK_HOME"] = str(home.expanduser().resolve())


def setup_django() -> None:
    global _ready
    from django.apps import apps

    if _ready or apps.ready:  # already set up (e.g. tests calling the CLI in-process)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fallback.settings")
    django.setup()
    _ready = True
