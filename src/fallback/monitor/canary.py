"""Our own link first: before blaming a vendor, ask the organisation's canaries.

Canary checks watch neutral targets. When a vendor's check fails (after its re-tests), the
engine asks `link_is_down(org_id)`: if the organisation has enabled canaries and every one of
them that can tell fails too (an UNKNOWN canary tells nothing), the failure says nothing
about the vendor, and the result becomes UNKNOWN ("our own connection is down"). The
canaries' own scheduled results are stored as usual, so their internet-link system goes down
through the normal thresholds. An organisation without canaries gets no such protection.

A verdict is reused for FRESH seconds, and concurrent questions about one organisation share
a single evaluation, so a mass outage costs one canary run per organisation, not one per check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from fallback.monitor import claims
from fallback.monitor.models import State

log = logging.getLogger("fallback.monitor")

FRESH = 15.0  # seconds a canary outcome or a verdict is reused
LINK_DOWN_MESSAGE = "unknown — our own connection is down"

_DOWN = State.DOWN.value
_UNKNOWN = State.UNKNOWN.value


def load_canaries(org_id: int, configs: claims.ConfigCache) -> list[claims.Claim]:
    """The organisation's enabled canary checks, ready to run (database thread)."""
    return claims.select_claims(
        "c.org_id = %s AND c.is_canary = %s AND c.enabled = %s ORDER BY c.id",
        [org_id, True, True],
        configs,
    )


class Canaries:
    """The canary verdicts of one engine.

    `load(org_id)` fetches the organisation's canaries (from the database, off the event
    loop); `run(claim)` runs one check once and returns its status.
    """

    def __init__(
        self,
        load: Callable[[int], Awaitable[list[claims.Claim]]],
        run: Callable[[claims.Claim], Awaitable[str]],
        fresh: float = FRESH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._run = run
        self.fresh = fresh
        self._clock = clock
        self._seen: dict[int, tuple[float, str]] = {}  # canary check id -> (when, status)
        self._verdicts: dict[int, tuple[float, bool]] = {}  # org id -> (when, link down?)
        self._asking: dict[int, asyncio.Task[bool]] = {}
        self.evaluations = 0  # how many times canaries were consulted (tests, stats)

    def observe(self, org_id: int, check_id: int, status: str) -> None:
        """A canary's scheduled run finished: remember it, and let the next question re-judge."""
        self._seen[check_id] = (self._clock(), str(status))
        self._verdicts.pop(org_id, None)

    async def link_is_down(self, org_id: int) -> bool:
        verdict = self._verdicts.get(org_id)
        if verdict is not None and self._clock() - verdict[0] < self.fresh:
            return verdict[1]
        task = self._asking.get(org_id)
        if task is None:
            task = asyncio.create_task(self._evaluate(org_id))
            self._asking[org_id] = task
            task.add_done_callback(lambda _t: self._asking.pop(org_id, None))
        # Shielded: one waiting check being cancelled must not cancel the others' answer.
        return await asyncio.shield(task)

    async def _evaluate(self, org_id: int) -> bool:
        self.evaluations += 1
        try:
            canaries = await self._load(org_id)
        except Exception:
            # Cannot tell: the failure stands as the check saw it, as without canaries.
            log.exception("could not load the canaries of organisation %s", org_id)
            canaries = []
        if not canaries:
            down = False
        else:
            now = self._clock()
            statuses: list[str] = []
            stale: list[claims.Claim] = []
            for canary in canaries:
                seen = self._seen.get(canary.id)
                if seen is not None and now - seen[0] < self.fresh:
                    statuses.append(seen[1])
                else:
                    stale.append(canary)
            fresh_statuses = await asyncio.gather(*(self._run(c) for c in stale))
            finished = self._clock()
            for canary, status in zip(stale, fresh_statuses, strict=True):
                self._seen[canary.id] = (finished, status)
            statuses.extend(fresh_statuses)
            # UNKNOWN says nothing either way (e.g. a canary with a broken definition must not
            # mask every real outage as "our link"): judge by the canaries that could tell.
            told = [status for status in statuses if status != _UNKNOWN]
            down = bool(told) and all(status == _DOWN for status in told)
        self._verdicts[org_id] = (self._clock(), down)
        return down

    def forget(self) -> None:
        """Drop remembered outcomes older than FRESH (called now and then, bounds memory)."""
        cutoff = self._clock() - self.fresh
        self._seen = {k: v for k, v in self._seen.items() if v[0] >= cutoff}
        self._verdicts = {k: v for k, v in self._verdicts.items() if v[0] >= cutoff}
