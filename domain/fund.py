"""A fund: an appropriation or programme budget line of one fiscal year, in one unit.

Invariant: 0 ≤ allocated ≤ appropriated, asserted after every change. The fund also decides
which schools it may pay (its earmark and levels) and which days its books are open to.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp
from domain.classification import Earmark
from domain.errors import (
    AppropriationBelowAllocated,
    DateOutsideFiscalYear,
    EarmarkViolation,
    FundClosed,
    LevelNotEligible,
    OverAllocation,
    SchoolClosed,
)
from domain.invariants import AssertedAfterEveryChange
from domain.limits import AMOUNT_MINOR_MAX
from domain.natural_keys import KeyedAggregate, natural_id
from domain.provenance import add_provenance_defaults
from domain.rules import check_not_future
from domain.school import School
from domain.terms import term
from domain.units import money_text


class Fund(AssertedAfterEveryChange, KeyedAggregate):
    # 2: snapshots hold `formula_funded`. 3: the fund's classification and provenance.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        state["formula_funded"] = False

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        add_provenance_defaults(state)

    class Opened(Aggregate.Created):
        """Version 2 adds the 政府收支分类 functional code and the money's provenance: the
        document (文号) that issued it, the issuing level, the day it was received and each
        source level's share. Funds opened before get the defaults of
        `domain.provenance.add_provenance_defaults` (docs/classification.md)."""

        class_version = 2
        code: str
        name: str
        fiscal_year: int
        unit: str
        amount: int
        source: str
        category: str
        earmark: str
        levels: list[str]
        expenditure_classes: list[str]
        stamp: Stamp
        function_code: str
        doc_no: str
        issuing_level: str
        received_on: date | None
        shares: list[dict[str, Any]]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            add_provenance_defaults(state)

    @staticmethod
    def id_for(code: str) -> UUID:
        """A fund's id follows from its code, so the store itself refuses a second opening."""
        return natural_id("fund", code)

    @event(Opened)
    def __init__(
        self,
        code: str,
        name: str,
        fiscal_year: int,
        unit: str,
        amount: int,
        source: str,
        category: str,
        earmark: str,
        levels: list[str],
        expenditure_classes: list[str],
        stamp: Stamp,
        function_code: str,
        doc_no: str,
        issuing_level: str,
        received_on: date | None,
        shares: list[dict[str, Any]],
    ) -> None:
        self.code = code
        self.name = name
        self.fiscal_year = fiscal_year
        self.unit = unit
        self.appropriated = amount
        self.source = source
        self.category = category
        self.earmark = earmark
        self.levels = levels
        self.expenditure_classes = expenditure_classes
        self.allocated = 0
        self.allocation_ids: list[UUID] = []
        self.closed = False
        self.formula_funded = False
        self.function_code = function_code
        self.doc_no = doc_no
        self.issuing_level = issuing_level
        self.received_on = received_on
        # [] when one level pays it all (`source`); else each level's share of the opening
        # appropriation, as {"source", "amount"} in minor units, summing to it.
        self.shares = shares

    @property
    def available(self) -> int:
        """What may still be approved: appropriation less approved allocations."""
        return self.appropriated - self.allocated

    def check_open(self) -> None:
        if self.closed:
            msg = f"fund {self.code} is closed"
            raise FundClosed(msg, f"资金 {self.code} 已关闭")

    def check_in_fiscal_year(self, day: date, what: str) -> None:
        if day.year != self.fiscal_year:
            msg = f"{what} {day} is outside fund {self.code}'s fiscal year {self.fiscal_year}"
            raise DateOutsideFiscalYear(msg, f"日期 {day} 不在资金 {self.code} 的 {self.fiscal_year} 年度内")

    def business_day(self, effective_date: date | None, today: date) -> date:
        """The business date of a change to this fund's books: the one given, else today, or
        the last day of a past fiscal year (year-end work on last year's books needs no date).
        Never in the future; always inside the fund's fiscal year."""
        day = effective_date or min(today, date(self.fiscal_year, 12, 31))
        check_not_future(day, today, "effective_date")
        self.check_in_fiscal_year(day, "effective_date")
        return day

    def check_may_pay(self, school: School, day: date) -> None:
        """May this fund pay this school on this day: not a school closed by then, and one
        its earmark and levels allow."""
        if school.closed_on is not None and school.closed_on <= day:
            msg = f"school {school.code} closed on {school.closed_on}"
            raise SchoolClosed(msg, f"学校 {school.code} 已于 {school.closed_on} 撤销")
        self.check_eligible(school, day)

    def check_eligible(self, school: School, day: date) -> None:
        """A rural-support fund goes only to town, rural or poverty-area schools (as they were
        classified on `day`); a fund restricted to levels only to schools of those levels."""
        if self.earmark == Earmark.RURAL_SUPPORT and not school.is_rural_support_eligible_on(day):
            msg = (f"fund {self.code} is earmarked for rural support; school {school.code} is "
                   f"{school.locale_on(day)} and not in a poverty area on {day}")
            raise EarmarkViolation(msg, f"资金 {self.code} 为乡村支持专项；学校 {school.code} 于 {day} "
                                        f"属{term(school.locale_on(day), 'zh')}，且不在脱贫地区")
        if self.levels and school.level not in self.levels:
            msg = (f"fund {self.code} is for {', '.join(self.levels)} schools; "
                   f"{school.code} is {school.level}")
            levels_zh = "、".join(term(level, "zh") for level in self.levels)
            raise LevelNotEligible(msg, f"资金 {self.code} 只拨付{levels_zh}学校；{school.code} 是"
                                        f"{term(school.level, 'zh')}")

    def allocation_terms(self, school_id: UUID, school_code: str, purpose: str,
                         amount_minor: int) -> dict[str, object]:
        """What an allocation of this fund to a school records of both when it opens."""
        return {"fund_id": self.id, "fund_code": self.code, "school_id": school_id,
                "school_code": school_code, "fiscal_year": self.fiscal_year, "unit": self.unit,
                "category": self.category, "expenditure_classes": list(self.expenditure_classes),
                "purpose": purpose, "amount": amount_minor}

    def mark_formula_funded(self, stamp: Stamp) -> None:
        """From now on a hand-proposed allocation below the per-pupil standard needs a reason."""
        self.check_open()
        if not self.formula_funded:
            self._mark_formula_funded(stamp=stamp)

    @event("MarkedFormulaFunded")
    def _mark_formula_funded(self, stamp: Stamp) -> None:
        self.formula_funded = True

    def check_can_commit(self, amount: int) -> None:
        if amount > self.available:
            msg = (
                f"fund {self.code} has {money_text(self.available, self.unit)} unallocated; "
                f"{money_text(amount, self.unit)} was asked"
            )
            raise OverAllocation(msg, f"资金 {self.code} 未分配余额 "
                                      f"{money_text(self.available, self.unit, 'zh')}，申请 "
                                      f"{money_text(amount, self.unit, 'zh')}")

    def adjust_appropriation(self, delta: int, stamp: Stamp) -> None:
        self.check_open()
        new_appropriated = self.appropriated + delta
        if new_appropriated < self.allocated:
            msg = (
                f"fund {self.code} has {money_text(self.allocated, self.unit)} allocated; the "
                f"appropriation cannot fall to {money_text(new_appropriated, self.unit)}"
            )
            raise AppropriationBelowAllocated(
                msg, f"资金 {self.code} 已下达 {money_text(self.allocated, self.unit, 'zh')}，预算不能"
                     f"减至 {money_text(new_appropriated, self.unit, 'zh')}")
        if new_appropriated > AMOUNT_MINOR_MAX:
            msg = f"appropriation would exceed {money_text(AMOUNT_MINOR_MAX, self.unit)}"
            raise OverAllocation(msg, f"资金 {self.code} 预算将超过 "
                                      f"{money_text(AMOUNT_MINOR_MAX, self.unit, 'zh')}")
        self._adjust_appropriation(delta=delta, stamp=stamp)

    @event("AppropriationAdjusted")
    def _adjust_appropriation(self, delta: int, stamp: Stamp) -> None:
        self.appropriated += delta

    def commit(self, allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        """Approval (or an upward adjustment) commits part of the appropriation."""
        self.check_open()
        self.check_can_commit(amount)
        self._commit(allocation_id=allocation_id, amount=amount, stamp=stamp)

    @event("Committed")
    def _commit(self, allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        self.allocated += amount
        if allocation_id not in self.allocation_ids:
            self.allocation_ids.append(allocation_id)

    def commit_tranche(self, tranche_id: UUID, allocations: list[tuple[UUID, int]],
                       stamp: Stamp) -> None:
        """A tranche's approval commits all its allocations in one event (2,000 `Committed`
        events made the fund's history, and its snapshots, the cost of an approval)."""
        self.check_open()
        amount = sum(allocated for _, allocated in allocations)
        self.check_can_commit(amount)
        self._commit_tranche(tranche_id=tranche_id,
                             allocation_ids=[allocation_id for allocation_id, _ in allocations],
                             amount=amount, stamp=stamp)

    @event("TrancheCommitted")
    def _commit_tranche(self, tranche_id: UUID, allocation_ids: list[UUID], amount: int,
                        stamp: Stamp) -> None:
        self.allocated += amount
        known = set(self.allocation_ids)
        self.allocation_ids.extend(i for i in allocation_ids if i not in known)

    def release(self, allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        """Cancellation or a downward adjustment gives unspent money back to the fund."""
        self.check_open()
        self._release(allocation_id=allocation_id, amount=amount, stamp=stamp)

    @event("Released")
    def _release(self, allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        self.allocated -= amount

    def carry_in(self, from_fund: str, amount: int, stamp: Stamp) -> None:
        """Last year's unspent remainder arrives as added appropriation (结转)."""
        self.check_open()
        self._carry_in(from_fund=from_fund, amount=amount, stamp=stamp)

    @event("CarriedIn")
    def _carry_in(self, from_fund: str, amount: int, stamp: Stamp) -> None:
        self.appropriated += amount

    def close(self, disposition: str, lapsed: int, carried_over: int, carry_to: str | None,
              stamp: Stamp) -> None:
        self.check_open()
        self._close(disposition=disposition, lapsed=lapsed, carried_over=carried_over,
                    carry_to=carry_to, stamp=stamp)

    def receive_carry_over(self, from_fund: str, allocations: list[tuple[UUID, int]],
                           stamp: Stamp) -> None:
        """结转 arrives: the appropriation grows by what last year's fund carried, and it is at
        once allocated to the carried-in allocations of the same schools. One event for a
        whole source fund, so that closing a county's year does not write (and snapshot) the
        target fund once per allocation."""
        self.check_open()
        amount = sum(a for _, a in allocations)
        if amount > AMOUNT_MINOR_MAX - self.appropriated:
            msg = f"appropriation would exceed {AMOUNT_MINOR_MAX} minor units"
            raise OverAllocation(msg, f"资金 {self.code} 结转后预算将超过 "
                                      f"{money_text(AMOUNT_MINOR_MAX, self.unit, 'zh')}")
        self._receive_carry_over(from_fund=from_fund, amount=amount,
                                 allocation_ids=[i for i, _ in allocations], stamp=stamp)

    @event("CarryOverReceived")
    def _receive_carry_over(self, from_fund: str, amount: int, allocation_ids: list[UUID],
                            stamp: Stamp) -> None:
        self.appropriated += amount
        self.allocated += amount
        known = set(self.allocation_ids)
        self.allocation_ids.extend(i for i in allocation_ids if i not in known)

    def close_year(self, carried_forward: int, surplus_recovered: int, stamp: Stamp) -> None:
        """Year-end: the allocations' remainders left as 结转 and 结余; unallocated stays shown."""
        self.check_open()
        self._close_year(carried_forward=carried_forward, surplus_recovered=surplus_recovered,
                         stamp=stamp)

    @event("YearEndClosed")
    def _close_year(self, carried_forward: int, surplus_recovered: int, stamp: Stamp) -> None:
        # The year-end figures live in the event and the views (projections/carry_over.py),
        # not in the fund's state: snapshots of first-release funds could not know them.
        self.allocated -= carried_forward + surplus_recovered
        self.closed = True

    # The first release's close (disposition lapse | carry_over for the whole fund): kept so
    # that its stores replay; new closes record YearEndClosed.
    @event("Closed")
    def _close(self, disposition: str, lapsed: int, carried_over: int, carry_to: str | None,
               stamp: Stamp) -> None:
        # The remainders left the fund: what stays allocated is what was spent.
        self.allocated -= lapsed + carried_over
        self.closed = True

    def _assert_invariants(self) -> None:
        # After every change: a bug elsewhere must stop here, not corrupt the books.
        assert 0 <= self.allocated <= self.appropriated, (self.code, self.allocated,
                                                          self.appropriated)
