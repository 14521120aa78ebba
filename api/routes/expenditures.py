"""/v1/expenditures: record, list, read; reverse."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api import problems
from api.auth import Ledger, Officer, Reader, require_in_scope, scoped_school_filter, visible_payee
from api.command_routes import command_route, of_subject
from api.commands import IdempotencyKey, IfMatch, etag, execute_async, expected_version
from api.parameters import AggregateId as ExpenditureId
from api.parameters import CodeFilter
from api.reads import After, Limit, MinPosition, views_at
from api.routes.changes import pending
from api.routes.pages import page_of
from api.schemas import Page
from api.schemas.changes import ChangePublic
from api.schemas.expenditures import (
    ExpenditurePublic,
    RecordExpenditure,
    Reversal,
    ReverseExpenditure,
    expenditure_public,
)
from api.strict_json import StrictJsonRoute
from domain.actors import Actor
from domain.errors import BatchRejected, ExpenditureNotFound
from domain.limits import (
    AMOUNT_MINOR_MAX,
    EXPENDITURE_BATCH_MAX,
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    PAYEE_LENGTH_MAX,
    VOUCHER_LENGTH_MAX,
)

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/expenditures", tags=["expenditures"])


command_route(router, "", "record_expenditure", role=Officer, body=RecordExpenditure,
              answer=of_subject(expenditure_public), response_model=ExpenditurePublic,
              created=True, doc="Record spending against an approved allocation; the voucher "
                                "is unique per school and year (officer).")


class RecordExpenditures(BaseModel):
    items: Annotated[list[RecordExpenditure], Field(min_length=1, max_length=EXPENDITURE_BATCH_MAX)]


class ItemError(BaseModel):
    index: int  # the item's place in `items`, from 0
    code: str
    detail: str


class BatchPublic(BaseModel):
    """A batch's answer, in the CSV import's shape: applied with one position, or (inside the
    422 problem's `batch`) rejected with every refused item."""

    status: str
    items: int
    applied: int
    bad_items: int
    errors: list[ItemError]
    position: int
    replayed: bool
    expenditures: list[ExpenditurePublic]


@router.post("/batch", status_code=201, response_model=BatchPublic,
             responses={422: {"description": "The batch was refused; `batch.errors` names each "
                                             "refused item by its index; nothing was written",
                              "content": {problems.PROBLEM_MEDIA_TYPE: {}}}})
async def record_expenditures(body: RecordExpenditures, actor: Officer, ledger: Ledger,
                              request: Request, response: Response,
                              idempotency_key: IdempotencyKey = None) -> BatchPublic | JSONResponse:
    """Up to 1,000 expenditures in one atomic write, or none (officer): each item is checked
    as `POST /v1/expenditures` checks one, against the books as the items before it left
    them; one refused item refuses the batch, and the answer names every refused item.
    One position for the whole batch; an Idempotency-Key covers the whole batch."""
    items = [item.model_dump() for item in body.items]
    try:
        outcome = await execute_async(request, response, partial(
            ledger.record_expenditures, actor, items, idempotency_key=idempotency_key))
    except BatchRejected as refused:
        rejected = BatchPublic(
            status="rejected", items=refused.items, applied=0, bad_items=len(refused.errors),
            errors=[ItemError(index=i, code=c, detail=d) for i, c, d in refused.errors],
            position=0, replayed=False, expenditures=[])
        return problems.problem(422, refused.code, refused.title, refused.detail,
                                batch=rejected.model_dump(mode="json"))
    response.status_code = 201
    return BatchPublic(
        status="applied", items=len(items), applied=len(items), bad_items=0, errors=[],
        position=outcome.position, replayed=outcome.replayed,
        expenditures=[expenditure_public(e, outcome.position) for e in outcome.subjects])


@router.get("", response_model=Page[ExpenditurePublic])
def list_expenditures(
    actor: Reader, request: Request, limit: Limit = 100, after: After = None,
    allocation: UUID | None = None, school: CodeFilter = None, fund: CodeFilter = None,
    fiscal_year: Annotated[int | None, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)] = None,
    voucher: Annotated[str | None, Query(min_length=1, max_length=VOUCHER_LENGTH_MAX)] = None,
    payee: Annotated[str | None, Query(min_length=1, max_length=PAYEE_LENGTH_MAX)] = None,
    spent_on_from: date | None = None, spent_on_to: date | None = None,
    amount_min: Annotated[int | None, Query(ge=1, le=AMOUNT_MINOR_MAX)] = None,
    amount_max: Annotated[int | None, Query(ge=1, le=AMOUNT_MINOR_MAX)] = None,
    min_position: MinPosition = None,
) -> Page[ExpenditurePublic]:
    """Expenditures filtered by allocation, school, fund, fiscal year, voucher, payee, the
    date spent (from/to, inclusive) and the amount (minor units, inclusive), in pages."""
    views = views_at(request, min_position)
    school, schools = scoped_school_filter(actor, school)
    rows, cursor = views.list_expenditures(allocation=allocation and str(allocation),
                                           school=school, schools=schools, fund=fund, fiscal_year=fiscal_year,
                                           after=after, limit=limit, voucher=voucher,
                                           payee=payee, spent_on_from=spent_on_from,
                                           spent_on_to=spent_on_to, amount_min=amount_min,
                                           amount_max=amount_max)
    if payee is not None:
        # A reader may not confirm who was paid personally by guessing names (issue 14): the
        # filter finds what the reader could read (the page may come out shorter).
        rows = [r for r in rows if visible_payee(actor, r.payee, r.economic_class) == r.payee]
    return page_of(request, views, ExpenditurePublic, rows, cursor,
                   shown=lambda row: _as_seen(actor, ExpenditurePublic.model_validate(row)))


@router.get("/{id}", response_model=ExpenditurePublic)
def get_expenditure(expenditure_id: ExpenditureId, actor: Reader, ledger: Ledger,
                    request: Request, response: Response) -> ExpenditurePublic:
    """One expenditure as the books hold it now (a person's name masked for readers)."""
    expenditure = ledger.get_expenditure(expenditure_id)
    require_in_scope(actor, expenditure.school_code, ExpenditureNotFound,
                     f"expenditure {expenditure_id}")
    response.headers["ETag"] = etag(expenditure.version)
    return _as_seen(actor, _with_history(request, expenditure_public(expenditure)))


def _as_seen(actor: Actor, answer: ExpenditurePublic) -> ExpenditurePublic:
    answer.payee = visible_payee(actor, answer.payee, answer.economic_class)
    return answer


@router.post("/{id}/reverse", response_model=ExpenditurePublic)
async def reverse_expenditure(expenditure_id: ExpenditureId, body: ReverseExpenditure,
                              actor: Officer, ledger: Ledger, request: Request,
                              response: Response, idempotency_key: IdempotencyKey = None,
                              if_match: IfMatch = None) -> ExpenditurePublic:
    """Reverse an expenditure; the allocation's remainder is restored (officer)."""
    version = expected_version(if_match)
    outcome = await execute_async(request, response, partial(
        ledger.reverse_expenditure, actor, expenditure_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
    answer = expenditure_public(outcome.subject, outcome.position)
    answer.reversal = Reversal(reason=body.reason.strip(),
                               reversed_on=body.effective_date
                               or max(outcome.subject.spent_on, ledger.today()),
                               reversed_by=actor.user_id, position=outcome.position)
    return answer


def _with_history(request: Request, answer: ExpenditurePublic) -> ExpenditurePublic:
    """The journal's position of the expenditure's last event and, once reversed, who
    reversed it, when and why. Read from the views; a read they have not reached yet shows
    what the books alone know."""
    queries = getattr(request.app.state, "queries", None)
    if queries is None:
        return answer
    events = queries.history(str(answer.id))
    if events:
        answer.position = int(events[-1]["position"])
    reversed_ = [e for e in events if str(e["event"]).endswith(".Reversed")]
    if reversed_:
        last = reversed_[-1]
        answer.reversal = Reversal(
            reason=last.get("reason") or "", reversed_by=last.get("actor"),
            reversed_on=last.get("effective_date") or None, position=int(last["position"]))
    return answer


@router.post("/{id}/prior-year-adjustment", status_code=202, response_model=ChangePublic)
async def adjust_prior_year(expenditure_id: ExpenditureId, body: ReverseExpenditure,
                            actor: Officer, ledger: Ledger, request: Request,
                            response: Response, idempotency_key: IdempotencyKey = None,
                            if_match: IfMatch = None) -> ChangePublic:
    """Ask for an expenditure of a closed year to be reversed as a prior-year adjustment
    (以前年度盈余调整) of that year and source level (officer): a pending two-person change;
    when an approver approves it, the amount joins the year's recovered surplus and the closed
    allocation stays closed (docs/year-end.md). `If-Match` is the expenditure's version."""
    version = expected_version(if_match)
    return await pending(request, response, partial(
        ledger.adjust_prior_year, actor, expenditure_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
