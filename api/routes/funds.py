"""/v1/funds: open, list with balances, read; adjust the appropriation, close the year."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Approver, Ledger, Officer, Reader
from api.commands import IdempotencyKey, IfMatch, etag, execute_async, expected_version
from api.reads import After, Limit, MinPosition, queries_of, row_dict, views_at
from api.routes.changes import pending
from api.routes.pages import page_of
from api.schemas import CODE_PATTERN, Command, IsoDate, Page
from api.schemas.changes import ChangePublic
from api.schemas.funds import AdjustFund, CloseFund, FundPublic, OpenFund, fund_public
from api.strict_json import StrictJsonRoute
from domain.errors import FundNotFound
from domain.formula_funding import FormulaFunding
from domain.fund import Fund
from domain.ledger import FundLedger, Outcome
from domain.limits import CODE_LENGTH_MAX, FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/funds", tags=["funds"])
FundCode = Annotated[str, Path(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]


def _spent(request: Request, fund: Fund, views: Any | None = None,
           written_at: int | None = None) -> tuple[int, int, tuple[int, int, int]]:
    """What the fund's allocations have spent and what awaits approval, from the views
    (spending never loads the fund), so every answer about a fund has the list's figures;
    and its year-end figures (carried in, carried forward, surplus recovered).

    After a write, the views are given a bounded wait to reach it. The write is durable by
    then, so its answer must not turn into an error: a fund the views have not reached yet
    has nothing spent in them either (they apply events in order)."""
    if fund.version == 1 and written_at is not None:
        return 0, 0, (0, 0, 0)  # nothing can have been spent from, or proposed of, a fund just opened
    views = views or queries_of(request)
    if written_at is not None:
        views.wait_for(written_at, request.app.state.settings.read_wait_seconds_max)
    try:
        balance = views.fund_balance(fund.code)
    except FundNotFound:
        return 0, 0, (0, 0, 0)
    row = row_dict(balance)
    return int(row.get("spent") or 0), int(row.get("proposed") or 0), (
        int(row.get("carried_in") or 0), int(row.get("carried_forward") or 0),
        int(row.get("surplus_recovered") or 0))


def _written(request: Request, outcome: Outcome) -> FundPublic:
    return written_fund(request, outcome.subject, outcome.position)


def written_fund(request: Request, fund: Fund, position: int) -> FundPublic:
    """A fund just written, with its spending once the views have (boundedly) reached it."""
    spent, proposed, year_end = _spent(request, fund, written_at=position)
    return fund_public(fund, spent, position, proposed=proposed, year_end=year_end)


def _listed(row: dict[str, Any]) -> FundPublic:
    """A row of the fund-balances view, in the same shape as a single fund."""
    return FundPublic(code=row["fund"], closed=row.get("status") == "closed",
                      **{k: v for k, v in row.items() if k in FundPublic.model_fields})


@router.post("", status_code=201, response_model=FundPublic)
async def open_fund(body: OpenFund, actor: Officer, ledger: Ledger, request: Request,
                    response: Response, idempotency_key: IdempotencyKey = None) -> FundPublic:
    """Open a fund (an appropriation or programme budget line) of one fiscal year (officer)."""
    fields = body.model_dump()
    outcome = await execute_async(request, response, partial(
        ledger.open_fund, actor, **fields, idempotency_key=idempotency_key), created=True)
    return await run_in_threadpool(_written, request, outcome)


@router.get("", response_model=Page[FundPublic])
def list_funds(
    _: Reader, request: Request, limit: Limit = 100, after: After = None,
    fiscal_year: Annotated[int | None, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)] = None,
    min_position: MinPosition = None,
) -> Page[FundPublic]:
    """Funds with their balances (appropriated, allocated, spent, available), in pages."""
    views = views_at(request, min_position)
    rows, cursor = views.list_funds(fiscal_year=fiscal_year, after=after, limit=limit)
    return page_of(request, views, FundPublic, rows, cursor, shown=_listed)


@router.get("/{code}", response_model=FundPublic)
def get_fund(code: FundCode, _: Reader, ledger: Ledger, request: Request, response: Response,
             min_position: MinPosition = None) -> FundPublic:
    """One fund: its appropriation and allocations from the books, its spending from the views."""
    fund = ledger.get_fund(code)
    views = views_at(request, min_position)
    response.headers["ETag"] = etag(fund.version)
    spent, proposed, year_end = _spent(request, fund, views)
    return fund_public(fund, spent, proposed=proposed, year_end=year_end)


@router.post("/{code}/adjust", status_code=202, response_model=ChangePublic)
async def adjust_fund(code: FundCode, body: AdjustFund, actor: Approver, ledger: Ledger,
                      request: Request, response: Response,
                      idempotency_key: IdempotencyKey = None,
                      if_match: IfMatch = None) -> ChangePublic:
    """Ask for the appropriation to change by a delta, with a reason (approver): a pending
    two-person change, applied when another approver approves it (/v1/changes)."""
    version = expected_version(if_match)
    return await pending(request, response, partial(
        ledger.adjust_fund, actor, code, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))


class MarkFormulaFunded(Command):
    effective_date: IsoDate | None = None


@router.post("/{code}/formula-funded", response_model=FundPublic)
async def mark_formula_funded(code: FundCode, body: MarkFormulaFunded, actor: Officer,
                              ledger: Ledger, request: Request, response: Response,
                              idempotency_key: IdempotencyKey = None) -> FundPublic:
    """Mark the fund as formula-funded (officer): a hand-proposed allocation below the
    per-pupil standard then needs a `below_standard_reason` (else 409 `below_standard`)."""
    outcome = await execute_async(request, response, partial(
        FormulaFunding(ledger).mark_formula_funded, actor, code, **body.model_dump(),
        idempotency_key=idempotency_key))
    return await run_in_threadpool(_written, request, outcome)


@router.post("/{code}/close", status_code=202, response_model=ChangePublic)
async def close_fund(code: FundCode, body: CloseFund, actor: Approver, ledger: Ledger,
                     request: Request, response: Response,
                     idempotency_key: IdempotencyKey = None,
                     if_match: IfMatch = None) -> ChangePublic:
    """Ask for the year-end close (approver), applied when another approver approves the change
    (/v1/changes): each allocation's remainder carried over (结转) into next year's fund of the
    same purpose, or recovered as surplus (结余) to the source level; by category unless
    `disposition` or an exception says otherwise (docs/year-end.md)."""
    version = expected_version(if_match)
    fields = body.model_dump()
    next_year = await run_in_threadpool(_funds_of_next_year, request, ledger, code)
    return await pending(request, response, partial(
        ledger.close_fund, actor, code, **fields, next_year_funds=next_year, expected_version=version,
        idempotency_key=idempotency_key))


def _funds_of_next_year(request: Request, ledger: FundLedger, code: str) -> list[str]:
    """The funds of the year after the fund's own (read from the store and the views)."""
    return fund_codes_of_year(request, ledger.get_fund(code).fiscal_year + 1)


FUNDS_OF_A_YEAR_MAX = 10_000


def fund_codes_of_year(request: Request, fiscal_year: int) -> list[str]:
    """The bureau's funds of a year, from the views once they hold every event written so far
    (the domain has no index of funds by year; a fund opened but not yet seen would be missed)."""
    views = queries_of(request)
    views.wait_for(request.app.state.ledger.last_position(),
                   request.app.state.settings.read_wait_seconds_max)
    codes: list[str] = []
    after = None
    while len(codes) < FUNDS_OF_A_YEAR_MAX:
        rows, after = views.list_funds(fiscal_year=fiscal_year, after=after, limit=1_000)
        codes.extend(row_dict(r)["fund"] for r in rows)
        if after is None:
            break
    return codes
