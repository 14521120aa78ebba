"""The journal: every event of the ledger flattened for auditors, each with its chain link.

One row per event, in position (notification id) order: when it was recorded (UTC), who did
it and in which role, which school, fund, allocation or expenditure it concerns, what happened
(`Allocation.Approved`), the amount or delta it carries in its unit, its business date, reason
and idempotency key — and the hash chain's link, which covers the event's stored bytes and
every event before it (projections/hash_chain.py). The runner applies each page of events and
moves its tracking position in one transaction, so the chain never skips or repeats an event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.allocation import Allocation
from domain.expenditure import Expenditure
from domain.fund import Fund
from domain.ledger import FundLedger
from domain.school import School
from projections.hash_chain import (
    GENESIS,
    EventTable,
    Progress,
    Verification,
    link,
    verify,
    verify_beside,
)
from projections.page_view import OwnTables

if TYPE_CHECKING:
    from projections.database import ViewDatabase
    from projections.page_view import PageEvent

JOURNAL_TABLE = "audit_journal"
ENTITIES_TABLE = "audit_journal_entities"
JOURNAL_PAGE_LIMIT_MAX = 1_000  # rows per journal page for a reader
HISTORY_ROWS_MAX = 10_000  # events of one entity an auditor is shown at once
RECORDED_PAGE_SIZE = 20_000  # recorded links read per page while verifying

# Event attributes that carry a quantity, in order of preference. A delta may be negative.
_AMOUNT_FIELDS = ("amount", "delta", "released", "remainder")

_COLUMNS = ("position", "recorded_at", "actor", "actor_role", "entity_type", "entity_id",
            "entity_version", "event", "amount", "unit", "reason", "effective_date",
            "idempotency_key", "hash")

CREATE_STATEMENTS = (
    f"""CREATE TABLE IF NOT EXISTS {JOURNAL_TABLE} (
        position BIGINT PRIMARY KEY, recorded_at TEXT NOT NULL, actor TEXT, actor_role TEXT,
        entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, entity_version BIGINT NOT NULL,
        event TEXT NOT NULL, amount BIGINT, unit TEXT, reason TEXT, effective_date TEXT,
        idempotency_key TEXT, hash TEXT NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {JOURNAL_TABLE}_by_entity ON {JOURNAL_TABLE} (entity_id, position)",
    # The unit and opening amount of each fund, allocation and expenditure, so that a later
    # event is shown with its unit (Fund.Committed) and the amount it concerns
    # (Allocation.Approved approves the proposed amount; Expenditure.Reversed reverses it).
    f"""CREATE TABLE IF NOT EXISTS {ENTITIES_TABLE} (
        entity_id TEXT PRIMARY KEY, entity_type TEXT NOT NULL, unit TEXT, amount BIGINT)""",
)


def events_table_name(db: ViewDatabase) -> str:
    """The eventsourcing library's table of the ledger's events in this database."""
    return f"{FundLedger.name.lower()}_events" if db.is_postgres else "stored_events"


class JournalView(OwnTables):
    """The page view the runner keeps: flattened events with their chain links."""

    name = "journal"
    create_statements = CREATE_STATEMENTS

    def drop_tables(self, db: ViewDatabase) -> None:
        """Keeps the journal: it is the evidence `verify` compares the store with. A rebuild
        that re-derived it from the events as they are now would launder any tampering; the
        rebuild re-applies events the journal already holds as no-ops instead."""

    def apply_page(self, db: ViewDatabase, page: Sequence[PageEvent]) -> None:
        head, previous = _head(db)
        page = [item for item in page if item.position > head]
        if not page:
            return
        entity_ids = [str(item.event.originator_id) for item in page]  # str(UUID) is not free
        known = _known_entities(db, set(entity_ids))
        new_entities: list[tuple[str, str, str, int | None]] = []
        rows = []
        for item, entity_id in zip(page, entity_ids, strict=True):
            notification = item.notification
            previous = link(previous, item.position, notification.originator_id.bytes,
                            notification.originator_version, notification.topic,
                            notification.state)
            row, entity = _flatten(item, entity_id, previous, known)
            rows.append(row)
            if entity is not None:
                known[entity[0]] = (entity[2], entity[3])
                new_entities.append(entity)
        db.executemany(
            f"INSERT INTO {JOURNAL_TABLE} ({', '.join(_COLUMNS)}) "  # noqa: S608
            f"VALUES ({db.dialect.marks(len(_COLUMNS))})", rows)
        db.executemany(
            f"INSERT INTO {ENTITIES_TABLE} (entity_id, entity_type, unit, amount) VALUES (?, ?, ?, ?) "  # noqa: S608
            "ON CONFLICT (entity_id) DO NOTHING", new_entities)


def _head(db: ViewDatabase) -> tuple[int, bytes]:
    """The journal's last position and link (0 and the genesis link when it is empty)."""
    found = db.rows(f"SELECT position, hash FROM {JOURNAL_TABLE} ORDER BY position DESC LIMIT 1")  # noqa: S608
    return (0, GENESIS) if not found else (int(found[0][0]), bytes.fromhex(found[0][1]))


Known = dict[str, tuple[str, "int | None"]]  # entity id → (unit, opening amount)

# Events that concern their entity's opening amount without carrying it.
_OPENING_AMOUNT_EVENTS = (Allocation.Approved, Expenditure.Reversed)


def _known_entities(db: ViewDatabase, entity_ids: set[str]) -> Known:
    found = db.dicts_in(f"SELECT entity_id, unit, amount FROM {ENTITIES_TABLE} "  # noqa: S608
                        "WHERE entity_id IN ({marks})", entity_ids)
    return {row["entity_id"]: (row["unit"], row["amount"]) for row in found}


def _flatten(item: PageEvent, entity_id: str, chain_link: bytes, known: Known
             ) -> tuple[tuple[Any, ...], tuple[str, str, str, int | None] | None]:
    event = item.event
    kind = item.kind
    entity_type = kind.split(".", 1)[0]
    stamp = getattr(event, "stamp", None)
    amount = next((getattr(event, name) for name in _AMOUNT_FIELDS
                   if isinstance(getattr(event, name, None), int)), None)
    unit = getattr(event, "unit", None)
    # The opening event of a fund, allocation or expenditure names its unit; later ones don't.
    entity = (entity_id, entity_type, unit, amount) if unit is not None else None
    if unit is None and entity_id in known:
        unit, opening_amount = known[entity_id]
        if amount is None and isinstance(event, _OPENING_AMOUNT_EVENTS):
            amount = opening_amount
    row = (
        item.position,
        event.timestamp.isoformat(),
        stamp.actor_id if stamp else None,
        stamp.actor_role if stamp else None,
        entity_type,
        entity_id,
        event.originator_version,
        kind,
        amount,
        unit if amount is not None else None,
        stamp.reason if stamp else None,
        stamp.effective_date.isoformat() if stamp else None,
        stamp.idempotency_key if stamp else None,
        chain_link.hex(),
    )
    return row, entity


# ------------------------------------------------------------------------------- queries

_ITEM_COLUMNS = ", ".join(_COLUMNS)


def journal_page(db: ViewDatabase, after: int = 0, limit: int = 100
                 ) -> tuple[list[dict[str, Any]], int | None]:
    """Journal rows after a position, oldest first; `next` is the cursor for the next page."""
    limit = max(1, min(limit, JOURNAL_PAGE_LIMIT_MAX))
    items = db.dicts(f"SELECT {_ITEM_COLUMNS} FROM {JOURNAL_TABLE} WHERE position > ? "  # noqa: S608
                     "ORDER BY position LIMIT ?", (after, limit))
    next_after = items[-1]["position"] if len(items) == limit else None
    return items, next_after


def journal_rows(db: ViewDatabase, first_day: date, last_day: date,
                 page_size: int = JOURNAL_PAGE_LIMIT_MAX) -> Iterator[dict[str, Any]]:
    """Journal rows of events whose business date is within [first_day, last_day]; events
    without one (users, tokens, idempotency records) by the UTC day they were recorded."""
    after = 0
    first, last, day_after = first_day.isoformat(), last_day.isoformat(), \
        (last_day + timedelta(days=1)).isoformat()
    while True:
        page = db.dicts(
            f"SELECT {_ITEM_COLUMNS} FROM {JOURNAL_TABLE} WHERE position > ? "  # noqa: S608
            "AND ((effective_date >= ? AND effective_date <= ?) OR "
            "(effective_date IS NULL AND recorded_at >= ? AND recorded_at < ?)) "
            "ORDER BY position LIMIT ?",
            (after, first, last, first, day_after, page_size))
        yield from page
        if len(page) < page_size:
            return
        after = page[-1]["position"]


def entity_ids(entity: str) -> list[str]:
    """The ids an auditor may mean: a UUID as given, or the id of a school or fund code."""
    try:
        return [str(UUID(entity))]
    except ValueError:
        return [str(School.id_for(entity)), str(Fund.id_for(entity))]


def entity_history(db: ViewDatabase, entity: str, after: int = 0,
                   limit: int = HISTORY_ROWS_MAX) -> list[dict[str, Any]]:
    """Every event of one school, fund, allocation or expenditure, in order, with who did it,
    when, and why (after a position, at most `limit`). A school or fund may be named by its code."""
    ids = entity_ids(entity)
    limit = max(1, min(limit, HISTORY_ROWS_MAX))
    return db.dicts(
        f"SELECT {_ITEM_COLUMNS} FROM {JOURNAL_TABLE} "  # noqa: S608
        f"WHERE entity_id IN ({db.dialect.marks(len(ids))}) AND position > ? "
        "ORDER BY position LIMIT ?",
        (*ids, after, limit))


def journal_head(db: ViewDatabase) -> int:
    """The position of the journal's last row: how far the chain has been recorded."""
    return int(db.scalar(f"SELECT MAX(position) FROM {JOURNAL_TABLE}") or 0)  # noqa: S608


# ------------------------------------------------------------------------------- verify

@dataclass(frozen=True)
class _RecordedLinks:
    db: ViewDatabase
    stop: int
    start_after: int = 0

    def __iter__(self) -> Iterator[list[tuple[int, str]]]:
        after = self.start_after
        statement = self.db.dialect.sql(
            f"SELECT position, hash FROM {JOURNAL_TABLE} WHERE position > ? "  # noqa: S608
            "ORDER BY position LIMIT ?")
        while True:
            page = self.db.connection.execute(statement, (after, RECORDED_PAGE_SIZE)).fetchall()
            if page and page[-1][0] > self.stop:
                page = [row for row in page if row[0] <= self.stop]
            if not page:
                return
            yield page
            after = page[-1][0]


def verify_journal(db: ViewDatabase, progress: Progress | None = None, after: int = 0,
                   previous: bytes = GENESIS) -> Verification:
    """Recomputes the chain from the event store and compares it with the journal's links:
    from the first event, or continuing after position `after` whose link was `previous`.
    On SQLite each page of events is read with the journal's links beside it
    (projections/hash_chain.py, `verify_beside`); where they differ, the event-by-event walk
    names the first difference."""
    head = journal_head(db)

    def identify(position: int) -> tuple[bytes, int] | None:
        found = db.rows(f"SELECT entity_id, entity_version FROM {JOURNAL_TABLE} "  # noqa: S608
                        "WHERE position = ?", (position,))
        return (UUID(found[0][0]).bytes, int(found[0][1])) if found else None

    if db.is_postgres:
        # Two scans, not the join: on a store of 3,062,116 events whose tables had never been
        # analysed (autovacuum off) the joined read took 35-40 s against 8-10 s, the server's
        # plan costing 22 s of CPU; analysed, it was the faster (6.9 s). Until its plan holds
        # without statistics, PostgreSQL keeps the scans (docs/benchmarks.md, verify at 10 M).
        return verify(event_table(db), _RecordedLinks(db, head, after), head, identify, progress,
                      after, previous)
    return verify_beside(event_table(db), JOURNAL_TABLE, head,
                         lambda start: _RecordedLinks(db, head, start), identify, progress,
                         after, previous)


def event_table(db: ViewDatabase) -> EventTable:
    """The ledger's stored events, read raw on the views' connection (same file or schema)."""
    return EventTable(db.connection, events_table_name(db), is_sqlite=not db.is_postgres)


CHINA_STANDARD_TIME = timedelta(hours=8)


def days_late(recorded_at: datetime, effective_date: date) -> int:
    """How many days after its effective date an entry was recorded, as `late_entries` counts
    them in SQL: the bureau's calendar day (China Standard Time) of the UTC record time, less
    the effective date."""
    utc = recorded_at if recorded_at.tzinfo is None else recorded_at.astimezone(UTC).replace(tzinfo=None)
    return ((utc + CHINA_STANDARD_TIME).date() - effective_date).days


def late_entries(db: ViewDatabase, events: Sequence[str], first_day: date, last_day: date,
                 position_max: int, days_min: int) -> list[dict[str, Any]]:
    """Entries of these kinds dated within [first_day, last_day], at most at `position_max`,
    recorded more than `days_min` days after their effective date (the bureau's calendar day
    of the UTC record time, China Standard Time), each with `days_late`, oldest first."""
    if db.is_postgres:
        late = ("((recorded_at::timestamptz AT TIME ZONE 'Asia/Shanghai')::date "
                "- effective_date::date)")
    else:
        late = "CAST(julianday(date(recorded_at, '+8 hours')) - julianday(effective_date) AS INTEGER)"
    marks = ", ".join("?" * len(events))
    return db.dicts(
        f"SELECT position, recorded_at, actor, actor_role, entity_type, entity_id, event, "  # noqa: S608
        f"amount, unit, effective_date, {late} AS days_late FROM {JOURNAL_TABLE} "
        f"WHERE event IN ({marks}) AND effective_date >= ? AND effective_date <= ? "
        f"AND position <= ? AND {late} > ? ORDER BY position",
        (*events, first_day.isoformat(), last_day.isoformat(), position_max, days_min))
