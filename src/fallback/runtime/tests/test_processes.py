"""The worker really runs tasks; `serve` starts from nothing, answers, and stops on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django_tasks import TaskResultStatus

from fallback.runtime.models import WorkerHeartbeat
from fallback.runtime.processes import Background
from fallback.runtime.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_background_runs_an_enqueued_task_and_beats():
    background = Background("worker", task_interval=0.05)
    background.start()
    try:
        result = ping.enqueue("n1")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            result.refresh()
            if result.status == TaskResultStatus.SUCCESSFUL:
                break
            time.sleep(0.05)
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value["nonce"] == "n1"
        assert WorkerHeartbeat.objects.filter(worker_id=background.worker_id).exists()
    finally:
        background.stop()
    assert WorkerHeartbeat.objects.get(worker_id=background.worker_id).stopped_at is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fallback(*args: str, home: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["FALLBACK_HOME"] = str(home)
    return subprocess.Popen(
        [sys.executable, "-m", "fallback", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_serve_on_empty_folder_answers_healthz_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    home = tmp_path / "fresh"
    proc = _fallback("serve", "--port", str(port), home=home)
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    body = json.load(r)
            except OSError:
                time.sleep(0.05)
        assert body == {"status": "ok", "database": "ok", "version": body and body["version"]}
        assert (home / "fallback.sqlite3").exists() and (home / "secret_key").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, out
    assert "stopped" in out


def test_settling_memory_puts_start_up_objects_out_of_the_collectors_reach():
    import gc

    from fallback.runtime.processes import settle_memory

    try:
        settle_memory()
        assert gc.get_freeze_count() > 10_000  # modules, URL patterns, templates: all of it
    finally:
        gc.unfreeze()
