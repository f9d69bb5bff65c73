"""Fetch the next pages while this one is mapped and staged: a producer thread, a short queue.

Waiting on the source (network, the server building its page) then overlaps with Fallback's
own work instead of adding to it. The queue is bounded, so memory stays a few pages deep.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

DEPTH = 4
_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(pages: Iterator[T], depth: int = DEPTH) -> Iterator[T]:
    """Yield what `pages` yields, produced ahead in another thread; its errors re-raised here."""
    box: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        box.put(page, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(_Failed(exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None and stop.is_set():
                close()

    thread = threading.Thread(target=produce, name="fallback-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(0.1)
