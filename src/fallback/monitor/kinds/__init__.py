"""Check kinds: the ways a system can be watched, behind one registry.

    from fallback.monitor import kinds
    config = kinds.validate_config("http", {"url": "https://crm.example.com/login"})
    outcome = await kinds.get("http").run(config, kinds.RunContext(session, 10.0, now))

Each kind lives in its own module and registers itself on import; docs/CHECKS.md describes
every option.
"""

from __future__ import annotations

from fallback.monitor.kinds.base import CheckKind, InvalidCheckConfig, Outcome, RunContext
from fallback.monitor.kinds.registry import (
    UnknownCheckKind,
    all_kinds,
    get,
    register,
    validate_config,
)

# Imported for their registration, in the order the UI offers them.
# isort: off
from fallback.monitor.kinds import http
from fallback.monitor.kinds import tcp
from fallback.monitor.kinds import dns
from fallback.monitor.kinds import heartbeat
from fallback.monitor.kinds import statuspage
# isort: on

__all__ = [
    "CheckKind",
    "InvalidCheckConfig",
    "Outcome",
    "RunContext",
    "UnknownCheckKind",
    "all_kinds",
    "dns",
    "get",
    "heartbeat",
    "http",
    "register",
    "statuspage",
    "tcp",
    "validate_config",
]
