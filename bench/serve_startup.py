"""How fast does `fallback serve` answer /healthz, starting from an empty data folder?

Target (issue 2): within 3 s. Runs several cold starts and prints the figures, then one
JSON line. Usage: .venv/bin/python bench/serve_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cold_start() -> float:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="fallback-bench-") as home:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["FALLBACK_HOME"] = home
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "fallback", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                        return time.perf_counter() - start
                except OSError:
                    if time.perf_counter() - start > 60:
                        raise RuntimeError("serve did not answer within 60 s") from None
                    time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = []
    for i in range(args.runs):
        t = cold_start()
        times.append(t)
        print(f"run {i + 1}: /healthz answered {t:.2f} s after start")
    figures = {
        "healthz_cold_start_s_median": round(statistics.median(times), 3),
        "healthz_cold_start_s_max": round(max(times), 3),
        "target_s": 3.0,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
