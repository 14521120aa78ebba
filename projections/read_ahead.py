"""Reading the next page of the log while the current one is worked on.

Verify alternates between waiting on the database (a page read) and Python work (hashing); a
daemon thread that reads one page ahead lets the database's work on the other core overlap the
interpreter's (+8 % on PostgreSQL). Tried for the view rebuild too, decoding ahead: slower
(the decoding thread and the writing one contend for the interpreter's lock), so not used.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
HAND_OVER_WAIT_SECONDS = 0.5


def read_ahead(pages: Iterator[T], name: str = "fundledger-read-ahead") -> Iterator[T]:
    """Yields what `pages` yields, one page ahead, produced in a daemon thread. An error in
    `pages` is raised to the consumer; a consumer that stops early (a mismatch found, a failed
    page) lets the thread end at its next hand-over."""
    handover: queue.Queue[object] = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def offer(item: object) -> bool:
        while not stopped.is_set():
            try:
                handover.put(item, timeout=HAND_OVER_WAIT_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not offer(page):
                    return
            offer(_DONE)
        except BaseException as error:  # handed to the consumer, who raises it
            offer(error)

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
    try:
        while True:
            item = handover.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stopped.set()
        producer.join(timeout=HAND_OVER_WAIT_SECONDS * 4)
