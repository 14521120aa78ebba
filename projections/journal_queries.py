"""Queries of the journal view's table (projections/journal.py): filtered pages of the
journal and the choices its filters offer (for people), a year's rows as a stream (for
exports), and the events at given positions (for findings' evidence)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.terms import INTERNAL_ENTITY_TYPES
from projections.database import ViewDatabase
from projections.journal import JOURNAL_TABLE, entity_ids, journal_head

PAGE_ROWS_MAX = 200
SERVER_CURSOR_ROWS = 5_000  # rows a PostgreSQL server-side cursor sends at a time


def journal_filtered(db: ViewDatabase, *, entity_type: str = "", actor: str = "",
                     event: str = "", entity: str = "", as_of: date | None = None,
                     before: int = 0, fiscal_year: int | None = None, internal: bool = False,
                     limit: int = 50) -> tuple[list[dict[str, Any]], int | None]:
    """Journal rows matching the filters, newest first, before a position (0: from the
    newest); and the cursor of the next, older page.

    By default only the bureau's business (schools, funds, allocations, expenditures) dated
    in `fiscal_year`; `internal` adds the ledger's own records (voucher registers,
    idempotency records, users and tokens), which carry no business date. An entity's
    history is shown whole, whatever the year."""
    limit = max(1, min(limit, PAGE_ROWS_MAX))
    clauses: list[str] = []
    params: list[Any] = []
    if before > 0:
        clauses.append("position < ?")
        params.append(before)
    for column, value in (("entity_type", entity_type), ("actor", actor), ("event", event)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if entity:  # one entity's history: an id, or a school's or fund's code
        ids = entity_ids(entity)
        clauses.append(f"entity_id IN ({db.dialect.marks(len(ids))})")
        params += ids
    elif fiscal_year is not None:
        dated = "(effective_date >= ? AND effective_date <= ?)"
        clauses.append(f"({dated} OR effective_date IS NULL)" if internal else dated)
        params += [f"{fiscal_year}-01-01", f"{fiscal_year}-12-31"]
    if not internal and not entity_type:
        clauses.append(f"entity_type NOT IN ({db.dialect.marks(len(INTERNAL_ENTITY_TYPES))})")
        params += sorted(INTERNAL_ENTITY_TYPES)
    if as_of is not None:
        clauses.append("(effective_date IS NULL OR effective_date <= ?)")
        params.append(as_of.isoformat())
    where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
    rows = db.dicts(
        "SELECT position, recorded_at, actor, actor_role, entity_id, entity_type, event, "  # noqa: S608
        f"amount, unit, reason, effective_date, hash FROM {JOURNAL_TABLE} "
        f"{where}ORDER BY position DESC LIMIT ?", [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (int(rows[-1]["position"]) if more else None)


@dataclass
class _Choices:
    head: int
    types: set[str]
    events: set[str]


_CHOICES: dict[str, _Choices] = {}
_CHOICES_LOCK = threading.Lock()


def journal_choices(db: ViewDatabase, store: str = "") -> tuple[list[str], list[str]]:
    """The entity types and event names present, for the filter menus.

    The journal only grows, so what a store's journal held up to a position is remembered and
    only the rows after it are read (a whole-journal DISTINCT was two scans of 600,000 rows on
    every view of the audit page)."""
    with _CHOICES_LOCK:
        known = _CHOICES.get(store)
    head = known.head if known is not None else 0
    types, events = (set(known.types), set(known.events)) if known is not None else (set(), set())
    last = head
    for entity_type, event, position in db.rows(
            f"SELECT entity_type, event, MAX(position) FROM {JOURNAL_TABLE} "  # noqa: S608
            "WHERE position > ? GROUP BY entity_type, event", (head,)):
        types.add(str(entity_type))
        events.add(str(event))
        last = max(last, int(position))
    if store and last > head:
        with _CHOICES_LOCK:
            if store not in _CHOICES or _CHOICES[store].head < last:
                _CHOICES[store] = _Choices(last, types, events)
    return sorted(types), sorted(events)


def events_at(db: ViewDatabase, positions: set[int]) -> dict[int, tuple[str, str, str]]:
    """The entity id, entity type and event of the journal's row at each position asked for."""
    return {int(r["position"]): (r["entity_id"], r["entity_type"], r["event"]) for r in db.dicts_in(
        f"SELECT position, entity_id, entity_type, event FROM {JOURNAL_TABLE} "  # noqa: S608
        "WHERE position IN ({marks})", positions)}


def journal_year_filter(fiscal_year: int, as_of: date | None) -> tuple[str, tuple[Any, ...]]:
    """Events whose business date falls in the year (up to the day); events without one
    (users, tokens, idempotency records) by the UTC day they were recorded."""
    last = min(as_of, date(fiscal_year, 12, 31)) if as_of else date(fiscal_year, 12, 31)
    first = date(fiscal_year, 1, 1).isoformat()
    return ("(effective_date >= ? AND effective_date <= ?) OR "
            "(effective_date IS NULL AND recorded_at >= ? AND recorded_at < ?)",
            (first, last.isoformat(), first, (last + timedelta(days=1)).isoformat()))


def journal_year_count(db: ViewDatabase, fiscal_year: int, as_of: date | None, stop: int) -> int:
    """How many journal rows of the year (up to the day) there are up to position `stop`."""
    where, params = journal_year_filter(fiscal_year, as_of)
    return int(db.scalar(f"SELECT COUNT(*) FROM {JOURNAL_TABLE} "  # noqa: S608
                         f"WHERE position <= ? AND ({where})", (stop, *params)) or 0)


def journal_year_rows(db: ViewDatabase, names: list[str], fiscal_year: int,
                      as_of: date | None = None, stop: int | None = None
                      ) -> Iterator[tuple[Any, ...]]:
    """The journal rows of the year in position order, as tuples of the `names` columns
    (no dict a row: an export formats 600,000 of them), read as they are written: a
    server-side cursor on PostgreSQL (a few thousand rows at a time, inside one read-only
    transaction), SQLite's own cursor stepping through the table. Up to position `stop`."""
    where, params = journal_year_filter(fiscal_year, as_of)
    statement = db.dialect.sql(
        f"SELECT {', '.join(names)} FROM {JOURNAL_TABLE} "  # noqa: S608
        f"WHERE position <= ? AND ({where}) ORDER BY position")
    bound = (stop if stop is not None else journal_head(db), *params)
    if db.is_postgres:
        with db.snapshot(), db.connection.cursor(name="journal_export") as cursor:
            cursor.itersize = SERVER_CURSOR_ROWS
            cursor.execute(statement, bound)
            yield from cursor
        return
    cursor = db.connection.execute(statement, bound)
    try:
        yield from cursor
    finally:
        cursor.close()
