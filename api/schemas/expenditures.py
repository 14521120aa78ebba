"""An expenditure's request and response bodies: record, reverse."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
)

from api.schemas import Amount, Command, IsoDate, Lines, Reasoned, Text, UnitCode
from domain.classification import ExpenditureClass
from domain.expenditure import Expenditure
from domain.limits import (
    DESCRIPTION_LENGTH_MAX,
    PAYEE_LENGTH_MAX,
    VOUCHER_LENGTH_MAX,
)


class RecordExpenditure(Command):
    allocation: UUID
    amount: Amount
    payee: Annotated[Text, Field(min_length=1, max_length=PAYEE_LENGTH_MAX)]
    # Any printable text (记-12-0050 is a normal voucher); domain/vouchers.py refuses the rest.
    voucher: Annotated[Text, Field(min_length=1, max_length=VOUCHER_LENGTH_MAX)]
    spent_on: IsoDate
    description: Annotated[Lines, Field(max_length=DESCRIPTION_LENGTH_MAX)] = ""
    economic_class: ExpenditureClass | None = None
    unit: UnitCode | None = None


class ReverseExpenditure(Reasoned):
    pass


class Reversal(BaseModel):
    """Why, when, by whom and at which journal position an expenditure was reversed."""

    reason: str
    reversed_on: date | None
    reversed_by: str | None
    position: int | None


class ExpenditurePublic(BaseModel):
    id: UUID
    allocation: UUID
    fund: str
    school: str
    fiscal_year: int
    unit: str
    amount: int
    payee: str
    voucher: str
    spent_on: date
    description: str
    economic_class: str
    status: str
    version: int | None = None
    position: int | None = None
    reversal: Reversal | None = None


def expenditure_public(expenditure: Expenditure, position: int | None = None) -> ExpenditurePublic:
    return ExpenditurePublic(
        id=expenditure.id, allocation=expenditure.allocation_id, fund=expenditure.fund_code,
        school=expenditure.school_code, fiscal_year=expenditure.fiscal_year,
        unit=expenditure.unit, amount=expenditure.amount, payee=expenditure.payee,
        voucher=expenditure.voucher, spent_on=expenditure.spent_on,
        description=expenditure.description, economic_class=expenditure.economic_class,
        status=expenditure.status, version=expenditure.version, position=position)
