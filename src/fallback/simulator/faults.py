"""Failure switches for the dialects' API endpoints: each on or off, combinable.

- `errors`: every API call answers 500;
- `fail_after` (pages=2): the first `pages` pages of a listing answer, later pages 500;
- `ratelimit` (every=3, retry_after=1): every n-th API call answers 429 with Retry-After;
- `empty`: lists are empty;
- `short`: pagination stops after the first page (no next link, cursor or more results);
- `truncated` (page=2): that page's body is cut in half (with a Content-Length to match).

Two more break the SMTP sink (fallback.simulator.mailbox) rather than the APIs:
- `mail_down`: every recipient is refused for now (451): senders retry later;
- `mail_reject`: every recipient is refused for good (550): the messages bounce.

The modes (up, down, slow) apply too: down answers 503, slow delays every answer.
"""

from __future__ import annotations

from typing import Any

FAULTS: dict[str, dict[str, int]] = {
    "errors": {},
    "fail_after": {"pages": 2},
    "ratelimit": {"every": 3, "retry_after": 1},
    "empty": {},
    "short": {},
    "truncated": {"page": 2},
    "mail_down": {},
    "mail_reject": {},
}
# the least each parameter may be
_MINIMUM = {"pages": 0, "every": 1, "retry_after": 0, "page": 1}


def fault_name(name: str) -> str:
    """The canonical name of a fault ('fail-after' is 'fail_after'); ValueError if none."""
    canonical = name.strip().lower().replace("-", "_")
    if canonical not in FAULTS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)} (got {name!r})")
    return canonical


def fault_params(name: str, given: dict[str, Any] | None) -> dict[str, int]:
    """The fault's parameters: its defaults, overridden by `given` (checked)."""
    name = fault_name(name)
    params = dict(FAULTS[name])
    for key, value in (given or {}).items():
        if key not in params:
            known = ", ".join(params) or "none"
            raise ValueError(f"{name} takes no parameter {key!r} (its parameters: {known})")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{name}: {key} must be a whole number (got {value!r})")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{name}: {key} must be a whole number (got {value!r})") from None
        if number < _MINIMUM[key]:
            raise ValueError(f"{name}: {key} must be at least {_MINIMUM[key]} (got {number})")
        params[key] = number
    return params


class Faults:
    """Which faults are on, with their parameters, and the API call count for `ratelimit`."""

    def __init__(self) -> None:
        self._on: dict[str, dict[str, int]] = {}
        self._calls = 0

    def set(self, name: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        name = fault_name(name)
        self._on[name] = fault_params(name, params)
        if name == "ratelimit":
            self._calls = 0
        return self._on[name]

    def clear(self, name: str) -> None:
        self._on.pop(fault_name(name), None)

    def clear_all(self) -> None:
        self._on.clear()

    def active(self) -> dict[str, dict[str, int]]:
        return {name: dict(params) for name, params in self._on.items()}

    def on(self, name: str) -> bool:
        return name in self._on

    def param(self, name: str, key: str) -> int:
        return self._on[name][key]

    def rate_limited(self) -> int | None:
        """Count an API call; the Retry-After seconds when this call is to be refused."""
        params = self._on.get("ratelimit")
        if params is None:
            return None
        self._calls += 1
        if self._calls % params["every"] == 0:
            return params["retry_after"]
        return None

    def fails_page(self, page: int) -> bool:
        """Whether page `page` (1-based) of a listing answers 500 (`fail_after`)."""
        params = self._on.get("fail_after")
        return params is not None and page > params["pages"]

    def truncates_page(self, page: int) -> bool:
        params = self._on.get("truncated")
        return params is not None and page == params["page"]
