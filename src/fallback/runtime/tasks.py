"""Background tasks of the runtime itself."""

from __future__ import annotations

import socket

from django_tasks import task


@task()
def ping(nonce: str) -> dict[str, str]:
    """Answer from whichever worker runs it: `doctor --deep` proves tasks really get run."""
    return {"nonce": nonce, "host": socket.gethostname()}
