from __future__ import annotations

import pytest

from fallback.simulator.runner import Simulator


@pytest.fixture
def sim(tmp_path):
    """A simulator of the default business on a free loopback port."""
    simulator = Simulator("127.0.0.1", 0, home=tmp_path).start()
    simulator.service.slow_seconds = 0.3
    yield simulator
    simulator.stop()
