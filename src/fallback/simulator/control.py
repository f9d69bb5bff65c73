"""Find a running simulator and drive it: its mode (up, down, slow), its faults, changes to
its records (for the CLI, the web UI and the tests)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from fallback.simulator.faults import fault_name, fault_params
from fallback.simulator.runner import DEFAULT_PORT, REGISTRATION
from fallback.simulator.service import MODES

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


def _call(url: str, method: str = "GET", payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call the control API; SimulatorUnreachable when nothing answers like the simulator,
    ValueError (with the simulator's reason) when it refuses the request."""
    if not url.startswith(("http://", "https://")):
        raise SimulatorUnreachable(f"{url} is not an http:// address")
    body = json.dumps(payload).encode() if payload is not None else None
    if body is None and method in ("POST", "DELETE"):
        body = b""
    request = urllib.request.Request(url, method=method, data=body)  # noqa: S310 (checked above)
    if payload is not None:
        request.add_header("Content-Type", "application/json")
    try:
        # The URL is ours: a loopback address from the registration or the operator.
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 400:
            raise ValueError(_reason(exc)) from exc
        raise SimulatorUnreachable(f"no simulator answered at {url} ({exc})") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SimulatorUnreachable(f"no simulator answered at {url} ({exc})") from exc
    if not isinstance(data, dict):
        raise SimulatorUnreachable(f"{url} did not answer like the simulator")
    return data


def _reason(error: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(error.read().decode("utf-8"))
        return str(data["error"])
    except (OSError, ValueError, KeyError, TypeError):
        return str(error)


def status(base_url: str) -> dict[str, Any]:
    """The simulator's state: mode, faults on (with their parameters), the business."""
    return _call(base_url.rstrip("/") + "/_control")


def set_mode(base_url: str, mode: str) -> dict[str, Any]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    return _call(base_url.rstrip("/") + f"/_control/{mode}", method="POST")


def set_fault(base_url: str, name: str, **params: int) -> dict[str, Any]:
    """Turn a fault on (again, with new parameters if given); returns the state."""
    name = fault_name(name)
    fault_params(name, params)  # refuse here what the simulator would refuse
    return _call(base_url.rstrip("/") + f"/_control/faults/{name}", "POST", params)


def clear_fault(base_url: str, name: str) -> dict[str, Any]:
    """Turn one fault off; returns the state."""
    name = fault_name(name)
    return _call(base_url.rstrip("/") + f"/_control/faults/{name}", method="DELETE")


def clear_faults(base_url: str) -> dict[str, Any]:
    """Turn every fault off; returns the state."""
    return _call(base_url.rstrip("/") + "/_control/faults", method="DELETE")


def change(base_url: str, share: float = 0.01, entity: str = "customers") -> int:
    """Change `share` of the entity's records (see Business.change); how many changed."""
    data = _call(
        base_url.rstrip("/") + "/_control/change", "POST", {"share": share, "entity": entity}
    )
    return int(data["changed"])
