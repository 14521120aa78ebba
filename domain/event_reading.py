"""Many aggregates read in a few queries, for commands that touch thousands (the year-end close).

`Repository.get` costs a round trip or two per aggregate, and the library's projector asks a
runtime protocol of every event; closing a county's ~10,000 allocations one by one took
minutes. Here the stored events of a chunk of aggregates come in one `SELECT … IN (…)`,
are decoded with the application's own transcoder (upcast by the event classes' own steps when
an event was stored at an older class version), and folded with each event's `mutate`. Snapshots
are not consulted: an allocation rarely reaches one, and the fold gives the same state.
The in-memory store (tests) falls back to `Repository.get`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent, find_id_convertor
from eventsourcing.utils import resolve_topic

from domain.transcodings import FastJSONTranscoder, SharedValues, shared_id, shared_values

IDS_PER_QUERY_MAX = 500


@lru_cache(maxsize=256)
def event_class(topic: str) -> type[Any]:
    """The event class of a stored topic (the library's resolution, renamed topics included),
    resolved once per process."""
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
    return decode_event(application.mapper, stored, originator_id)


def decode_page(mapper: Mapper[UUID], stored_events: Sequence[StoredEvent]) -> list[Any]:
    """The domain events of a page of stored events (a page of the notification log), as
    `mapper.to_domain_event` gives them — upcast alike — but decoded faster: the ids and days
    the page's events repeat are parsed once and shared (FastJSONTranscoder.decode_sharing)."""
    shared = shared_values()
    return [decode_event(mapper, stored, stored.originator_id, shared) for stored in stored_events]


def decode_event(mapper: Mapper[UUID], stored: StoredEvent, originator_id: UUID | str,
                 shared: SharedValues | None = None) -> Any:
    """`mapper.to_domain_event(stored)`, with the event's topic resolved once per process
    and, with `shared`, the page's repeated ids and days shared. The upcasting steps are the
    library's own (each event class's `upcast_vN_vN+1` from the stored `class_version` up),
    so an event stored by an earlier release reads as the mapper reads it."""
    transcoder = mapper.transcoder
    if mapper.cipher or mapper.compressor or not isinstance(transcoder, FastJSONTranscoder):
        return mapper.to_domain_event(stored)
    cls = event_class(stored.topic)
    state: dict[str, Any] = transcoder.decode_sharing(stored.state, shared)
    originator = find_id_convertor(cls, type(originator_id))(originator_id)
    if shared is not None and type(originator) is UUID:
        originator = shared_id(shared, originator)
    state["originator_id"] = originator
    state["originator_version"] = stored.originator_version
    class_version = getattr(cls, "class_version", 1)
    from_version = state.pop("class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
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
