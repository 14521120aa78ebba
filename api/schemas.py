"""Request and response bodies of the HTTP API (DESIGN §6).

Requests are strict: amounts are JSON integers within the domain's bounds ("12.5", 1.5, 1e30
or true are refused, never coerced), text is text, dates are ISO 8601 strings, and a field
the API does not know is an error rather than silently ignored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from domain.allocation import Allocation
from domain.change import PendingChange
from domain.classification import Category, Earmark, ExpenditureClass, Level, Locale, Source
from domain.errors import InvalidInput
from domain.expenditure import Expenditure
from domain.fund import Fund
from domain.limits import (
    AMOUNT_MINOR_MAX,
    CODE_LENGTH_MAX,
    DESCRIPTION_LENGTH_MAX,
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    NAME_LENGTH_MAX,
    PAYEE_LENGTH_MAX,
    REASON_LENGTH_MAX,
    STUDENTS_MAX,
    VOUCHER_LENGTH_MAX,
)
from domain.rules import clean_text
from domain.school import EnrolmentReport, School

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
UNIT_PATTERN = r"^[A-Z][A-Z0-9_]{1,31}$"
T = TypeVar("T")


def _iso_date_text(value: Any) -> Any:
    """Dates come as 'YYYY-MM-DD' text; a number is not a date (pydantic would read a timestamp)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        # Not a number, a digit string (pydantic would read "1796169600" as a Unix time), nor a
        # datetime with or without an offset: a business date is a calendar day.
        msg = "a date is ISO 8601 text, e.g. 2025-03-01"
        raise ValueError(msg)  # pydantic turns a ValueError into one entry of the 422
    return value


Amount = Annotated[StrictInt, Field(ge=1, le=AMOUNT_MINOR_MAX,
                                    description="Positive integer in the unit's minor unit")]
Delta = Annotated[StrictInt, Field(ge=-AMOUNT_MINOR_MAX, le=AMOUNT_MINOR_MAX,
                                   description="Non-zero integer in the unit's minor unit")]
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
def _one_line(value: str) -> str:
    try:
        return clean_text(value, "text")
    except InvalidInput as error:
        raise ValueError(error.detail) from None  # pydantic: one 422 entry naming the field


def _lines(value: str) -> str:
    try:
        return clean_text(value, "text", multiline=True)
    except InvalidInput as error:
        raise ValueError(error.detail) from None


# Every text field of every request goes through domain.rules.clean_text (issue 14): NFC, no
# control characters (newlines only in multi-line fields), no bidi overrides, not invisible.
Text = Annotated[StrictStr, AfterValidator(_one_line)]
Lines = Annotated[StrictStr, AfterValidator(_lines)]
Code = Annotated[StrictStr, Field(min_length=1, max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]
Name = Annotated[Text, Field(min_length=1, max_length=NAME_LENGTH_MAX)]
Reason = Annotated[Lines, Field(min_length=1, max_length=REASON_LENGTH_MAX)]
OptionalReason = Annotated[Lines, Field(max_length=REASON_LENGTH_MAX)]
Students = Annotated[StrictInt, Field(ge=0, le=STUDENTS_MAX)]
FiscalYear = Annotated[StrictInt, Field(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)]
UnitCode = Annotated[StrictStr, Field(pattern=UNIT_PATTERN)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ requests


class RegisterSchool(Command):
    code: Code
    name: Name
    district: Name
    level: Level
    locale: Locale
    poverty_area: StrictBool = False
    students: Students
    effective_date: IsoDate | None = None


class ReclassifySchool(Command):
    locale: Locale
    reason: Reason
    effective_date: IsoDate | None = None


class ReportEnrolment(Command):
    students: Students
    boarders: Students | None = Field(None, description="Boarders among the pupils")
    special_needs: Students | None = Field(
        None, description="Mainstreamed special-needs pupils among the pupils")
    reason: OptionalReason = ""
    effective_date: IsoDate | None = None


class CloseSchool(Command):
    reason: Reason
    effective_date: IsoDate | None = None


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
    effective_date: IsoDate | None = None


class AdjustFund(Command):
    delta: Delta
    reason: Reason
    effective_date: IsoDate | None = None


Disposition = Literal["carry_over", "surplus", "lapse"]


class CloseException(Command):
    """One allocation treated otherwise than its fund's default at year end."""

    allocation: UUID
    disposition: Disposition | None = None
    reason: OptionalReason = ""
    carry_to: Code | None = None


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


class ProposeAllocation(Command):
    fund: Code
    school: Code
    amount: Amount
    purpose: Annotated[Text, Field(min_length=1, max_length=DESCRIPTION_LENGTH_MAX)]
    below_standard_reason: OptionalReason = Field(
        "", description="Why a formula-funded fund's allocation is below the per-pupil standard")
    unit: UnitCode | None = None
    effective_date: IsoDate | None = None


class ApproveAllocation(Command):
    reason: OptionalReason = ""
    effective_date: IsoDate | None = None


class RejectAllocation(Command):
    reason: Reason
    effective_date: IsoDate | None = None


class AdjustAllocation(Command):
    delta: Delta
    reason: Reason
    effective_date: IsoDate | None = None


class CancelAllocation(Command):
    reason: Reason
    effective_date: IsoDate | None = None


class TransferAllocation(Command):
    """Name the receiving school (a new allocation opens) or an existing allocation of the fund."""

    to_school: Code | None = None
    to_allocation: UUID | None = None
    amount: Amount
    reason: Reason
    effective_date: IsoDate | None = None


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


class ReverseExpenditure(Command):
    reason: Reason
    effective_date: IsoDate | None = None


# ----------------------------------------------------------------- responses


class SchoolPublic(BaseModel):
    code: str
    name: str
    district: str
    level: str
    locale: str
    poverty_area: bool
    students: int
    boarders: int | None = Field(None, description="From the latest enrolment report, if given")
    special_needs: int | None = Field(None, description="From the latest enrolment report, if given")
    parent: str | None = Field(None, description="The parent school of a teaching point (教学点)")
    closed_on: date | None
    version: int
    position: int | None = Field(None, description="Position of the write's last event")


class FundPublic(BaseModel):
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


class ApproveChange(Command):
    reason: OptionalReason = ""


class RejectChange(Command):
    reason: Reason


class ChangePublic(BaseModel):
    """A two-person change: made by one person, applied only when another approves it."""

    change: str
    status: Literal["pending", "approved", "rejected"]
    kind: str
    maker: str
    maker_role: str | None = None
    subjects: list[str] = Field([], description="What it concerns: allocation:<id>, fund:<code>")
    params: dict[str, Any] = {}
    reason: str = ""
    proposed_on: date | None = None
    decided_by: str | None = None
    decided_on: date | None = None
    decision_reason: str | None = None
    changed: list[dict[str, Any]] | None = Field(
        None, description="After approval: each changed subject as the books now hold it")
    version: int | None = None
    position: int | None = None


class TransferPublic(BaseModel):
    source: AllocationPublic
    target: AllocationPublic
    position: int


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


class BalanceRow(BaseModel):
    fund: str
    unit: str
    allocated: int
    spent: int
    remaining: int
    fund_name: str | None = None


class BalanceTotal(BaseModel):
    """The school's funds of one unit added up (yuan with yuan, teacher posts with posts)."""

    unit: str
    allocated: int
    spent: int
    remaining: int


class SchoolBalances(BaseModel):
    school: str
    fiscal_year: int
    as_of: date | None
    position: int
    balances: list[BalanceRow]
    totals: list[BalanceTotal] = []


class RuralSupportRow(BaseModel):
    district: str
    locale: str
    unit: str
    schools: int
    students: int
    allocated: int
    spent: int
    per_student_allocated: int | None = Field(description="Minor units per student")
    per_student_spent: int | None = None


class CountyEquity(BaseModel):
    """One indicator of the balanced-development evaluation (教督〔2017〕6号) in one county-level
    unit and stage: its pupil-weighted CV over resource stocks, not over allocations."""

    district: str
    level: str
    indicator: str | None = None
    schools: int | None = None
    students: int | None = None
    difference_coefficient: float | None
    threshold: float
    within_threshold: bool | None


class RuralSupportReport(BaseModel):
    fiscal_year: int
    as_of: date | None
    position: int
    rows: list[RuralSupportRow]
    rural_to_urban_per_student_ratio: float | None
    counties: list[CountyEquity]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(None, description="URL of the next page, absent on the last")
    position: int = Field(description="The views' position the page was read at")


class Health(BaseModel):
    status: Literal["ok", "views_failing", "views_behind", "views_stalled"]
    position: int
    views_position: int | None
    reason: str | None = None
    stuck_at: int | None = Field(None, description="The views' position when not ok")


# ---------------------------------------------------------------- presenters


def school_public(school: School, position: int | None = None) -> SchoolPublic:
    latest = EnrolmentReport(*school.enrolment_reports[-1])
    return SchoolPublic(code=school.code, name=school.name, district=school.district,
                        level=school.level, locale=school.locale,
                        poverty_area=school.poverty_area, students=school.students,
                        boarders=latest.boarders, special_needs=latest.special_needs,
                        parent=school.parent_code,
                        closed_on=school.closed_on, version=school.version, position=position)


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
                      position=position)


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


def change_public(change: PendingChange, position: int | None = None,
                  changed: list[dict[str, Any]] | None = None) -> ChangePublic:
    params = {k: (v if v is None or isinstance(v, bool | int | str) else str(v))
              for k, v in change.params.items()}
    return ChangePublic(
        change=str(change.id), status=change.status, kind=change.kind, maker=change.maker,
        maker_role=change.maker_role, subjects=list(change.subjects), params=params,
        reason=change.reason, proposed_on=change.proposed_on, decided_by=change.decided_by,
        decided_on=change.decided_on,
        decision_reason=change.decision_reason if change.decided_by else None,
        changed=changed, version=change.version, position=position)


def expenditure_public(expenditure: Expenditure, position: int | None = None) -> ExpenditurePublic:
    return ExpenditurePublic(
        id=expenditure.id, allocation=expenditure.allocation_id, fund=expenditure.fund_code,
        school=expenditure.school_code, fiscal_year=expenditure.fiscal_year,
        unit=expenditure.unit, amount=expenditure.amount, payee=expenditure.payee,
        voucher=expenditure.voucher, spent_on=expenditure.spent_on,
        description=expenditure.description, economic_class=expenditure.economic_class,
        status=expenditure.status, version=expenditure.version, position=position)


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is the stable error code, `type` its URI."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}


# Documented on every /v1 route, so clients (and schemathesis) know every refusal's shape.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Malformed request (e.g. not JSON, bad header)"),
    401: _problem_response("No, unknown or revoked token"),
    403: _problem_response("Role not allowed, or maker-checker"),
    404: _problem_response("Unknown school, fund, allocation or expenditure"),
    409: _problem_response("A rule of the books, or a concurrent update"),
    412: _problem_response("If-Match does not match the aggregate's version"),
    413: _problem_response("Request body too large"),
    422: _problem_response("Invalid input, or an idempotency key reused for another body"),
    503: _problem_response("Store unavailable, or views behind min_position; retry"),
}
