"""Many aggregates read in a few queries, for commands that touch thousands (the year-end close).

`Repository.get` costs a round trip or two per aggregate, and the library's projector asks a
runtime protocol of every event; closing a county's ~10,000 allocations one by one took
minutes. Here the stored events of a chunk of aggregates come in one `SELECT … IN (…)`,
are decoded with the application's own transcoder (upcasting through the mapper when an
event was stored at an older class version), and folded with each event's `mutate`. Snapshots
are not consulted: an allocation rarely reaches one, and the fold gives the same state.
The in-memory store (tests) falls back to `Repository.get`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

IDS_PER_QUERY_MAX = 500


@lru_cache(maxsize=256)
def _event_class(topic: str) -> type[Any]:
    return resolve_topic(topic)


def read_aggregates(application: Any, aggregate_ids: Iterable[UUID]) -> dict[UUID, Any]:
    """The current state of each aggregate that exists among `aggregate_ids`."""
    ids = list(dict.fromkeys(aggregate_ids))
    recorder = application.recorder
    # PostgreSQL: the recorder's own query of many aggregates (api/event_store.py). The
    # recorder's module is the application's (api.event_store), so it is found by what it
    # can do: looking for the library's module name sent every read one by one (30/s).
    select_many = getattr(recorder, "select_events_of_many", None)
    if select_many is not None:
        def select(ids_: list[UUID]) -> Iterable[StoredEvent]:
            return [e for events in select_many(ids_).values() for e in events]
    elif type(recorder).__module__.endswith("sqlite"):
        def select(ids_: list[UUID]) -> Iterable[StoredEvent]:
            return _sqlite_select(recorder, ids_)
    else:
        return {i: application.repository.get(i) for i in ids}
    aggregates: dict[UUID, Any] = {}
    for start in range(0, len(ids), IDS_PER_QUERY_MAX):
        by_originator: dict[UUID, list[StoredEvent]] = defaultdict(list)
        for stored in select(ids[start:start + IDS_PER_QUERY_MAX]):
            # PostgreSQL gives UUIDs already; parsing each event's id twice over was a tenth
            # of a cold close.
            originator = stored.originator_id
            by_originator[originator if type(originator) is UUID
                          else UUID(str(originator))].append(stored)
        for aggregate_id, stored_events in by_originator.items():
            aggregate = None
            for stored in stored_events:
                aggregate = _decode(application, stored, aggregate_id).mutate(aggregate)
            aggregates[aggregate_id] = aggregate
    return aggregates


def _decode(application: Any, stored: StoredEvent, originator_id: UUID) -> Any:
    cls = _event_class(stored.topic)
    mapper = application.mapper
    if mapper.cipher or mapper.compressor:
        return mapper.to_domain_event(stored)
    state: dict[str, Any] = mapper.transcoder.decode(stored.state)
    if "class_version" in state:
        return mapper.to_domain_event(stored)
    state["originator_id"] = originator_id
    state["originator_version"] = stored.originator_version
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event


def _sqlite_select(recorder: Any, ids: list[UUID]) -> list[StoredEvent]:
    marks = ", ".join("?" * len(ids))
    statement = (f"SELECT originator_id, originator_version, topic, state "  # noqa: S608
                 f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                 "ORDER BY originator_id, originator_version")
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(statement, [i.hex for i in ids])
        return [StoredEvent(originator_id=row["originator_id"],
                            originator_version=row["originator_version"], topic=row["topic"],
                            state=bytes(row["state"])) for row in c.fetchall()]
