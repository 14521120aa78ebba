"""Replay as of a date or a position: the books as they stood, rebuilt from the events alone.

An auditor does not have to trust the stored views: this module folds the event store from
its first event, in memory, up to a position, counting each balance change that took effect
on or before a business date. It shares no code with the views (projections/books.py) except
the report's arithmetic (projections/rural_support.py), so a replay equal to the views' as-of
queries is independent evidence that the views hold what the events say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.allocation import Allocation, Origin
from domain.school import School
from projections import books_queries
from projections.book_rows import FundUnitBalance
from projections.page_view import log_pages
from projections.queries import BureauQueries
from projections.rural_support import (
    AllocationTotal,
    DatedValues,
    RuralSupportReport,
    SchoolFacts,
    build_report,
)

REPLAY_PAGE_SIZE = 2_000


@dataclass
class _Allocation:
    school: str
    fund: str
    fiscal_year: int
    unit: str
    opened_on: date
    amount: int


@dataclass
class _Balance:
    unit: str
    allocated: int = 0
    spent: int = 0
    allocations: int = 0
    expenditures: int = 0


@dataclass
class ReplayedBooks:
    """Balances and school facts as a fold of the events up to `position`, as of `as_of`."""

    as_of: date | None
    position: int = 0
    events: int = 0
    schools: dict[str, SchoolFacts] = field(default_factory=dict)
    locale_changes: dict[str, list[tuple[date, int, object]]] = field(default_factory=dict)
    enrolment_changes: dict[str, list[tuple[date, int, object]]] = field(default_factory=dict)
    # (school, fiscal year, fund) → balance
    balances: dict[tuple[str, int, str], _Balance] = field(default_factory=dict)
    # (school, unit, allocation's opening day, fiscal year) → [allocated, spent]
    received: dict[tuple[str, str, date, int], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0]))

    def school_balances(self, school: str, fiscal_year: int) -> list[FundUnitBalance]:
        return [FundUnitBalance(fund=fund, unit=b.unit, allocated=b.allocated, spent=b.spent,
                                remaining=b.allocated - b.spent, allocations=b.allocations,
                                expenditures=b.expenditures)
                for (code, year, fund), b in sorted(self.balances.items())
                if code == school and year == fiscal_year]

    def schools_with_balances(self, fiscal_year: int) -> list[str]:
        return sorted({code for code, year, _ in self.balances if year == fiscal_year})

    def rural_support(self, fiscal_year: int) -> RuralSupportReport:
        totals = [AllocationTotal(school, unit, day, allocated, spent)
                  for (school, unit, day, year), (allocated, spent) in sorted(self.received.items())
                  if year == fiscal_year]
        locales = {code: DatedValues(list(self.locale_changes[code])) for code in self.schools}
        enrolments = {code: DatedValues(list(self.enrolment_changes[code])) for code in self.schools}
        return build_report(fiscal_year, self.as_of, self.position, self.schools, locales,
                            enrolments, totals)


class _Fold:
    """Applies decoded events, in position order, to a `ReplayedBooks`."""

    def __init__(self, books: ReplayedBooks) -> None:
        self.books = books
        self.school_codes: dict[str, str] = {}
        self.allocations: dict[str, _Allocation] = {}

    def apply(self, position: int, event: Any) -> None:
        self.books.position = position
        self.books.events += 1
        name = _HANDLERS.get(type(event))
        if name is not None:
            getattr(self, name)(position, event)

    def _counts(self, event: Any) -> bool:
        as_of = self.books.as_of
        return as_of is None or event.stamp.effective_date <= as_of

    def _change(self, event: Any, allocation_id: str, allocated: int = 0, spent: int = 0,
                allocations: int = 0, expenditures: int = 0) -> None:
        # A change of nothing is no ledger entry: it must not make a school count in a cell.
        if not self._counts(event) or not (allocated or spent or allocations or expenditures):
            return
        a = self.allocations[allocation_id]
        balance = self.books.balances.setdefault((a.school, a.fiscal_year, a.fund), _Balance(a.unit))
        balance.allocated += allocated
        balance.spent += spent
        balance.allocations += allocations
        balance.expenditures += expenditures
        cell = self.books.received[(a.school, a.unit, a.opened_on, a.fiscal_year)]
        cell[0] += allocated
        cell[1] += spent

    # ----------------------------------------------------------------- schools

    def _school_registered(self, position: int, e: Any) -> None:
        day = e.stamp.effective_date
        self.school_codes[str(e.originator_id)] = e.code
        self.books.schools[e.code] = SchoolFacts(e.code, e.district, e.level, day, None)
        self.books.locale_changes[e.code] = [(day, position, e.locale)]
        self.books.enrolment_changes[e.code] = [(day, position, e.students)]

    def _school_reclassified(self, position: int, e: Any) -> None:
        code = self.school_codes[str(e.originator_id)]
        self.books.locale_changes[code].append((e.stamp.effective_date, position, e.locale))

    def _school_enrolment_reported(self, position: int, e: Any) -> None:
        code = self.school_codes[str(e.originator_id)]
        self.books.enrolment_changes[code].append((e.stamp.effective_date, position, e.students))

    def _school_closed(self, position: int, e: Any) -> None:
        code = self.school_codes[str(e.originator_id)]
        facts = self.books.schools[code]
        self.books.schools[code] = SchoolFacts(facts.code, facts.district, facts.level,
                                               facts.registered_on, e.stamp.effective_date)

    # ------------------------------------------------------------- allocations

    def _opened(self, position: int, e: Any) -> None:
        allocation_id = str(e.originator_id)
        self.allocations[allocation_id] = _Allocation(e.school_code, e.fund_code, e.fiscal_year,
                                                      e.unit, e.stamp.effective_date, e.amount)
        if e.origin != Origin.PROPOSAL:  # opened already approved: a transfer or a carry-over
            self._change(e, allocation_id, allocated=e.amount, allocations=1)


    def _allocation_approved(self, position: int, e: Any) -> None:
        allocation_id = str(e.originator_id)
        self._change(e, allocation_id, allocated=self.allocations[allocation_id].amount,
                     allocations=1)

    def _allocation_adjusted(self, position: int, e: Any) -> None:
        self._change(e, str(e.originator_id), allocated=e.delta)

    def _allocation_transferred_out(self, position: int, e: Any) -> None:
        self._change(e, str(e.originator_id), allocated=-e.amount)

    def _allocation_transferred_in(self, position: int, e: Any) -> None:
        self._change(e, str(e.originator_id), allocated=e.amount)

    def _allocation_cancelled(self, position: int, e: Any) -> None:
        self._change(e, str(e.originator_id), allocated=-e.released)

    def _allocation_year_closed(self, position: int, e: Any) -> None:
        self._change(e, str(e.originator_id), allocated=-e.remainder)

    def _allocation_spent(self, position: int, e: Any) -> None:
        self._change(e, str(e.originator_id), spent=e.amount, expenditures=1)

    def _allocation_spending_reversed(self, position: int, e: Any) -> None:
        self._change(e, str(e.originator_id), spent=-e.amount, expenditures=-1)


# Event kinds that change balances or school facts; the rest (vouchers, users, idempotency
# records, fund-side bookkeeping) leave the books as they are.
_HANDLERS: dict[type, str] = {
    School.Registered: "_school_registered",
    School.Reclassified: "_school_reclassified",
    School.EnrolmentReported: "_school_enrolment_reported",
    School.Closed: "_school_closed",
    Allocation.Approved: "_allocation_approved",
    Allocation.Adjusted: "_allocation_adjusted",
    Allocation.TransferredOut: "_allocation_transferred_out",
    Allocation.TransferredIn: "_allocation_transferred_in",
    Allocation.Cancelled: "_allocation_cancelled",
    Allocation.YearClosed: "_allocation_year_closed",
    Allocation.CarriedForward: "_allocation_year_closed",
    Allocation.SurplusRecovered: "_allocation_year_closed",
    Allocation.Spent: "_allocation_spent",
    Allocation.SpendingReversed: "_allocation_spending_reversed",
    Allocation.Proposed: "_opened",
    Allocation.OpenedByTransfer: "_opened",
    Allocation.OpenedByCarryOver: "_opened",
    Allocation.CarriedIn: "_opened",
}


def replay(ledger: Any, as_of: date | None = None, position: int | None = None,
           progress: Callable[[int], None] | None = None) -> ReplayedBooks:
    """Folds the ledger's events from the first up to `position` (all when None), counting
    balance changes that took effect on or before `as_of` (all when None)."""
    books = ReplayedBooks(as_of=as_of)
    fold = _Fold(books)
    for page in log_pages(ledger, position, REPLAY_PAGE_SIZE):
        for item in page:
            fold.apply(item.position, item.event)
        if progress is not None:
            progress(books.events)
    if position is not None:
        books.position = position
    return books


def differences(books: ReplayedBooks, queries: BureauQueries, fiscal_year: int) -> list[str]:
    """Where the stored views' as-of queries disagree with the replay, one line each.

    The views are asked as of the replay's date and position; the rural-support report only
    when the replay is of the whole log, since that report is asked by date alone.
    """
    lines = []
    views_position = queries.position()
    if views_position < books.position:
        lines.append(f"the views are at position {views_position}, behind the replay's "
                     f"{books.position}")
        return lines
    stored_schools = _schools_with_balances(queries, fiscal_year)
    for school in sorted(stored_schools | set(books.schools_with_balances(fiscal_year))):
        stored = queries.school_balances(school, fiscal_year, as_of=books.as_of,
                                         at_position=books.position).balances
        replayed = books.school_balances(school, fiscal_year)
        if [b for b in stored if _nonzero(b)] != [b for b in replayed if _nonzero(b)]:
            lines.append(f"school {school} {fiscal_year}: views have {_show(stored)}, "
                         f"replay has {_show(replayed)}")
    if books.position >= views_position:
        stored_report = queries.rural_support(fiscal_year, as_of=books.as_of)
        replayed_report = books.rural_support(fiscal_year)
        if stored_report.rows != replayed_report.rows:
            lines.append(f"rural support {fiscal_year}: the views' rows differ from the replay's")
        # The report's county coefficients are the balanced-development evaluation's, over
        # resource stocks: tests/resources/test_stock_replay.py holds those views to a replay.
        if stored_report.rural_to_urban_per_student_ratio != replayed_report.rural_to_urban_per_student_ratio:
            lines.append(f"rural support {fiscal_year}: rural/urban ratio differs")
    return lines


def _nonzero(balance: FundUnitBalance) -> bool:
    return any((balance.allocated, balance.spent, balance.allocations, balance.expenditures))


def _show(balances: list[FundUnitBalance]) -> str:
    return "; ".join(f"{b.fund} {b.unit} allocated {b.allocated} spent {b.spent} "
                     f"({b.allocations}/{b.expenditures})" for b in balances if _nonzero(b)) or "nothing"


def _schools_with_balances(queries: BureauQueries, fiscal_year: int) -> set[str]:
    return books_queries.schools_with_entries(queries._db(), fiscal_year)  # its own connection
