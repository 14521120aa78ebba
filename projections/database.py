"""One connection to the database that holds the events and the views, SQLite or PostgreSQL.

The views live beside the events (same SQLite file; same PostgreSQL database and schema), so
a deployment has one thing to back up. The two DB-API drivers differ in their parameter
placeholder, their transaction call and how a schema is chosen; this module is the one place
that knows it. Statements elsewhere are written with `?` placeholders.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

SQLITE_LOCK_TIMEOUT_SECONDS = 30
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5
# From this many rows, a PostgreSQL INSERT … VALUES goes as a COPY (see _copy_insert); below
# it, a COPY's extra statements cost more than they save.
COPY_ROWS_MIN = 50
# The PostgreSQL advisory lock every process takes while it creates tables (the events' and
# the views'): PostgreSQL refuses two `CREATE … IF NOT EXISTS` of one table at once ("duplicate
# key value … pg_type", "tuple concurrently updated"), and the workers, the views' process and
# the committer of one server start at once. One number for the database: creation is rare.
TABLE_CREATION_LOCK = 0x66_6C_64_67_72  # "fldgr"
# Values of one `IN (…)` list: a list of thousands is a statement the backends plan slowly.
IN_LIST_MAX = 500
# `INSERT INTO table [(columns)] VALUES (?, …, ?) [ON CONFLICT …]`, as the views spell them.
_INSERT_VALUES = re.compile(
    r"^INSERT INTO (?P<table>\w+)\s*(?:\((?P<columns>[^)]*)\)\s*)?"
    r"VALUES\s*\((?:\?,\s*)*\?\)(?P<tail>.*)$", re.DOTALL)


class StoreSettings(Protocol):
    """What the views need of the application's settings (api.settings.Settings has it)."""

    database_url: str
    postgres_schema: str

    @property
    def is_postgres(self) -> bool: ...

    def eventsourcing_env(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class Dialect:
    """The SQL spelling differences between the two backends."""

    name: str
    placeholder: str
    # Row-locks the tracking row inside a page's transaction; SQLite's BEGIN IMMEDIATE already
    # holds the database's write lock, so it needs nothing.
    for_update: str

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def marks(self, count: int) -> str:
        """`?, ?, ?` for an IN list or a VALUES row of `count` values."""
        return ", ".join("?" * count)


SQLITE = Dialect(name="sqlite", placeholder="?", for_update="")
POSTGRES = Dialect(name="postgres", placeholder="%s", for_update=" FOR UPDATE")


def postgres_connection(settings: StoreSettings, application_name: str,
                        connect_timeout: float = POSTGRES_CONNECT_TIMEOUT_SECONDS) -> Any:
    """A connection of its own (autocommit, in the configured schema), beside the ledger's pool:
    for the views, the store watch, the access listener."""
    import psycopg  # noqa: PLC0415  (only PostgreSQL deployments load the driver)

    env = settings.eventsourcing_env()
    options = f"-c search_path={settings.postgres_schema}" if settings.postgres_schema else ""
    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
        autocommit=True, options=options, connect_timeout=connect_timeout,
        application_name=application_name)


class ViewDatabase:
    """A DB-API connection in autocommit mode with explicit transactions."""

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect
        self._depth = 0

    @classmethod
    def open(cls, settings: StoreSettings) -> ViewDatabase:
        if settings.is_postgres:
            host = urlsplit(settings.database_url).hostname or "local"
            return cls(postgres_connection(settings, f"fundledger-views-{host}"), POSTGRES)
        path = settings.eventsourcing_env()["SQLITE_DBNAME"]
        connection = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_LOCK_TIMEOUT_SECONDS,
                                     check_same_thread=False)
        # WAL lets API readers read the views while the runner writes a page.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection, SQLITE)

    @classmethod
    def in_memory(cls) -> ViewDatabase:
        """A private SQLite database: for reconciliation and tests."""
        return cls(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False), SQLITE)

    @property
    def is_postgres(self) -> bool:
        return self.dialect is POSTGRES

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.connection.execute(self.dialect.sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if not self.is_postgres:
            self.connection.executemany(statement, rows)
            return
        insert = _INSERT_VALUES.match(statement)
        if insert is not None and len(rows) >= COPY_ROWS_MIN:
            self._copy_insert(insert, rows)
            return
        with self.connection.cursor() as cursor:
            cursor.executemany(self.dialect.sql(statement), rows)

    def _copy_insert(self, insert: re.Match[str], rows: Sequence[Sequence[Any]]) -> None:
        """A many-row INSERT on PostgreSQL as one COPY: one statement instead of one per row,
        and no per-row Python in the driver. A plain INSERT copies into its table; one with
        an ON CONFLICT clause copies into a scratch table and inserts from it with that clause,
        so an upsert keeps its meaning."""
        table, columns, tail = insert.group("table"), insert.group("columns"), insert.group("tail")
        column_list = f" ({columns})" if columns else ""
        with self.connection.cursor() as cursor:
            if not tail.strip():
                with cursor.copy(f"COPY {table}{column_list} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            scratch = f"copy_scratch_{table}"
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {scratch} "
                           f"(LIKE {table}) ON COMMIT DELETE ROWS")
            with cursor.copy(f"COPY {scratch}{column_list} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            selected = columns or "*"
            cursor.execute(f"INSERT INTO {table}{column_list} SELECT {selected} FROM {scratch}{tail}")  # noqa: S608
            cursor.execute(f"DELETE FROM {scratch}")  # noqa: S608

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.connection.execute(self.dialect.sql(statement), tuple(params)).fetchall())

    def dicts(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.connection.execute(self.dialect.sql(statement), tuple(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def dicts_in(self, statement: str, values: Iterable[Any]) -> list[dict[str, Any]]:
        """The rows of `statement` for each of `values` (sorted, once each), whose `{marks}`
        is where the IN list goes: asked IN_LIST_MAX values at a time."""
        ordered = sorted(set(values))
        if self.is_postgres and " IN ({marks})" in statement:
            # One array parameter: an IN list of hundreds of marks is a new statement for each
            # length, which psycopg parsed in Python each time (~5 % of a rebuild, issue 21).
            return self.dicts(statement.replace(" IN ({marks})", " = ANY(?)"), (ordered,)) if ordered else []
        found: list[dict[str, Any]] = []
        for start in range(0, len(ordered), IN_LIST_MAX):
            chunk = ordered[start:start + IN_LIST_MAX]
            found.extend(self.dicts(statement.format(marks=self.dialect.marks(len(chunk))), chunk))
        return found

    def scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        found = self.rows(statement, params)
        return found[0][0] if found else None

    def table_exists(self, table: str) -> bool:
        if self.is_postgres:
            return self.scalar("SELECT to_regclass(?) IS NOT NULL", (table,)) is True
        return self.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (table,)) is not None

    @contextmanager
    def transaction(self) -> Iterator[ViewDatabase]:
        """Everything inside commits together or not at all; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            if self.is_postgres:
                with self.connection.transaction():
                    yield self
            else:
                # IMMEDIATE takes the write lock at once, so reads inside see what they change.
                self.connection.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    self.connection.rollback()
                    raise
                self.connection.commit()
        finally:
            self._depth = 0

    @contextmanager
    def creating_tables(self) -> Iterator[ViewDatabase]:
        """A transaction that creates tables, one process at a time (TABLE_CREATION_LOCK);
        SQLite's write lock does that by itself."""
        with self.transaction():
            if self.is_postgres:
                self.execute("SELECT pg_advisory_xact_lock(?)", (TABLE_CREATION_LOCK,))
            yield self

    @contextmanager
    def snapshot(self) -> Iterator[ViewDatabase]:
        """Reads inside see one consistent state of the views (one read transaction)."""
        if self._depth:
            yield self
            return
        self._depth = 1
        try:
            if self.is_postgres:
                with self.connection.transaction():
                    self.connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield self
            else:
                self.connection.execute("BEGIN")
                try:
                    yield self
                finally:
                    self.connection.rollback()
        finally:
            self._depth = 0

    def close(self) -> None:
        self.connection.close()
