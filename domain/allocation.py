"""An allocation: part of a fund assigned to one school for a purpose.

Lifecycle: proposed → approved | rejected; approved → adjusted, transferred (in part),
cancelled, or closed at year end with its remainder lapsed or carried over.
Invariants: 0 ≤ spent ≤ allocated at all times (asserted after every change); nothing is
spent before approval or after close; an adjustment never takes allocated below spent; the
approver is not the proposer.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp, check_not_maker
from domain.classification import DEFAULT_CLASS, Category
from domain.errors import (
    AllocationClosed,
    BelowSpent,
    DateOutsideFiscalYear,
    ExpenditureClassNotAllowed,
    NotApproved,
    NotProposed,
    Overspend,
    SpentBeforeApproval,
)
from domain.invariants import AssertedAfterEveryChange
from domain.natural_keys import natural_id
from domain.terms import term
from domain.units import money_text


class Status(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class Origin(StrEnum):
    PROPOSAL = "proposal"
    TRANSFER = "transfer"
    CARRY_OVER = "carry_over"


class Allocation(AssertedAfterEveryChange, Aggregate):
    # 2: snapshots hold `formula` (how a tranche computed the amount; None for hand amounts).
    # 3: snapshots hold `carried_since` (the year 结转 money was first appropriated; issue 16).
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["formula"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["carried_since"] = None

    class Opened(Aggregate.Created):
        """The fields every way of opening an allocation records.

        v2 adds `approved_by`: who approved the two-person change that opened it already
        approved (a transfer); None for a proposal, and for openings stored before v2.
        """

        class_version = 2

        fund_id: UUID
        fund_code: str
        school_id: UUID
        school_code: str
        fiscal_year: int
        unit: str
        category: str
        expenditure_classes: list[str]
        purpose: str
        amount: int
        origin: str
        stamp: Stamp
        approved_by: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["approved_by"] = None

    class Proposed(Opened):
        """An officer asks for part of a fund to go to a school; an approver decides."""

    class OpenedByTransfer(Opened):
        """Part of another allocation's remainder opens this one, already approved."""

    class OpenedByCarryOver(Opened):
        """Last year's remainder of the same school opens this one, already approved."""

    class CarriedIn(Opened):
        """Last year's remainder (结转) of the same school and purpose opens this one, already
        approved; `carried_since` is the fiscal year the money was first appropriated in."""

        carried_since: int

    def __init__(
        self,
        fund_id: UUID,
        fund_code: str,
        school_id: UUID,
        school_code: str,
        fiscal_year: int,
        unit: str,
        category: str,
        expenditure_classes: list[str],
        purpose: str,
        amount: int,
        origin: str,
        stamp: Stamp,
        approved_by: str | None = None,
        carried_since: int | None = None,
    ) -> None:
        self.fund_id = fund_id
        self.fund_code = fund_code
        self.school_id = school_id
        self.school_code = school_code
        self.fiscal_year = fiscal_year
        self.unit = unit
        self.category = category
        self.expenditure_classes = expenditure_classes
        self.purpose = purpose
        self.amount = amount
        self.origin = origin
        self.carried_since = carried_since
        self.effective_date = stamp.effective_date
        self.proposed_by = stamp.actor_id
        self.approved_by: str | None = approved_by
        self.approved_on: date | None = None
        self.spent = 0
        self.formula: dict[str, Any] | None = None
        if origin == Origin.PROPOSAL:
            self.status = Status.PROPOSED.value
            self.allocated = 0
        else:
            self.status = Status.APPROVED.value
            self.allocated = amount
            self.approved_on = stamp.effective_date

    @classmethod
    def propose(cls, allocation_id: UUID, **fields: object) -> Allocation:
        return cls._create(cls.Proposed, id=allocation_id, origin=Origin.PROPOSAL.value,
                           approved_by=None, **fields)

    @classmethod
    def open_by_transfer(cls, allocation_id: UUID, approved_by: str | None = None,
                         **fields: object) -> Allocation:
        return cls._create(cls.OpenedByTransfer, id=allocation_id,
                           origin=Origin.TRANSFER.value, approved_by=approved_by, **fields)

    @classmethod
    def open_by_carry_over(cls, allocation_id: UUID, approved_by: str | None = None,
                           **fields: object) -> Allocation:
        return cls._create(cls.OpenedByCarryOver, id=allocation_id,
                           origin=Origin.CARRY_OVER.value, approved_by=approved_by, **fields)

    @event("FormulaRecorded")
    def record_formula(self, tranche_id: UUID, snapshot_id: UUID, inputs: dict[str, Any]) -> None:
        """How a tranche computed this allocation's amount, so an auditor can recompute it."""
        self.formula = {"tranche": str(tranche_id), "snapshot": str(snapshot_id), **inputs}

    @event("BelowStandardAccepted")
    def accept_below_standard(self, standard_amount: int, stamp: Stamp) -> None:
        """The proposer's explicit reason (the stamp's) for an amount below the per-pupil
        standard of a formula-funded fund; the findings list it."""

    @classmethod
    def open_by_carry_in(cls, allocation_id: UUID, carried_since: int,
                         approved_by: str | None = None, **fields: object) -> Allocation:
        return cls._create(cls.CarriedIn, id=allocation_id, origin=Origin.CARRY_OVER.value,
                           carried_since=carried_since, approved_by=approved_by, **fields)

    def carry_id(self) -> UUID:
        """The id of the allocation next year's 结转 of this one's remainder opens: one per
        allocation, the same on every retry of a year-end close."""
        return natural_id("carry", self.id)

    @property
    def remaining(self) -> int:
        return self.allocated - self.spent

    @property
    def is_open(self) -> bool:
        return self.status in (Status.PROPOSED, Status.APPROVED)

    def check_approved(self) -> None:
        if self.status == Status.PROPOSED:
            msg = f"allocation {self.id} is proposed and not yet approved"
            raise NotApproved(msg, f"拨款 {self.id} 尚在待审批状态，未批准")
        if self.status != Status.APPROVED:
            msg = f"allocation {self.id} is {self.status}"
            raise AllocationClosed(msg, self._closed_zh())

    def _check_proposed(self) -> None:
        if self.status != Status.PROPOSED:
            msg = f"allocation {self.id} is {self.status}, not awaiting approval"
            raise NotProposed(msg, f"拨款 {self.id} {term(self.status, 'zh')}，不在待审批状态")

    def approve(self, stamp: Stamp) -> None:
        self._check_proposed()
        check_not_maker(stamp, self.proposed_by, f"proposed allocation {self.id}", "approve")
        self._approve(stamp=stamp)

    @event("Approved")
    def _approve(self, stamp: Stamp) -> None:
        self.status = Status.APPROVED.value
        self.allocated = self.amount
        self.approved_by = stamp.actor_id
        self.approved_on = stamp.effective_date

    def reject(self, stamp: Stamp) -> None:
        self._check_proposed()
        check_not_maker(stamp, self.proposed_by, f"proposed allocation {self.id}")
        self._reject(stamp=stamp)

    @event("Rejected")
    def _reject(self, stamp: Stamp) -> None:
        self.status = Status.REJECTED.value

    def adjust(self, delta: int, stamp: Stamp) -> None:
        self.check_approved()
        if self.allocated + delta < self.spent:
            msg = (
                f"allocation {self.id} has {money_text(self.spent, self.unit)} spent; allocated "
                f"cannot fall to {money_text(self.allocated + delta, self.unit)}"
            )
            raise BelowSpent(msg, f"拨款 {self.id} 已支出 {money_text(self.spent, self.unit, 'zh')}，"
                                  f"拨款额不能减至 {money_text(self.allocated + delta, self.unit, 'zh')}")
        self._adjust(delta=delta, stamp=stamp)

    @event("Adjusted")
    def _adjust(self, delta: int, stamp: Stamp) -> None:
        self.allocated += delta

    def cancel(self, stamp: Stamp) -> int:
        """Withdraws a proposal, or cancels an approved allocation; returns what goes back to the fund."""
        if not self.is_open:
            msg = f"allocation {self.id} is {self.status}"
            raise AllocationClosed(msg, self._closed_zh())
        released = self.remaining if self.status == Status.APPROVED else 0
        self._cancel(released=released, stamp=stamp)
        return released

    @event("Cancelled")
    def _cancel(self, released: int, stamp: Stamp) -> None:
        self.allocated -= released
        self.status = Status.CANCELLED.value

    def transfer_out(self, to_allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        self.check_approved()
        self._check_affords(amount)
        self._transfer_out(to_allocation_id=to_allocation_id, amount=amount, stamp=stamp)

    @event("TransferredOut")
    def _transfer_out(self, to_allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        self.allocated -= amount

    def transfer_in(self, from_allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        self.check_approved()
        self._transfer_in(from_allocation_id=from_allocation_id, amount=amount, stamp=stamp)

    @event("TransferredIn")
    def _transfer_in(self, from_allocation_id: UUID, amount: int, stamp: Stamp) -> None:
        self.allocated += amount

    def check_spend(self, spent_on: date, economic_class: str | None) -> str:
        """A spend falls in the allocation's fiscal year and pays for an economic class its
        fund allows; returns that class (the fund category's default when none is named)."""
        if spent_on.year != self.fiscal_year:
            msg = f"spent_on {spent_on} is outside fiscal year {self.fiscal_year}"
            raise DateOutsideFiscalYear(msg, f"支出日期 {spent_on} 不在 {self.fiscal_year} 年度内")
        class_ = economic_class or DEFAULT_CLASS[Category(self.category)].value
        if class_ not in self.expenditure_classes:
            allowed = ", ".join(self.expenditure_classes)
            msg = f"fund {self.fund_code} may pay for {allowed}; not {class_}"
            allowed_zh = "、".join(term(c, "zh") for c in self.expenditure_classes)
            raise ExpenditureClassNotAllowed(
                msg, f"资金 {self.fund_code} 只能列支{allowed_zh}，不能列支{term(class_, 'zh')}")
        return class_

    def spend(self, expenditure_id: UUID, amount: int, spent_on: date, stamp: Stamp) -> None:
        self.check_approved()
        assert self.approved_on is not None
        if spent_on < self.approved_on:
            msg = f"spent on {spent_on}, before allocation {self.id} was approved on {self.approved_on}"
            raise SpentBeforeApproval(
                msg, f"支出日期 {spent_on} 早于拨款 {self.id} 的批准日期 {self.approved_on}")
        self._check_affords(amount)
        self.trigger_event(self.Spent, expenditure_id=expenditure_id, amount=amount, stamp=stamp)

    class Spent(Aggregate.Event):
        """Part of the remainder is paid out for an expenditure.

        Declared as a class rather than by `@event` on a method: one is recorded for every
        expenditure, and the decorator's coercing and filtering of arguments cost half of
        recording it. `apply` is the whole effect, as the decorated method's body was.
        """

        expenditure_id: UUID
        amount: int
        stamp: Stamp

        def apply(self, aggregate: Allocation) -> None:
            aggregate.spent += self.amount

    def restore(self, expenditure_id: UUID, amount: int, stamp: Stamp) -> None:
        """A reversed expenditure gives its amount back to the allocation's remainder."""
        self.check_approved()
        self._restore(expenditure_id=expenditure_id, amount=amount, stamp=stamp)

    @event("SpendingReversed")
    def _restore(self, expenditure_id: UUID, amount: int, stamp: Stamp) -> None:
        self.spent -= amount

    def close_year(self, disposition: str, carry_to_allocation_id: UUID | None,
                   stamp: Stamp) -> int:
        """Year-end: the remainder lapses or is carried over; returns the remainder."""
        remainder = self.remaining if self.status == Status.APPROVED else 0
        self._close_year(disposition=disposition, remainder=remainder,
                         carry_to_allocation_id=carry_to_allocation_id, stamp=stamp)
        return remainder

    @event("YearClosed")
    def _close_year(self, disposition: str, remainder: int,
                    carry_to_allocation_id: UUID | None, stamp: Stamp) -> None:
        self.allocated -= remainder
        self.status = Status.CLOSED.value

    def carry_forward(self, to_allocation_id: UUID, to_fund_code: str, stamp: Stamp) -> int:
        """Year-end 结转: the remainder goes to next year's allocation of the same purpose."""
        self.check_approved()
        remainder = self.remaining
        self._carry_forward(remainder=remainder, carry_to_allocation_id=to_allocation_id,
                            to_fund_code=to_fund_code, stamp=stamp)
        return remainder

    @event("CarriedForward")
    def _carry_forward(self, remainder: int, carry_to_allocation_id: UUID, to_fund_code: str,
                       stamp: Stamp) -> None:
        self.allocated -= remainder
        self.status = Status.CLOSED.value

    def recover_surplus(self, source: str, rule: str, stamp: Stamp) -> int:
        """Year-end 结余: the remainder (possibly nothing) goes back to the source level."""
        self.check_approved()
        remainder = self.remaining
        self._recover_surplus(remainder=remainder, source=source, rule=rule, stamp=stamp)
        return remainder

    @event("SurplusRecovered")
    def _recover_surplus(self, remainder: int, source: str, rule: str, stamp: Stamp) -> None:
        self.allocated -= remainder
        self.status = Status.CLOSED.value

    def expire_proposal(self, stamp: Stamp) -> None:
        """A proposal nobody decided on by year-end closes with its year; nothing moves."""
        self._check_proposed()
        self._expire_proposal(stamp=stamp)

    @event("ProposalExpired")
    def _expire_proposal(self, stamp: Stamp) -> None:
        self.status = Status.CLOSED.value

    def _closed_zh(self) -> str:
        return f"拨款 {self.id} {term(self.status, 'zh')}，不能再办理"

    def _check_affords(self, amount: int) -> None:
        if amount > self.remaining:
            msg = (f"allocation {self.id} has {money_text(self.remaining, self.unit)} remaining; "
                   f"{money_text(amount, self.unit)} was asked")
            raise Overspend(msg, f"拨款余额 {money_text(self.remaining, self.unit, 'zh')}，"
                                 f"本次支出 {money_text(amount, self.unit, 'zh')}")

    def _assert_invariants(self) -> None:
        # After every change: a bug elsewhere must stop here, not corrupt the books.
        assert 0 <= self.spent <= self.allocated, (self.id, self.spent, self.allocated)
