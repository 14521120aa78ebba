"""What the API asks of the views: balances (now, as of a date or a position), lists with
cursors, and the rural-support report. Field names are the HTTP contract's (DESIGN §6).

Reads never replay events: current balances are rows, past balances are indexed sums over
`ledger_entries`. Each call reads one consistent snapshot of the views, and reports the
position (last event applied) it reflects.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from domain.errors import FundNotFound, InvalidInput, SchoolNotFound
from projections.book_rows import (
    AllocationRow,
    ExpenditureRow,
    FundBalance,
    FundUnitBalance,
    SchoolBalances,
    SchoolRow,
    _allocation_row,
    _day,
    _expenditure_row,
    _fund_balance,
    _school_row,
)
from projections.books import BooksView
from projections.carry_over import TABLES as CARRY_OVER_TABLES
from projections.carry_over_statement import CarryOverStatement, carry_over_statement
from projections.changes import ChangeRow, ChangesView, list_changes
from projections.database import StoreSettings, ViewDatabase
from projections.fund_codes import allocation_totals
from projections.read_scope import in_effect_by
from projections.rural_support import (
    DatedValues,
    RuralSupportReport,
    SchoolFacts,
    build_report,
    county_coefficients,
    report_day,
)
from projections.stock_queries import evaluate
from projections.stocks import StocksView
from projections.tracking import TRACKING_TABLE, ViewTrackingRecorder

RURAL_REPORTS_KEPT = 16

APPLICATION_NAME = "FundLedger"
LIST_LIMIT_MAX = 1000
WAIT_POLL_SECONDS = 0.02


def _check_limit(limit: int) -> int:
    if type(limit) is not int or not 1 <= limit <= LIST_LIMIT_MAX:
        msg = f"limit must be between 1 and {LIST_LIMIT_MAX}"
        raise InvalidInput(msg)
    return limit


def _is_lost(db: ViewDatabase) -> bool:
    """A PostgreSQL connection the server closed or broke; SQLite's never are."""
    connection = db.connection
    return bool(getattr(connection, "closed", False) or getattr(connection, "broken", False))


def _school_found(school_code: str, found: Any) -> None:
    if found is None:
        msg = f"school {school_code} not found"
        raise SchoolNotFound(msg)


def _fund_unit_balances(rows: Collection[Sequence[Any]]) -> list[FundUnitBalance]:
    """Rows of (fund, unit, allocated, spent, allocations, expenditures) as balances."""
    return [FundUnitBalance(fund=f, unit=u, allocated=int(a), spent=int(s),
                            remaining=int(a) - int(s), allocations=int(na), expenditures=int(ne))
            for f, u, a, s, na, ne in rows]


class BureauQueries:
    """Read-only queries over the views; one database connection per thread."""

    def __init__(self, settings: StoreSettings, *, standby: bool = False) -> None:
        """`standby`: the views are read on a streaming replica (read-only), whose tables the
        primary's runner made and whose position is the replica's own."""
        self.settings = settings
        self._local = threading.local()
        self._connections: list[ViewDatabase] = []
        self._lock = threading.Lock()
        # Rural-support reports by (year, as-of day, position): a report scans the year's
        # ledger entries (seconds at 600,000 events) and the page is opened again and again.
        self._rural_reports: OrderedDict[tuple[int, date | None, int, str | None, bool],
                                         RuralSupportReport] = OrderedDict()
        if standby:
            return
        db = self._db()
        # The views may not have been built yet: empty tables answer "nothing yet".
        ViewTrackingRecorder(db).create_table()
        with db.creating_tables():
            BooksView().create_tables(db)
            ChangesView().create_tables(db)
            StocksView().create_tables(db)

    def _db(self) -> ViewDatabase:
        db: ViewDatabase | None = getattr(self._local, "db", None)
        if db is not None and _is_lost(db):
            # The database restarted (or dropped the connection): this thread opens a new one,
            # so that reads recover by themselves instead of failing until the API restarts.
            with self._lock:
                if db in self._connections:
                    self._connections.remove(db)
            db = None
        if db is None:
            db = ViewDatabase.open(self.settings)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    # ---------------------------------------------------------------- position

    def views_made(self) -> bool:
        """Whether the views' tables are there (on a standby: replayed from the primary)."""
        return self._db().table_exists(TRACKING_TABLE)

    def position(self) -> int:
        """The position of the last event the views have applied."""
        return ViewTrackingRecorder(self._db()).max_tracking_id(APPLICATION_NAME) or 0

    def wait_for(self, position: int, timeout_seconds: float) -> bool:
        """Waits (bounded) until the views have applied `position`; true if they have."""
        deadline = time.monotonic() + max(timeout_seconds, 0.0)
        while True:
            if self.position() >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(WAIT_POLL_SECONDS)

    # ----------------------------------------------------------------- balances

    def school_balances(self, school_code: str, fiscal_year: int, as_of: date | None = None,
                        at_position: int | None = None) -> SchoolBalances:
        """Per-fund balances of a school in a year: now, or as of a business date (events
        that took effect on or before it, as known now), or as of a position (events up to
        it), or both."""
        if as_of is None and at_position is None:
            return self._school_balances_now(school_code, fiscal_year)
        db = self._db()
        with db.snapshot():
            tracked = self.position()
            _school_found(school_code, db.scalar("SELECT 1 FROM schools WHERE school_code = ?",
                                                 (school_code,)))
            position = tracked if at_position is None else min(at_position, tracked)
            params: list[Any] = [school_code, fiscal_year, position]
            where = in_effect_by("school_code = ? AND fiscal_year = ? AND position <= ?",
                                 params, as_of)
            rows = db.rows(
                "SELECT fund_code, MAX(unit), "  # noqa: S608  (where: fixed clauses)
                "SUM(CASE WHEN kind = 'allocated' THEN delta ELSE 0 END), "
                "SUM(CASE WHEN kind = 'spent' THEN delta ELSE 0 END), "
                "SUM(CASE WHEN kind = 'allocated' THEN count_delta ELSE 0 END), "
                "SUM(CASE WHEN kind = 'spent' THEN count_delta ELSE 0 END) "
                f"FROM ledger_entries WHERE {where} GROUP BY fund_code ORDER BY fund_code",
                params)
        return SchoolBalances(school=school_code, fiscal_year=fiscal_year, as_of=as_of,
                              position=position, balances=_fund_unit_balances(rows))

    def _school_balances_now(self, school_code: str, fiscal_year: int) -> SchoolBalances:
        """The current balances in one statement: the position, whether the school is there
        and its rows all from one snapshot of the views, without the round trips of a read
        transaction of its own (BEGIN, its isolation level, COMMIT). A balance read over HTTP
        took six round trips before, and each wait showed in its p99 (issue 21)."""
        rows = self._db().rows(
            f"SELECT (SELECT notification_id FROM {TRACKING_TABLE} "  # noqa: S608  (a constant)
            "WHERE application_name = ?), (SELECT 1 FROM schools WHERE school_code = ?), "
            "b.fund_code, b.unit, b.allocated, b.spent, b.allocations, b.expenditures "
            "FROM (SELECT 1 AS one) AS one LEFT JOIN school_balances AS b "
            "ON b.school_code = ? AND b.fiscal_year = ? ORDER BY b.fund_code",
            (APPLICATION_NAME, school_code, school_code, fiscal_year))
        tracked, found = rows[0][0], rows[0][1]
        _school_found(school_code, found)
        return SchoolBalances(school=school_code, fiscal_year=fiscal_year, as_of=None,
                              position=int(tracked or 0),
                              balances=_fund_unit_balances([row[2:] for row in rows
                                                            if row[2] is not None]))

    def history(self, entity_id: str) -> list[dict[str, Any]]:
        """One entity's events as the journal holds them (who, when, why, position)."""
        from projections.journal import entity_history  # noqa: PLC0415  (journal imports queries' peers)

        return entity_history(self._db(), entity_id)

    def fund_names(self, codes: list[str]) -> dict[str, str]:
        """Funds' names by code (a balance shows the fund by name as well as code)."""
        if not codes:
            return {}
        db = self._db()
        return {code: name for code, name in db.rows(
            f"SELECT fund_code, name FROM funds WHERE fund_code IN ({db.dialect.marks(len(codes))})",  # noqa: S608
            list(codes))}

    def fund_balance(self, code: str) -> FundBalance:
        found = self._db().dicts("SELECT * FROM funds WHERE fund_code = ?", (code,))
        if not found:
            msg = f"fund {code} not found"
            raise FundNotFound(msg)
        return self._with_year_end([_fund_balance(found[0])])[0]

    def _with_year_end(self, balances: list[FundBalance]) -> list[FundBalance]:
        """Fund balances with their 结转 in, 结转 out and 结余 (the carry-over view's)."""
        if not balances:
            return balances
        if not self._db().table_exists(CARRY_OVER_TABLES[0]):
            return balances  # the runner has not built the carry-over view yet
        codes = [b.fund for b in balances]
        marks = ", ".join("?" * len(codes))
        figures = {code: (int(i), int(f), int(r)) for code, i, f, r in self._db().rows(
            "SELECT fund_code, carried_in, carried_forward, surplus_recovered "  # noqa: S608
            f"FROM carry_over_funds WHERE fund_code IN ({marks})", codes)}
        return [replace(b, carried_in=figures[b.fund][0], carried_forward=figures[b.fund][1],
                        surplus_recovered=figures[b.fund][2]) if b.fund in figures else b
                for b in balances]

    def carry_over(self, fiscal_year: int, as_of: date | None = None) -> CarryOverStatement:
        """The 结转结余 statement of a fiscal year as of a business date (projections/
        carry_over_statement.py)."""
        db = self._db()
        with db.snapshot():
            if not db.table_exists(CARRY_OVER_TABLES[0]):
                return CarryOverStatement(fiscal_year, as_of, self.position())
            return carry_over_statement(db, fiscal_year, as_of, self.position())

    # -------------------------------------------------------------------- lists

    def _page(self, table: str, key: str, filters: dict[str, Any], after: str | None,
              limit: int) -> tuple[list[dict[str, Any]], str | None]:
        limit = _check_limit(limit)
        # A filter is `column` (equal to), `column >=` / `column <=` (a range bound), or
        # `column IN` with a set (a school scope; an empty set matches nothing).
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in filters.items():
            if value is None:
                continue
            if column.endswith(" IN"):
                members = sorted(value)
                clauses.append(f"{column} ({', '.join('?' * len(members))})" if members
                               else "1 = 0")
                params += members
            else:
                clauses.append(f"{column} ?" if column.endswith(("<=", ">=")) else f"{column} = ?")
                params.append(value)
        if after is not None:
            clauses.append(f"{key} > ?")
            params.append(after)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        rows = self._db().dicts(
            f"SELECT * FROM {table} {where}ORDER BY {key} LIMIT {limit + 1}",  # noqa: S608
            params)
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (str(rows[-1][key]) if more else None)

    def list_schools(self, district: str | None = None, locale: str | None = None,
                     level: str | None = None, after: str | None = None,
                     limit: int = 100, *,
                     schools: Collection[str] | None = None) -> tuple[list[SchoolRow], str | None]:
        rows, cursor = self._page("schools", "school_code",
                                  {"district": district, "locale": locale, "level": level,
                                   "school_code IN": schools},
                                  after, limit)
        return [_school_row(r) for r in rows], cursor

    def get_school(self, code: str) -> SchoolRow:
        found = self._db().dicts("SELECT * FROM schools WHERE school_code = ?", (code,))
        if not found:
            msg = f"school {code} not found"
            raise SchoolNotFound(msg)
        return _school_row(found[0])

    def list_funds(self, fiscal_year: int | None = None, after: str | None = None,
                   limit: int = 100) -> tuple[list[FundBalance], str | None]:
        rows, cursor = self._page("funds", "fund_code", {"fiscal_year": fiscal_year}, after, limit)
        return self._with_year_end([_fund_balance(r) for r in rows]), cursor

    def list_allocations(self, school: str | None = None, fund: str | None = None,
                         status: str | None = None, fiscal_year: int | None = None,
                         after: str | None = None,
                         limit: int = 100, *, schools: Collection[str] | None = None,
                         ) -> tuple[list[AllocationRow], str | None]:
        rows, cursor = self._page(
            "allocations", "allocation_id",
            {"school_code": school, "fund_code": fund, "status": status,
             "fiscal_year": fiscal_year, "school_code IN": schools}, after, limit)
        return [_allocation_row(r) for r in rows], cursor

    def list_changes(self, status: str | None = None, kind: str | None = None,
                     subject: str | None = None, after: str | None = None,
                     limit: int = 100) -> tuple[list[ChangeRow], str | None]:
        after_position = int(after) if after is not None and after.isdigit() else None
        if after is not None and after_position is None:
            msg = "after must be the cursor of the previous page"
            raise InvalidInput(msg)
        rows, cursor = list_changes(self._db(), status=status, kind=kind, subject=subject,
                                    after=after_position, limit=_check_limit(limit))
        return rows, None if cursor is None else str(cursor)

    def list_expenditures(self, allocation: str | None = None, school: str | None = None,
                          fund: str | None = None, fiscal_year: int | None = None,
                          after: str | None = None,
                          limit: int = 100, *, voucher: str | None = None,
                          payee: str | None = None, spent_on_from: date | None = None,
                          spent_on_to: date | None = None, amount_min: int | None = None,
                          amount_max: int | None = None, schools: Collection[str] | None = None,
                          ) -> tuple[list[ExpenditureRow], str | None]:
        rows, cursor = self._page(
            "expenditures", "expenditure_id",
            {"allocation_id": None if allocation is None else str(allocation),
             "school_code": school, "fund_code": fund, "fiscal_year": fiscal_year,
             "voucher": voucher, "payee": payee,
             "spent_on >=": spent_on_from and spent_on_from.isoformat(),
             "spent_on <=": spent_on_to and spent_on_to.isoformat(),
             "amount >=": amount_min, "amount <=": amount_max, "school_code IN": schools},
            after, limit)
        return [_expenditure_row(r) for r in rows], cursor

    # ------------------------------------------------------------ rural support

    def rural_support(self, fiscal_year: int, as_of: date | None = None,
                      source: str | None = None, *, evaluation: bool = True) -> RuralSupportReport:
        """The report at the views' position now: computed once per (year, day, position,
        source); with `source`, only that level's part of each fund (projections/fund_codes).
        `evaluation=False` leaves out the counties' balanced-development coefficients (most
        of the report's time: a city's consolidated report may not need them)."""
        key = (fiscal_year, as_of, self.position(), source, evaluation)
        with self._lock:
            kept = self._rural_reports.get(key)
        if kept is not None:
            return kept
        report = self._rural_support(fiscal_year, as_of, source, evaluation=evaluation)
        with self._lock:
            self._rural_reports[(fiscal_year, as_of, report.position, source, evaluation)] = report
            while len(self._rural_reports) > RURAL_REPORTS_KEPT:
                self._rural_reports.popitem(last=False)
        return report

    def _rural_support(self, fiscal_year: int, as_of: date | None, source: str | None, *,
                       evaluation: bool = True) -> RuralSupportReport:
        db = self._db()
        with db.snapshot():
            position = self.position()
            totals = allocation_totals(db, fiscal_year, as_of, source)
            schools = {
                code: SchoolFacts(code, district, level, date.fromisoformat(registered),
                                  _day(closed))
                for code, district, level, registered, closed in db.rows(
                    "SELECT school_code, district, level, registered_on, closed_on FROM schools")
            }
            changes: dict[tuple[str, str], list[tuple[date, int, object]]] = {}
            for code, kind, day, pos, locale, students in db.rows(
                    "SELECT school_code, kind, effective_date, position, locale, students "
                    "FROM school_history"):
                value = locale if kind == "locale" else int(students)
                changes.setdefault((code, kind), []).append((date.fromisoformat(day), pos, value))
            evaluated = evaluate(db, report_day(fiscal_year, as_of)) if evaluation else []
        locales = {code: DatedValues(changes[(code, "locale")]) for code in schools}
        enrolments = {code: DatedValues(changes[(code, "students")]) for code in schools}
        report = build_report(fiscal_year, as_of, position, schools, locales, enrolments, totals)
        return replace(report, counties=county_coefficients(evaluated))

    # ------------------------------------------------------- resource stocks

    def stocks_db(self) -> ViewDatabase:
        """This thread's connection, for the stock queries (projections/stock_queries.py)."""
        return self._db()
