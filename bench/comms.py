"""How fast does the outbox send, and does a sender killed mid-notice ever send a message
twice (or lose one)?

Target (issue 6): 10,000 emails through the outbox to a local SMTP sink at least 200
messages a second; and after the sender is killed with SIGKILL at 50 % and restarted,
every recipient has exactly one message.

What it does: a temporary data folder (SQLite); one organisation with a backup mail account
pointing at an aiosmtpd sink that runs in its own process and logs every message it accepts
(which notice, which recipient, when); 10,000 customers in the replica; an incident.
  1. raw: a bare smtplib loop — one connection, the same 10,000 messages (built up front) —
     to the same sink: the ceiling for this machine and this sink;
  2. outbox: a notice to all customers (10,000 queued items), then `fallback comms send
     --until-done` in its own process; the rate is the sink's first to last message of the
     notice (the process's start-up is printed apart);
  3. kill: a second notice of 10,000; `fallback comms send` is killed with SIGKILL once the
     sink has half of it, then started again with --until-done. At the sink: recipients with
     two or more messages of that notice (duplicated) and with none (missing — an item left
     `unknown` by the kill counts as missing unless its message arrived).

Usage: .venv/bin/python bench/comms.py [--recipients N] [--threads N] [--keep]
The last line is one JSON object: messages_per_s, raw_per_s, ratio_vs_raw, duplicated,
missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LEASE_SECONDS = "5"  # how soon a restarted sender takes back what a killed one held
NOTICE_HEADER = b"X-Fallback-Notice: "


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------- the sink


def serve_sink(port: int, log_path: str) -> None:
    """The SMTP sink (its own process): accept everything, log "notice recipient time"."""
    from aiosmtpd.controller import Controller

    log = open(log_path, "a", buffering=1)  # noqa: SIM115  (open for the process's life)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            content = envelope.content
            at = content.find(NOTICE_HEADER)
            notice = "raw"
            if at >= 0:
                end = content.find(b"\r\n", at)
                notice = content[at + len(NOTICE_HEADER) : end].decode()
            for rcpt in envelope.rcpt_tos:
                log.write(f"{notice} {rcpt} {time.time():.6f}\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = asyncio.Event()

    def handler(signum: int, frame: Any) -> None:
        controller.stop()
        log.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, handler)
    while not stop.is_set():
        time.sleep(1)


def start_sink(port: int, log_path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port), str(log_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the SMTP sink did not start")
    return proc


def read_log(path: Path, notice: str) -> tuple[Counter[str], list[float]]:
    counts: Counter[str] = Counter()
    times = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == notice:
            counts[parts[1]] += 1
            times.append(float(parts[2]))
    return counts, times


def wait_for(path: Path, notice: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and sum(read_log(path, notice)[0].values()) >= count:
            return
        time.sleep(0.05)
    raise SystemExit(f"the sink did not get {count} messages of notice {notice} in {timeout} s")


# ---------------------------------------------------------------------------- phases


def sender(home: str, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, FALLBACK_HOME=home, FALLBACK_OUTBOX_LEASE=LEASE_SECONDS)
    env.pop("DATABASE_URL", None)
    log = open(Path(home) / "sender.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "fallback", "comms", "send", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def raw_loop(port: int, payloads: list[tuple[str, bytes]], from_address: str) -> float:
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    smtp.ehlo()
    started = time.perf_counter()
    for to, payload in payloads:
        smtp.sendmail(from_address, [to], payload)
    seconds = time.perf_counter() - started
    smtp.quit()
    return len(payloads) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4, help="SMTP connections of the sender")
    parser.add_argument("--keep", action="store_true", help="keep the data folder afterwards")
    parser.add_argument("--sink", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        serve_sink(int(args.sink[0]), args.sink[1])
        return

    home = tempfile.mkdtemp(prefix="fallback-bench-comms-")
    os.environ["FALLBACK_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "fallback.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from fallback.accounts.membership import create_organisation
    from fallback.accounts.models import User
    from fallback.comms import mail, notices, preferences
    from fallback.comms.models import ItemState, OutboxItem
    from fallback.incidents import lifecycle
    from fallback.replica.models import Connector, Record

    n = args.recipients
    port = free_port()
    log_path = Path(home) / "sink.log"
    sink = start_sink(port, log_path)
    print(f"data folder {home}; {os.cpu_count()} CPUs, {load()}", flush=True)
    try:
        owner = User.objects.create_user("owner@bench.test", "a long bench password 42")
        org = create_organisation("Bench Ltd", owner=owner)
        preferences.update_settings(
            org,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            from_address="notices@bench.example",
            phone_numbers="01632 960123",
            backup_email="help@bench.example",
        )
        limit = preferences.settings_for(org).email_per_second
        connector = Connector.objects.create(
            org=org, name="Main system", slug="main", kind="files", enabled=False
        )
        now = django.utils.timezone.now()
        Record.objects.bulk_create(
            [
                Record(
                    org=org,
                    connector=connector,
                    stream="customers",
                    entity="customer",
                    key=f"C{i}",
                    name=f"Customer {i}",
                    data={"name": f"Customer {i}", "email": f"customer{i}@bench.example"},
                    digest=f"{i:032d}",
                    valid_from=now,
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        incident = lifecycle.declare_manually(org, [], "Main system down", owner)

        def queue() -> str:
            notice, _ = notices.create(incident, "all_customers", "first_notice", by=owner)
            started = time.perf_counter()
            sent = notices.send(notice, owner)
            print(
                f"notice {notice.pk}: {sent.enqueued.created:,} messages queued in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            return str(notice.pk)

        # 1. raw
        first = queue()
        account = mail.account_for(preferences.settings_for(org))
        items = list(OutboxItem.objects.filter(notice_id=int(first)).select_related("org"))
        payloads = [
            (i.address, mail.build(i, account, mail.message_id(i, account.domain))) for i in items
        ]
        raw_payloads = [(to, p.replace(NOTICE_HEADER, b"X-Bench: ")) for to, p in payloads]
        raw_per_s = raw_loop(port, raw_payloads, account.from_address)
        print(f"raw smtplib loop, one connection: {raw_per_s:,.0f} messages/s", flush=True)

        # 2. outbox
        started = time.perf_counter()
        proc = sender(home, "--until-done", "--threads", str(args.threads))
        if proc.wait(900) != 0:
            raise SystemExit(f"the sender failed: see {home}/sender.log")
        wall = time.perf_counter() - started
        counts, times = read_log(log_path, first)
        span = max(times) - min(times) if len(times) > 1 else float("nan")
        messages_per_s = (len(times) - 1) / span if span > 0 else float("nan")
        sent_items = OutboxItem.objects.filter(notice_id=int(first), state=ItemState.SENT).count()
        print(
            f"outbox: {sum(counts.values()):,} messages to {len(counts):,} recipients, "
            f"{sent_items:,} items sent; {messages_per_s:,.0f} messages/s first to last "
            f"({wall:.1f} s with the sender's start-up), {args.threads} connections, "
            f"rate limit {limit:g}/s",
            flush=True,
        )

        # 3. kill at 50 % and restart
        second = queue()
        proc = sender(home, "--threads", str(args.threads))
        wait_for(log_path, second, n // 2, 600)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        at_kill = sum(read_log(log_path, second)[0].values())
        print(f"killed the sender (SIGKILL) with {at_kill:,} of {n:,} at the sink", flush=True)
        proc = sender(home, "--until-done", "--threads", str(args.threads))
        if proc.wait(900) != 0:
            raise SystemExit(f"the restarted sender failed: see {home}/sender.log")
        counts, _ = read_log(log_path, second)
        addresses = set(
            OutboxItem.objects.filter(notice_id=int(second)).values_list("address", flat=True)
        )
        duplicated = sum(1 for a in addresses if counts[a] > 1)
        missing = sum(1 for a in addresses if counts[a] == 0)
        states = Counter(
            OutboxItem.objects.filter(notice_id=int(second)).values_list("state", flat=True)
        )
        unknown_arrived = sum(
            1
            for a in OutboxItem.objects.filter(
                notice_id=int(second), state=ItemState.UNKNOWN
            ).values_list("address", flat=True)
            if counts[a]
        )
        print(
            f"after the restart: {dict(states)}; unknown but arrived: {unknown_arrived}; "
            f"duplicated {duplicated}, missing {missing}",
            flush=True,
        )
        print(f"{load()} at the end", flush=True)
        figures = {
            "messages_per_s": round(messages_per_s, 1),
            "raw_per_s": round(raw_per_s, 1),
            "ratio_vs_raw": round(messages_per_s / raw_per_s, 3),
            "duplicated": duplicated,
            "missing": missing,
        }
    finally:
        sink.terminate()
        sink.wait(10)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
