"""Secrets at rest: API tokens and passwords are stored sealed, never in clear.

Sealed with age (X25519) to the installation's own identity, kept in the data folder
(SEALING_KEY_FILE, created 0600 on first use) or given as FALLBACK_SEALING_KEY, which every
machine sharing one PostgreSQL database must then have. A sealed value is text:
"age1:" + base64 of the age file, so it fits a TextField and a backup opens it with `age -d`.

Losing the key loses the sealed secrets (not the data): each must then be entered again.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from pathlib import Path

import pyrage  # type: ignore[import-untyped]

SEALING_KEY_FILE = "sealing.key"
PREFIX = "age1:"

_lock = threading.Lock()
_identity: pyrage.x25519.Identity | None = None


class SealingError(Exception):
    """A sealed value could not be opened (wrong key, damaged text)."""


def _key_file() -> Path:
    from django.conf import settings

    return Path(settings.FALLBACK_HOME) / SEALING_KEY_FILE


def _load_or_create(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(40):  # another process may be writing it this very moment
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
            time.sleep(0.05)
        raise SealingError(f"{path} is empty: restore it from a backup") from None
    text = str(pyrage.x25519.Identity.generate())
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return text


def identity() -> pyrage.x25519.Identity:
    global _identity
    with _lock:
        if _identity is None:
            text = os.environ.get("FALLBACK_SEALING_KEY") or _load_or_create(_key_file())
            try:
                _identity = pyrage.x25519.Identity.from_str(text.strip())
            except Exception as exc:
                raise SealingError(
                    "the sealing key is not an age identity (AGE-SECRET-KEY-1…)"
                ) from exc
        return _identity


def forget_identity() -> None:
    """Drop the cached identity (tests switch data folders)."""
    global _identity
    with _lock:
        _identity = None


def seal(value: str) -> str:
    if value == "":
        return ""
    recipient = identity().to_public()
    return PREFIX + base64.b64encode(pyrage.encrypt(value.encode("utf-8"), [recipient])).decode()


def unseal(sealed: str) -> str:
    if sealed == "":
        return ""
    if not sealed.startswith(PREFIX):
        raise SealingError("not a sealed value")
    try:
        data = base64.b64decode(sealed[len(PREFIX) :], validate=True)
        return str(pyrage.decrypt(data, [identity()]).decode("utf-8"))
    except SealingError:
        raise
    except Exception as exc:
        raise SealingError(
            "a stored secret could not be opened with this installation's sealing key"
            " (was the data folder moved without sealing.key, or FALLBACK_SEALING_KEY changed?)"
        ) from exc
