"""A fund: an appropriation or programme budget line of one fiscal year, in one unit.

Invariant: approved allocations never exceed the appropriation.
"""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp
from domain.errors import (
    AppropriationBelowAllocated,
    DateOutsideFiscalYear,
    FundClosed,
    OverAllocation,
)
from domain.limits import AMOUNT_MINOR_MAX


class Fund(Aggregate):
    @staticmethod
    def id_for(code: str) -> UUID:
        """A fund's id follows from its code, so the store itself refuses a second opening."""
        return uuid5(NAMESPACE_URL, f"fundledger:fund:{code}")

    @staticmethod
    def create_id(code: str, **_: object) -> UUID:
        return Fund.id_for(code)

    @event("Opened")
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

    @property
    def available(self) -> int:
        """What may still be approved: appropriation less approved allocations."""
        return self.appropriated - self.allocated

    def check_open(self) -> None:
        if self.closed:
            msg = f"fund {self.code} is closed"
            raise FundClosed(msg)

    def check_in_fiscal_year(self, day: date, what: str) -> None:
        if day.year != self.fiscal_year:
            msg = f"{what} {day} is outside fund {self.code}'s fiscal year {self.fiscal_year}"
            raise DateOutsideFiscalYear(msg)

    def check_can_commit(self, amount: int) -> None:
        if amount > self.available:
            msg = (
                f"fund {self.code} has {self.available} {self.unit} unallocated; "
                f"{amount} was asked"
            )
            raise OverAllocation(msg)

    def adjust_appropriation(self, delta: int, stamp: Stamp) -> None:
        self.check_open()
        new_appropriated = self.appropriated + delta
        if new_appropriated < self.allocated:
            msg = (
                f"fund {self.code} has {self.allocated} allocated; the appropriation "
                f"cannot fall to {new_appropriated}"
            )
            raise AppropriationBelowAllocated(msg)
        if new_appropriated > AMOUNT_MINOR_MAX:
            msg = f"appropriation would exceed {AMOUNT_MINOR_MAX} minor units"
            raise OverAllocation(msg)
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

    @event("Closed")
    def _close(self, disposition: str, lapsed: int, carried_over: int, carry_to: str | None,
               stamp: Stamp) -> None:
        # The remainders left the fund: what stays allocated is what was spent.
        self.allocated -= lapsed + carried_over
        self.closed = True
