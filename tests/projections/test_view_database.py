"""Many-row writes of the views: on PostgreSQL an INSERT of COPY_ROWS_MIN rows or more goes as a
COPY (an upsert through a scratch table). Whatever the path, the rows stored must be exactly
those the statement means, the same as SQLite's executemany stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from projections.database import COPY_ROWS_MIN, ViewDatabase

CREATE = (
    "CREATE TABLE entries (position BIGINT PRIMARY KEY, note TEXT, amount BIGINT NOT NULL)",
    "CREATE TABLE balances (code TEXT PRIMARY KEY, name TEXT NOT NULL, total BIGINT NOT NULL)",
)
INSERT_ENTRY = "INSERT INTO entries (position, note, amount) VALUES (?, ?, ?)"
INSERT_ENTRY_ALL_COLUMNS = "INSERT INTO entries VALUES (?, ?, ?)"
ADD_TO_BALANCE = ("INSERT INTO balances (code, name, total) VALUES (?, ?, ?) "
                  "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
                  "total = balances.total + excluded.total")

# Text that COPY's text format must escape: tabs, newlines, backslashes, \N, CJK.
texts = st.text(alphabet=st.sampled_from(list("ab \t\n\\N徐州'\",;")), max_size=12)
amounts = st.integers(min_value=-(2**62), max_value=2**62)


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """A few executemany calls; sizes on both sides of COPY_ROWS_MIN; upsert keys repeat
    across calls (never within one, as in the views)."""
    calls: list[tuple[str, list[tuple[Any, ...]]]] = []
    position = 0
    for _ in range(draw(st.integers(1, 4))):
        size = draw(st.sampled_from([1, COPY_ROWS_MIN - 1, COPY_ROWS_MIN, COPY_ROWS_MIN * 3]))
        if draw(st.booleans()):
            statement = draw(st.sampled_from([INSERT_ENTRY, INSERT_ENTRY_ALL_COLUMNS]))
            rows = []
            for _ in range(size):
                position += 1
                rows.append((position, draw(st.none() | texts), draw(amounts)))
        else:
            statement = ADD_TO_BALANCE
            codes = draw(st.lists(st.integers(0, COPY_ROWS_MIN * 4), min_size=size,
                                  max_size=size, unique=True))
            rows = [(f"S-{code}", draw(texts), draw(st.integers(-(10**12), 10**12)))
                    for code in codes]
        calls.append((statement, rows))
    return calls


def contents(db: ViewDatabase) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return ([tuple(r) for r in db.rows("SELECT position, note, amount FROM entries ORDER BY position")],
            [tuple(r) for r in db.rows("SELECT code, name, total FROM balances ORDER BY code")])


@pytest.fixture
def postgres_db(postgres_settings: Settings) -> Iterator[ViewDatabase]:
    db = ViewDatabase.open(postgres_settings)
    yield db
    db.close()


@pytest.mark.postgres
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=batches())
def test_many_row_writes_store_the_same_rows_on_postgresql_as_on_sqlite(
        postgres_db: ViewDatabase, calls: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
    sqlite_db = ViewDatabase.in_memory()
    for db in (sqlite_db, postgres_db):
        with db.transaction():
            db.execute("DROP TABLE IF EXISTS entries")
            db.execute("DROP TABLE IF EXISTS balances")
            for statement in CREATE:
                db.execute(statement)
        with db.transaction():
            for statement, rows in calls:
                db.executemany(statement, rows)
    assert contents(postgres_db) == contents(sqlite_db)


@pytest.mark.postgres
def test_a_failed_copy_leaves_nothing_behind(postgres_db: ViewDatabase) -> None:
    """A COPY that breaks a key rolls back with its transaction, like any other statement."""
    with postgres_db.transaction():
        for statement in CREATE:
            postgres_db.execute(statement)
    rows = [(i, "x", i) for i in range(COPY_ROWS_MIN)] + [(0, "clash", 0)]
    with pytest.raises(Exception, match="duplicate key"), postgres_db.transaction():
        postgres_db.executemany(INSERT_ENTRY, rows)
    assert contents(postgres_db) == ([], [])
