"""Find a running simulator and switch it up, down or slow (for the CLI and the web UI)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from fallback.simulator.app import MODES
from fallback.simulator.runner import DEFAULT_PORT, REGISTRATION

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
TIMEOUT = 3.0


class SimulatorUnreachable(Exception):
    """No simulator answered; the message says where it was looked for."""


def registered_url(home: Path) -> str | None:
    """The URL of the simulator registered in `home`, if its process is still alive."""
    try:
        data = json.loads((home / REGISTRATION).read_text(encoding="utf-8"))
        url, pid = str(data["url"]), int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, just not ours to signal
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        return None  # only ever a loopback service
    return url


def _call(url: str, method: str = "GET") -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise SimulatorUnreachable(f"{url} is not an http:// address")
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=data)  # noqa: S310 (checked above)
    try:
        # The URL is ours: a loopback address from the registration or the operator.
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            data = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SimulatorUnreachable(f"no simulator answered at {url} ({exc})") from exc
    if not isinstance(data, dict):
        raise SimulatorUnreachable(f"{url} did not answer like the simulator")
    return data


def status(base_url: str) -> dict[str, Any]:
    return _call(base_url.rstrip("/") + "/_control")


def set_mode(base_url: str, mode: str) -> dict[str, Any]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    return _call(base_url.rstrip("/") + f"/_control/{mode}", method="POST")
