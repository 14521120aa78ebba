"""Spending against one approved allocation, and the voucher-number register.

A voucher number is unique per school and fiscal year. A reversal restores the
allocation's remainder and frees the voucher number for a corrected entry.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp
from domain.errors import AlreadyReversed, DuplicateVoucher
from domain.natural_keys import KeyedAggregate, natural_id


class Expenditure(Aggregate):
    class Recorded(Aggregate.Created):
        """Spending against one approved allocation (whose `Spent` records the other side).

        Declared as a class rather than by `@event` on `__init__`: one is recorded for every
        expenditure, and the decorator's coercing of arguments is a cost paid each time.
        `__init__` is the whole effect, as before.
        """

        allocation_id: UUID
        fund_code: str
        school_code: str
        fiscal_year: int
        unit: str
        amount: int
        payee: str
        voucher: str
        spent_on: date
        description: str
        economic_class: str
        stamp: Stamp

    def __init__(
        self,
        allocation_id: UUID,
        fund_code: str,
        school_code: str,
        fiscal_year: int,
        unit: str,
        amount: int,
        payee: str,
        voucher: str,
        spent_on: date,
        description: str,
        economic_class: str,
        stamp: Stamp,
    ) -> None:
        self.allocation_id = allocation_id
        self.fund_code = fund_code
        self.school_code = school_code
        self.fiscal_year = fiscal_year
        self.unit = unit
        self.amount = amount
        self.payee = payee
        self.voucher = voucher
        self.spent_on = spent_on
        self.description = description
        self.economic_class = economic_class
        self.recorded_by = stamp.actor_id
        self.reversed = False

    @classmethod
    def record(cls, expenditure_id: UUID, **fields: Any) -> Expenditure:
        """A new expenditure with the fields of `Recorded`."""
        return cls._create(cls.Recorded, id=expenditure_id, **fields)

    @property
    def status(self) -> str:
        return "reversed" if self.reversed else "recorded"

    def reverse(self, stamp: Stamp) -> None:
        if self.reversed:
            msg = f"expenditure {self.id} is already reversed"
            raise AlreadyReversed(msg, f"支出 {self.id} 已冲销")
        self._reverse(stamp=stamp)

    @event("Reversed")
    def _reverse(self, stamp: Stamp) -> None:
        self.reversed = True


class VoucherNumber(KeyedAggregate):
    """The register entry of one voucher number at one school in one fiscal year."""

    @staticmethod
    def id_for(school_code: str, fiscal_year: int, voucher: str) -> UUID:
        return natural_id("voucher", school_code, fiscal_year, voucher)

    class Claimed(Aggregate.Created):
        """A voucher number is first used, by one expenditure (a class, as `Recorded` is)."""

        school_code: str
        fiscal_year: int
        voucher: str
        expenditure_id: UUID

    def __init__(self, school_code: str, fiscal_year: int, voucher: str,
                 expenditure_id: UUID) -> None:
        self.school_code = school_code
        self.fiscal_year = fiscal_year
        self.voucher = voucher
        self.expenditure_id: UUID | None = expenditure_id

    @classmethod
    def claim(cls, school_code: str, fiscal_year: int, voucher: str,
              expenditure_id: UUID) -> VoucherNumber:
        """The register entry of a voucher number no expenditure has used (id from create_id)."""
        return cls._create(cls.Claimed, school_code=school_code, fiscal_year=fiscal_year,
                           voucher=voucher, expenditure_id=expenditure_id)

    def claim_again(self, expenditure_id: UUID) -> None:
        if self.expenditure_id is not None:
            msg = (
                f"voucher {self.voucher} of school {self.school_code} in {self.fiscal_year} "
                f"is already used by expenditure {self.expenditure_id}"
            )
            raise DuplicateVoucher(msg, f"学校 {self.school_code} {self.fiscal_year} 年度的凭证号 "
                                        f"{self.voucher} 已被支出 {self.expenditure_id} 使用")
        self._claim_again(expenditure_id=expenditure_id)

    @event("ClaimedAgain")
    def _claim_again(self, expenditure_id: UUID) -> None:
        self.expenditure_id = expenditure_id

    @event("Freed")
    def free(self) -> None:
        self.expenditure_id = None
