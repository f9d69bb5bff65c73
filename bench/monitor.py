"""How many HTTP checks a second does one worker sustain on SQLite, and at what cost?

Targets (issue 3): at least 2,000 checks/s sustained, p99 scheduling lag under 1 s, resident
memory under 250 MB, database size flat. Also measured in the same run: the raw aiohttp client
rate against the same target (plain GETs, same concurrency), and the ratio.

What it does: a temporary data folder (SQLite), one organisation, N systems with one HTTP check
each (interval 1 s by default, so N checks/s are asked for) against a local aiohttp target that
runs in a separate process. The database starts in steady state, as long running would leave
it: every check's ring of raw results is full, six hours of minute rollups and fourteen days
of hour rollups exist, and the pruning job runs on its schedule; so growth during the run is
real growth, not the first hours of history filling up. (Day rollups, one row per check per
day, are not made: a run that crosses midnight UTC adds one row per check.) Then one worker's
engine runs: a warm-up, then the measured period, with figures printed every few seconds.
Its results go to a writer process, as in `fallback worker` (`--writer thread` to compare);
CPU and resident memory count both processes.
Then the raw client runs, against the same target with the same concurrency.

Usage: .venv/bin/python bench/monitor.py [--duration S] [--checks N]
       (the 10-minute run: --duration 600)
The last line is one JSON object: checks_per_s, p99_lag_ms, rss_mb, db_growth_mb, raw_per_s,
ratio_vs_raw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil

MB = 1024 * 1024


# -- the target: a separate process, so it does not take the engine's event loop ---------------


def serve_target() -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", ok)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    # The target is the harness, not what is measured: the quickest loop leaves the most
    # of the machine to the engine.
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())


def start_target() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-target"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


# -- setup ---------------------------------------------------------------------------------


def setup_django(home: str) -> None:
    os.environ["FALLBACK_HOME"] = home
    os.environ.pop("DATABASE_URL", None)  # the target is one worker on SQLite
    os.environ["DJANGO_SETTINGS_MODULE"] = "fallback.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def create_checks(count: int, port: int, interval: int) -> None:
    """The organisation, systems and checks, brought to steady state.

    Minute and hour rollups as far back as they are kept, made the way time makes them; each
    check's ring filled and then overwritten once, through the engine's own write path (so
    rows have their real sizes and pages their real slack).
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from fallback.accounts.membership import create_organisation
    from fallback.monitor import results, rollups
    from fallback.monitor.kinds.base import duration_text
    from fallback.monitor.models import RESULT_RING, Check, State, System

    org = create_organisation("Bench Ltd")
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic():
        systems = System.objects.bulk_create(
            System(org=org, name=f"System {i}", slug=f"system-{i}", state=State.UP)
            for i in range(count)
        )
        checks = Check.objects.bulk_create(
            Check(
                org=org,
                system=s,
                name="home page",
                kind="http",
                config={"url": f"http://127.0.0.1:{port}/s/{i}"},
                interval_seconds=interval,
                timeout_seconds=10,
                retries=0,
                status=State.UP,
                # Spread over the interval, as a real installation's schedules are.
                next_run_at=now + timedelta(seconds=interval * i / count),
            )
            for i, s in enumerate(systems)
        )
    # Rollup history as long running leaves it: bucket after bucket for every check, the
    # oldest pruned as the newest come, for two retention periods. So the table and its
    # indexes have the page fill of steady state (built straight, they would be packed
    # tight, and grow for hours while churn loosens them).
    minute, hour = (start for _, start in rollups.bucket_starts(now)[:2])
    for resolution, newest, step, keep in (
        ("minute", minute, timedelta(minutes=1), 6 * 60),
        ("hour", hour, timedelta(hours=1), 14 * 24),
    ):
        with transaction.atomic(), connection.cursor() as cursor:
            for n in range(2 * keep - 1, 0, -1):
                cursor.execute(
                    "INSERT INTO monitor_checkrollup (org_id, check_id, resolution, bucket,"
                    " up, degraded, down, unknown, timed, total_ms, max_ms)"
                    " SELECT org_id, id, %s, %s, 60, 0, 0, 0, 60, 243.5, 38.9"
                    " FROM monitor_check ORDER BY id",
                    [resolution, adapt(newest - n * step)],
                )
                cursor.execute(
                    "DELETE FROM monitor_checkrollup WHERE resolution = %s AND bucket <= %s",
                    [resolution, adapt(newest - (n + keep) * step)],
                )
    # The rings: filled, then overwritten once, through the engine's own write path.
    rounds = 2 * RESULT_RING
    rng = random.Random(42)  # noqa: S311  (sample data, not secrets)
    for r in range(rounds):
        at = now - timedelta(seconds=interval * (rounds - r))
        batch = []
        for check in checks:
            # First pass: the longest usual message, so pages get the room that months of
            # varying response times leave; second pass: response times as the run sees them.
            ms = 999.0 if r < RESULT_RING else rng.lognormvariate(1.5, 1.0)
            message = f"HTTP 200 in {duration_text(ms / 1000)}"
            batch.append(results.Result(check.pk, org.pk, at, State.UP, ms, message))
        results.write_results(batch)


def db_bytes(path: Path) -> int:
    """Size of the database as readers see it (the WAL's pages included)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int(pages * size)


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes per table and index (a full scan: only before and after the measured period)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))


# -- the raw client ---------------------------------------------------------------------------


async def raw_rate(port: int, count: int, concurrency: int, seconds: float) -> float:
    """Plain GETs, same session settings and concurrency as the engine: requests per second."""
    from fallback.monitor.engine import make_session

    done = 0
    stop_at = 0.0

    async def client(session, offset: int) -> None:
        nonlocal done
        i = offset
        while time.monotonic() < stop_at:
            async with session.get(f"http://127.0.0.1:{port}/s/{i % count}") as response:
                await response.read()
            done += 1
            i += concurrency

    async with make_session(concurrency) as session:
        stop_at = time.monotonic() + 1.0  # warm the connection pool
        await asyncio.gather(*(client(session, n) for n in range(concurrency)))
        done = 0
        start = time.monotonic()
        stop_at = start + seconds
        await asyncio.gather(*(client(session, n) for n in range(concurrency)))
        return done / (time.monotonic() - start)


# -- the run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=15, help="seconds before measuring")
    parser.add_argument("--checks", type=int, default=2100, help="HTTP checks")
    parser.add_argument("--interval", type=int, default=1, help="seconds between runs")
    parser.add_argument(
        "--concurrency", type=int, default=500, help="requests in flight (the engine's default)"
    )
    parser.add_argument(
        "--writer",
        choices=("process", "thread"),
        default="process",
        help="where results are written (process: as `fallback worker` does)",
    )
    parser.add_argument("--raw-seconds", type=float, default=10)
    parser.add_argument("--every", type=float, default=5, help="seconds between progress lines")
    parser.add_argument("--serve-target", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", metavar="HOME", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_target:
        serve_target()
        return
    if args.prepare:
        prepare(args.prepare, args.checks, args.port, args.interval)
        return

    me = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="fallback-bench-monitor-") as home:
        target, port = start_target()
        try:
            run(args, me, home, port)
        finally:
            target.terminate()
            target.wait(10)


def worker(me: psutil.Process, engine: Any) -> list[psutil.Process]:
    """The processes a `fallback worker` would be: this one and its result writer."""
    pid = engine.writer_pid
    return [me] + ([psutil.Process(pid)] if pid else [])


def cpu_seconds(processes: list[psutil.Process]) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in processes)


class Cpu:
    """CPU use of the worker's processes and of the engine's threads between two readings."""

    def __init__(self, me: psutil.Process, engine: Any) -> None:
        self.me, self.engine = me, engine
        self.at = time.monotonic()
        self.total, self.threads, self.writer = self._read()

    def _read(self) -> tuple[float, dict[int, float], float]:
        processes = worker(self.me, self.engine)
        writer = cpu_seconds(processes[1:])
        return (
            cpu_seconds(processes),
            {t.id: t.user_time + t.system_time for t in self.me.threads()},
            writer,
        )

    def since(self) -> str:
        """'cpu 71% (loop 49%, db 21%)' since the last call."""
        now = time.monotonic()
        total, threads, writer = self._read()
        span = max(now - self.at, 1e-9)
        names = {t.native_id: t.name for t in threading.enumerate()}
        parts = []
        for tid, label in (("fallback-engine", "loop"), ("fallback-engine-db_0", "db")):
            ids = [i for i, name in names.items() if name == tid]
            used = sum(threads.get(i, 0) - self.threads.get(i, 0) for i in ids if i)
            parts.append(f"{label} {100 * used / span:.0f}%")
        if writer:
            parts.append(f"writer process {100 * (writer - self.writer) / span:.0f}%")
        text = f"cpu {100 * (total - self.total) / span:3.0f}% ({', '.join(parts)})"
        self.at, self.total, self.threads, self.writer = now, total, threads, writer
        return text


def prepare(home: str, checks: int, port: int, interval: int) -> None:
    """Make the data (in a process of its own, so the engine's memory is the engine's)."""
    setup_django(home)
    from django.db import connection

    with connection.cursor() as cursor:
        # Making data only: a big page cache and no journal (seconds instead of minutes).
        cursor.execute("PRAGMA cache_size = -1000000")
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
    create_checks(checks, port, interval)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode = WAL")  # as Fallback runs it


def run(args: argparse.Namespace, me: psutil.Process, home: str, port: int) -> None:
    started = time.monotonic()
    prepare_args = ["--prepare", home, "--port", str(port), "--checks", str(args.checks)]
    subprocess.run(
        [sys.executable, __file__, *prepare_args, "--interval", str(args.interval)], check=True
    )
    setup_django(home)
    from fallback.home import DATABASE_FILE
    from fallback.monitor import rollups
    from fallback.monitor.runner import EngineThread
    from fallback.runtime.schedulers import Job, SchedulerLoop

    db_path = Path(home) / DATABASE_FILE
    print(
        f"{args.checks} HTTP checks every {args.interval} s "
        f"({args.checks / args.interval:.0f} checks/s asked for), concurrency {args.concurrency}; "
        f"set up in {time.monotonic() - started:.1f} s, database {db_bytes(db_path) / MB:.1f} MB",
        flush=True,
    )

    # As in `fallback worker`: the engine thread, and the pruning job on its schedule.
    pruning = SchedulerLoop([Job("prune", rollups.PRUNE_EVERY, rollups.prune)])
    thread = EngineThread("bench", concurrency=args.concurrency, writer=args.writer)
    engine = thread.engine
    peak_rss = 0.0
    pruning.start()
    thread.start()
    try:
        time.sleep(args.warmup)
        tables_before = table_bytes(db_path)  # a full scan: before the clock starts
        size_before = db_bytes(db_path)
        engine.stats.reset()
        begin = last_at = time.monotonic()
        written_before = last_written = engine.stats.written
        cpu_before = cpu_seconds(worker(me, engine))
        cpu = Cpu(me, engine)
        next_line = begin + args.every
        while (now := time.monotonic()) < begin + args.duration:
            rss = sum(p.memory_info().rss for p in worker(me, engine))
            peak_rss = max(peak_rss, rss / MB)
            if now >= next_line:
                written = engine.stats.written
                print(
                    f"{now - begin:6.0f} s {(written - last_written) / (now - last_at):6.0f}"
                    f" checks/s  p99 lag {engine.stats.lag_percentile(0.99):5.0f} ms"
                    f"  rss {peak_rss:5.1f} MB"
                    f"  db {(db_bytes(db_path) - size_before) / MB:+6.2f} MB  {cpu.since()}",
                    flush=True,
                )
                last_written, last_at = written, now
                next_line += args.every
            time.sleep(0.25)
        elapsed = time.monotonic() - begin
        checks = engine.stats.written - written_before
        cpu_per_check = (cpu_seconds(worker(me, engine)) - cpu_before) / max(checks, 1)
        p99 = engine.stats.lag_percentile(0.99)
        size_after = db_bytes(db_path)
        tables_after = table_bytes(db_path)
    finally:
        thread.stop()
        pruning.stop()
        thread.join(30)
        pruning.join(30)
    checks_per_s = checks / elapsed
    changed = {
        name: (tables_after.get(name, 0) - tables_before.get(name, 0)) / MB
        for name in set(tables_before) | set(tables_after)
    }
    grown = ", ".join(
        f"{name} {delta:+.2f}" for name, delta in sorted(changed.items()) if abs(delta) >= 0.01
    )
    print(f"engine: {checks} checks in {elapsed:.0f} s, {cpu_per_check * 1e6:.0f} µs CPU each")
    print(
        f"database: {size_before / MB:.1f} MB → {size_after / MB:.1f} MB"
        f" ({grown or 'no table or index changed size'})"
    )

    # The raw client on the same kind of event loop as the engine, for a fair ratio.
    from fallback.monitor.runner import loop_factory

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        raw = runner.run(raw_rate(port, args.checks, args.concurrency, args.raw_seconds))
    print(f"raw aiohttp client: {raw:.0f} GETs/s at concurrency {args.concurrency}")
    figures = {
        "checks_per_s": round(checks_per_s, 1),
        "p99_lag_ms": round(p99, 1),
        "rss_mb": round(peak_rss, 1),
        "db_growth_mb": round((size_after - size_before) / MB, 2),
        "raw_per_s": round(raw, 1),
        "ratio_vs_raw": round(checks_per_s / raw, 3) if raw else 0.0,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
