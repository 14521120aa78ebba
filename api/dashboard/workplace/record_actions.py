"""The forms on a record's page: reverse an expenditure with a reason (officer); propose the
cancellation or a transfer of an allocation (officer) or its adjustment (approver) — the
three are two-person changes, answered "pending" until another approver decides in the
queue. Each runs the ledger command the API route runs, with the API's schema.

POST /dashboard/work/expenditures/{id}/reverse · /allocations/{id}/cancel|transfer|adjust
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.dashboard.i18n import translate
from api.dashboard.pages import ViewsDb
from api.dashboard.workplace import context, records, submission
from api.schemas.allocations import AdjustAllocation, CancelAllocation, TransferAllocation
from api.schemas.expenditures import ReverseExpenditure
from domain.actors import Role
from domain.ledger import Outcome

router = APIRouter(prefix="/dashboard/work", include_in_schema=False)

ALLOCATION_ACTIONS: dict[str, tuple[submission.FormRules, str]] = {
    # form name → (its rules, the ledger's command)
    "propose_cancellation": (submission.FormRules(CancelAllocation, Role.OFFICER),
                             "cancel_allocation"),
    "propose_transfer": (submission.FormRules(TransferAllocation, Role.OFFICER,
                                              amounts=("amount",)), "transfer_allocation"),
    "propose_adjustment": (submission.FormRules(AdjustAllocation, Role.APPROVER,
                                                amounts=("delta",)), "adjust_allocation"),
}
ACTION_PATHS = {"cancel": "propose_cancellation", "transfer": "propose_transfer",
                "adjust": "propose_adjustment"}
REVERSE = submission.FormRules(ReverseExpenditure, Role.OFFICER)


def _again(request: Request, db: Any, template: str, shown: dict[str, Any] | None,
           name: str) -> submission.ShowAgain:
    def show_again(who: context.Worker, values: dict[str, Any], key: str,
                   errors: dict[str, str], problem: str, detail: str,
                   status_code: int) -> Response:
        if shown is None:
            return Response(status_code=404)
        return context.render(request, template, who, db, "work", status_code, key=key,
                              values=values, errors=errors, failed=name, problem=problem,
                              problem_detail=detail, **shown)

    return show_again


def _written(request: Request, db: Any, name: str, links: Callable[[Outcome, str], list[tuple[str, str]]],
             pending: bool) -> submission.Written:
    def written(who: context.Worker, outcome: Outcome, key: str) -> Response:
        return context.written(request, who, db, outcome, name,
                               links(outcome, who.language), key, pending=pending)

    return written


@router.post("/expenditures/{expenditure_id}/reverse")
async def reverse(request: Request, db: ViewsDb, expenditure_id: UUID) -> Response:
    shown = await run_in_threadpool(records.expenditure_context, request, expenditure_id)

    def links(outcome: Outcome, language: str) -> list[tuple[str, str]]:
        return [(translate("expenditures", language), f"/dashboard/work/expenditures/{expenditure_id}"),
                (translate("allocation", language),
                 f"/dashboard/work/allocations/{outcome.subject.allocation_id}")]

    return await submission.submit(
        request, db, REVERSE,
        lambda ledger, who, body, key: ledger.reverse_expenditure(
            who.actor, expenditure_id, **body.model_dump(), idempotency_key=key),
        _again(request, db, "work/expenditure.html", shown, "reverse_expenditure"),
        _written(request, db, "reverse_expenditure", links, pending=False))


@router.post("/allocations/{allocation_id}/{action}")
async def act_on_allocation(request: Request, db: ViewsDb, allocation_id: UUID,
                            action: str) -> Response:
    name = ACTION_PATHS.get(action)
    if name is None:
        return Response(status_code=404)
    rules, command = ALLOCATION_ACTIONS[name]
    shown = await run_in_threadpool(records.allocation_context, request, allocation_id)
    unit = shown["allocation"].unit if shown else "CNY"

    def links(outcome: Outcome, language: str) -> list[tuple[str, str]]:
        return [(translate("allocation", language), f"/dashboard/work/allocations/{allocation_id}"),
                (translate("queue", language), "/dashboard/work/queue")]

    return await submission.submit(
        request, db, rules,
        lambda ledger, who, body, key: getattr(ledger, command)(
            who.actor, allocation_id, **body.model_dump(), idempotency_key=key),
        _again(request, db, "work/allocation.html", shown, name),
        _written(request, db, name, links, pending=True), lambda form: unit)
