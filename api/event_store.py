"""The event store on PostgreSQL: the library's application recorder, with large saves copied.

The library writes a save as one INSERT of an array of every stored event, inside psycopg's
pipeline mode. Past roughly 10,000–30,000 events (a 50,000-row CSV import is 200,000) that
one message never completes: the client waits in `Pipeline.sync()` while the server waits for
the rest of the statement, forever (reproduced here with 30,000 events of 300 bytes, three
times out of three). Building the array also costs: psycopg dumps each event as a composite
in Python (~13 % of a bulk import).

A save of `COPY_EVENTS_MIN` events or more is therefore streamed with one binary COPY,
without the pipeline, in one transaction and under the library's own table lock: the lock
makes this transaction the only one taking notification ids, so the rows above the highest
id before the COPY are exactly this save's, in the order sent. Still one atomic save; a
clashing event anywhere undoes all of it. Measured: a generated year on PostgreSQL 7,472 →
9,514 events/s; HTTP writes through the group commit (64 clients, batches of ~200 events)
545 → 615/s. Smaller saves, a single command's, are one call of the events table's save
function (`SAVE_FUNCTION`): one statement, one round trip where the COPY takes five; a store
that has no such function yet sends the same work as pipelined statements.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.abc import Query
from psycopg.errors import DuplicateObject
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier, Literal

from projections.database import TABLE_CREATION_LOCK

COPY_EVENTS_MIN = 200  # below this, the COPY's extra round trips cost more than it saves
SAVE_FUNCTION = "{table}_save_v1"  # a new signature is a new name: old releases keep theirs
CONSULTED_CLASH = "FL409"  # the SQLSTATE the save function raises when a consulted aggregate moved


@dataclass(frozen=True)
class _SaveStatements:
    begin: bytes
    lock: tuple[bytes, ...]
    consulted_check: bytes
    notify: bytes
    insert: bytes
    commit: bytes
    call: bytes  # the save function's call, which does all of the above in one statement


class CreatedOneAtATime(PostgresAggregateRecorder):
    """Creates its tables, types and indexes in one transaction, under the lock every process
    of this store takes to create tables (projections/database.py TABLE_CREATION_LOCK). The
    library's `IF NOT EXISTS` is not enough when two processes create one table at once:
    PostgreSQL refuses the second, and a server whose workers start together stopped so."""

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (TABLE_CREATION_LOCK,))
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    # No `IF NOT EXISTS` for a type: a savepoint keeps its refusal local.
                    with suppress(DuplicateObject), curs.connection.transaction():
                        curs.execute(statement, prepare=False)
            self._create_table(curs)
            self._create_functions(curs)
        self.datastore.register_type_adapters()

    def _create_functions(self, curs: Cursor[DictRow]) -> None:
        """Functions of this store that its saves call (none here)."""


class CopyingPostgresRecorder(CreatedOneAtATime, PostgresApplicationRecorder):
    # A save may name aggregates it consulted without changing (`consulted`: id → version, 0
    # for none), checked under the table lock: a write since then refuses the save as a clash.
    checks_consulted = True
    _rendered: _SaveStatements | None = None  # rendered by the first save's connection
    # A store made by an older release has no save function until a process that creates
    # tables opens it (every `fundledger serve` does, at start); until then, the statements.
    _save_function_missing = False

    def refresh_statistics(self) -> None:
        """ANALYZE the event table, as autovacuum would once the table has grown. A bulk load
        asks for it itself (PostgreSQL's docs, "Populating a Database": run ANALYZE afterwards)
        because autovacuum may be off (it is on the machines this is measured on) or not yet
        round. Never analysed, the table's size alone guides the planner, which past about 3
        million events reads one aggregate's events with a parallel bitmap scan compiled by
        JIT: the 10M generation fell from ~4,400 to ~700 events/s (docs/benchmarks.md)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("ANALYZE {}.{}").format(Identifier(self.datastore.schema),
                                                      Identifier(self.events_table_name)))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions or not stored_events:
            assert not kwargs.get("consulted"), "no check of consulted aggregates on this path"
            return super().insert_events(stored_events, **kwargs)
        if len(stored_events) >= COPY_EVENTS_MIN:
            return self._copy_events(stored_events, **kwargs)
        # A save that tracks a position (a process application's) is not a command's: the
        # statements, with the library's hook for it.
        if not self._save_function_missing and kwargs.get("tracking") is None:
            saved = self._insert_in_one_statement(stored_events,
                                                  consulted=kwargs.get("consulted"))
            if saved is not None:
                return saved
        return self._insert_in_one_round_trip(stored_events, **kwargs)

    def _create_functions(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self._save_function_definition, prepare=False)

    @property
    def save_function_name(self) -> str:
        """One per events table: a schema holds the ledger's and the bureau registry's."""
        name = SAVE_FUNCTION.format(table=self.events_table_name)
        assert len(name.encode()) <= 63, f"{name}: longer than PostgreSQL keeps a name"
        return name

    @cached_property
    def _save_function(self) -> Composed:
        return SQL("{}.{}").format(Identifier(self.datastore.schema),
                                   Identifier(self.save_function_name))

    @cached_property
    def _save_function_definition(self) -> Composed:
        """The save of a command as one function: the table lock (one writer at a time takes
        notification ids, so a reader never passes over an id committed later), the check of
        each consulted aggregate, NOTIFY, the INSERT. Called as one statement in autocommit,
        it is one implicit transaction: one message and one answer, where the same statements
        sent one by one were seven executes that psycopg prepares, dumps and reads back in
        Python (~0.2 ms of a committer's CPU a save, docs/benchmarks.md)."""
        table = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                    Identifier(self.events_table_name))
        return SQL(
            "CREATE OR REPLACE FUNCTION {function}(ids uuid[], versions bigint[], topics text[], "
            "states bytea[], consulted_ids uuid[], consulted_versions bigint[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $save$ "
            "BEGIN "
            "SET LOCAL lock_timeout = {timeout}; "
            "LOCK TABLE {table} IN EXCLUSIVE MODE; "
            "IF EXISTS (SELECT 1 FROM unnest(consulted_ids, consulted_versions) AS c(id, seen) "
            "WHERE COALESCE((SELECT MAX(e.originator_version) FROM {table} e "
            "WHERE e.originator_id = c.id), 0) <> c.seen) THEN "
            "RAISE EXCEPTION 'an aggregate this save consulted was changed since' "
            "USING ERRCODE = {clash}; "
            "END IF; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id; "
            "END $save$").format(
            function=self._save_function, table=table, channel=Identifier(self.channel_name),
            timeout=Literal(f"{self.datastore.lock_timeout}s"), clash=Literal(CONSULTED_CLASH))

    def _insert_in_one_statement(self, stored_events: Sequence[StoredEvent], *,
                                 consulted: Mapping[UUID, int] | None = None) -> list[int] | None:
        """A save of a few events as one call of the store's save function; None, having saved
        nothing, when the store has no such function."""
        consulted = consulted or {}
        params = ([e.originator_id for e in stored_events],
                  [e.originator_version for e in stored_events],
                  [e.topic for e in stored_events], [e.state for e in stored_events],
                  list(consulted), list(consulted.values()))
        with self.datastore.get_connection() as conn, _consulted_clash(), \
                conn.cursor(row_factory=tuple_row) as curs:
            assert conn.autocommit
            try:
                curs.execute(self._save_statements(conn).call, params, prepare=True)
            except psycopg.errors.UndefinedFunction:
                self._save_function_missing = True
                return None
            notification_ids = [int(r[0]) for r in curs.fetchall()]
        assert len(notification_ids) == len(stored_events)
        return notification_ids

    def _check_consulted(self, curs: Cursor[DictRow], consulted: Mapping[UUID, int] | None,
                         ) -> None:
        """Fails the transaction (division by zero) unless each consulted aggregate is still
        at the version consulted; sent after the table lock, so nothing can change it before
        this transaction commits."""
        for originator_id, version in (consulted or {}).items():
            curs.execute(self._save_statements(curs.connection).consulted_check,
                         (version, originator_id), prepare=True)

    @cached_property
    def _consulted_check(self) -> Composed:
        table = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                    Identifier(self.events_table_name))
        return SQL("SELECT 1 / (COALESCE(MAX(originator_version), 0) = %s)::int "
                   "FROM {} WHERE originator_id = %s").format(table)


    def _copy_events(self, stored_events: Sequence[StoredEvent], *,
                     consulted: Mapping[UUID, int] | None = None, **kwargs: Any) -> list[int]:
        table = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                    Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, _consulted_clash(), conn.transaction(), \
                conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._lock_table(curs)
            self._check_consulted(curs, consulted)
            self._notify_channel(curs)
            curs.execute(SQL("SELECT COALESCE(MAX(notification_id), 0) AS last FROM {}").format(table))
            row = curs.fetchone()
            assert row is not None
            before = int(row["last"])
            with curs.copy(SQL("COPY {} (originator_id, originator_version, topic, state) "
                               "FROM STDIN (FORMAT BINARY)").format(table)) as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for event in stored_events:
                    copy.write_row((event.originator_id, event.originator_version, event.topic,
                                    event.state))
            curs.execute(SQL("SELECT notification_id FROM {} WHERE notification_id > %s "
                             "ORDER BY notification_id").format(table), (before,))
            notification_ids = [int(r["notification_id"]) for r in curs.fetchall()]
        assert len(notification_ids) == len(stored_events)
        return notification_ids

    def _insert_in_one_round_trip(self, stored_events: Sequence[StoredEvent], *,
                                  consulted: Mapping[UUID, int] | None = None,
                                  **kwargs: Any) -> list[int]:
        """BEGIN, the table lock, NOTIFY, the INSERT and COMMIT sent together, answered once.
        The library's pipeline waits five times for one save (its BEGIN, the insert, the
        transaction's and the pipeline's syncs, COMMIT), counted at the wire by
        scripts/bench/round_trips.py. A failed statement makes the server skip the rest up to the one sync, so
        the COMMIT never runs after a clash."""
        # Four plain arrays sent in binary: the library's one array of composites is written
        # as text, each event's state hex-escaped and searched by a regular expression in
        # Python, ~28 µs an event (190 events: 5.3-6.5 ms of the committer's CPU, against
        # 0.3-0.5 ms so; scripts/bench/round_trips.py's profile at 64 clients showed it as
        # 14 % of the server's samples).
        columns = ([e.originator_id for e in stored_events],
                   [e.originator_version for e in stored_events],
                   [e.topic for e in stored_events], [e.state for e in stored_events])
        with self.datastore.get_connection() as conn, conn.cursor() as curs, \
                conn.cursor(row_factory=tuple_row) as inserted:
            assert conn.autocommit
            said = self._save_statements(conn)
            # Leaving the pipeline sends its one sync (a sync of our own would be a second
            # wait); on a clash the pool's connection block rolls the failed transaction back.
            with _consulted_clash(), conn.pipeline():
                curs.execute(said.begin)
                self._insert_events(curs, stored_events, **kwargs)
                for lock in said.lock:
                    curs.execute(lock, prepare=True)
                self._check_consulted(curs, consulted)
                curs.execute(said.notify)
                inserted.execute(said.insert, columns)
                curs.execute(said.commit)
            notification_ids = [int(r[0]) for r in inserted.fetchall()]
        assert len(notification_ids) == len(stored_events)
        return notification_ids

    def _save_statements(self, conn: psycopg.Connection[Any]) -> _SaveStatements:
        """A command's save, as one call or as statements, rendered to bytes once: the library composes
        them anew for every save (`NOTIFY`'s identifier escaped by libpq each time), and
        psycopg keeps its parsed form of a query only for a query given as bytes or text."""
        if self._rendered is None:
            self._rendered = _SaveStatements(
                begin=b"BEGIN", commit=b"COMMIT",
                lock=tuple(_rendered(s, conn) for s in self.lock_table_statements),
                consulted_check=self._consulted_check.as_bytes(conn),
                notify=SQL("NOTIFY {0}").format(Identifier(self.channel_name)).as_bytes(conn),
                insert=SQL("INSERT INTO {}.{} (originator_id, originator_version, topic, state) "
                           "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], "
                           "%b::bytea[]) RETURNING notification_id").format(
                    Identifier(self.datastore.schema), Identifier(self.events_table_name),
                ).as_bytes(conn),
                call=SQL("SELECT * FROM {}(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], "
                         "%b::uuid[], %b::bigint[])").format(self._save_function).as_bytes(conn))
        return self._rendered

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of_many(self, originator_ids: Sequence[UUID],
                              after: Mapping[UUID, int] | None = None
                              ) -> dict[UUID, list[StoredEvent]]:
        """Every event of many aggregates in one query (a tranche reads 2,000 schools or
        allocations: one query each cost ~15 ms of round trips on a busy machine); with
        `after`, only each aggregate's events after the version it names (its snapshot's)."""
        table = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                    Identifier(self.events_table_name))
        if after:
            ids = list(originator_ids)
            query = SQL("SELECT e.originator_id, e.originator_version, e.topic, e.state "
                        "FROM {} e JOIN unnest(%b::uuid[], %b::bigint[]) AS s(id, after) "
                        "ON e.originator_id = s.id AND e.originator_version > s.after "
                        "ORDER BY e.originator_id, e.originator_version").format(table)
            params: tuple[Any, ...] = (ids, [after.get(i, 0) for i in ids])
        else:
            query = SQL("SELECT originator_id, originator_version, topic, state FROM {} "
                        "WHERE originator_id = ANY(%b::uuid[]) "
                        "ORDER BY originator_id, originator_version").format(table)
            params = (list(originator_ids),)
        found: dict[UUID, list[StoredEvent]] = {}
        # The ids go as binary arrays (%b): as text, psycopg searched each id with a regular
        # expression, ~1 ms of CPU per 500 ids and their versions (0.35 ms so).
        # Plain tuples: a dict per row was a tenth of reading a year's allocations.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(query, params)
            for originator_id, version, topic, state in curs.fetchall():
                found.setdefault(originator_id, []).append(StoredEvent(
                    originator_id=originator_id, originator_version=version, topic=topic,
                    state=bytes(state)))
        return found

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_latest_of_many(self, table_name: str, originator_ids: Sequence[UUID]
                              ) -> dict[UUID, StoredEvent]:
        """The last row of each originator in `table_name`, a table of this store beside the
        events (the snapshots), in one query."""
        table = SQL("{}.{}").format(Identifier(self.datastore.schema), Identifier(table_name))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(SQL("SELECT DISTINCT ON (originator_id) originator_id, "
                             "originator_version, topic, state FROM {} "
                             "WHERE originator_id = ANY(%b::uuid[]) "
                             "ORDER BY originator_id, originator_version DESC").format(table),
                         (list(originator_ids),))
            return {originator_id: StoredEvent(originator_id=originator_id,
                                               originator_version=version, topic=topic,
                                               state=bytes(state))
                    for originator_id, version, topic, state in curs.fetchall()}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_snapshot_and_events(self, snapshot_table: str, originator_id: UUID
                                   ) -> tuple[StoredEvent | None, list[StoredEvent]]:
        """One aggregate's latest row in `snapshot_table` (none if it has none) and its events
        after it, in one query: the library asks the snapshots, then the events, a round trip
        each for every aggregate a server reads cold."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._snapshot_and_events_statement(snapshot_table),
                         {"id": originator_id}, prepare=True)
            rows = curs.fetchall()
        snapshot = None
        events = []
        for is_snapshot, version, topic, state in rows:
            stored = StoredEvent(originator_id=originator_id, originator_version=version,
                                 topic=topic, state=bytes(state))
            if is_snapshot:
                snapshot = stored
            else:
                events.append(stored)
        return snapshot, events

    def _snapshot_and_events_statement(self, snapshot_table: str) -> Composed:
        statements = self.__dict__.setdefault("_snapshot_and_events", {})
        if snapshot_table not in statements:
            schema = Identifier(self.datastore.schema)
            statements[snapshot_table] = SQL(
                "WITH s AS (SELECT originator_version, topic, state FROM {}.{} "
                "WHERE originator_id = %(id)s ORDER BY originator_version DESC LIMIT 1) "
                "SELECT true, originator_version, topic, state FROM s UNION ALL "
                "SELECT false, originator_version, topic, state FROM {}.{} "
                "WHERE originator_id = %(id)s "
                "AND originator_version > COALESCE((SELECT originator_version FROM s), 0) "
                "ORDER BY 1 DESC, 2").format(schema, Identifier(snapshot_table), schema,
                                             Identifier(self.events_table_name))
        return statements[snapshot_table]  # type: ignore[no-any-return]


class SnapshotPostgresRecorder(CreatedOneAtATime):
    """The snapshots' recorder. The library sends the rows of a save as one array of
    composites, dumped in Python with a regular expression per row: half of what the views'
    runner spent keeping snapshots (domain/snapshot_keeping.py). Here they go as one
    `executemany` in one transaction, pipelined by psycopg; still all or nothing."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return None
        rows = [(e.originator_id, e.originator_version, e.topic, e.state) for e in stored_events]
        try:
            with self.datastore.get_connection() as conn, conn.transaction(), \
                    conn.cursor() as curs:
                curs.executemany(self._insert_row, rows)
        except psycopg.IntegrityError as error:
            raise IntegrityError(str(error)) from error
        return None

    @cached_property
    def _insert_row(self) -> Composed:
        table = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                    Identifier(self.events_table_name))
        return SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                   "VALUES (%s, %s, %s, %s)").format(table)


class BureauPostgresFactory(PostgresFactory):
    """The library's PostgreSQL persistence with the snapshots' recorder above."""

    aggregate_recorder_class = SnapshotPostgresRecorder


def _rendered(statement: Query, conn: psycopg.Connection[Any]) -> bytes:
    if isinstance(statement, bytes):
        return statement
    if isinstance(statement, str):
        return statement.encode()
    return statement.as_bytes(conn)


@contextmanager
def _consulted_clash() -> Iterator[None]:
    """The failed check of a consulted aggregate as the store's clash (only it divides, and
    only the save function raises CONSULTED_CLASH)."""
    try:
        yield
    except psycopg.Error as error:
        if not isinstance(error, psycopg.errors.DivisionByZero) and error.sqlstate != CONSULTED_CLASH:
            raise
        msg = "an aggregate this save consulted was changed since"
        raise IntegrityError(msg) from None
