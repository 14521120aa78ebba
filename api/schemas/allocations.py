"""An allocation's request and response bodies: propose, approve, reject, adjust, cancel,
transfer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
)

from api.schemas import (
    Adjustment,
    Amount,
    Code,
    Command,
    Decision,
    IsoDate,
    OptionalReason,
    Reason,
    Reasoned,
    Text,
    UnitCode,
)
from domain.allocation import Allocation
from domain.limits import (
    DESCRIPTION_LENGTH_MAX,
)


class ProposeAllocation(Command):
    fund: Code
    school: Code
    amount: Amount
    purpose: Annotated[Text, Field(min_length=1, max_length=DESCRIPTION_LENGTH_MAX)]
    below_standard_reason: OptionalReason = Field(
        "", description="Why a formula-funded fund's allocation is below the per-pupil standard")
    unit: UnitCode | None = None
    effective_date: IsoDate | None = None


class ApproveAllocation(Decision):
    pass


class RejectAllocation(Reasoned):
    pass


class AdjustAllocation(Adjustment):
    pass


class CancelAllocation(Reasoned):
    pass


class TransferAllocation(Command):
    """Name the receiving school (a new allocation opens) or an existing allocation of the fund."""

    to_school: Code | None = None
    to_allocation: UUID | None = None
    amount: Amount
    reason: Reason
    effective_date: IsoDate | None = None


class AllocationPublic(BaseModel):
    id: UUID
    status: str
    fund: str
    school: str
    fiscal_year: int
    unit: str
    category: str
    purpose: str
    origin: str
    amount: int
    allocated: int
    spent: int
    remaining: int
    effective_date: date | None = None
    proposed_by: str | None = None
    approved_by: str | None = None
    approved_on: date | None = None
    formula: dict[str, Any] | None = Field(
        None, description="How a tranche computed the amount: tranche, snapshot, pupils, "
                          "counted pupils, rate, additions, share, exact amount and rounding")
    version: int | None = None
    position: int | None = None


class TransferPublic(BaseModel):
    source: AllocationPublic
    target: AllocationPublic
    position: int


def allocation_public(allocation: Allocation, position: int | None = None) -> AllocationPublic:
    return AllocationPublic(
        id=allocation.id, status=allocation.status, fund=allocation.fund_code,
        school=allocation.school_code, fiscal_year=allocation.fiscal_year, unit=allocation.unit,
        category=allocation.category, purpose=allocation.purpose, origin=allocation.origin,
        amount=allocation.amount, allocated=allocation.allocated, spent=allocation.spent,
        remaining=allocation.remaining, effective_date=allocation.effective_date,
        proposed_by=allocation.proposed_by, approved_by=allocation.approved_by,
        approved_on=allocation.approved_on, formula=getattr(allocation, "formula", None),
        version=allocation.version, position=position)
