import time

import pytest

from fallback.monitor import runner
from fallback.monitor.engine import Engine
from fallback.monitor.runner import EngineThread
from fallback.runtime.processes import Background

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_idle_engine_stops_promptly():
    thread = EngineThread("idle", poll=0.05)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    thread.stop()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 3


def test_stop_before_the_loop_runs_still_stops():
    thread = EngineThread("early")
    thread.stop()
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def test_the_engine_starts_again_after_a_crash(monkeypatch):
    calls = []
    real_run = Engine.run

    async def crash_once(self, stop):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        await real_run(self, stop)

    monkeypatch.setattr(Engine, "run", crash_once)
    monkeypatch.setattr(runner, "RESTART_DELAY", 0.05)
    thread = EngineThread("phoenix", poll=0.05)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(calls) == 2 and thread.is_alive()
    finally:
        thread.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_serve_and_worker_background_runs_the_engine():
    background = Background("worker", task_interval=0.05)
    background.start()
    try:
        assert background.engine.is_alive()
        assert background.engine.engine.worker_id == background.worker_id
    finally:
        background.stop()
    assert not background.engine.is_alive()
