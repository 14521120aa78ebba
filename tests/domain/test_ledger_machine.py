"""Random sequences of every command, valid and not, against a model made of plain dicts,
on the embedded default and on PostgreSQL.

The model predicts, before each command, whether it must be refused and by which rule (in
the order the ledger checks them), and what it changes. After every step: no allocation is
overspent, no fund is over-allocated, every balance equals the model's, and a refused
command wrote no event.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from hypothesis import HealthCheck, assume, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from api.settings import Settings
from domain import errors as e
from domain.actors import Actor
from domain.change import PendingChange
from domain.ledger import FundLedger, Outcome
from tests import strategies as s
from tests.conftest import APPROVER, AUDITOR, CHECKER, OFFICER
from tests.factories import CHIEF_OFFICER

# The machine's today: mid-2026, so that 2025 is a past year and 2026 the current one.
TODAY = date(2026, 6, 30)
REGISTERED_ON = date(2025, 1, 1)
RECLASSIFIED_ON = date(2025, 1, 15)
CLOSED_ON = date(2025, 2, 1)  # before any allocation's date: a closed school is closed to all
CARRIED_ON = date(2026, 1, 1)

SCHOOLS = ["S0", "S1", "S2", "S3", "S4"]
# code: (fiscal year, unit, category)
FUNDS = {
    "F25A": (2025, "CNY", "public_operating"),
    "F25B": (2025, "CNY", "public_operating"),
    "F26A": (2026, "CNY", "public_operating"),
    "F26B": (2026, "CNY", "public_operating"),  # maybe earmarked or level-restricted
    "F26C": (2026, "COMPUTER", "equipment"),
}
VOUCHERS = ["V0", "V1", "V2"]


def proposed_on(year: int) -> date:
    return date(year, 3, 1)


def approved_on(year: int) -> date:
    return date(year, 3, 2)


def transferred_on(year: int) -> date:
    return date(year, 3, 5)


def spent_on(year: int, when: str) -> date:
    return {
        "in_year": date(year, 4, 1),
        "before_approval": date(year, 3, 1),
        "other_year": date(2026 if year == 2025 else 2025, 4, 1),
        "future": date(2026, 7, 1),
    }[when]


@dataclass
class MSchool:
    locale: str
    poverty: bool
    level: str
    closed: bool = False


@dataclass
class MFund:
    year: int
    unit: str
    earmark: str
    levels: tuple[str, ...]
    appropriated: int
    allocated: int = 0
    closed: bool = False
    # Allocations the fund has committed to (approved, transferred-to, carried-in): the ones
    # its year-end close reaches.
    allocation_ids: list[UUID] = field(default_factory=list)


@dataclass
class MAllocation:
    fund: str
    school: str
    year: int
    amount: int
    proposer: str
    effective: date
    status: str = "proposed"
    allocated: int = 0
    spent: int = 0
    approved_on: date | None = None


@dataclass
class MExpenditure:
    allocation: UUID
    amount: int
    school: str
    year: int
    voucher: str
    reversed: bool = False


def eligible_error(school: MSchool, fund: MFund) -> type[e.LedgerError] | None:
    if school.closed:
        return e.SchoolClosed
    return fund_rule_error(school, fund)


def fund_rule_error(school: MSchool, fund: MFund) -> type[e.LedgerError] | None:
    """The fund's own rules for a school: earmark, then levels (a carry-over checks these)."""
    if fund.earmark == "rural_support" and not (school.poverty or school.locale in ("town", "rural")):
        return e.EarmarkViolation
    if fund.levels and school.level not in fund.levels:
        return e.LevelNotEligible
    return None


def approved_error(allocation: MAllocation) -> type[e.LedgerError] | None:
    if allocation.status == "proposed":
        return e.NotApproved
    if allocation.status != "approved":
        return e.AllocationClosed
    return None


def _pick(ids: list[UUID], preferred: list[UUID], pick: int) -> UUID:
    if preferred and pick % 4:
        return preferred[(pick // 4) % len(preferred)]
    index = pick % (len(ids) + 1)
    return ids[index] if index < len(ids) else uuid4()


class LedgerMachine(RuleBasedStateMachine):
    """Subclassed per store with a `store` factory that yields Settings for one example."""

    store: ClassVar[Callable[[], AbstractContextManager[Settings]]]

    def __init__(self) -> None:
        super().__init__()
        self._store = self.store()
        self.ledger = FundLedger(env=self._store.__enter__().eventsourcing_env(),
                                 clock=lambda: TODAY)
        self.schools: dict[str, MSchool] = {}
        self.funds: dict[str, MFund] = {}
        self.allocations: dict[UUID, MAllocation] = {}
        self.expenditures: dict[UUID, MExpenditure] = {}
        self.vouchers: dict[tuple[str, int, str], UUID | None] = {}
        self.keys = 0
        self.last_keyed: tuple[Callable[[int], Outcome], int, Outcome] | None = None

    def teardown(self) -> None:
        self.ledger.close()
        self._store.__exit__(None, None, None)

    # -------------------------------------------------------------- helpers

    def attempt(self, expected: type[e.LedgerError] | None,
                command: Callable[[], Outcome]) -> Outcome | None:
        """Runs a command the model expects to succeed (None) or to be refused by one rule."""
        event(f"{sys._getframe(1).f_code.co_name}: "
              f"{expected.__name__ if expected else 'accepted'}")
        before = self.ledger.last_position()
        try:
            outcome = command()
        except e.LedgerError as error:
            assert expected is not None, f"refused with {error!r}; the model expected success"
            assert type(error) is expected, f"refused with {error!r}, not {expected.__name__}"
            assert self.ledger.last_position() == before, "a refused command wrote an event"
            return None
        assert expected is None, f"succeeded; the model expected {expected.__name__}"
        assert not outcome.replayed
        assert outcome.position == self.ledger.last_position() > before
        if isinstance(outcome.subject, PendingChange):
            # A two-person change: nothing moved yet; another approver applies it now.
            done = self.ledger.approve_change(CHECKER, outcome.subject.id)
            return Outcome(done.subjects[1:], done.position)
        return outcome

    def pick_allocation(self, pick: int, *statuses: str) -> UUID:
        """Mostly one in a status where the command can go through; else any, or an unknown id."""
        return _pick(list(self.allocations),
                     [i for i, a in self.allocations.items() if a.status in statuses], pick)

    def pick_expenditure(self, pick: int) -> UUID:
        return _pick(list(self.expenditures),
                     [i for i, x in self.expenditures.items() if not x.reversed], pick)

    def next_key(self) -> str:
        self.keys += 1
        return f"key-{self.keys}"

    # ---------------------------------------------------------------- schools

    @initialize(schools=st.lists(st.tuples(s.locales, s.poverty_flags, s.levels), min_size=3,
                                 max_size=3),
                amounts=st.tuples(s.small_amounts, s.small_amounts),
                earmark=s.earmarks, levels=s.level_restrictions)
    def open_the_books(self, schools: list[tuple[str, bool, str]], amounts: tuple[int, int],
                       earmark: str, levels: tuple[str, ...]) -> None:
        """Every example starts with three schools, funds of both years and three approved
        allocations with some spending, so that most steps act on something that exists."""
        for code, (locale, poverty, level) in zip(SCHOOLS, schools, strict=False):
            self.register_school(code, locale, poverty, level)
        self.open_fund("F25A", amounts[0] * 3, "none", ())
        self.open_fund("F25B", amounts[1] * 3, earmark, levels)
        self.open_fund("F26A", amounts[1] * 3, "none", ())
        self.open_fund("F26B", amounts[1] * 3, earmark, levels)  # a carry-over target with rules
        for code in SCHOOLS[:3]:
            self.propose_allocation("F25A", code, amounts[0], chief=False, keyed=False)
        for pick in range(3):
            self.approve_allocation(pick * 4 + 1, chief=False)
        for pick in range(2):
            self.record_expenditure(pick * 4 + 1, amounts[0] // 2, VOUCHERS[pick], "in_year",
                                    None, keyed=pick == 0)

    @rule(code=st.sampled_from(SCHOOLS), locale=s.locales, poverty=s.poverty_flags,
          level=s.levels)
    def register_school(self, code: str, locale: str, poverty: bool, level: str) -> None:
        expected = e.SchoolAlreadyRegistered if code in self.schools else None
        if self.attempt(expected, lambda: self.ledger.register_school(
                OFFICER, code=code, name=f"学校 {code}", district="Pei", level=level,
                locale=locale, poverty_area=poverty, students=300,
                effective_date=REGISTERED_ON)):
            self.schools[code] = MSchool(locale, poverty, level)

    @rule(code=st.sampled_from(SCHOOLS), locale=s.locales)
    def reclassify_school(self, code: str, locale: str) -> None:
        school = self.schools.get(code)
        expected = (e.SchoolNotFound if school is None else e.SchoolClosed if school.closed
                    else e.InvalidInput if school.locale == locale else None)
        if self.attempt(expected, lambda: self.ledger.reclassify_school(
                OFFICER, code, locale=locale, reason="re-survey",
                effective_date=RECLASSIFIED_ON)):
            assert school is not None
            school.locale = locale

    @rule(code=st.sampled_from(SCHOOLS))
    def close_school(self, code: str) -> None:
        school = self.schools.get(code)
        expected = (e.SchoolNotFound if school is None else e.SchoolClosed if school.closed
                    else None)
        if self.attempt(expected, lambda: self.ledger.close_school(
                OFFICER, code, reason="merged", effective_date=CLOSED_ON)):
            assert school is not None
            school.closed = True

    # ------------------------------------------------------------------ funds

    @rule(code=st.sampled_from(sorted(FUNDS)), amount=s.amounts_or_zero, earmark=s.earmarks,
          levels=s.level_restrictions)
    def open_fund(self, code: str, amount: int, earmark: str, levels: tuple[str, ...]) -> None:
        year, unit, category = FUNDS[code]
        expected = (e.AmountOutOfRange if amount == 0
                    else e.FundAlreadyOpened if code in self.funds else None)
        if self.attempt(expected, lambda: self.ledger.open_fund(
                OFFICER, code=code, name=f"资金 {code}", fiscal_year=year, unit=unit,
                amount=amount, source="county", category=category, earmark=earmark,
                levels=levels)):
            self.funds[code] = MFund(year, unit, earmark, levels, amount)

    @rule(code=st.sampled_from(sorted(FUNDS)), delta=s.deltas)
    def adjust_fund(self, code: str, delta: int) -> None:
        fund = self.funds.get(code)
        expected = (e.AmountOutOfRange if delta == 0 else e.FundNotFound if fund is None
                    else e.FundClosed if fund.closed
                    else e.AppropriationBelowAllocated if fund.appropriated + delta < fund.allocated
                    else None)
        if self.attempt(expected, lambda: self.ledger.adjust_fund(
                APPROVER, code, delta=delta, reason="budget revision")):
            assert fund is not None
            fund.appropriated += delta

    @rule(code=st.sampled_from(sorted(FUNDS)),
          carry_to=st.one_of(st.none(), st.sampled_from(sorted(FUNDS))))
    def close_fund(self, code: str, carry_to: str | None) -> None:
        """Every fund here is public operating money (basic expenditure): each remainder is
        carried over (结转) into next year's fund of the same purpose, named or found."""
        fund = self.funds.get(code)
        expected: type[e.LedgerError] | None = None
        target: MFund | None = None
        target_code = carry_to
        if fund is None:
            expected = e.FundNotFound
        elif fund.closed:
            expected = e.FundClosed
        elif fund.unit != "CNY":
            expected = e.ResourceUnitsNotClosed
        else:
            carrying = [a for a in (self.allocations[i] for i in fund.allocation_ids)
                        if a.status == "approved" and a.allocated > a.spent]
            if carrying:
                expected, target_code = self._carry_target_error(fund, carry_to)
                target = self.funds.get(target_code) if target_code else None
            for allocation in carrying:
                if expected is not None:
                    break
                assert target is not None
                expected = fund_rule_error(self.schools[allocation.school], target)
        outcome = self.attempt(expected, lambda: self.ledger.close_fund(
            APPROVER, code, carry_to=carry_to, next_year_funds=sorted(FUNDS)))
        if outcome is None:
            return
        assert fund is not None
        carried = 0
        for allocation_id in list(fund.allocation_ids):
            allocation = self.allocations[allocation_id]
            if allocation.status not in ("proposed", "approved"):
                continue
            remainder = allocation.allocated - allocation.spent if allocation.status == "approved" else 0
            allocation.allocated -= remainder
            allocation.status = "closed"
            if remainder > 0:
                assert target is not None
                carried += remainder
                successor_id = uuid5(NAMESPACE_URL, f"fundledger:carry:{allocation_id}")
                self.allocations[successor_id] = MAllocation(
                    fund=target_code or "", school=allocation.school, year=target.year,
                    amount=remainder, proposer=APPROVER.user_id, effective=CARRIED_ON,
                    status="approved", allocated=remainder, approved_on=CARRIED_ON)
                target.allocation_ids.append(successor_id)
        fund.allocated -= carried
        fund.closed = True
        if target is not None:
            target.appropriated += carried
            target.allocated += carried

    def _carry_target_error(self, fund: MFund, carry_to: str | None
                            ) -> tuple[type[e.LedgerError] | None, str | None]:
        """The refusal a carry-over meets before any school is looked at, and its target."""
        if carry_to is None:
            same = sorted(c for c, t in self.funds.items()
                          if t.year == fund.year + 1 and not t.closed and t.unit == fund.unit
                          and FUNDS[c][2] == FUNDS[self._code_of(fund)][2]
                          and t.earmark == fund.earmark)
            return (None, same[0]) if same else (e.CarryOverTargetMissing, None)
        target = self.funds.get(carry_to)
        if target is None:
            return e.FundNotFound, None
        if target.year != fund.year + 1 or target.closed:
            return e.CarryOverTargetInvalid, None
        if FUNDS[carry_to][2] != FUNDS[self._code_of(fund)][2] or target.earmark != fund.earmark:
            return e.PurposeChanged, None  # category (and so classes) or earmark differ
        if target.unit != fund.unit:
            return e.CarryOverTargetInvalid, None
        return None, carry_to

    def _code_of(self, fund: MFund) -> str:
        return next(c for c, f in self.funds.items() if f is fund)

    @rule(code=st.sampled_from(["F25A", "F25B"]), carry_to=st.sampled_from(["F26A", "F26B"]))
    def carry_over_into_next_year(self, code: str, carry_to: str) -> None:
        """The year-end close most worth trying: into a next-year fund of the same unit, which
        may be earmarked or restricted to levels that some remainders' schools are not."""
        self.close_fund(code, carry_to)

    # ------------------------------------------------------------ allocations

    @rule(fund_code=st.sampled_from(sorted(FUNDS)), school_code=st.sampled_from(SCHOOLS),
          amount=s.amounts_or_zero, chief=s.mostly_false, keyed=st.booleans())
    def propose_allocation(self, fund_code: str, school_code: str, amount: int, chief: bool,
                           keyed: bool) -> None:
        fund, school = self.funds.get(fund_code), self.schools.get(school_code)
        actor = CHIEF_OFFICER if chief else OFFICER
        expected: type[e.LedgerError] | None = None
        if amount == 0:
            expected = e.AmountOutOfRange
        elif fund is None:
            expected = e.FundNotFound
        elif fund.closed:
            expected = e.FundClosed
        elif school is None:
            expected = e.SchoolNotFound
        else:
            expected = eligible_error(school, fund)
            if expected is None and amount > fund.appropriated - fund.allocated:
                expected = e.OverAllocation
        year = FUNDS[fund_code][0]

        def command(amount: int, key: str | None = self.next_key() if keyed else None) -> Outcome:
            return self.ledger.propose_allocation(
                actor, fund=fund_code, school=school_code, amount=amount, purpose="公用经费",
                effective_date=proposed_on(year), idempotency_key=key)

        outcome = self.attempt(expected, lambda: command(amount))
        if outcome is None:
            return
        self.allocations[outcome.subject.id] = MAllocation(
            fund=fund_code, school=school_code, year=year, amount=amount,
            proposer=actor.user_id, effective=proposed_on(year))
        if keyed:
            self.last_keyed = (command, amount, outcome)

    @rule(pick=s.picks, chief=s.mostly_false)
    def approve_allocation(self, pick: int, chief: bool) -> None:
        allocation_id = self.pick_allocation(pick, "proposed")
        allocation = self.allocations.get(allocation_id)
        actor = CHIEF_OFFICER if chief else APPROVER
        expected: type[e.LedgerError] | None = None
        if allocation is None:
            expected = e.AllocationNotFound
        elif approved_on(allocation.year) < allocation.effective:
            expected = e.InvalidInput  # a transfer's allocation is dated after the 2nd of March
        elif allocation.status != "proposed":
            expected = e.NotProposed
        elif allocation.proposer == actor.user_id:
            expected = e.MakerCheckerViolation
        else:
            fund = self.funds[allocation.fund]
            if fund.closed:
                expected = e.FundClosed
            elif allocation.amount > fund.appropriated - fund.allocated:
                expected = e.OverAllocation
        day = approved_on(allocation.year) if allocation else approved_on(2025)
        if self.attempt(expected, lambda: self.ledger.approve_allocation(
                actor, allocation_id, effective_date=day)):
            assert allocation is not None
            fund = self.funds[allocation.fund]
            allocation.status, allocation.allocated = "approved", allocation.amount
            allocation.approved_on = day
            fund.allocated += allocation.amount
            fund.allocation_ids.append(allocation_id)

    @rule(pick=s.picks, chief=s.mostly_false)
    def reject_allocation(self, pick: int, chief: bool) -> None:
        allocation_id = self.pick_allocation(pick, "proposed")
        allocation = self.allocations.get(allocation_id)
        actor = CHIEF_OFFICER if chief else APPROVER
        expected = (e.AllocationNotFound if allocation is None
                    else e.NotProposed if allocation.status != "proposed"
                    else e.MakerCheckerViolation if allocation.proposer == actor.user_id
                    else None)
        if self.attempt(expected, lambda: self.ledger.reject_allocation(
                actor, allocation_id, reason="not this year")):
            assert allocation is not None
            allocation.status = "rejected"

    @rule(pick=s.picks, delta=s.deltas)
    def adjust_allocation(self, pick: int, delta: int) -> None:
        allocation_id = self.pick_allocation(pick, "approved")
        allocation = self.allocations.get(allocation_id)
        expected: type[e.LedgerError] | None = None
        if delta == 0:
            expected = e.AmountOutOfRange
        elif allocation is None:
            expected = e.AllocationNotFound
        else:
            fund = self.funds[allocation.fund]
            expected = approved_error(allocation)
            if expected is None and allocation.allocated + delta < allocation.spent:
                expected = e.BelowSpent
            if expected is None and delta > fund.appropriated - fund.allocated:
                expected = e.OverAllocation
        if self.attempt(expected, lambda: self.ledger.adjust_allocation(
                APPROVER, allocation_id, delta=delta, reason="revised need")):
            assert allocation is not None
            allocation.allocated += delta
            self.funds[allocation.fund].allocated += delta

    @rule(pick=s.picks)
    def cancel_allocation(self, pick: int) -> None:
        allocation_id = self.pick_allocation(pick, "proposed", "approved")
        allocation = self.allocations.get(allocation_id)
        expected = (e.AllocationNotFound if allocation is None
                    else e.AllocationClosed if allocation.status not in ("proposed", "approved")
                    else None)
        if self.attempt(expected, lambda: self.ledger.cancel_allocation(
                OFFICER, allocation_id, reason="no longer needed")):
            assert allocation is not None
            released = allocation.allocated - allocation.spent if allocation.status == "approved" else 0
            allocation.allocated -= released
            allocation.status = "cancelled"
            self.funds[allocation.fund].allocated -= released

    @rule(pick=s.picks, to_pick=s.picks, to_school=st.one_of(st.none(), st.sampled_from(SCHOOLS)),
          amount=s.small_amounts)
    def transfer_allocation(self, pick: int, to_pick: int, to_school: str | None,
                            amount: int) -> None:
        source_id = self.pick_allocation(pick, "approved")
        source = self.allocations.get(source_id)
        target_id = None if to_school else self.pick_allocation(to_pick, "approved")
        target = self.allocations.get(target_id) if target_id else None
        expected: type[e.LedgerError] | None = None
        if source is None:
            expected = e.AllocationNotFound
        else:
            fund = self.funds[source.fund]
            if fund.closed:
                expected = e.FundClosed
            elif to_school is None and target is None:
                expected = e.AllocationNotFound
            elif target is not None and (target_id == source_id or target.fund != source.fund):
                expected = e.TransferNotAllowed
            elif to_school is not None and to_school not in self.schools:
                expected = e.SchoolNotFound
            elif to_school is not None:
                expected = eligible_error(self.schools[to_school], fund)
            if expected is None:
                expected = approved_error(source)
            if expected is None and amount > source.allocated - source.spent:
                expected = e.Overspend
            if expected is None and target is not None:
                expected = approved_error(target)
        day = transferred_on(source.year) if source else transferred_on(2025)
        outcome = self.attempt(expected, lambda: self.ledger.transfer_allocation(
            OFFICER, source_id, amount=amount, reason="enrolment moved", to_school=to_school,
            to_allocation=target_id, effective_date=day))
        if outcome is None:
            return
        assert source is not None
        source.allocated -= amount
        if target is not None:
            target.allocated += amount
            return
        assert to_school is not None
        new_id = outcome.subjects[1].id
        self.allocations[new_id] = MAllocation(
            fund=source.fund, school=to_school, year=source.year, amount=amount,
            proposer=OFFICER.user_id, effective=day, status="approved", allocated=amount,
            approved_on=day)
        self.funds[source.fund].allocation_ids.append(new_id)

    # ----------------------------------------------------------- expenditures

    @rule(pick=s.picks, amount=s.spendings_or_zero,
          voucher=st.sampled_from(VOUCHERS),
          when=st.sampled_from(["in_year"] * 7 + ["before_approval", "other_year", "future"]),
          economic_class=st.sampled_from([None] * 7 + ["salaries"]), keyed=st.booleans())
    def record_expenditure(self, pick: int, amount: int, voucher: str, when: str,
                           economic_class: str | None, keyed: bool) -> None:
        allocation_id = self.pick_allocation(pick, "approved")
        allocation = self.allocations.get(allocation_id)
        day = spent_on(allocation.year if allocation else 2025, when)
        expected: type[e.LedgerError] | None = None
        if amount == 0:
            expected = e.AmountOutOfRange
        elif when == "future":
            expected = e.DateInFuture
        elif allocation is None:
            expected = e.AllocationNotFound
        elif when == "other_year":
            expected = e.DateOutsideFiscalYear
        elif economic_class == "salaries":  # neither public_operating nor equipment pays it
            expected = e.ExpenditureClassNotAllowed
        else:
            expected = approved_error(allocation)
            if expected is None and allocation.approved_on and day < allocation.approved_on:
                expected = e.SpentBeforeApproval
            if expected is None and amount > allocation.allocated - allocation.spent:
                expected = e.Overspend
            if expected is None and self.vouchers.get(
                    (allocation.school, allocation.year, voucher)) is not None:
                expected = e.DuplicateVoucher

        def command(amount: int, key: str | None = self.next_key() if keyed else None) -> Outcome:
            return self.ledger.record_expenditure(
                OFFICER, allocation=allocation_id, amount=amount, payee="供应商",
                voucher=voucher, spent_on=day, economic_class=economic_class,
                idempotency_key=key)

        outcome = self.attempt(expected, lambda: command(amount))
        if outcome is None:
            return
        assert allocation is not None
        allocation.spent += amount
        self.expenditures[outcome.subject.id] = MExpenditure(
            allocation_id, amount, allocation.school, allocation.year, voucher)
        self.vouchers[(allocation.school, allocation.year, voucher)] = outcome.subject.id
        if keyed:
            self.last_keyed = (command, amount, outcome)

    @rule(pick=s.picks)
    def reverse_expenditure(self, pick: int) -> None:
        expenditure_id = self.pick_expenditure(pick)
        expenditure = self.expenditures.get(expenditure_id)
        expected = (e.ExpenditureNotFound if expenditure is None
                    else e.AlreadyReversed if expenditure.reversed
                    else approved_error(self.allocations[expenditure.allocation]))
        if self.attempt(expected, lambda: self.ledger.reverse_expenditure(
                OFFICER, expenditure_id, reason="keyed twice")):
            assert expenditure is not None
            expenditure.reversed = True
            self.allocations[expenditure.allocation].spent -= expenditure.amount
            self.vouchers[(expenditure.school, expenditure.year, expenditure.voucher)] = None

    # ------------------------------------------------------ roles and keys

    @rule(which=st.integers(min_value=0, max_value=5), pick=s.picks)
    def wrong_role(self, which: int, pick: int) -> None:
        allocation_id = self.pick_allocation(pick)
        commands: list[Callable[[], Any]] = [
            lambda: self.ledger.open_fund(AUDITOR, code="F25A", name="x", fiscal_year=2025,
                                          unit="CNY", amount=1, source="county",
                                          category="other"),
            lambda: self.ledger.propose_allocation(APPROVER, fund="F25A", school="S0", amount=1,
                                                   purpose="x"),
            lambda: self.ledger.approve_allocation(OFFICER, allocation_id),
            lambda: self.ledger.adjust_allocation(OFFICER, allocation_id, delta=1, reason="x"),
            lambda: self.ledger.record_expenditure(APPROVER, allocation=allocation_id, amount=1,
                                                   payee="x", voucher="V9",
                                                   spent_on=date(2025, 4, 1)),
            lambda: self.ledger.close_fund(Actor("nobody", frozenset()), "F25A"),
        ]
        self.attempt(e.RoleNotAllowed, commands[which])

    @rule()
    def repeat_last_keyed_request(self) -> None:
        assume(self.last_keyed is not None)
        assert self.last_keyed is not None
        command, amount, original = self.last_keyed
        before = self.ledger.last_position()
        again = command(amount)
        assert again.replayed
        assert [x.id for x in again.subjects] == [x.id for x in original.subjects]
        assert [x.version for x in again.subjects] == [x.version for x in original.subjects]
        assert self.ledger.last_position() == before
        self.attempt(e.IdempotencyKeyReused, lambda: command(amount + 1))

    # ------------------------------------------------------------- invariants

    @invariant()
    def books_equal_the_model(self) -> None:
        for code, model in self.funds.items():
            fund = self.ledger.get_fund(code)
            assert (fund.appropriated, fund.allocated, fund.closed) == (
                model.appropriated, model.allocated, model.closed), code
            assert 0 <= fund.allocated <= fund.appropriated, f"{code} over-allocated"
            assert sorted(fund.allocation_ids) == sorted(model.allocation_ids)
        by_fund: dict[str, int] = {}
        for allocation_id, model in self.allocations.items():
            allocation = self.ledger.get_allocation(allocation_id)
            assert (allocation.status, allocation.allocated, allocation.spent) == (
                model.status, model.allocated, model.spent), allocation_id
            assert 0 <= allocation.spent <= allocation.allocated, f"{allocation_id} overspent"
            by_fund[model.fund] = by_fund.get(model.fund, 0) + allocation.allocated
        for code, model in self.funds.items():
            # What a fund has allocated is what its allocations hold, however they got it.
            assert model.allocated == by_fund.get(code, 0), code
        spent: dict[UUID, int] = {}
        for expenditure in self.expenditures.values():
            if not expenditure.reversed:
                spent[expenditure.allocation] = spent.get(expenditure.allocation, 0) + expenditure.amount
        for allocation_id, model in self.allocations.items():
            assert model.spent == spent.get(allocation_id, 0)
        for code, model in self.schools.items():
            school = self.ledger.get_school(code)
            assert (school.locale, school.is_closed) == (model.locale, model.closed)


# ------------------------------------------------------------------- runs


def run_machine(store: Callable[[], AbstractContextManager[Settings]], examples: int,
                steps: int) -> None:
    machine = type("LedgerMachineOnStore", (LedgerMachine,), {"store": staticmethod(store)})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_random_command_sequences_keep_the_books(fresh_store: Callable[[], Any]):
    run_machine(fresh_store, examples=25, steps=40)


@pytest.mark.slow
@pytest.mark.timeout(2400)  # hundreds of fresh PostgreSQL schemas on a busy 2-core machine
def test_long_random_command_sequences_keep_the_books(fresh_store: Callable[[], Any]):
    run_machine(fresh_store, examples=300, steps=80)
