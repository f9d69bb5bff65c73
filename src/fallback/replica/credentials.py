"""A connector's secrets: sealed at rest (fallback.sealing), never shown back.

Forms, the API and `fallback export` see only which secrets are set, never their values;
a value is replaced by giving a new one, kept by giving none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from fallback.replica.models import Connector
from fallback.sealing import seal, unseal


def secrets_of(connector: Connector) -> dict[str, str]:
    if not connector.sealed_secrets:
        return {}
    data = json.loads(unseal(connector.sealed_secrets))
    return {str(k): str(v) for k, v in data.items()}


def which_are_set(connector: Connector) -> list[str]:
    """The names of the secrets that have a value (what the UI may show)."""
    return sorted(k for k, v in secrets_of(connector).items() if v)


def update_secrets(connector: Connector, given: Mapping[str, str | None]) -> list[str]:
    """Merge `given` into the sealed secrets: a value replaces, "" clears, None keeps.

    Returns the names that changed (for the audit trail, which never sees values)."""
    current = secrets_of(connector)
    changed = []
    for name, value in given.items():
        if value is None:
            continue
        if current.get(name, "") != value:
            changed.append(name)
            if value:
                current[name] = value
            else:
                current.pop(name, None)
    connector.sealed_secrets = seal(json.dumps(current)) if current else ""
    return changed
