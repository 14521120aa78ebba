"""The interpreter's cyclic garbage collector, tuned for a process that serves writes.

A writing server holds thousands of aggregates (the recent ones it wrote, a group commit's
batch of 1,500 events and their working copies), and a batch of 500 expenditures allocates
hundreds of thousands of short-lived objects. With CPython's default thresholds (700, 10, 10)
the youngest generation is collected every 700 allocations and every collection of the older
ones walks that whole heap; the server's profile charged the pauses to whichever line
allocated (a generator expression, a closure, a dict comprehension). Nothing here holds
reference cycles that must be freed promptly: the objects made at start-up are frozen out of
every later collection, and the youngest generation is collected every GEN0_ALLOCATIONS.
"""

from __future__ import annotations

import gc

GEN0_ALLOCATIONS = 50_000
GEN1_COLLECTIONS = 20
GEN2_COLLECTIONS = 100


def tune_for_serving() -> None:
    """For a server's or committer's process, once its app is built."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_ALLOCATIONS, GEN1_COLLECTIONS, GEN2_COLLECTIONS)
