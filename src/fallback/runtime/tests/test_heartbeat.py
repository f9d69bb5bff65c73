from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from fallback.runtime import heartbeat
from fallback.runtime.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_beat_creates_then_touches_one_row():
    heartbeat.beat("w1", "worker")
    heartbeat.beat("w1", "worker")
    assert WorkerHeartbeat.objects.count() == 1
    assert [w.worker_id for w in heartbeat.alive_workers()] == ["w1"]


def test_worker_silent_for_a_minute_is_not_alive():
    heartbeat.beat("w1", "worker")
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert heartbeat.alive_workers() == []


def test_stopped_worker_is_not_alive():
    heartbeat.beat("w1", "serve")
    heartbeat.stopped("w1")
    assert heartbeat.alive_workers() == []


def test_prune_removes_only_old_rows():
    heartbeat.beat("old", "worker")
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        heartbeat.beat("new", "worker")
        assert heartbeat.prune() == 1
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["new"]
