"""/v1/changes: two-person changes. A POST that moves approved money (an allocation's
adjustment, transfer or cancellation, a fund's appropriation adjustment or close) answers
202 with a pending change; another person approves or rejects it here."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Approver, Ledger, Reader, require_unscoped
from api.command_routes import command_route, of_subject
from api.commands import IdempotencyKey, IfMatch, etag, execute_async, expected_version
from api.parameters import AggregateId as ChangeId
from api.reads import After, Limit, MinPosition, views_at
from api.routes.pages import page_of
from api.schemas import Page
from api.schemas.allocations import allocation_public
from api.schemas.changes import ApproveChange, ChangePublic, RejectChange, change_public
from api.strict_json import StrictJsonRoute
from domain.allocation import Allocation
from domain.change import ChangeStatus
from domain.errors import ChangeNotFound
from domain.fund import Fund
from domain.ledger import Outcome

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/changes", tags=["changes"])
KindFilter = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
SubjectFilter = Annotated[str | None, Query(max_length=128, pattern=r"^[a-z]+:[A-Za-z0-9_.\-]+$")]


async def pending(request: Request, response: Response, command: Any) -> ChangePublic:
    """Runs a command that makes a two-person change and answers 202 with it."""
    outcome = await execute_async(request, response, command)
    response.status_code = 202
    return change_public(outcome.subject, outcome.position)


@router.get("", response_model=Page[ChangePublic])
def list_changes(actor: Reader, request: Request, limit: Limit = 100, after: After = None,
                 status: ChangeStatus | None = None, kind: KindFilter = None,
                 subject: SubjectFilter = None,
                 min_position: MinPosition = None) -> Page[ChangePublic]:
    """Changes in the order they were made, filtered by status, kind and subject."""
    views = views_at(request, min_position)
    rows, cursor = views.list_changes(status=status and status.value, kind=kind,
                                      subject=subject, after=after, limit=limit)
    if actor.schools is not None:  # the bureau's approval queue: not a scoped token's
        rows, cursor = [], None
    return page_of(request, views, ChangePublic, rows, cursor)


@router.get("/{id}", response_model=ChangePublic)
def get_change(change_id: ChangeId, actor: Reader, ledger: Ledger,
               response: Response) -> ChangePublic:
    """One change as the books hold it now."""
    require_unscoped(actor, ChangeNotFound, f"change {change_id}")
    change = ledger.get_change(change_id)
    response.headers["ETag"] = etag(change.version)
    return change_public(change)


@router.post("/{id}/approve", response_model=ChangePublic)
async def approve_change(change_id: ChangeId, body: ApproveChange, actor: Approver,
                         ledger: Ledger, request: Request, response: Response,
                         idempotency_key: IdempotencyKey = None,
                         if_match: IfMatch = None) -> ChangePublic:
    """Apply a pending change (approver; not its maker, nor the proposer of an allocation it
    touches). A change that no longer fits is refused with the rule's 409 and stays pending."""
    version = expected_version(if_match)
    outcome = await execute_async(request, response, partial(
        ledger.approve_change, actor, change_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
    # A changed fund is shown with its spending, read from the views: off the event loop.
    changed = await run_in_threadpool(_changed, request, outcome)
    return change_public(outcome.subject, outcome.position, changed)


command_route(router, "/{id}/reject", "reject_change", role=Approver,
              subject=("change_id", ChangeId), body=RejectChange, versioned=True,
              answer=of_subject(change_public), response_model=ChangePublic,
              doc="Reject a pending change, with a reason; nothing moves.")


def _changed(request: Request, outcome: Outcome) -> list[dict[str, Any]]:
    """Each subject the approval changed, as the books now hold it, with the position."""
    from api.routes.funds import written_fund  # noqa: PLC0415  (funds imports this module)

    shown: list[dict[str, Any]] = []
    for subject in outcome.subjects[1:]:
        if isinstance(subject, Allocation):
            body = allocation_public(subject, outcome.position).model_dump(mode="json")
            shown.append({"type": "allocation", **body})
        elif isinstance(subject, Fund):
            body = written_fund(request, subject, outcome.position).model_dump(mode="json")
            shown.append({"type": "fund", **body})
        else:
            shown.append({"type": type(subject).__name__.lower(), "id": str(subject.id),
                          "version": subject.version, "position": outcome.position,
})
    return shown
