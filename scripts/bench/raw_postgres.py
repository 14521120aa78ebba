"""The physical limits: event-sized rows (uuid, version, topic, ~300-byte bytea) written with
raw psycopg into a scratch table of the benchmark's own database, three ways."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

TABLE = "bench_raw_events"
TOPIC = "domain.expenditure:Expenditure.Recorded"
STATE_BYTES = 300
EXECUTEMANY_ROWS_PER_COMMIT = 1000


@dataclass(frozen=True)
class RawRate:
    rows: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _rows(count: int) -> Iterator[tuple[uuid.UUID, int, str, bytes]]:
    state = os.urandom(STATE_BYTES)
    for _ in range(count):
        yield uuid.uuid4(), 1, TOPIC, state


def _fresh_table(connection: psycopg.Connection) -> None:
    connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    connection.execute(f"CREATE TABLE {TABLE} (originator_id uuid NOT NULL, "
                       "originator_version bigint NOT NULL, topic text NOT NULL, state bytea, "
                       "PRIMARY KEY (originator_id, originator_version))")


def insert_commit_each(conninfo: str, rows_max: int, seconds_max: float) -> RawRate:
    """One INSERT and one COMMIT (one fsync) per row, over TCP to 127.0.0.1."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        _fresh_table(connection)
        statement = f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s)"  # noqa: S608
        done = 0
        started = time.perf_counter()
        for row in _rows(rows_max):
            connection.execute(statement, row)
            done += 1
            if time.perf_counter() - started > seconds_max:
                break
        return RawRate(done, time.perf_counter() - started)


def executemany(conninfo: str, rows_max: int, seconds_max: float) -> RawRate:
    """executemany of EXECUTEMANY_ROWS_PER_COMMIT rows, then COMMIT."""
    with psycopg.connect(conninfo) as connection:
        _fresh_table(connection)
        connection.commit()
        statement = f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s)"  # noqa: S608
        done = 0
        started = time.perf_counter()
        while done < rows_max and time.perf_counter() - started < seconds_max:
            count = min(EXECUTEMANY_ROWS_PER_COMMIT, rows_max - done)
            with connection.cursor() as cursor:
                cursor.executemany(statement, list(_rows(count)))
            connection.commit()
            done += count
        return RawRate(done, time.perf_counter() - started)


def copy(conninfo: str, rows_max: int) -> RawRate:
    """COPY (binary-safe) of all rows in one transaction."""
    with psycopg.connect(conninfo) as connection:
        _fresh_table(connection)
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
                f"COPY {TABLE} (originator_id, originator_version, topic, state) FROM STDIN") as sink:
            for row in _rows(rows_max):
                sink.write_row(row)
        connection.commit()
        seconds = time.perf_counter() - started
        connection.execute(f"DROP TABLE {TABLE}")
        connection.commit()
        return RawRate(rows_max, seconds)
