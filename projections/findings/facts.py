"""The audit-facts view: the few facts the findings need that balance views do not keep.

Balances say how much; an auditor also asks who proposed and who approved, when the bureau
received the money, which payee and voucher number a payment carried and which economic
class it was booked to. Every row keeps the position (notification id) and the business
(effective) date of the event behind it, so each finding can be asked as of any date or
position and can name its evidence.

Built page by page from the notification log; each page's rows and the tracking position
are written in one transaction, so a crash never applies an event twice or skips one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from projections.findings.backdating import BOOK_ENTRIES
from projections.findings.facts_handlers import HANDLERS, _PageWrites
from projections.journal import JournalView, days_late
from projections.page_view import PageEvent, apply_handlers, decoded_page
from projections.stocks import StocksView

if TYPE_CHECKING:
    from projections.database import ViewDatabase

VIEW_NAME = "findings_facts"
TABLES = ("findings_schools", "findings_school_history", "findings_funds", "findings_fund_receipts",
          "findings_allocations", "findings_allocation_entries", "findings_expenditures",
          "findings_below_standard", "findings_late_entries")
PAGE_SIZE_MAX = 500

# Dates are ISO text, which sorts as dates do in both backends; amounts are integers.
CREATE_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS findings_schools (
        school_code TEXT PRIMARY KEY, school_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        district TEXT NOT NULL, level TEXT NOT NULL, poverty_area INTEGER NOT NULL,
        registered_on TEXT NOT NULL,
        position BIGINT NOT NULL, closed_on TEXT)""",
    """CREATE TABLE IF NOT EXISTS findings_school_history (
        school_code TEXT NOT NULL, kind TEXT NOT NULL, text_value TEXT,
        int_value BIGINT, effective_date TEXT NOT NULL, position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS findings_funds (
        fund_code TEXT PRIMARY KEY, fund_id TEXT NOT NULL UNIQUE, fiscal_year INTEGER NOT NULL,
        unit TEXT NOT NULL, source TEXT NOT NULL, category TEXT NOT NULL, earmark TEXT NOT NULL,
        expenditure_classes TEXT NOT NULL, opened_on TEXT NOT NULL, position BIGINT NOT NULL,
        issuing_level TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS findings_fund_receipts (
        fund_code TEXT NOT NULL, delta BIGINT NOT NULL, kind TEXT NOT NULL,
        effective_date TEXT NOT NULL, position BIGINT NOT NULL)""",
    # Each allocation also keeps its entries' running totals (kept with the entries, page by
    # page): a scope that holds all of an allocation's entries reads them instead of summing
    # the entries (projections/findings/as_of.py).
    """CREATE TABLE IF NOT EXISTS findings_allocations (
        allocation_id TEXT PRIMARY KEY, fund_code TEXT NOT NULL, school_code TEXT NOT NULL,
        fiscal_year INTEGER NOT NULL, unit TEXT NOT NULL, category TEXT NOT NULL,
        expenditure_classes TEXT NOT NULL, origin TEXT NOT NULL, amount BIGINT NOT NULL,
        proposed_by TEXT NOT NULL, proposed_on TEXT NOT NULL, proposed_position BIGINT NOT NULL,
        decision TEXT, decided_by TEXT, decided_role TEXT, decided_on TEXT,
        decided_position BIGINT, carried_to TEXT,
        allocated_total BIGINT NOT NULL DEFAULT 0, spent_total BIGINT NOT NULL DEFAULT 0,
        last_funded_on TEXT, closed_on TEXT, last_entry_on TEXT, last_entry_position BIGINT)""",
    """CREATE TABLE IF NOT EXISTS findings_allocation_entries (
        allocation_id TEXT NOT NULL, kind TEXT NOT NULL, delta BIGINT NOT NULL,
        effective_date TEXT NOT NULL, position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS findings_expenditures (
        expenditure_id TEXT PRIMARY KEY, allocation_id TEXT NOT NULL, fund_code TEXT NOT NULL,
        school_code TEXT NOT NULL, fiscal_year INTEGER NOT NULL, unit TEXT NOT NULL,
        amount BIGINT NOT NULL, payee TEXT NOT NULL, voucher TEXT NOT NULL,
        spent_on TEXT NOT NULL, economic_class TEXT NOT NULL, recorded_by TEXT NOT NULL,
        position BIGINT NOT NULL, reversed_on TEXT, reversed_position BIGINT)""",
    # Hand allocations of formula-funded funds proposed below the standard, with the reason.
    """CREATE TABLE IF NOT EXISTS findings_below_standard (
        allocation_id TEXT PRIMARY KEY, standard_amount BIGINT NOT NULL, reason TEXT NOT NULL,
        effective_date TEXT NOT NULL, position BIGINT NOT NULL)""",
    # The book entries (backdating.BOOK_ENTRIES) recorded a day or more after their effective
    # date: the backdating rule reads these few instead of computing every journal entry's
    # lateness, which grew with every year the store holds.
    """CREATE TABLE IF NOT EXISTS findings_late_entries (
        position BIGINT PRIMARY KEY, effective_date TEXT NOT NULL, days_late INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS findings_allocations_by_year "
    "ON findings_allocations (fiscal_year, proposed_position)",
    "CREATE INDEX IF NOT EXISTS findings_entries_by_allocation "
    "ON findings_allocation_entries (allocation_id, effective_date)",
    # The year's rows in position order, as the rules read them (as_of.spending): no sort.
    "CREATE INDEX IF NOT EXISTS findings_expenditures_by_year "
    "ON findings_expenditures (fiscal_year, position)",
    "CREATE INDEX IF NOT EXISTS findings_history_by_school "
    "ON findings_school_history (school_code, kind, effective_date)",
)


class AuditFactsView:
    """The audit-facts view as the view runner keeps it (projections.page_view.PageView)."""

    name = VIEW_NAME
    event_bases = tuple(HANDLERS)  # the late entries (BOOK_ENTRIES) are among them

    def create_tables(self, db: ViewDatabase) -> None:
        with db.transaction():
            for statement in CREATE_STATEMENTS:
                db.execute(statement)

    def drop_tables(self, db: ViewDatabase) -> None:
        with db.transaction():
            for table in TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")

    def apply_page(self, db: ViewDatabase, page: Sequence[PageEvent]) -> None:
        writes = _PageWrites(db)
        writes.read_ahead(page)
        apply_handlers(HANDLERS, writes, page)
        writes.flush()
        db.executemany("INSERT INTO findings_late_entries VALUES (?, ?, ?)", late_entries(page))


def late_entries(page: Sequence[PageEvent]) -> list[tuple[int, str, int]]:
    """The page's book entries recorded a day or more after their effective date: (position,
    effective date, days late)."""
    found = []
    for item in page:
        if item.kind in BOOK_ENTRIES:
            effective_date = item.event.stamp.effective_date
            # A stored event altered after the fact may have lost its recording time: the
            # chain's verification reports it; the facts must not stop the views on it.
            recorded = getattr(item.event, "timestamp", None)
            if recorded is not None and (days := days_late(recorded, effective_date)) > 0:
                found.append((item.position, effective_date.isoformat(), days))
    return found


def catch_up(db: ViewDatabase, ledger: Any, page_size: int = PAGE_SIZE_MAX) -> int:
    """Builds the view in a private database from a ledger's whole log, page by page, with its
    own tracking row; returns the position reached.

    For databases no view runner keeps (tests, the scored run, the injector's own reading):
    where the runner keeps this view, ask the runner to catch up instead, never both.
    """
    view = AuditFactsView()
    view.create_tables(db)
    # The balanced-development rule reads the resource stocks too (projections/stocks.py),
    # the backdating rule the journal's recording times (projections/journal.py).
    stocks = StocksView()
    journal = JournalView()
    with db.transaction():
        stocks.create_tables(db)
        journal.create_tables(db)
    with db.transaction():
        db.execute("CREATE TABLE IF NOT EXISTS findings_tracking "
                   "(view_name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
    while True:
        with db.transaction():
            lock = db.dialect.for_update
            rows = db.rows(f"SELECT position FROM findings_tracking WHERE view_name = ?{lock}",  # noqa: S608
                           (VIEW_NAME,))
            tracked = int(rows[0][0]) if rows else 0
            notifications = ledger.recorder.select_notifications(start=tracked + 1, limit=page_size)
            if not notifications:
                return tracked
            page = decoded_page(ledger.mapper, notifications)
            view.apply_page(db, page)
            stocks.apply_page(db, page)
            journal.apply_page(db, page)
            statement = ("UPDATE findings_tracking SET position = ? WHERE view_name = ?" if rows
                         else "INSERT INTO findings_tracking (position, view_name) VALUES (?, ?)")
            db.execute(statement, (notifications[-1].id, VIEW_NAME))


# ------------------------------------------------------------------ handlers


