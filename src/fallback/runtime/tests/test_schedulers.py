import threading

from fallback.runtime import schedulers


def test_registered_job_is_listed():
    assert "housekeeping" in {j.name for j in schedulers.registered()}


def test_failing_job_does_not_stop_the_others():
    ran = threading.Event()

    def boom() -> None:
        raise RuntimeError("boom")

    loop = schedulers.SchedulerLoop(
        [schedulers.Job("boom", 0.01, boom), schedulers.Job("ok", 0.01, ran.set)], tick=0.01
    )
    loop.start()
    try:
        assert ran.wait(2)
    finally:
        loop.stop()
        loop.join(2)
    assert not loop.is_alive()


def test_job_runs_again_after_its_interval():
    calls: list[int] = []
    done = threading.Event()

    def count() -> None:
        calls.append(1)
        if len(calls) >= 3:
            done.set()

    loop = schedulers.SchedulerLoop([schedulers.Job("count", 0.02, count)], tick=0.01)
    loop.start()
    try:
        assert done.wait(3)
    finally:
        loop.stop()
        loop.join(2)
