"""The books: catalogue, balances and ledger entries, kept from the ledger's events.

Tables (the same DDL on SQLite and PostgreSQL; dates are ISO text, which sorts as dates do;
money is BIGINT minor units):

- `schools`, `school_history` (every locale and enrolment with the date it took effect),
  `funds` (with the fund balances: appropriated, proposed, allocated, spent),
  `allocations` (status, amounts, version), `expenditures`: what the API lists from;
- `ledger_entries`: one row per change of an allocated or spent balance, with its business
  (effective) date and position, so a balance as of a date or a position is an indexed SUM;
- `school_balances`: school × fiscal year × fund: allocated, spent, counts, last position.

A page is applied in memory first: the rows it touches are read in a few `IN (…)` queries,
the events change them in order, and the changed rows are written back with one
`executemany` per table. "Allocated" counts an allocation once approved (or opened already
approved by a transfer or carry-over); a proposal's amount counts in its fund's `proposed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from domain.allocation import Allocation
from domain.expenditure import Expenditure
from domain.fund import Fund
from domain.school import School
from projections.books_handlers import HANDLERS, _Page
from projections.books_schema import (
    ADD_TO_BALANCE,
    ALLOCATION_COLUMNS,
    CREATE_STATEMENTS,
    EXPENDITURE_COLUMNS,
    FUND_COLUMNS,
    INSERT_ENTRY,
    INSERT_HISTORY,
    SCHOOL_COLUMNS,
    TABLES,
    UPSERT_ALLOCATION,
    UPSERT_EXPENDITURE,
    UPSERT_FUND,
    UPSERT_SCHOOL,
)
from projections.page_view import OwnTables, PageEvent, apply_handlers, rows_in

if TYPE_CHECKING:
    from projections.database import ViewDatabase


class BooksView(OwnTables):
    """Catalogue, fund and school balances, and ledger entries: one pass per page."""

    name = "books"
    create_statements = CREATE_STATEMENTS
    tables = TABLES
    event_bases = tuple(HANDLERS)

    def apply_page(self, db: ViewDatabase, page: Sequence[PageEvent]) -> None:
        _write(db, apply_handlers(HANDLERS, _loaded(db, page), page))


# ----------------------------------------------------------------- loading


def _loaded(db: ViewDatabase, page: Sequence[PageEvent]) -> _Page:
    """Reads every existing row the page's events will change, in a handful of queries."""
    state = _Page()
    school_ids: set[str] = set()
    fund_ids: set[str] = set()
    fund_codes: set[str] = set()
    allocation_ids: set[str] = set()
    expenditure_ids: set[str] = set()
    for item in page:
        event = item.event
        originator = str(event.originator_id)
        if isinstance(event, School.Event) and not isinstance(event, School.Registered):
            school_ids.add(originator)
        elif isinstance(event, Fund.Event) and not isinstance(event, Fund.Opened):
            fund_ids.add(originator)
        elif isinstance(event, Allocation.Opened):
            fund_codes.add(event.fund_code)
        elif isinstance(event, Allocation.Event):
            allocation_ids.add(originator)
        elif isinstance(event, Expenditure.Reversed):
            expenditure_ids.add(originator)
    for row in rows_in(db, "allocations", "allocation_id", allocation_ids):
        state.allocations[row["allocation_id"]] = row
        fund_codes.add(row["fund_code"])
    for row in rows_in(db, "expenditures", "expenditure_id", expenditure_ids):
        state.expenditures[row["expenditure_id"]] = row
    funds = rows_in(db, "funds", "fund_id", fund_ids) + rows_in(db, "funds", "fund_code", fund_codes)
    for row in funds:
        state.funds[row["fund_code"]] = row
        state.fund_codes[row["fund_id"]] = row["fund_code"]
    for row in rows_in(db, "schools", "school_id", school_ids):
        state.schools[row["school_id"]] = row
    return state


def _write(db: ViewDatabase, state: _Page) -> None:
    db.executemany(UPSERT_SCHOOL, [tuple(state.schools[i][c] for c in SCHOOL_COLUMNS)
                                   for i in sorted(state.dirty_schools)])
    db.executemany(UPSERT_FUND, [tuple(state.funds[c][k] for k in FUND_COLUMNS)
                                 for c in sorted(state.dirty_funds)])
    db.executemany(UPSERT_ALLOCATION, [tuple(state.allocations[i][c] for c in ALLOCATION_COLUMNS)
                                       for i in sorted(state.dirty_allocations)])
    db.executemany(UPSERT_EXPENDITURE, [tuple(state.expenditures[i][c] for c in EXPENDITURE_COLUMNS)
                                        for i in sorted(state.dirty_expenditures)])
    db.executemany(INSERT_HISTORY, state.history)
    db.executemany(INSERT_ENTRY, state.entries)
    db.executemany(ADD_TO_BALANCE, [(school, year, fund, *values)
                                    for (school, year, fund), values in sorted(state.balances.items())])
