"""As-of reads of the audit facts shared by several rules: allocation balances, live
expenditures, and each school's locale and enrolment on a day.

"As of" means: events whose effective date is on or before the day and whose position is
within the scope's bound. A reversal dated after the day does not yet count.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from projections.database import ViewDatabase
    from projections.findings.rule import Scope

T = TypeVar("T")


class SharedReads:
    """The session of one run of the rules: each as-of read below is asked by several rules
    (the year's allocations by nine, its expenditures by nine), so it is read once per scope
    and shared. The rules only read the rows they are given, never change them."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.shared_reads: dict[tuple[Any, ...], Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def _shared(session: ViewDatabase, key: tuple[Any, ...], read: Callable[[], T]) -> T:
    memo = getattr(session, "shared_reads", None)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]  # type: ignore[no-any-return]


def allocations(session: ViewDatabase, scope: Scope, *, all_years: bool = False) -> list[dict[str, Any]]:
    """The fiscal year's allocations proposed by the day, with allocated, spent and last
    spending date then; `all_years`: the earlier years' too that may hold a balance or lead
    to one (a balance's chain of carry-overs reaches back), never a later year's: only the
    balance rules ask, and a year's findings read neither the years after it nor the spent,
    lapsed and rejected allocations of the years before.

    The year's rows are read once: `all_years` adds the earlier years' to them (read apart,
    as of a day within the year both reads summed the same unsettled allocations' entries, at
    full size as of 30 June 0.15 s of CPU each)."""
    year = _shared(session, ("allocations", scope, False),
                   lambda: _allocations(session, scope, years="year"))
    if not all_years:
        return year
    return _shared(session, ("allocations", scope, True), lambda: list(heapq.merge(
        year, _allocations(session, scope, years="earlier"), key=itemgetter("proposed_position"))))


def _allocations(session: ViewDatabase, scope: Scope, *, years: str) -> list[dict[str, Any]]:
    rows = allocation_rows(session, scope, years=years)
    for row in rows:
        decided = (
            row["decided_on"] is not None
            and row["decided_on"] <= scope.day
            and row["decided_position"] <= scope.position_max
        )
        if not decided:
            row["decision"] = row["decided_by"] = row["decided_on"] = None
            row["decided_position"] = None
    return rows


_ALLOCATION_COLUMNS = """a.allocation_id, a.fund_code, a.school_code, a.fiscal_year, a.unit,
    a.category, a.origin, a.amount, a.proposed_by, a.proposed_on, a.proposed_position,
    a.decision, a.decided_by, a.decided_role, a.decided_on, a.decided_position, a.carried_to"""
# An allocation all of whose entries the scope holds (dated by its day, within its positions).
_SETTLED = ("({a}.last_entry_on IS NULL OR ({a}.last_entry_on <= ? "
            "AND {a}.last_entry_position <= ?))")
_UNSETTLED = ("({a}.last_entry_on IS NOT NULL AND ({a}.last_entry_on > ? "
              "OR {a}.last_entry_position > ?))")


_YEARS = {"year": "=", "earlier": "<"}  # the scope's fiscal year, or the years before it
# An earlier year's allocation a balance rule can use (idle_allocations._aged_balances): one
# whose money was carried on (a chain of carry-overs passes through it), or an approved one
# with money left as of the day and not closed before it. The others (at a past year's end,
# most: spent, lapsed, rejected) are left out, so a year's findings read little of each year
# before it. {allocated}, {spent}, {closed_on}: the as-of values of the half asking.
_MAY_HOLD_A_BALANCE = ("(a.carried_to IS NOT NULL OR (a.decision = 'approved' AND {allocated} > "
                       "{spent} AND ({closed_on} IS NULL OR {closed_on} >= ?)))")


def allocation_rows(session: ViewDatabase, scope: Scope, *, years: str) -> list[dict[str, Any]]:
    """The allocations' rows and their as-of sums, as stored (decisions not yet masked), of the
    scope's fiscal year or (`years="earlier"`) of the years before it that may hold a balance
    (`_MAY_HOLD_A_BALANCE`), by proposal position.

    An allocation whose every entry the scope holds (at a past year's end, nearly all) answers
    the running totals the view keeps; only the others' entries are summed, per allocation
    before the join (grouping the joined rows by all seventeen columns cost a sort of the
    year). One statement, so both halves read the same state of the view."""
    compare = _YEARS[years]
    year_clause = f"AND a.fiscal_year {compare} ?"
    entries_of = f"AND y.fiscal_year {compare} ?"
    bound = [scope.day, scope.position_max]
    base = [*bound, scope.fiscal_year]
    settled, unsettled = _SETTLED.format(a="a"), _UNSETTLED.format(a="a")
    settled_kept = unsettled_kept = ""
    kept_day: list[Any] = []
    if years == "earlier":
        settled_kept = "AND " + _MAY_HOLD_A_BALANCE.format(
            allocated="a.allocated_total", spent="a.spent_total", closed_on="a.closed_on")
        unsettled_kept = "AND " + _MAY_HOLD_A_BALANCE.format(
            allocated="COALESCE(e.allocated, 0)", spent="COALESCE(e.spent, 0)",
            closed_on="e.closed_on")
        kept_day = [scope.day]
    params = [*base, *bound, *kept_day, *bound, scope.fiscal_year, *bound, *base, *bound,
              *kept_day]
    rows = session.dicts(
        f"""SELECT {_ALLOCATION_COLUMNS}, a.allocated_total AS allocated, a.spent_total AS spent,
                   a.last_funded_on, a.closed_on, a.last_entry_position AS last_position
            FROM findings_allocations a
            WHERE a.proposed_on <= ? AND a.proposed_position <= ? {year_clause} AND {settled}
                  {settled_kept}
            UNION ALL
            SELECT {_ALLOCATION_COLUMNS},
                   COALESCE(e.allocated, 0) AS allocated, COALESCE(e.spent, 0) AS spent,
                   e.last_funded_on, e.closed_on, e.last_position
            FROM findings_allocations a
            LEFT JOIN (SELECT x.allocation_id,
                              SUM(CASE WHEN x.kind = 'allocated' THEN x.delta END) AS allocated,
                              SUM(CASE WHEN x.kind = 'spent' THEN x.delta END) AS spent,
                              MAX(CASE WHEN x.kind = 'allocated' AND x.delta > 0
                                       THEN x.effective_date END) AS last_funded_on,
                              MAX(CASE WHEN x.kind = 'closed' THEN x.effective_date END)
                                  AS closed_on,
                              MAX(x.position) AS last_position
                       FROM findings_allocation_entries x
                       JOIN findings_allocations y ON y.allocation_id = x.allocation_id
                            AND {_UNSETTLED.format(a="y")} {entries_of}
                       WHERE x.effective_date <= ? AND x.position <= ?
                       GROUP BY x.allocation_id) e ON e.allocation_id = a.allocation_id
            WHERE a.proposed_on <= ? AND a.proposed_position <= ? {year_clause} AND {unsettled}
                  {unsettled_kept}
            ORDER BY proposed_position""",  # noqa: S608  (no user text in the SQL)
        params,
    )
    for row in rows:
        # PostgreSQL sums BIGINTs as NUMERIC: money comes back to exact Python integers.
        row["allocated"], row["spent"] = int(row["allocated"]), int(row["spent"])
    return rows


@dataclass(frozen=True)
class Spending:
    """The scope's live expenditures (of the fiscal year, spent by the day, not reversed by
    then), in position order, a tuple per column. A rule zips the few columns it reads and
    makes a row (`row`) only for what it finds: a dict for each of the ~190,000 rows of a
    year at full size cost more than the rules' own work over them."""

    expenditure_id: tuple[str, ...]
    allocation_id: tuple[str, ...]
    fund_code: tuple[str, ...]
    school_code: tuple[str, ...]
    unit: tuple[str, ...]
    amount: tuple[int, ...]
    payee: tuple[str, ...]
    voucher: tuple[str, ...]
    spent_on: tuple[str, ...]
    economic_class: tuple[str, ...]
    position: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.position)

    def row(self, index: int) -> dict[str, Any]:
        return {name: getattr(self, name)[index] for name in _SPENDING_COLUMNS}


_SPENDING_COLUMNS = tuple(Spending.__dataclass_fields__)


def spending(session: ViewDatabase, scope: Scope) -> Spending:
    """The scope's live expenditures, a column each (read once per scope and shared)."""
    return _shared(session, ("spending", scope), lambda: _spending(session, scope))


def expenditures(session: ViewDatabase, scope: Scope) -> list[dict[str, Any]]:
    """The scope's live expenditures, a dict a row (the rules read `spending`)."""
    live = spending(session, scope)
    return [live.row(index) for index in range(len(live))]


def _spending(session: ViewDatabase, scope: Scope) -> Spending:
    # The fund's own columns are not joined in (a lookup for each of ~190,000 rows at full
    # size): the few rules that need them ask `funds`. The index on (fiscal_year, position)
    # gives the rows in position order without a sort.
    rows = session.rows(
        f"""SELECT {", ".join(f"x.{name}" for name in _SPENDING_COLUMNS)}
           FROM findings_expenditures x
           WHERE x.fiscal_year = ? AND x.spent_on <= ? AND x.position <= ?
             AND NOT (x.reversed_on IS NOT NULL AND x.reversed_on <= ?
                      AND x.reversed_position <= ?)
           ORDER BY x.position""",  # noqa: S608  (no user text in the SQL)
        (scope.fiscal_year, scope.day, scope.position_max, scope.day, scope.position_max),
    )
    return Spending(*(tuple(map(itemgetter(index), rows)) for index in range(len(_SPENDING_COLUMNS))))


@dataclass(frozen=True)
class FundPurpose:
    category: str
    classes: frozenset[str]  # the economic classes the fund allows


def funds(session: ViewDatabase) -> dict[str, FundPurpose]:
    """Each fund's category and allowed classes, by fund code (they never change)."""
    return _shared(session, ("funds",), lambda: {
        code: FundPurpose(category, frozenset(classes.split(",")))
        for code, category, classes in session.rows(
            "SELECT fund_code, category, expenditure_classes FROM findings_funds")})


@dataclass(frozen=True)
class SchoolOnDay:
    code: str
    district: str
    level: str
    poverty_area: bool
    locale: str
    students: int
    evidence: tuple[int, ...]  # positions of the registration and the reports in force


def schools_on(session: ViewDatabase, scope: Scope) -> dict[str, SchoolOnDay]:
    """Each school as it stood on the day: the locale and enrolment then in force.

    As in the domain, before any dated report the registered values hold. Schools closed
    on or before the day are left out.
    """
    return _shared(session, ("schools_on", scope.day, scope.position_max),
                   lambda: _schools_on(session, scope))


def _schools_on(session: ViewDatabase, scope: Scope) -> dict[str, SchoolOnDay]:
    schools = session.dicts(
        "SELECT school_code, district, level, poverty_area, closed_on, position "
        "FROM findings_schools WHERE position <= ?",
        (scope.position_max,),
    )
    history = session.dicts(
        "SELECT school_code, kind, text_value, int_value, effective_date, position "
        "FROM findings_school_history WHERE position <= ? ORDER BY effective_date, position",
        (scope.position_max,),
    )
    current: dict[tuple[str, str], dict[str, Any]] = {}
    for row in history:
        key = (row["school_code"], row["kind"])
        if key not in current or row["effective_date"] <= scope.day:
            current[key] = row
    result = {}
    for school in schools:
        if school["closed_on"] is not None and school["closed_on"] <= scope.day:
            continue
        code = school["school_code"]
        locale, students = current[(code, "locale")], current[(code, "students")]
        result[code] = SchoolOnDay(
            code=code,
            district=school["district"],
            level=school["level"],
            poverty_area=bool(school["poverty_area"]),
            locale=locale["text_value"],
            students=int(students["int_value"]),
            evidence=tuple(sorted({school["position"], locale["position"], students["position"]})),
        )
    return result
