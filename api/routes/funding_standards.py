"""/v1/funding-standards: per-pupil standards per fiscal year, level and fund category.

An officer sets a standard (or a revision) citing its document (文号); the answer is 202, a
pending change that moves nothing; a second person approves or rejects it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StrictInt

from api.auth import Approver, Ledger, Officer, Reader
from api.command_routes import command_route, of_subject
from api.commands import etag
from api.parameters import AggregateId as StandardId
from api.schemas import Command, Decision, FiscalYear, IsoDate, Name, OptionalReason, Reasoned
from api.strict_json import StrictJsonRoute
from domain.classification import Category, Level
from domain.formula_funding import FormulaFunding
from domain.funding_standard import RATE_MINOR_MAX, SMALL_SCHOOL_FLOOR_DEFAULT, FundingStandard
from domain.limits import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN, STUDENTS_MAX

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/funding-standards", tags=["formula funding"])
RateMinor = Annotated[StrictInt, Field(ge=0, le=RATE_MINOR_MAX,
                                       description="Fen per pupil per year")]


class SetStandard(Command):
    fiscal_year: FiscalYear
    level: Level
    category: Category = Category.PUBLIC_OPERATING
    rate: Annotated[StrictInt, Field(ge=1, le=RATE_MINOR_MAX, description="Fen per pupil per year")]
    boarder_addition: RateMinor = 0
    special_needs_addition: RateMinor = 0
    small_school_floor: Annotated[StrictInt, Field(ge=0, le=STUDENTS_MAX)] = SMALL_SCHOOL_FLOOR_DEFAULT
    document: Name = Field(description="The document that fixes the standard (文号)")
    reason: OptionalReason = ""
    effective_date: IsoDate | None = None


class DecideStandard(Decision):
    pass


class RejectStandard(Reasoned):
    pass


class RevisionPublic(BaseModel):
    revision: int
    rate: int
    boarder_addition: int
    special_needs_addition: int
    small_school_floor: int
    document: str
    set_by: str
    set_on: date
    reason: str = ""
    status: str | None = None
    approved_by: str | None = None
    approved_on: date | None = None
    rejected_by: str | None = None
    rejected_on: date | None = None


class StandardPublic(BaseModel):
    id: UUID
    change: UUID = Field(description="The pending change to approve (the standard's id)")
    kind: str = "funding_standard"
    fiscal_year: int
    level: str
    category: str
    status: str = Field(description="pending (a revision awaits approval), approved, rejected")
    maker: str | None = Field(None, description="Who set the revision awaiting approval")
    in_force: RevisionPublic | None
    pending: RevisionPublic | None
    history: list[RevisionPublic]
    version: int
    position: int | None = None


class StandardList(BaseModel):
    fiscal_year: int
    items: list[StandardPublic]


def standard_public(standard: FundingStandard, position: int | None = None) -> StandardPublic:
    def revision(data: dict[str, Any] | None) -> RevisionPublic | None:
        return RevisionPublic.model_validate(data) if data is not None else None

    return StandardPublic(
        id=standard.id, change=standard.id, fiscal_year=standard.fiscal_year,
        level=standard.level, category=standard.category, status=standard.status,
        maker=standard.pending["set_by"] if standard.pending else None,
        in_force=revision(standard.in_force), pending=revision(standard.pending),
        history=[RevisionPublic.model_validate(h) for h in standard.history],
        version=standard.version, position=position)


command_route(router, "", lambda ledger: FormulaFunding(ledger).set_standard, name="set_standard",
              role=Officer, body=SetStandard, answer=of_subject(standard_public),
              response_model=StandardPublic, status_code=202,
              doc="Set a per-pupil standard, or revise one (officer). It is a pending change: it "
                  "holds once another person approves it (`POST /v1/funding-standards/{id}/approve`).")


@router.get("", response_model=StandardList)
def list_standards(
    _: Reader, ledger: Ledger,
    fiscal_year: Annotated[int, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)],
) -> StandardList:
    """Every standard of a fiscal year, with the revision in force, any pending one, and history."""
    standards = FormulaFunding(ledger).standards(fiscal_year)
    return StandardList(fiscal_year=fiscal_year, items=[standard_public(s) for s in standards])


@router.get("/{id}", response_model=StandardPublic)
def get_standard(standard_id: StandardId, _: Reader, ledger: Ledger,
                 response: Response) -> StandardPublic:
    standard = FormulaFunding(ledger).standard(standard_id)
    response.headers["ETag"] = etag(standard.version)
    return standard_public(standard)


for approve, name, body, doc in (
        (True, "approve_standard", DecideStandard,
         "Put the pending revision in force (approver, not the person who set it)."),
        (False, "reject_standard", RejectStandard,
         "Refuse the pending revision, with a reason; the one in force (if any) stays."),
):
    command_route(router, f"/{{id}}/{'approve' if approve else 'reject'}",
                  lambda ledger: FormulaFunding(ledger).decide_standard, name=name, role=Approver,
                  subject=("standard_id", StandardId), body=body, approve=approve,
                  answer=of_subject(standard_public), response_model=StandardPublic, doc=doc)
