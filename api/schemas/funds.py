"""A fund's request and response bodies: open, adjust, close (with its exceptions) and the
year's close."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
)

from api.fund_provenance import (
    DocNo,
    FunctionCode,
    FundProvenancePublic,
    Shares,
    provenance_of,
)
from api.schemas import (
    Adjustment,
    Amount,
    Code,
    Command,
    FiscalYear,
    IsoDate,
    Name,
    OptionalReason,
    UnitCode,
)
from domain.classification import Category, Earmark, ExpenditureClass, Level, Source
from domain.fund import Fund


class OpenFund(Command):
    code: Code
    name: Name
    fiscal_year: FiscalYear
    unit: UnitCode
    amount: Amount
    source: Source
    category: Category
    earmark: Earmark = Earmark.NONE
    levels: Annotated[list[Level], Field(max_length=len(Level))] = []
    expenditure_classes: Annotated[list[ExpenditureClass],
                                   Field(max_length=len(ExpenditureClass))] = []
    function_code: FunctionCode | None = None  # default: by level (domain/budget_codes)
    doc_no: DocNo = ""
    issuing_level: Source | None = None  # default: `source`
    received_on: IsoDate | None = None  # default: the opening's effective date
    shares: Shares = []
    effective_date: IsoDate | None = None


class AdjustFund(Adjustment):
    pass


class CloseException(Command):
    """One allocation treated otherwise than its fund's default at year end."""

    allocation: UUID
    disposition: Disposition | None = None
    reason: OptionalReason = ""
    carry_to: Code | None = None


Disposition = Literal["carry_over", "surplus", "lapse"]
CloseExceptions = Annotated[list[CloseException], Field(max_length=10_000)]


class CloseFund(Command):
    """`disposition` absent: each allocation by its category (basic → carry over, project →
    surplus); `lapse` is the first release's name for `surplus`. `carry_to` names the next
    year's fund; absent, the open next-year fund of the same purpose is found."""

    disposition: Disposition | None = None
    carry_to: Code | None = None
    reason: OptionalReason = ""
    exceptions: CloseExceptions = []
    effective_date: IsoDate | None = None


class CloseYear(Command):
    disposition: Disposition | None = None
    reason: OptionalReason = ""
    exceptions: CloseExceptions = []
    effective_date: IsoDate | None = None


class FundPublic(FundProvenancePublic, BaseModel):
    code: str
    name: str
    fiscal_year: int
    unit: str
    source: str
    category: str
    earmark: str
    levels: list[str] = []
    expenditure_classes: list[str] = []
    appropriated: int
    allocated: int
    spent: int
    available: int
    proposed: int | None = Field(None, description="Awaiting approval (minor units)")
    closed: bool
    formula_funded: bool = Field(False, description="Hand allocations below the per-pupil "
                                                    "standard need a reason")
    carried_in: int = Field(0, description="结转 received from last year's funds")
    carried_forward: int = Field(0, description="结转 sent to next year's funds at close")
    surplus_recovered: int = Field(0, description="结余 recovered to the source level at close")
    version: int | None = Field(None, description="The fund aggregate's version (also the ETag)")
    position: int | None = None


def fund_public(fund: Fund, spent: int, position: int | None = None,
                proposed: int = 0, year_end: tuple[int, int, int] = (0, 0, 0)) -> FundPublic:
    """`spent` is not the fund aggregate's (spending never touches the fund): it is the views',
    as are the year-end figures (carried in, carried forward, surplus recovered)."""
    return FundPublic(code=fund.code, name=fund.name, fiscal_year=fund.fiscal_year,
                      unit=fund.unit, source=fund.source, category=fund.category,
                      earmark=fund.earmark, levels=list(fund.levels),
                      expenditure_classes=list(fund.expenditure_classes),
                      appropriated=fund.appropriated, allocated=fund.allocated, spent=spent,
                      available=fund.available, proposed=proposed, closed=fund.closed,
                      formula_funded=getattr(fund, "formula_funded", False),
                      carried_in=year_end[0], carried_forward=year_end[1],
                      surplus_recovered=year_end[2], version=fund.version,
                      position=position, **provenance_of(fund))
