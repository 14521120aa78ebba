"""Queries of the books view's tables (projections/books.py) beyond BureauQueries: totals as of
a date for charts, schools with their balances, a school as it stood on a day. Read-only; the
dashboard and the CLI call these, and nothing else reads the tables."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.balanced_development import SchoolOnDay
from domain.budget_codes import function_name
from projections.book_rows import ExpenditureRow, _expenditure_row
from projections.database import ViewDatabase
from projections.fund_codes import parse_shares
from projections.read_scope import in_effect_by, scope_params, scope_sql, scope_where

MONEY_UNIT = "CNY"
PAGE_ROWS_MAX = 200


@dataclass(frozen=True)
class FundTotals:
    fund: str
    name: str
    unit: str
    category: str
    earmark: str
    appropriated: int
    allocated: int
    spent: int
    source: str = ""
    function_code: str = ""
    doc_no: str = ""
    shares: tuple[dict[str, Any], ...] = ()
    issuing_level: str = ""
    received_on: str = ""

    @property
    def remaining(self) -> int:
        return self.allocated - self.spent

    def function_name(self, language: str) -> str:
        return function_name(self.function_code, language)


def fund_totals(db: ViewDatabase, fiscal_year: int, as_of: date | None) -> list[FundTotals]:
    """Each fund of the year: appropriation (as it stands now), and what was allocated and
    spent by `as_of` (by effective date) or now."""
    with db.snapshot():
        funds = db.dicts("SELECT fund_code, name, unit, source, category, earmark, appropriated, "
                         "allocated, spent, function_code, doc_no, shares, issuing_level, received_on "
                         "FROM funds "
                         "WHERE fiscal_year = ? ORDER BY fund_code", (fiscal_year,))
        dated: dict[str, tuple[int, int]] = {}
        if as_of is not None:
            for fund, allocated, spent in db.rows(
                    "SELECT fund_code, SUM(CASE WHEN kind = 'allocated' THEN delta ELSE 0 END), "
                    "SUM(CASE WHEN kind = 'spent' THEN delta ELSE 0 END) FROM ledger_entries "
                    "WHERE fiscal_year = ? AND effective_date <= ? GROUP BY fund_code",
                    (fiscal_year, as_of.isoformat())):
                dated[fund] = (int(allocated), int(spent))
    totals = []
    for row in funds:
        allocated, spent = (dated.get(row["fund_code"], (0, 0)) if as_of is not None
                            else (row["allocated"], row["spent"]))
        totals.append(FundTotals(row["fund_code"], row["name"], row["unit"], row["category"],
                                 row["earmark"], int(row["appropriated"]), allocated, spent,
                                 row["source"], row["function_code"], row["doc_no"],
                                 tuple(parse_shares(row["shares"])), row["issuing_level"],
                                 row["received_on"]))
    return totals


def monthly_remaining(db: ViewDatabase, fiscal_year: int, as_of: date | None
                      ) -> list[tuple[str, int, int]]:
    """(month, allocated so far, spent so far) at each month's end, in yuan's minor unit."""
    last = as_of.isoformat() if as_of is not None else f"{fiscal_year}-12-31"
    by_month = {month: (int(a), int(s)) for month, a, s in db.rows(
        "SELECT SUBSTR(effective_date, 1, 7), "
        "SUM(CASE WHEN kind = 'allocated' THEN delta ELSE 0 END), "
        "SUM(CASE WHEN kind = 'spent' THEN delta ELSE 0 END) FROM ledger_entries "
        "WHERE fiscal_year = ? AND unit = ? AND effective_date <= ? "
        "GROUP BY SUBSTR(effective_date, 1, 7)", (fiscal_year, MONEY_UNIT, last))}
    allocated = spent = 0
    months = []
    last_month = int(last[5:7]) if last.startswith(str(fiscal_year)) else 12
    for number in range(1, last_month + 1):
        month = f"{fiscal_year}-{number:02d}"
        a, s = by_month.get(month, (0, 0))
        allocated += a
        spent += s
        months.append((month, allocated, spent))
    return months


def allocation_amounts_as_of(db: ViewDatabase, school_code: str, fiscal_year: int, as_of: date
                             ) -> dict[str, tuple[int, int]]:
    """Each of a school's allocations: (allocated, spent) by `as_of`, by business date."""
    return {str(allocation): (int(allocated), int(spent)) for allocation, allocated, spent in db.rows(
        "SELECT allocation_id, SUM(CASE WHEN kind = 'allocated' THEN delta ELSE 0 END), "
        "SUM(CASE WHEN kind = 'spent' THEN delta ELSE 0 END) FROM ledger_entries "
        "WHERE school_code = ? AND fiscal_year = ? AND effective_date <= ? "
        "GROUP BY allocation_id", (school_code, fiscal_year, as_of.isoformat()))}


STATUS_AFTER_EVENT = {"Proposed": "proposed", "Approved": "approved", "Rejected": "rejected",
                      "Cancelled": "cancelled", "YearClosed": "closed",
                      "CarriedForward": "closed", "SurplusRecovered": "closed",
                      "ProposalExpired": "closed"}


def status_as_of(history: list[dict[str, Any]], as_of: date, now: str) -> str:
    """An allocation's status on a day, from its journal history (oldest first): the status
    its last status-changing event on or before that day left it in."""
    status = None
    for entry in history:
        if entry["effective_date"] and entry["effective_date"] > as_of.isoformat():
            continue
        name = str(entry["event"]).rsplit(".", 1)[-1]
        if name in STATUS_AFTER_EVENT:
            status = STATUS_AFTER_EVENT[name]
        elif status is None:  # created already approved: a transfer or a carry-over
            status = "approved"
    return status or now


def districts(db: ViewDatabase) -> list[str]:
    return [d for (d,) in db.rows("SELECT DISTINCT district FROM schools ORDER BY district")]


def fiscal_years(db: ViewDatabase) -> list[int]:
    return [int(y) for (y,) in db.rows("SELECT DISTINCT fiscal_year FROM funds ORDER BY fiscal_year")]


def schools_with_balances(db: ViewDatabase, fiscal_year: int, as_of: date | None, *,
                          search: str = "", district: str = "", locale: str = "",
                          level: str = "", after: str = "", limit: int = 50,
                          schools: Collection[str] | None = None,
                          ) -> tuple[list[dict[str, Any]], str | None]:
    """Schools by code, filtered, each with its yuan allocated and spent in the year (as of a
    date, or now). Filters are on the school as it is now."""
    limit = max(1, min(limit, PAGE_ROWS_MAX))
    clauses, params = ["1 = 1"], []
    for column, value in (("district", district), ("locale", locale), ("level", level)):
        if value:
            clauses.append(f"s.{column} = ?")
            params.append(value)
    if schools is not None:  # a scoped reader's schools (api.auth); none matches nothing
        members = sorted(schools)
        clauses.append(f"s.school_code IN ({', '.join('?' * len(members))})" if members
                       else "1 = 0")
        params += members
    if search:
        clauses.append("(LOWER(s.school_code) LIKE ? OR s.name LIKE ?)")
        params += [f"%{search.lower()}%", f"%{search}%"]
    if after:
        clauses.append("s.school_code > ?")
        params.append(after)
    if as_of is None:
        money = ("SELECT school_code, SUM(allocated) AS allocated, SUM(spent) AS spent "
                 "FROM school_balances WHERE fiscal_year = ? AND unit = ? GROUP BY school_code")
        money_params: list[Any] = [fiscal_year, MONEY_UNIT]
    else:
        money = ("SELECT school_code, SUM(CASE WHEN kind = 'allocated' THEN delta ELSE 0 END) "
                 "AS allocated, SUM(CASE WHEN kind = 'spent' THEN delta ELSE 0 END) AS spent "
                 "FROM ledger_entries WHERE fiscal_year = ? AND unit = ? AND effective_date <= ? "
                 "GROUP BY school_code")
        money_params = [fiscal_year, MONEY_UNIT, as_of.isoformat()]
    rows = db.dicts(
        "SELECT s.school_code AS code, s.name, s.district, s.level, s.locale, s.poverty_area, "  # noqa: S608
        "s.students, s.status, COALESCE(m.allocated, 0) AS allocated, "
        f"COALESCE(m.spent, 0) AS spent FROM schools s LEFT JOIN ({money}) m "
        f"ON m.school_code = s.school_code WHERE {' AND '.join(clauses)} "
        "ORDER BY s.school_code LIMIT ?", [*money_params, *params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        # PostgreSQL sums BIGINTs as NUMERIC: back to exact integers (the page formats them).
        row["allocated"], row["spent"] = int(row["allocated"]), int(row["spent"])
    return rows, (rows[-1]["code"] if more else None)


def school_as_of(db: ViewDatabase, school_code: str, as_of: date) -> dict[str, Any]:
    """A school's locale and enrolment as they stood on a day, each with the date it took
    effect: the latest `school_history` row of each kind in effect by then (None before the
    school's first record)."""
    stood: dict[str, Any] = {"locale": None, "locale_since": None,
                             "students": None, "students_since": None}
    for kind, day, locale, students in db.rows(
            "SELECT kind, effective_date, locale, students FROM school_history "
            "WHERE school_code = ? AND effective_date <= ? ORDER BY effective_date, position",
            (school_code, as_of.isoformat())):
        if kind == "locale":
            stood["locale"], stood["locale_since"] = locale, day
        elif kind == "students":
            stood["students"], stood["students_since"] = int(students), day
    return stood


def school_names(db: ViewDatabase) -> dict[str, tuple[str, str]]:
    """Every school's name and district, by code."""
    return {code: (name, district) for code, name, district in db.rows(
        "SELECT school_code, name, district FROM schools")}


def allocation_places(db: ViewDatabase, allocation_ids: set[str]) -> dict[str, tuple[str, str]]:
    """The school and fund code of each allocation asked for."""
    return {r["allocation_id"]: (r["school_code"], r["fund_code"]) for r in db.dicts_in(
        "SELECT allocation_id, school_code, fund_code FROM allocations "
        "WHERE allocation_id IN ({marks})", allocation_ids)}


def expenditure_places(db: ViewDatabase, expenditure_ids: set[str]
                       ) -> dict[str, tuple[str, str, str, str]]:
    """The school and fund code, voucher and payee of each expenditure asked for."""
    return {r["expenditure_id"]: (r["school_code"], r["fund_code"], r["voucher"], r["payee"])
            for r in db.dicts_in("SELECT expenditure_id, school_code, fund_code, voucher, payee "
                                 "FROM expenditures WHERE expenditure_id IN ({marks})",
                                 expenditure_ids)}


def names_of_schools(db: ViewDatabase, school_codes: set[str]) -> dict[str, tuple[str, str]]:
    """The name and district of each school asked for, by code."""
    return {r["school_code"]: (r["name"], r["district"]) for r in db.dicts_in(
        "SELECT school_code, name, district FROM schools WHERE school_code IN ({marks})",
        school_codes)}


def names_of_funds(db: ViewDatabase, fund_codes: set[str]) -> dict[str, str]:
    """The name of each fund asked for, by code."""
    return {r["fund_code"]: r["name"] for r in db.dicts_in(
        "SELECT fund_code, name FROM funds WHERE fund_code IN ({marks})", fund_codes)}


def balance_rows(db: ViewDatabase, fiscal_year: int, as_of: date | None = None,
                 position: int | None = None) -> list[dict[str, Any]]:
    """Every school's per-fund balance in a year, from the ledger entries: now, or as of a
    business date and/or a position; with the school's name and district."""
    params: list[Any] = [fiscal_year]
    where = in_effect_by("e.fiscal_year = ?", params, as_of, "e.")
    if position is not None:
        where += " AND e.position <= ?"
        params.append(position)
    rows = db.dicts(
        "SELECT e.school_code, s.name AS school_name, s.district, e.fiscal_year, e.fund_code, "  # noqa: S608
        "MAX(e.unit) AS unit, "
        "SUM(CASE WHEN e.kind = 'allocated' THEN e.delta ELSE 0 END) AS allocated, "
        "SUM(CASE WHEN e.kind = 'spent' THEN e.delta ELSE 0 END) AS spent, "
        "SUM(CASE WHEN e.kind = 'allocated' THEN e.count_delta ELSE 0 END) AS allocations, "
        "SUM(CASE WHEN e.kind = 'spent' THEN e.count_delta ELSE 0 END) AS expenditures "
        "FROM ledger_entries e LEFT JOIN schools s ON s.school_code = e.school_code "
        f"WHERE {where} GROUP BY e.school_code, s.name, s.district, e.fiscal_year, e.fund_code "
        "ORDER BY e.school_code, e.fund_code", params)
    for row in rows:
        for key in ("allocated", "spent", "allocations", "expenditures"):
            row[key] = int(row[key])
        row["remaining"] = row["allocated"] - row["spent"]
    return rows


def schools_on(db: ViewDatabase, as_of: date, district: str | None = None,
               school: str | None = None) -> list[SchoolOnDay]:
    """The schools registered by the day and not closed on it (from the books' catalogue)."""
    day = as_of.isoformat()
    clauses = ["registered_on <= ?", "(closed_on IS NULL OR closed_on > ?)",
               *scope_where(district, school)]
    params: list[Any] = [day, day, *scope_params(district, school)]
    schools = db.dicts("SELECT school_code, name, district, level FROM schools "  # noqa: S608
                       f"WHERE {' AND '.join(clauses)} ORDER BY school_code", params)
    history: dict[tuple[str, str], tuple[str, int, Any]] = {}
    for code, kind, effective, position, locale, students in db.rows(
            "SELECT h.school_code, h.kind, h.effective_date, h.position, h.locale, h.students "  # noqa: S608
            "FROM school_history h JOIN schools s ON s.school_code = h.school_code "
            f"WHERE h.effective_date <= ?{scope_sql('s', district, school)}",
            [day, *scope_params(district, school)]):
        key = (code, kind)
        if key not in history or (effective, position) > history[key][:2]:
            history[key] = (effective, position, locale if kind == "locale" else students)
    return [SchoolOnDay(row["school_code"], row["name"], row["district"], row["level"],
                        str(history[(row["school_code"], "locale")][2]),
                        int(history[(row["school_code"], "students")][2]))
            for row in schools
            if (row["school_code"], "students") in history]


def schools_with_entries(db: ViewDatabase, fiscal_year: int) -> set[str]:
    """The schools with any ledger entry in the year."""
    return {code for (code,) in db.rows(
        "SELECT DISTINCT school_code FROM ledger_entries WHERE fiscal_year = ?", (fiscal_year,))}


def _contains(text: str) -> str:
    """A LIKE pattern finding `text` anywhere, its own % and _ taken literally (ESCAPE '!')."""
    escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def expenditures_containing(db: ViewDatabase, column: str, text: str, *, limit: int,
                            leave_out_classes: Collection[str] = ()) -> list[ExpenditureRow]:
    """Expenditures whose voucher or payee (`column`) contains `text`, case-insensitively,
    newest first, at most `limit`. `leave_out_classes` keeps rows of those economic classes
    out of the answer in the query itself, so they cannot crowd the others out of the limit
    (a reader's payee search leaves out personal payments: api.auth.visible_payee)."""
    if column not in ("voucher", "payee"):
        msg = f"no search by {column}"
        raise ValueError(msg)
    clauses, params = [f"LOWER({column}) LIKE ? ESCAPE '!'"], [_contains(text)]
    if leave_out_classes:
        members = sorted(leave_out_classes)
        clauses.append(f"economic_class NOT IN ({', '.join('?' * len(members))})")
        params += members
    rows = db.dicts(
        f"SELECT * FROM expenditures WHERE {' AND '.join(clauses)} "  # noqa: S608
        "ORDER BY spent_on DESC, expenditure_id LIMIT ?",
        [*params, max(1, min(limit, PAGE_ROWS_MAX))])
    return [_expenditure_row(r) for r in rows]
