"""What a writing process remembers of the aggregates it wrote and consulted, so that its next
commands start without reading them from the store.

Another process's write makes an entry stale. For a written aggregate the store then refuses
the save (optimistic concurrency on its version); for one only consulted (the closed months),
the store checks at the save that it is still at the version consulted, where it can
(`checks_consulted` recorders: PostgreSQL, under the table lock every write takes). Either
refusal forgets everything remembered here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.limits import RECENT_AGGREGATES_MAX


class RecentAggregates:
    def __init__(self) -> None:
        self._written: OrderedDict[UUID, Aggregate] = OrderedDict()
        # Consulted without changing (None: known not to exist), as last read or written here.
        self._consulted: dict[UUID, Aggregate | None] = {}
        self._lock = threading.Lock()

    def remember(self, aggregates: Iterable[Aggregate]) -> None:
        with self._lock:
            for aggregate in aggregates:
                self._written[aggregate.id] = aggregate
                self._written.move_to_end(aggregate.id)
                if aggregate.id in self._consulted:
                    self._consulted[aggregate.id] = aggregate
            while len(self._written) > RECENT_AGGREGATES_MAX:
                self._written.popitem(last=False)

    def recall(self, aggregate_id: UUID) -> Aggregate | None:
        with self._lock:
            return self._written.get(aggregate_id)

    def consulted(self, aggregate_id: UUID, read: Callable[[], Aggregate | None]
                  ) -> Aggregate | None:
        """As remembered, else read (and remembered)."""
        with self._lock:
            if aggregate_id in self._consulted:
                return self._consulted[aggregate_id]
        found = read()
        with self._lock:
            self._consulted[aggregate_id] = found
        return found

    def forget(self) -> None:
        with self._lock:
            self._written.clear()
            self._consulted.clear()
