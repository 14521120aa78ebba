"""Balances and reports from the views, as of any day or position:
GET /v1/schools/{code}/balances and GET /v1/reports/rural-support."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api.auth import Reader, require_school
from api.parameters import AsOfBooks as AsOf
from api.reads import MinPosition, row_dict, views_at
from api.schemas import CODE_PATTERN
from api.schemas.balances import BalanceTotal, RuralSupportReport, SchoolBalances
from api.source_cut import cut_by_source
from api.strict_json import StrictJsonRoute
from domain.classification import Source
from domain.errors import SchoolNotFound
from domain.limits import CODE_LENGTH_MAX, FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

router = APIRouter(route_class=StrictJsonRoute, tags=["balances and reports"])
CurrentYearQuery = Annotated[int | None, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX,
                                               description="Default: the current fiscal year")]
SourceCut = Annotated[Source | None, Query(description=(
    "Cut by source level: only that level's part of each fund, in the fund's shares "
    "(docs/classification.md)"))]


@router.get("/v1/schools/{code}/balances", response_model=SchoolBalances)
async def school_balances(
    code: Annotated[str, Path(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)],
    actor: Reader, request: Request, fiscal_year: CurrentYearQuery = None, as_of: AsOf = None,
    source: SourceCut = None, min_position: MinPosition = None,
) -> SchoolBalances:
    """Per-fund allocated, spent and remaining of one school in one fiscal year (default:
    the current one), each fund by code and name, and the totals of each unit; with
    `source`, only that level's part of each fund it pays into."""
    require_school(actor, code)
    # The store is read in one hop to the thread pool; the answer is checked and rendered
    # here on the event loop. As a plain `def` route it took a second hop, for FastAPI's
    # check of the answer, and each hop's thread wake-up showed in the p99 (issue 21).
    return await run_in_threadpool(_school_balances, request, code, fiscal_year, as_of, source,
                                   min_position)


def _school_balances(request: Request, code: str, fiscal_year: int | None, as_of: date | None,
                     source: Source | None, min_position: int | None) -> SchoolBalances:
    if fiscal_year is None:
        fiscal_year = request.app.state.ledger.today().year
    views = views_at(request, min_position)
    try:
        balances = views.school_balances(code, fiscal_year, as_of=as_of)
    except SchoolNotFound:
        # The books decide whether the school exists (404 if not); asked only here, because
        # reading the school from the store cost two round trips on every balance read.
        request.app.state.ledger.get_school(code)
        # Registered, but the views have not reached it yet: nothing to show.
        return SchoolBalances(school=code, fiscal_year=fiscal_year, as_of=as_of,
                              position=views.position(), balances=[])
    answer = SchoolBalances.model_validate(row_dict(balances))
    if source is not None:
        answer.balances = cut_by_source(views, answer.balances, source.value)
    names = views.fund_names([row.fund for row in answer.balances])
    totals: dict[str, BalanceTotal] = {}
    for row in answer.balances:
        row.fund_name = names.get(row.fund)
        total = totals.setdefault(row.unit, BalanceTotal(unit=row.unit, allocated=0, spent=0,
                                                         remaining=0))
        total.allocated += row.allocated
        total.spent += row.spent
        total.remaining += row.remaining
    answer.totals = [totals[unit] for unit in sorted(totals)]
    return answer


@router.get("/v1/reports/rural-support", response_model=RuralSupportReport)
def rural_support(_: Reader, request: Request, fiscal_year: CurrentYearQuery = None,
                  as_of: AsOf = None, source: SourceCut = None,
                  min_position: MinPosition = None) -> RuralSupportReport:
    """Allocated and spent per district × locale, per student; rural/urban ratio; and each
    county's difference coefficient against the balanced-development thresholds. With
    `source`, the money is that level's part of each fund."""
    if fiscal_year is None:
        fiscal_year = request.app.state.ledger.today().year
    views = views_at(request, min_position)
    report = views.rural_support(fiscal_year, as_of=as_of,
                                 source=None if source is None else source.value)
    return RuralSupportReport.model_validate(row_dict(report))

