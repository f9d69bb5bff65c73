"""The check engine: claims due checks from the database and runs them concurrently.

One asyncio loop, one shared aiohttp ClientSession, a semaphore bounding network work in
flight. Database work runs off the loop: claiming and writing results on one thread,
refreshing the systems whose state may have changed on another. Each claimed check runs as
its own task: a failure is re-tested `retries` times `retry_delay` apart (sleeping, so other
checks carry on), then, when it is still DOWN, the organisation's canaries decide whether
the vendor or our own link is at fault. Results are written in batches
(fallback.monitor.results).

Checks falling due before the next poll are claimed ahead and started in 20 ms ticks, so
polling adds no scheduling lag. Kinds keep to their check's timeout themselves; a watchdog
gives up on an attempt that overruns it by TIMEOUT_GRACE (DOWN, "no answer within …").
A kind that raises never stops the loop: network errors become DOWN, anything else (a bug,
not evidence about the vendor) becomes UNKNOWN with the error in the message.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import aiohttp
from django.db import close_old_connections, connections

from fallback.monitor import canary, claims, kinds, results, rollups
from fallback.monitor.kinds.base import duration_text
from fallback.monitor.models import State
from fallback.monitor.writer import WriterProcess

log = logging.getLogger("fallback.monitor")

P = ParamSpec("P")
T = TypeVar("T")

TIMEOUT_GRACE = 2.0  # seconds past a check's own timeout before the engine gives up on it
START_TICK = 0.02  # seconds: checks claimed ahead of time start together in ticks this long
DB_RETRY_DELAY = 1.0  # after a failed claim or write (database busy, restarting…)
CONNECTION_CHECK_EVERY = 60.0  # seconds between Django's connection age/health checks
CONFIG_CACHE_EVERY = 15 * 60  # seconds between clearings of the validated-config cache
COARSE_EVERY = 30.0  # seconds between writes of the hour and day rollups (see _write)
LAG_BUCKETS = 10_001  # lag histogram: 1 ms buckets up to 10 s, then one overflow bucket

_DOWN = State.DOWN.value
_UNKNOWN = State.UNKNOWN.value


def _now() -> datetime:
    # timezone.now() looks settings up on every call; this is the same aware UTC time.
    return datetime.now(UTC)


class Limiter:
    """At most `slots` holders at a time, first come first served: asyncio.Semaphore without
    its scan of every waiter on each acquire (Python 3.11), which a full engine pays for
    thousands of times a second."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # a slot was handed over just as we were cancelled
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # skip the cancelled
                waiter.set_result(None)  # the slot passes straight to the next in line
                return
        self._free += 1


class Stats:
    """Counters and a scheduling-lag histogram; constant memory however long it runs."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started = time.monotonic()
        self.claimed = 0
        self.finished = 0
        self.written = 0
        self.lag_ms = [0] * LAG_BUCKETS

    def add_lag(self, seconds: float) -> None:
        self.lag_ms[min(max(int(seconds * 1000), 0), LAG_BUCKETS - 1)] += 1

    def lag_percentile(self, fraction: float) -> float:
        """Lag in ms below which `fraction` of the runs started (bucket upper bound)."""
        total = sum(self.lag_ms)
        if not total:
            return 0.0
        wanted = fraction * total
        seen = 0
        for ms, count in enumerate(self.lag_ms):
            seen += count
            if seen >= wanted:
                return float(ms + 1)
        return float(LAG_BUCKETS)


def make_session(concurrency: int) -> aiohttp.ClientSession:
    """The one session every check shares: pooled keep-alive connections, no shared cookies."""
    connector = aiohttp.TCPConnector(
        limit=concurrency, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=30
    )
    # No default headers: each kind sends its own User-Agent (merging defaults costs a little
    # on every request).
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),  # one check's cookies must not leak into another
        trust_env=False,
    )


_hygiene = threading.local()


def _db_call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn` on a database thread, keeping its connection between calls.

    Django's request hygiene (close_old_connections) is applied once a minute, not per call:
    with SQLite's default CONN_MAX_AGE of 0 it would reconnect on every batch. After an
    error the connection is dropped, so the next call starts on a fresh one.
    """
    now = time.monotonic()
    if now >= getattr(_hygiene, "next_at", 0.0):
        _hygiene.next_at = now + CONNECTION_CHECK_EVERY
        close_old_connections()
    try:
        return fn(*args, **kwargs)
    except Exception:
        connections.close_all()
        raise


class Engine:
    """One worker's check engine. `await run(stop)` until `stop` is set."""

    def __init__(
        self,
        worker_id: str,
        *,
        concurrency: int = 500,
        max_pending: int = 10_000,
        batch: int = 500,
        poll: float = 0.2,
        flush_every: float = 0.2,
        drain_timeout: float = 10.0,
        resolver_nameservers: list[str] | None = None,
        canary_fresh: float = canary.FRESH,
        writer: str = "thread",
    ) -> None:
        """`writer`: "thread" writes results on the engine's database thread; "process"
        hands them to a writer process (fallback.monitor.writer), leaving the interpreter
        to the event loop — what `fallback serve` and `fallback worker` use."""
        if writer not in ("thread", "process"):
            raise ValueError(f"writer must be 'thread' or 'process', not {writer!r}")
        self.writer = writer
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.max_pending = max_pending
        self.batch = batch
        self.poll = poll
        self.flush_every = flush_every
        # Checks due before the next poll are claimed now and started on time, so the
        # polling period does not add to the scheduling lag.
        self._lookahead = timedelta(seconds=2 * poll)
        self.drain_timeout = drain_timeout
        self.resolver_nameservers = resolver_nameservers
        self.stats = Stats()
        self.configs = claims.ConfigCache()
        self.canaries = canary.Canaries(self._load_canaries, self._run_once, fresh=canary_fresh)
        self._executor: ThreadPoolExecutor | None = None
        # Refreshing systems (state, incidents, alerts) has its own thread: a wave of status
        # changes (a provider-wide outage) must not hold up claiming and writing.
        self._refresher: ThreadPoolExecutor | None = None
        self._refreshing: set[asyncio.Future[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._semaphore = Limiter(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: dict[int, tuple[asyncio.TimerHandle, list[claims.Claim]]] = {}
        self._group = 0
        # The timeout backstop: attempts in flight and when to give up on them. One watchdog
        # pass a second is far cheaper than a timer per attempt.
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._overdue: set[asyncio.Task[Any]] = set()
        self._results: list[results.Result] = []
        # Hour and day rollups, added up here between writes (touched only on the DB thread).
        # A SIGKILL loses at most COARSE_EVERY seconds of them; the minute rollups, the
        # results and the checks' states are written with every batch.
        self._coarse = rollups.RollupBatch(rollups.COARSE)
        self._coarse_due = 0.0
        self._remote: WriterProcess | None = None  # with writer="process"
        self._pending = 0  # claimed and not yet written
        self._flush = asyncio.Event()

    @property
    def writer_pid(self) -> int | None:
        """The writer process's pid (writer="process", once it has started)."""
        return self._remote.pid if self._remote is not None else None

    # -- database thread -------------------------------------------------------------------

    async def _db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: _db_call(fn, *args, **kwargs))

    async def _load_canaries(self, org_id: int) -> list[claims.Claim]:
        return await self._db(canary.load_canaries, org_id, self.configs)

    # -- running checks --------------------------------------------------------------------

    async def _attempt(
        self, kind: kinds.CheckKind[Any], claim: claims.Claim, now: datetime | None = None
    ) -> kinds.Outcome:
        assert self._session is not None and claim.config is not None
        ctx = kinds.RunContext(
            session=self._session,
            timeout=claim.timeout,
            now=now or _now(),
            last_ping_at=claim.last_ping_at,
            resolver_nameservers=self.resolver_nameservers,
            created_at=claim.created_at,
        )
        try:
            if kind.passive:
                return await kind.run(claim.config, ctx)
            async with self._semaphore:
                return await self._guarded(kind, claim, ctx)
        except TimeoutError:
            return kinds.Outcome(
                State.DOWN, None, f"no answer within {duration_text(claim.timeout)}"
            )
        except (aiohttp.ClientError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            return kinds.Outcome(State.DOWN, None, f"could not connect: {reason}")
        except Exception as exc:
            log.exception("check %s (%s) raised", claim.id, claim.kind)
            return kinds.Outcome(
                State.UNKNOWN, None, f"the check could not run: {type(exc).__name__}: {exc}"
            )

    async def _guarded(
        self, kind: kinds.CheckKind[Any], claim: claims.Claim, ctx: kinds.RunContext
    ) -> kinds.Outcome:
        """kind.run, given up (by the watchdog) TIMEOUT_GRACE after the check's own timeout:
        kinds keep to ctx.timeout themselves; this is the backstop for one that does not."""
        task = asyncio.current_task()
        assert task is not None and claim.config is not None
        self._deadlines[task] = asyncio.get_running_loop().time() + claim.timeout + TIMEOUT_GRACE
        try:
            return await kind.run(claim.config, ctx)
        except asyncio.CancelledError:
            if task not in self._overdue:
                raise  # stopping
            task.uncancel()
            raise TimeoutError from None
        finally:
            del self._deadlines[task]
            self._overdue.discard(task)

    def _watchdog(self) -> None:
        now = asyncio.get_running_loop().time()
        for task, deadline in list(self._deadlines.items()):
            if deadline <= now and task not in self._overdue:
                self._overdue.add(task)
                task.cancel()

    async def _run_once(self, claim: claims.Claim) -> str:
        """One attempt, no re-tests: how the canaries are asked."""
        if claim.config is None:
            return _UNKNOWN
        try:
            kind = kinds.get(claim.kind)
        except KeyError:
            return _UNKNOWN
        return str((await self._attempt(kind, claim)).status)

    async def execute(self, claim: claims.Claim, now: datetime | None = None) -> kinds.Outcome:
        """Run a check with its re-tests and the canary verdict; never raises. `now`: when
        the first attempt starts, if the caller has just read the clock."""
        if claim.config is None:
            return kinds.Outcome(State.UNKNOWN, None, claim.error)
        kind = kinds.get(claim.kind)
        outcome = await self._attempt(kind, claim, now)
        tries = 0
        # Passive kinds look at stored pings: asking again cannot change the answer.
        while outcome.status == _DOWN and tries < claim.retries and not kind.passive:
            await asyncio.sleep(claim.retry_delay)
            tries += 1
            outcome = await self._attempt(kind, claim)
        if tries and outcome.status == _DOWN:
            outcome.message = f"{outcome.message} (same after {tries} re-test{'s' * (tries > 1)})"
        if claim.is_canary:
            self.canaries.observe(claim.org_id, claim.id, str(outcome.status))
        elif outcome.status == _DOWN and await self.canaries.link_is_down(claim.org_id):
            return kinds.Outcome(
                State.UNKNOWN,
                None,
                f"{canary.LINK_DOWN_MESSAGE} (the check said: {outcome.message})",
            )
        return outcome

    def _start(self, claimed: list[claims.Claim]) -> None:
        for claim in claimed:
            task = asyncio.create_task(self._run_claim(claim))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _schedule(self, claimed: list[claims.Claim]) -> None:
        """Start each claimed check when it is due: now, or (claimed within the look-ahead)
        at the first START_TICK after its due time, together with the others due then."""
        now = _now()
        due: list[claims.Claim] = []
        later: dict[int, list[claims.Claim]] = {}
        for claim in claimed:
            early = (claim.due_at - now).total_seconds()
            if early <= 0:
                due.append(claim)
            else:
                later.setdefault(math.ceil(early / START_TICK), []).append(claim)
        self._start(due)
        loop = asyncio.get_running_loop()
        for tick, group in later.items():
            self._group += 1
            handle = loop.call_later(tick * START_TICK, self._start_waiting, self._group)
            self._waiting[self._group] = (handle, group)

    def _start_waiting(self, key: int) -> None:
        _, group = self._waiting.pop(key)
        self._start(group)

    async def _run_claim(self, claim: claims.Claim) -> None:
        started = _now()
        self.stats.add_lag((started - claim.due_at).total_seconds())
        try:
            outcome = await self.execute(claim, started)
        except asyncio.CancelledError:  # stopping: no result, it runs again next interval
            self._pending -= 1
            raise
        except Exception as exc:  # execute() guards each attempt; this is the last resort
            log.exception("check %s failed in the engine", claim.id)
            outcome = kinds.Outcome(State.UNKNOWN, None, f"the check could not run: {exc}")
        self.stats.finished += 1
        status = outcome.status
        self._results.append(
            results.Result(
                check_id=claim.id,
                org_id=claim.org_id,
                at=_now(),
                status=status.value if isinstance(status, State) else str(status),
                response_ms=outcome.response_ms,
                message=outcome.message,
            )
        )
        if len(self._results) >= self.batch:
            self._flush.set()

    # -- the loops -------------------------------------------------------------------------

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            room = min(self.batch, self.max_pending - self._pending)
            got = 0
            if room > 0:
                try:
                    now = _now()
                    claimed = await self._db(
                        claims.claim_due,
                        self.worker_id,
                        now,
                        room,
                        self.configs,
                        until=now + self._lookahead,
                    )
                except Exception:
                    log.exception("could not claim due checks; retrying")
                    await wait_for_event(stop, DB_RETRY_DELAY)
                    continue
                got = len(claimed)
                self._pending += got
                self.stats.claimed += got
                self._schedule(claimed)
            if got < room or room <= 0:  # caught up (or full): wait; else claim more now
                await wait_for_event(stop, self.poll)
            else:
                await asyncio.sleep(0)

    async def _write(self) -> None:
        batch, self._results = self._results, []
        if not batch:
            return
        try:
            if self._remote is not None:
                changes = await self._db(self._remote.write, batch)
            else:
                changes = await self._db(results.write_results, batch, self._coarse)
        except Exception:
            # Lost, not retried: the checks run again at their next interval anyway.
            log.exception("could not write %d check results", len(batch))
            await asyncio.sleep(DB_RETRY_DELAY)
            changes = []
        finally:
            self._pending -= len(batch)
        self.stats.written += len(batch)
        if changes:
            assert self._refresher is not None
            future = asyncio.get_running_loop().run_in_executor(
                self._refresher, _db_call, results.refresh_systems, changes
            )
            self._refreshing.add(future)
            future.add_done_callback(self._refreshing.discard)

    async def _write_coarse(self) -> None:
        self._coarse_due = time.monotonic() + COARSE_EVERY
        try:
            if self._remote is not None:
                await self._db(self._remote.write_coarse)
            else:
                await self._db(rollups.write, self._coarse)
        except Exception:
            log.exception("could not write the hour and day rollups; keeping them for later")

    async def _write_loop(self, stop: asyncio.Event) -> None:
        self._coarse_due = time.monotonic() + COARSE_EVERY
        while not stop.is_set():
            await wait_for_event(self._flush, self.flush_every)
            self._flush.clear()
            try:
                await self._write()
                if time.monotonic() >= self._coarse_due:
                    await self._write_coarse()
            except Exception:  # never let the writer die: claiming would stall behind it
                log.exception("writing check results failed")

    async def run(self, stop: asyncio.Event) -> None:
        self._pending, self._results, self._tasks, self._waiting = 0, [], set(), {}
        self._deadlines, self._overdue = {}, set()
        self._coarse = rollups.RollupBatch(rollups.COARSE)
        self._remote = WriterProcess() if self.writer == "process" else None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="fallback-engine-db")
        self._refresher = ThreadPoolExecutor(1, thread_name_prefix="fallback-engine-refresh")
        self._session = make_session(self.concurrency)
        stop_writing = asyncio.Event()
        writer = asyncio.create_task(self._write_loop(stop_writing))
        housekeeping = asyncio.create_task(self._housekeeping(stop))
        log.info("check engine %s started", self.worker_id)
        try:
            if self._remote is not None:
                try:
                    await self._db(self._remote.start)
                except Exception:  # the first batch will try again
                    log.exception("could not start the result writer")
            await self._claim_loop(stop)
        finally:
            # Checks not started yet are let go, running ones finish (their results are
            # written), stragglers are cancelled: all simply run again at their next interval.
            for handle, group in self._waiting.values():
                handle.cancel()
                self._pending -= len(group)
            self._waiting.clear()
            if self._tasks:
                _, late = await asyncio.wait(set(self._tasks), timeout=self.drain_timeout)
                for task in late:
                    task.cancel()
                if late:
                    await asyncio.wait(late)
            stop_writing.set()
            self._flush.set()
            await writer
            await self._write()
            await self._write_coarse()
            housekeeping.cancel()
            await self._session.close()
            if self._refreshing:
                await asyncio.wait(set(self._refreshing))
            # The threads' connections must not outlive them (PostgreSQL counts them).
            loop = asyncio.get_running_loop()
            if self._remote is not None:
                await loop.run_in_executor(self._executor, self._remote.close)
            for executor in (self._executor, self._refresher):
                await loop.run_in_executor(executor, connections.close_all)
                executor.shutdown(wait=True)
            log.info("check engine %s stopped", self.worker_id)

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        seconds = 0
        while not stop.is_set():
            await wait_for_event(stop, 1.0)
            seconds += 1
            self._watchdog()
            if seconds % 60 == 0:
                self.canaries.forget()
            if seconds % CONFIG_CACHE_EVERY == 0:
                self.configs.clear()


async def wait_for_event(event: asyncio.Event, seconds: float) -> None:
    """Sleep up to `seconds`, waking early when `event` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
