"""Many aggregates read in a few queries, for commands that touch thousands (the year-end close).

`Repository.get` costs a round trip or two per aggregate, and the library's projector asks a
runtime protocol of every event; closing a county's ~10,000 allocations one by one took
minutes. Here a chunk of aggregates is read in two queries: the latest snapshot of each (one
whose seal fails is reported and passed over, as `Repository.get` passes it over), then the
events after it — all of them where there is none. The stored events are decoded with the
application's own transcoder (upcast by the event classes' own steps when an event was stored
at an older class version), and folded with each event's `mutate` onto the snapshot's state.
A year's allocations averaged ~28 events each, a benchmark's hundreds, and decoding them was
most of a cold close. The in-memory store (tests) falls back to `Repository.get`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Mapper, StoredEvent, find_id_convertor
from eventsourcing.utils import resolve_topic

from domain.transcodings import FastJSONTranscoder, SharedValues, shared_id, shared_values

IDS_PER_QUERY_MAX = 500
T = TypeVar("T")

# A chunk's stored events after the versions given (all of them for an id not given), by id.
SelectAfter = Callable[[list[UUID], Mapping[UUID, int]], Mapping[UUID, list[StoredEvent]]]
# A chunk's latest stored snapshots, by id.
SelectLatest = Callable[[list[UUID]], Iterable[StoredEvent]]


@lru_cache(maxsize=256)
def event_class(topic: str) -> type[Any]:
    """The event class of a stored topic (the library's resolution, renamed topics included),
    resolved once per process."""
    return resolve_topic(topic)


def read_aggregate(application: Any, aggregate_id: UUID) -> Any:
    """One aggregate, from its latest sealed snapshot and the events after it: in one query
    where the store can (PostgreSQL), else as the library's repository reads it. A snapshot
    whose seal fails is left out and the aggregate replayed from its first event, as the
    repository does."""
    select = getattr(application.recorder, "select_snapshot_and_events", None)
    table = _snapshot_table(application)
    if select is None or table is None:
        return application.repository.get(aggregate_id)
    snapshot, stored_events = select(table, aggregate_id)
    opened = application.snapshots.opened([snapshot]) if snapshot is not None else []
    if snapshot is not None and not opened:
        stored_events = list(application.recorder.select_events(aggregate_id))
    aggregate = _folded(application, aggregate_id, opened[0] if opened else None, stored_events)
    if aggregate is None:
        raise AggregateNotFoundError(aggregate_id)
    return aggregate


def _folded(application: Any, aggregate_id: UUID, snapshot: StoredEvent | None,
            stored_events: Iterable[StoredEvent]) -> Any:
    """The aggregate from its (opened) snapshot, if any, and the stored events after it."""
    aggregate = None if snapshot is None else _decode(application, snapshot, aggregate_id).mutate(None)
    for stored in stored_events:
        aggregate = _decode(application, stored, aggregate_id).mutate(aggregate)
    return aggregate


def read_aggregates(application: Any, aggregate_ids: Iterable[UUID]) -> dict[UUID, Any]:
    """The current state of each aggregate that exists among `aggregate_ids`."""
    return read_aggregates_and_snapshots(application, aggregate_ids)[0]


def read_aggregates_and_snapshots(application: Any, aggregate_ids: Iterable[UUID]
                                  ) -> tuple[dict[UUID, Any], dict[UUID, int]]:
    """As `read_aggregates`, with the version of the snapshot each was read from (none for
    one replayed from its first event)."""
    ids = list(dict.fromkeys(aggregate_ids))
    selects = _selects(application)
    if selects is None:
        found = {}
        for i in ids:
            try:
                found[i] = application.repository.get(i)
            except AggregateNotFoundError:
                continue
        return found, {}
    select_after, select_latest = selects
    snapshots = application.snapshots

    def fetch(chunk: list[UUID]) -> tuple[list[StoredEvent], Mapping[UUID, list[StoredEvent]]]:
        """A chunk's latest sealed snapshots and the stored events after them."""
        opened = ([] if snapshots is None or select_latest is None
                  else snapshots.opened(select_latest(chunk)))
        after = {originator_uuid(s.originator_id): s.originator_version for s in opened}
        return opened, select_after(chunk, after)

    aggregates: dict[UUID, Any] = {}
    snapshot_versions: dict[UUID, int] = {}
    chunks = [ids[start:start + IDS_PER_QUERY_MAX] for start in range(0, len(ids), IDS_PER_QUERY_MAX)]
    for opened, after in fetched_ahead(fetch, chunks, ahead=reads_in_threads(application)):
        by_id = {originator_uuid(s.originator_id): s for s in opened}
        snapshot_versions.update((i, s.originator_version) for i, s in by_id.items())
        events = {originator_uuid(originator): found for originator, found in after.items()}
        aggregates.update((i, _folded(application, i, by_id.get(i), events.get(i, ())))
                          for i in by_id.keys() | events.keys())
    return aggregates, snapshot_versions


def fetched_ahead(fetch: Callable[[list[UUID]], T], chunks: list[list[UUID]], *, ahead: bool
             ) -> Iterator[T]:
    """Each chunk's `fetch`, in order; with `ahead`, the next chunk's is read in a thread
    while the caller decodes this one. Decoding a cold close's chunks and waiting for their
    queries took about as long each, one after the other, while the database's core idled."""
    if not ahead or len(chunks) < 2:
        yield from (fetch(chunk) for chunk in chunks)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as reader:
        coming = reader.submit(fetch, chunks[0])
        for chunk in chunks[1:]:
            current = coming.result()
            coming = reader.submit(fetch, chunk)
            yield current
        yield coming.result()


def reads_in_threads(application: Any) -> bool:
    # A PostgreSQL recorder reads from a pool of connections; SQLite's and the in-memory
    # store's connections belong to the thread that opened them.
    return getattr(application.recorder, "select_events_of_many", None) is not None


def events_of_many(application: Any, aggregate_ids: Sequence[UUID]
                   ) -> Mapping[UUID, list[StoredEvent]]:
    """The stored events of each of `aggregate_ids` (at most IDS_PER_QUERY_MAX), in version
    order, in one query where the store can."""
    selects = _selects(application)
    if selects is None:
        return {i: list(application.events.recorder.select_events(i)) for i in aggregate_ids}
    return {originator_uuid(i): events for i, events in selects[0](list(aggregate_ids), {}).items()}


def originator_uuid(originator: UUID | str) -> UUID:
    # PostgreSQL gives UUIDs already; parsing each event's id twice over was a tenth of a cold
    # close.
    return originator if type(originator) is UUID else UUID(str(originator))


def _snapshot_table(application: Any) -> str | None:
    """The table of the application's snapshots, or None (no snapshots, or not in a table)."""
    return getattr(getattr(application.snapshots, "recorder", None), "events_table_name", None)


def _selects(application: Any) -> tuple[SelectAfter, SelectLatest | None] | None:
    """How this store reads many aggregates' events and latest snapshots, or None (the
    in-memory store)."""
    recorder = application.recorder
    snapshot_table = _snapshot_table(application)
    # PostgreSQL: the recorder's own queries of many aggregates (api/event_store.py). The
    # recorder's module is the application's (api.event_store), so it is found by what it
    # can do: looking for the library's module name sent every read one by one (30/s).
    select_many = getattr(recorder, "select_events_of_many", None)
    if select_many is not None:
        select_latest_of = recorder.select_latest_of_many
        return (select_many, None if snapshot_table is None else
                lambda ids: select_latest_of(snapshot_table, ids).values())
    if type(recorder).__module__.endswith("sqlite"):
        return (lambda ids, after: _sqlite_select(recorder, ids, after),
                None if snapshot_table is None else
                lambda ids: _sqlite_latest(recorder, snapshot_table, ids))
    return None


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


def _sqlite_select(recorder: Any, ids: list[UUID], after: Mapping[UUID, int]
                   ) -> dict[UUID, list[StoredEvent]]:
    """The events of `ids`, each after the version `after` gives it; those before are passed
    over here, undecoded (the file is local: reading them costs little)."""
    marks = ", ".join("?" * len(ids))
    statement = (f"SELECT originator_id, originator_version, topic, state "  # noqa: S608
                 f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                 "ORDER BY originator_id, originator_version")
    found: dict[UUID, list[StoredEvent]] = {}
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(statement, [i.hex for i in ids])
        for row in c.fetchall():
            originator = UUID(row["originator_id"])
            if row["originator_version"] > after.get(originator, 0):
                found.setdefault(originator, []).append(StoredEvent(
                    originator_id=originator, originator_version=row["originator_version"],
                    topic=row["topic"], state=bytes(row["state"])))
    return found


def _sqlite_latest(recorder: Any, table: str, ids: list[UUID]) -> list[StoredEvent]:
    """The latest row of each of `ids` in `table` (the snapshots), in one query."""
    marks = ", ".join("?" * len(ids))
    statement = (f"SELECT originator_id, originator_version, topic, state FROM {table} s "  # noqa: S608
                 f"WHERE originator_id IN ({marks}) AND originator_version = "
                 f"(SELECT MAX(originator_version) FROM {table} t "
                 "WHERE t.originator_id = s.originator_id)")
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(statement, [i.hex for i in ids])
        return [StoredEvent(originator_id=UUID(row["originator_id"]),
                            originator_version=row["originator_version"], topic=row["topic"],
                            state=bytes(row["state"])) for row in c.fetchall()]
