"""Snapshots kept off the write path, by the process that follows the log for the views.

A write snapshots an aggregate at each multiple of its kind's interval (an allocation every
100 events). A year's allocation holds ~28 events and never reaches one, so a cold year-end
close decoded every event of every allocation: most of its time. Snapshots every 20 events on
the write path made the close 1.65x faster but batch writes ~30 % slower (docs/benchmarks.md),
so the write path keeps its interval, and the views' runner keeps the others: after a page of
the log is applied, each aggregate of a kind kept here whose events in that page reached a
multiple of `kept_every` is read (from its latest snapshot) and snapshotted at its version.

- Never at a multiple of the write path's interval: the write path takes that one, and two
  snapshots at one version would clash in the store.
- Never twice at one version: a page seen again after a restart finds its snapshot taken.
- A snapshot is derived data, sealed like any other (domain/snapshot_seal.py) and checked by
  `fundledger verify` against a replay. Failing to keep one costs only speed: the caller logs it
  and goes on.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from uuid import UUID

from domain.event_reading import event_class, read_aggregates_and_snapshots

# (aggregate id, its version after the event, the event's topic): what a page of the log tells.
LoggedEvent = tuple[UUID | str, int, str]


@lru_cache(maxsize=512)
def aggregate_kind(topic: str) -> type | None:
    """The aggregate class whose event this topic names (`Allocation` for
    `domain.allocation:Allocation.Spent`), or None for an event declared outside one."""
    cls = event_class(topic)
    outer = cls.__qualname__.rpartition(".")[0]
    if not outer:
        return None
    found = sys.modules[cls.__module__]
    for name in outer.split("."):
        found = getattr(found, name, None)
        if found is None:
            return None
    return found if isinstance(found, type) else None


def due(events: Iterable[LoggedEvent], kept_every: Mapping[type, int],
        write_intervals: Mapping[type, int]) -> list[UUID]:
    """The aggregates among `events` whose version reached a multiple of their kind's
    `kept_every` that the write path does not snapshot itself."""
    found: dict[UUID, None] = {}
    for originator_id, version, topic in events:
        kind = aggregate_kind(topic)
        every = kept_every.get(kind) if kind is not None else None
        if every is None or version % every:
            continue
        interval = write_intervals.get(kind)  # type: ignore[arg-type]
        if interval is not None and version % interval == 0:
            continue
        found[originator_id if type(originator_id) is UUID else UUID(str(originator_id))] = None
    return list(found)


def keep_snapshots(application: Any, events: Iterable[LoggedEvent]) -> int:
    """Snapshots the aggregates `events` make due, each at its current version; answers how
    many were taken."""
    kept_every: Mapping[type, int] = application.snapshots_kept_every
    if application.snapshots is None or not kept_every:
        return 0
    write_intervals: Mapping[type, int] = application.snapshotting_intervals
    ids = due(events, kept_every, write_intervals)
    if not ids:
        return 0
    aggregates, snapshotted_at = read_aggregates_and_snapshots(application, ids)
    taken = []
    for aggregate_id, aggregate in aggregates.items():
        interval = write_intervals.get(type(aggregate))
        if snapshotted_at.get(aggregate_id) == aggregate.version or (
                interval is not None and aggregate.version % interval == 0):
            continue
        taken.append(type(aggregate).Snapshot.take(aggregate))
    if taken:
        application.snapshots.put(taken)
    return len(taken)


def keep_snapshots_of(application: Any, logged: Iterable[LoggedEvent],
                      chunk: int = 5_000) -> int:
    """`keep_snapshots` over a long stretch of the log, `chunk` events at a time (a store
    written while no runner followed it, as the benchmark's generator writes); answers how many
    were taken."""
    taken = 0
    page: list[LoggedEvent] = []
    for event in logged:
        page.append(event)
        if len(page) >= chunk:
            taken += keep_snapshots(application, page)
            page = []
    return taken + (keep_snapshots(application, page) if page else 0)
