"""The data folder: where a zero-configuration install keeps its database and secrets.

Created on first use with owner-only permissions, because it holds the secret key and a
copy of the business's records.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

SECRET_KEY_FILE = "secret_key"
DATABASE_FILE = "fallback.sqlite3"


def default_home() -> Path:
    """The per-user data folder when FALLBACK_HOME is not set."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
        return base / "Fallback"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Fallback"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "fallback"


def home_path() -> Path:
    configured = os.environ.get("FALLBACK_HOME")
    return Path(configured).expanduser().resolve() if configured else default_home()


def ensure_home(path: Path | None = None) -> Path:
    """Create the data folder (mode 0700) if missing and return it."""
    home = path or home_path()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def load_or_create_secret_key(home: Path) -> str:
    """Read the secret key from the data folder, generating it on first run.

    Written with O_EXCL so two processes starting together cannot end up with different keys.
    """
    key_file = home / SECRET_KEY_FILE
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process may be writing it this very moment: give it a little time.
        for _ in range(40):
            key = key_file.read_text(encoding="ascii").strip()
            if key:
                return key
            time.sleep(0.05)
        raise RuntimeError(f"{key_file} is empty: delete it to generate a new secret key") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key
