"""The event store on PostgreSQL: the library's application recorder, with large saves sent
in bounded statements.

The library writes a save as one INSERT of an array of every stored event, inside psycopg's
pipeline mode. Past roughly 10,000–30,000 events (a 50,000-row CSV import is 200,000) that
one message never completes: the client waits in `Pipeline.sync()` while the server waits for
the rest of the statement, forever (reproduced here with 30,000 events of 300 bytes, three
times out of three). A large save is therefore written without the pipeline, as several
INSERTs of at most `EVENTS_PER_STATEMENT_MAX` events, in the same transaction and under the
same table lock — still one atomic save, with its notification ids in order. Small saves,
the everyday case, keep the library's pipelined path unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

EVENTS_PER_STATEMENT_MAX = 5_000


class BoundedStatementsPostgresRecorder(PostgresApplicationRecorder):
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if len(stored_events) <= EVENTS_PER_STATEMENT_MAX or self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)
        notification_ids: list[int] = []
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._lock_table(curs)
            self._notify_channel(curs)
            for start in range(0, len(stored_events), EVENTS_PER_STATEMENT_MAX):
                chunk = stored_events[start:start + EVENTS_PER_STATEMENT_MAX]
                rows = [self.construct_pg_stored_event(e.originator_id, e.originator_version,
                                                       e.topic, e.state) for e in chunk]
                curs.execute(self.insert_events_statement, (rows,))
                notification_ids.extend(row["notification_id"] for row in curs.fetchall())
        assert len(notification_ids) == len(stored_events)
        return notification_ids
