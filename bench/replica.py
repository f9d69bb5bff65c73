"""How fast does a first full sync of 100,000 customers run, and an incremental one after 1%
of them changed? At what memory? Against the simulated cloud, SQLite, end to end.

Targets (issue 4): first full sync under 10 s, incremental (1% changed) under 2 s, peak
memory under 300 MB. Also measured in the same run: the time to merely fetch every page with
aiohttp (following the same Link headers, same page size), and the ratio raw ÷ first sync.

What it does: a temporary data folder (SQLite); the simulator in a separate process with
`--scale` customers; one organisation with a Shopify-like connector reading customers; then
  0. one listing of every page, to warm the simulator's cache of rendered records;
  1. the first full sync (fetch through dlt, map, stage, guard, apply), timed;
  2. 1% of the customers changed at the source, then an incremental sync, timed;
  3. the raw aiohttp fetch of every page.
Peak resident memory of this process is sampled throughout (the simulator's is not counted).

Usage: .venv/bin/python bench/replica.py [--customers N]
The last line is one JSON object: first_sync_s, incremental_sync_s, rss_mb, raw_fetch_s,
ratio_vs_raw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psutil

MB = 1024 * 1024
PAGE = 250
TOKEN = "shpat_demo"


def serve_simulator(scale: int) -> None:
    from fallback.simulator.runner import Simulator

    sim = Simulator(port=0, scale=scale).start()
    print(sim.port, flush=True)
    threading.Event().wait()


def start_simulator(scale: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(scale)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


class PeakRss(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.me = psutil.Process()
        self.peak = 0.0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.me.memory_info().rss / MB)
            time.sleep(0.02)


async def raw_fetch(base: str) -> tuple[float, int]:
    """Every page of customers, following Link headers: seconds and records."""
    import aiohttp

    link = re.compile(r'<([^>]+)>;\s*rel="next"')
    url: str | None = f"{base}/shopify/admin/api/2024-10/customers.json?limit={PAGE}"
    count = 0
    start = time.perf_counter()
    async with aiohttp.ClientSession(headers={"X-Shopify-Access-Token": TOKEN}) as session:
        while url:
            async with session.get(url) as response:
                body = await response.json()
                count += len(body["customers"])
                found = link.search(response.headers.get("Link", ""))
                url = found.group(1) if found else None
    return time.perf_counter() - start, count


def change(base: str, share: float) -> int:
    request = urllib.request.Request(
        f"{base}/_control/change",
        data=json.dumps({"share": share, "entity": "customers"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.loads(response.read())["changed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share changed")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_simulator(args.serve)
        return

    home = tempfile.mkdtemp(prefix="fallback-bench-replica-")
    os.environ["FALLBACK_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "fallback.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from fallback.accounts.membership import create_organisation
    from fallback.replica import editing, sync
    from fallback.replica.models import Record

    # A worker imports dlt once, at its first sync; here that happens before the clock starts.
    started = time.perf_counter()
    import dlt.sources.rest_api  # noqa: F401

    print(f"importing dlt: {time.perf_counter() - started:.2f} s (once per worker process)")
    proc, base = start_simulator(args.customers)
    peak = PeakRss()
    peak.start()
    try:
        org = create_organisation("Bench Ltd")
        connector = editing.create_connector(
            org,
            name="Shop",
            kind="shopify",
            config={"base_url": f"{base}/shopify/admin/api/2024-10/", "streams": ["customers"]},
            secrets={"token": TOKEN},
        )
        print(f"{args.customers:,} customers at {base}; data folder {home}", flush=True)
        # The simulator keeps each record's JSON once made; one listing first, so that the
        # sync and the raw client both meet a source serving at network speed.
        warm_s, _ = asyncio.run(raw_fetch(base))
        print(f"simulator warmed up in {warm_s:.2f} s (not counted)", flush=True)

        start, cpu = time.perf_counter(), time.process_time()
        first = sync.run(connector, trigger="bench")
        first_s = time.perf_counter() - start
        first_cpu = time.process_time() - cpu
        print(
            f"first full sync: {first_s:.2f} s ({first_cpu:.2f} s CPU) — {first.status},"
            f" {first.fetched:,} fetched,"
            f" {first.created:,} new; fetch+map+stage {first.fetch_seconds:.2f} s, apply"
            f" {first.apply_seconds:.2f} s  (peak RSS so far {peak.peak:.0f} MB)",
            flush=True,
        )
        assert first.status == "applied", (first.error, first.hold_reasons)

        changed = change(base, args.changed)
        start = time.perf_counter()
        second = sync.run(connector, trigger="bench", full=False)
        incremental_s = time.perf_counter() - start
        print(
            f"incremental sync ({changed:,} changed at the source): {incremental_s:.2f} s —"
            f" {second.status}, {second.fetched:,} fetched, {second.changed:,} changed",
            flush=True,
        )
        assert second.status == "applied", (second.error, second.hold_reasons)
        versions = Record.objects.filter(connector=connector).count()
        print(f"replica: {versions:,} versions kept", flush=True)

        raw_s, raw_count = asyncio.run(raw_fetch(base))
        print(f"raw aiohttp fetch of every page: {raw_s:.2f} s ({raw_count:,} records)")
    finally:
        peak.running = False
        proc.terminate()
        proc.wait(10)
    figures = {
        "first_sync_s": round(first_s, 2),
        "incremental_sync_s": round(incremental_s, 2),
        "rss_mb": round(peak.peak, 1),
        "raw_fetch_s": round(raw_s, 2),
        "ratio_vs_raw": round(raw_s / first_s, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
