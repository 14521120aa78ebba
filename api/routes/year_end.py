"""Year-end: close a whole fiscal year, and the 结转结余 statement.

POST /v1/fiscal-years/{year}/close — every open money fund of the year, all or nothing.
GET /v1/reports/carry-over?fiscal_year=&as_of=&format=json|csv|xlsx — the statement.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Approver, Ledger, Reader, visible_to
from api.commands import IdempotencyKey
from api.language import LangQuery, request_language
from api.parameters import AsOfBooks as AsOf
from api.parameters import FiscalYearQuery
from api.reads import MinPosition, views_at
from api.routes.changes import pending
from api.routes.funds import fund_codes_of_year
from api.schemas.changes import ChangePublic
from api.schemas.funds import CloseYear
from api.strict_json import StrictJsonRoute
from domain.limits import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from projections import export_files, exports

router = APIRouter(route_class=StrictJsonRoute, tags=["year-end"])
Year = Annotated[int, Path(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)]


class StatementRowPublic(BaseModel):
    fund: str
    source: str
    school: str | None = Field(description="None: the fund's own row (what it never allocated)")
    carry_in: int
    appropriation: int
    adjustments: int
    allocated: int
    spent: int
    carried_forward: int
    surplus_recovered: int
    prior_year_adjustments: int
    closing: int


class SurplusBalancePublic(BaseModel):
    source: str
    recovered: int
    prior_year_adjustments: int
    balance: int


class CarryOverReport(BaseModel):
    fiscal_year: int
    as_of: date | None
    position: int
    unit: str
    rows: list[StatementRowPublic]
    surplus: list[SurplusBalancePublic]


@router.post("/v1/fiscal-years/{year}/close", response_model=ChangePublic, status_code=202)
async def close_year(year: Year, body: CloseYear, actor: Approver, ledger: Ledger,
                     request: Request, response: Response,
                     idempotency_key: IdempotencyKey = None) -> ChangePublic:
    """Asks for the close of every open money fund of the year (approver), applied all or
    nothing when another approver approves the change (/v1/changes): each allocation's
    remainder carried over (结转) or recovered as surplus (结余); resource units (teacher posts,
    devices) stay open. docs/year-end.md has the rules."""
    funds = await run_in_threadpool(fund_codes_of_year, request, year)
    next_year = await run_in_threadpool(fund_codes_of_year, request, year + 1)
    return await pending(request, response, partial(
        ledger.close_year, actor, year, funds=funds, next_year_funds=next_year, **body.model_dump(),
        idempotency_key=idempotency_key))


@router.get("/v1/reports/carry-over", response_model=CarryOverReport,
            responses={200: {"content": {export_files.CSV_MEDIA_TYPE: {}, export_files.XLSX_MEDIA_TYPE: {}}}})
def carry_over(actor: Reader, request: Request, fiscal_year: FiscalYearQuery, as_of: AsOf = None,
               min_position: MinPosition = None,
               output_format: Annotated[Literal["json", "csv", "xlsx"],
                                        Query(alias="format")] = "json",
               lang: LangQuery = None) -> CarryOverReport | Response:
    """The 结转结余 statement of a fiscal year as of a date: per fund, source level and school,
    opening carry-in, appropriation, adjustments, allocated, spent, carried forward, surplus
    recovered, prior-year adjustments and closing; and the recovered surplus by level."""
    views = views_at(request, min_position)
    statement = views.carry_over(fiscal_year, as_of=as_of)
    statement = replace(statement, rows=visible_to(actor, statement.rows, lambda r: r.school))
    if output_format != "json":
        built = exports.carry_over_export(statement)
        media_type = export_files.XLSX_MEDIA_TYPE if output_format == "xlsx" else export_files.CSV_MEDIA_TYPE
        filename = built.filename(output_format)
        return Response(built.render(output_format, request_language(request, lang)),
                        media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return CarryOverReport(
        fiscal_year=statement.fiscal_year, as_of=statement.as_of, position=statement.position,
        unit=statement.unit,
        rows=[StatementRowPublic(**vars(r), closing=r.closing) for r in statement.rows],
        surplus=[SurplusBalancePublic(**vars(s), balance=s.balance) for s in statement.surplus])
