"""Snapshots kept off the write path, by the process that follows the log for the views.

A write snapshots an aggregate at each multiple of its kind's interval (an allocation every
100 events). A year's allocation holds ~28 events and never reaches one, so a cold year-end
close decoded every event of every allocation: most of its time. Snapshots every 20 events on
the write path made the close 1.65x faster but batch writes ~30 % slower (docs/benchmarks.md),
so the write path keeps its interval, and the views' runner keeps the others: after a page of
the log is applied, each aggregate of a kind kept here whose events in that page reached a
multiple of `kept_every` is snapshotted at its latest version. The keeper holds the aggregates
it snapshotted and folds each page's decoded events onto them, so a runner in step with the
writes takes its snapshots without reading the store; one it does not hold is read from its
latest snapshot.

- Not at a multiple of the write path's interval, which the write path takes. The write path
  snapshots an aggregate as it saved it, so a batch crossing a multiple snapshots at the
  batch's last version, which the keeper may take as well, or first: the snapshot store passes
  over a snapshot of a version it holds (the same state), whichever process comes second.
- Not twice at one version: a page seen again after a restart finds its snapshot taken.
- A snapshot is derived data, sealed like any other (domain/snapshot_seal.py) and checked by
  `fundledger verify` against a replay. Failing to keep one costs only speed: the caller logs it
  and goes on.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from domain.event_reading import event_class, originator_uuid, read_aggregates_and_snapshots

# (aggregate id, its version after the event, the event's topic): what a page of the log tells.
LoggedEvent = tuple[UUID | str, int, str]
# Aggregates a follower holds between their snapshots: a county's open allocations.
HELD_MAX = 20_000


def aggregate_kind(topic: str) -> type | None:
    """The aggregate class whose event this topic names (`Allocation` for
    `domain.allocation:Allocation.Spent`), or None for an event declared outside one."""
    return _aggregate_of(event_class(topic))


@lru_cache(maxsize=512)
def _aggregate_of(cls: type) -> type | None:
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
        write_intervals: Mapping[type, int]) -> dict[UUID, int]:
    """The aggregates among `events` whose version reached a multiple of their kind's
    `kept_every` that the write path does not snapshot itself, each with the last version
    `events` give it."""
    last: dict[UUID, int] = {}
    found: dict[UUID, None] = {}
    # Per topic: its kind's (kept_every, write interval or 0), or None for a kind not kept.
    rules: dict[str, tuple[int, int] | None] = {}
    for originator_id, version, topic in events:
        try:
            rule = rules[topic]
        except KeyError:
            kind = aggregate_kind(topic)
            every = kept_every.get(kind) if kind is not None else None
            rule = rules[topic] = (None if every is None
                                   else (every, write_intervals.get(kind, 0)))  # type: ignore[arg-type]
        if rule is None:
            continue
        aggregate_id = originator_uuid(originator_id)
        last[aggregate_id] = version
        if version % rule[0] == 0 and (not rule[1] or version % rule[1]):
            found[aggregate_id] = None
    return {aggregate_id: last[aggregate_id] for aggregate_id in found}


class SnapshotKeeper:
    """Keeps the snapshots of one follower of the log. It holds the aggregates of the kinds it
    keeps, from their first event or their last snapshot (at most `held_max`, the least
    recently created or snapshotted dropped first), and folds each page's decoded events onto
    them, so that a follower in step with the writes snapshots without reading the store; an
    aggregate it does not hold, or whose events it missed (a view reads none of them, a
    restart), is read from its latest snapshot."""

    def __init__(self, application: Any, held_max: int = HELD_MAX) -> None:
        self.application = application
        self.held_max = held_max
        # Per aggregate (by its id's integer: hashed in C, where a UUID hashes in Python): its
        # state, and the version of its latest snapshot.
        self._held: OrderedDict[int, list[Any]] = OrderedDict()

    def keep(self, logged: Sequence[LoggedEvent], decoded: Iterable[Any] = ()) -> int:
        """Snapshots the aggregates the page `logged` makes due, each at its latest version;
        `decoded`: the page's events as decoded from the stored bytes, in log order (any may
        be missing). Answers how many snapshots were taken."""
        application = self.application
        kept_every: Mapping[type, int] = application.snapshots_kept_every
        if application.snapshots is None or not kept_every:
            return 0
        held = self._held
        self._fold(decoded, kept_every)
        logged_to = due(logged, kept_every, application.snapshotting_intervals)
        if not logged_to:
            return 0
        taken: list[tuple[list[Any], Any]] = []
        unread = []
        for aggregate_id, version in logged_to.items():
            entry = held.get(aggregate_id.int)
            if entry is not None and entry[0].version >= version:
                self._take(entry, taken)
                held.move_to_end(aggregate_id.int)
            else:
                unread.append(aggregate_id)
        if unread:
            aggregates, snapshotted_at = read_aggregates_and_snapshots(application, unread)
            for aggregate_id, aggregate in aggregates.items():
                entry = held[aggregate_id.int] = [aggregate, snapshotted_at.get(aggregate_id, 0)]
                self._take(entry, taken)
        if taken:
            application.snapshots.put([snapshot for _, snapshot in taken])
            for entry, snapshot in taken:
                entry[1] = snapshot.originator_version
        while len(held) > self.held_max:
            held.popitem(last=False)
        return len(taken)

    def _fold(self, decoded: Iterable[Any], kept_every: Mapping[type, int]) -> None:
        """The page's events folded onto the aggregates held, each in version order; an
        aggregate of a kind kept is held from its first event, and one whose next event is
        missing is dropped (it is read again when next due)."""
        held = self._held
        kept: dict[type, bool] = {}
        for event in decoded:
            cls = type(event)
            is_kept = kept.get(cls)
            if is_kept is None:
                is_kept = kept[cls] = _aggregate_of(cls) in kept_every
            if not is_kept:
                continue
            version = event.originator_version
            key = event.originator_id.int
            entry = held.get(key)
            if entry is None:
                if version == 1:
                    held[key] = [event.mutate(None), 0]
            elif version == entry[0].version + 1:
                event.mutate(entry[0])
            elif version > entry[0].version:
                del held[key]

    def _take(self, entry: list[Any], taken: list[tuple[list[Any], Any]]) -> None:
        aggregate, snapshotted = entry
        interval = self.application.snapshotting_intervals.get(type(aggregate))
        if aggregate.version == snapshotted or (
                interval is not None and aggregate.version % interval == 0):
            return
        taken.append((entry, type(aggregate).Snapshot.take(aggregate)))


def keep_snapshots_of(application: Any, logged: Iterable[LoggedEvent],
                      chunk: int = 5_000) -> int:
    """`SnapshotKeeper.keep` over a long stretch of the log, `chunk` events at a time (a store
    written while no runner followed it, as the benchmark's generator writes); answers how many
    were taken."""
    keeper = SnapshotKeeper(application)
    taken = 0
    page: list[LoggedEvent] = []
    for event in logged:
        page.append(event)
        if len(page) >= chunk:
            taken += keeper.keep(page)
            page = []
    return taken + (keeper.keep(page) if page else 0)
