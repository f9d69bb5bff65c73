"""The spool file is sent to disk while it is written (so the destination's fsync waits for
little), and holds exactly what was written."""

from __future__ import annotations

import itertools
import os
import sys

import pytest

from fallback.vault import writeback
from fallback.vault.writeback import WrittenBack


def test_every_range_written_is_sent_to_disk_as_it_goes_and_nothing_is_lost(tmp_path, monkeypatch):
    if sys.platform != "linux":
        pytest.skip("sync_file_range is Linux's")
    real = writeback._START_WRITING
    assert real is not None
    sent: list[tuple[int, int]] = []

    def record(fd: int, offset: int, length: int, flags: int) -> int:
        sent.append((offset, length))
        return int(real(fd, offset, length, flags))

    monkeypatch.setattr(writeback, "_START_WRITING", record)
    monkeypatch.setattr(writeback, "EVERY", 1000)
    data = os.urandom(10_500)
    target = tmp_path / "snapshot.partial"
    with target.open("wb") as out:
        file = WrittenBack(out)
        for start in range(0, len(data), 700):
            assert file.write(data[start : start + 700]) == len(data[start : start + 700])
        file.flush()
    assert target.read_bytes() == data
    # One range after another from the start, each of at least EVERY bytes.
    assert sent[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(sent))
    assert all(n >= 1000 for _, n in sent)
    assert sum(n for _, n in sent) > len(data) - 1000
