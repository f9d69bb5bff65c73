"""TCP connect: the port accepts a connection (a mail server, a database, a phone system)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from pydantic import BaseModel, ConfigDict

from fallback.monitor.kinds.base import CheckKind, Outcome, RunContext, clip, duration_text
from fallback.monitor.kinds.fields import Hostname, Milliseconds, Port
from fallback.monitor.kinds.registry import register
from fallback.monitor.models import State


class TcpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: Hostname
    port: Port
    max_response_ms: Milliseconds | None = None


class TcpKind(CheckKind[TcpConfig]):
    key = "tcp"
    label = "Network port (TCP)"
    Config = TcpConfig

    async def run(self, config: TcpConfig, ctx: RunContext) -> Outcome:
        where = (
            f"[{config.host}]:{config.port}"
            if ":" in config.host
            else (f"{config.host}:{config.port}")
        )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(ctx.timeout):
                _reader, writer = await asyncio.open_connection(config.host, config.port)
        except TimeoutError:
            message = f"no connection to {where} within {duration_text(ctx.timeout)}"
            return Outcome(State.DOWN, None, message)
        except ConnectionRefusedError:
            return Outcome(State.DOWN, None, f"connection refused by {where}")
        except socket.gaierror:
            return Outcome(State.DOWN, None, f"the host name {config.host} could not be resolved")
        except OSError as exc:
            reason = clip(exc.strerror or str(exc) or type(exc).__name__, 80)
            return Outcome(State.DOWN, None, f"could not connect to {where}: {reason}")
        elapsed_ms = (time.perf_counter() - started) * 1000
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        took = duration_text(elapsed_ms / 1000)
        if config.max_response_ms is not None and elapsed_ms > config.max_response_ms:
            limit = duration_text(config.max_response_ms / 1000)
            return Outcome(State.DEGRADED, elapsed_ms, f"connecting took {took}, limit {limit}")
        return Outcome(State.UP, elapsed_ms, f"{where} accepted a connection in {took}")


register(TcpKind())
