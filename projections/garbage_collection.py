"""The interpreter's cyclic garbage collector, tuned for processes that write or rebuild.

A writing server holds thousands of aggregates (the recent ones it wrote, a group commit's
batch of 1,500 events and their working copies); a batch of 500 expenditures, or a page of a
rebuild, allocates hundreds of thousands of short-lived objects. With CPython's default
thresholds (700, 10, 10) the youngest generation is collected every 700 allocations and each
collection of the older ones walks the whole heap: a server's profile charged the pauses to
whichever line allocated (a generator expression, a closure, a dict comprehension). Nothing
here relies on reference cycles being freed promptly. Measured (docs/benchmarks.md): HTTP
batches 1.5×, 64 single-write clients 1.6×, a rebuild ~1.2×.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

GEN0_ALLOCATIONS = 50_000
GEN1_COLLECTIONS = 20
GEN2_COLLECTIONS = 100
THRESHOLDS = (GEN0_ALLOCATIONS, GEN1_COLLECTIONS, GEN2_COLLECTIONS)


def tune_collector() -> None:
    """For a process that does nothing else (a server's worker, the committer, a rebuild's
    part), once it is set up: what it made at start-up is frozen out of every later
    collection, and the youngest generation is collected every GEN0_ALLOCATIONS."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


class _FewerCollections:
    """The thresholds are the process's: raised while any long piece of work runs (a rebuild in
    a server's thread, a CLI verb around it), put back as they were when the last one ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._before: tuple[int, int, int] = (0, 0, 0)

    @contextmanager
    def fewer(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._before = gc.get_threshold()
                gc.set_threshold(*THRESHOLDS)
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    gc.set_threshold(*self._before)


# The youngest generation collected every GEN0_ALLOCATIONS for the length of a long piece of
# work (a replay of the log, a CLI verb run in-process) in a process that may do other things,
# then as before. A page of a replay holds thousands of decoded events alive at once; with the
# default (700) the collector ran ~80 times a page, each walking what the page had built so far:
# ~10 % of a rebuild's CPU. Events are freed by reference counting once their page is written.
fewer_collections = _FewerCollections().fewer
