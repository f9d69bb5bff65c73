"""Two real `fallback worker` processes sharing one PostgreSQL database.

Every check runs once per interval (never twice, never skipped) while both run; after one is
killed (SIGKILL: no goodbye), the other takes its checks over within two intervals.

The database is this test's own (created and dropped here), not pytest-django's test
database, which the worker processes could not see. Skipped when PostgreSQL is unreachable,
unless FALLBACK_TEST_POSTGRES=required.
"""

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fallback.monitor.tests.engine_helpers import Target
from fallback.testing.postgres import connect, fresh_database

INTERVAL = 3.0  # wide enough that a busy CI machine cannot blur one interval into the next
CHECKS = 12
WATCH = 4 * INTERVAL  # seconds observed in each phase

SEED = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    import django
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from fallback.accounts.membership import create_organisation
    from fallback.monitor.models import Check, System

    port, count, interval = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    call_command("migrate", interactive=False, verbosity=0)
    org = create_organisation("Two workers")
    system = System.objects.create(org=org, name="Target", slug="target")
    start = timezone.now() + timedelta(seconds=1)
    for i in range(count):
        Check.objects.create(
            org=org, system=system, name=f"c{i}", kind="http",
            config={"url": f"http://127.0.0.1:{port}/c{i}"},
            interval_seconds=interval, retries=0, timeout_seconds=2,
            # Spread over the interval, as real schedules are.
            next_run_at=start + timedelta(seconds=interval * i / count),
        )
    """
)


@pytest.fixture
def database():
    """A fresh PostgreSQL database of this test's own; its URL."""
    with fresh_database("fallback_engine_workers") as found:
        yield found


def _env(db_url: str, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        FALLBACK_HOME=str(home),
        FALLBACK_SECRET_KEY="shared-secret-for-the-two-workers-test",
        DJANGO_SETTINGS_MODULE="fallback.settings",
        PYTHONUNBUFFERED="1",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def _gaps(hits: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(hits)]


def test_two_workers_run_each_check_once_per_interval_and_survive_a_kill(database, tmp_path):
    db_url, server_url, name = database
    target = Target().start()
    workers: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        seed = subprocess.run(
            [sys.executable, "-c", SEED, str(target.port), str(CHECKS), str(INTERVAL)],
            env=_env(db_url, tmp_path / "seed"),
            capture_output=True,
            timeout=120,
        )
        assert seed.returncode == 0, seed.stderr.decode()
        for n in (1, 2):
            log = (tmp_path / f"worker{n}.log").open("wb")
            logs.append(log)
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "fallback", "worker"],
                    env=_env(db_url, tmp_path / f"w{n}"),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        db = connect(server_url, name)

        def claimers() -> set[str]:
            rows = db.execute("SELECT DISTINCT claimed_by FROM monitor_check").fetchall()
            return {r[0] for r in rows if r[0]}

        def pid_of(worker_id: str) -> int:
            return int(worker_id.rsplit("-", 2)[1])  # hostname-pid-random

        # Both workers up: each has claimed something.
        pids = {w.pid for w in workers}
        deadline = time.monotonic() + 60
        seen: set[int] = set()
        while time.monotonic() < deadline and seen != pids:
            seen |= {pid_of(c) for c in claimers()}
            time.sleep(0.1)
        assert seen == pids, f"not both workers claimed checks: {seen} of {pids}"

        # Phase 1: both running (after the start-up's late runs have settled).
        time.sleep(2 * INTERVAL)
        start = time.monotonic()
        time.sleep(WATCH)
        end = time.monotonic()
        for i in range(CHECKS):
            hits = [t for t in target.hits[f"/c{i}"] if start - INTERVAL <= t <= end]
            within = [t for t in hits if t >= start]
            assert WATCH / INTERVAL <= len(within) <= WATCH / INTERVAL + 1, (i, within)
            # Never twice in an interval; a late run is followed by the next on-time one, at
            # least half an interval later (so gaps stay within 0.5-1.5 intervals).
            assert all(INTERVAL * 0.45 <= g < INTERVAL * 1.5 + 0.25 for g in _gaps(hits)), (i, hits)

        # Phase 2: kill one worker without warning; the other takes over.
        victim, survivor = workers
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed = time.monotonic()
        time.sleep(WATCH)
        end = time.monotonic()
        for i in range(CHECKS):
            hits = [t for t in target.hits[f"/c{i}"] if killed - INTERVAL <= t <= end]
            after = [t for t in hits if t > killed]
            assert len(after) >= WATCH / INTERVAL - 1, (i, after)
            gaps = _gaps(hits)
            assert all(g <= 2 * INTERVAL + 0.5 for g in gaps), (i, hits)  # within two intervals
            assert all(g >= INTERVAL * 0.45 for g in gaps), (i, hits)  # and still never twice
            assert end - hits[-1] <= INTERVAL + 0.5, (i, hits)
        assert {pid_of(c) for c in claimers()} == {survivor.pid}

        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0
        db.close()
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(10)
        for log in logs:
            log.close()
        target.stop()
        for n in (1, 2):  # shown when the test fails
            path = tmp_path / f"worker{n}.log"
            if path.exists():
                print(f"--- worker {n}\n{path.read_text()}")
