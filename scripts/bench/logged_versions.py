"""The log's (aggregate id, version, topic) at every `every`-th version of an aggregate, in log
order: what the views' runner would have handed the snapshot keeper, read without the events'
state (the benchmark's year is generated with no runner following it)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from domain.ledger import FundLedger
from domain.snapshot_keeping import LoggedEvent


def logged_versions(ledger: FundLedger, every: int) -> Iterator[LoggedEvent]:
    recorder = ledger.recorder
    table = recorder.events_table_name  # type: ignore[attr-defined]
    sqlite = type(recorder).__module__.endswith("sqlite")
    statement = (f"SELECT originator_id, originator_version, topic FROM {table} "  # noqa: S608
                 f"WHERE originator_version % {int(every)} = 0 "
                 f"ORDER BY {'rowid' if sqlite else 'notification_id'}")
    datastore = recorder.datastore  # type: ignore[attr-defined]
    if not sqlite:
        from psycopg.rows import tuple_row  # noqa: PLC0415  (only PostgreSQL loads the driver)

        with datastore.get_connection() as connection, \
                connection.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(statement)
            rows = cursor.fetchall()
    else:  # SQLite
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(statement)
            rows = [tuple(row) for row in cursor.fetchall()]
    for originator_id, version, topic in rows:
        yield (originator_id if type(originator_id) is UUID else UUID(str(originator_id)),
               version, topic)
