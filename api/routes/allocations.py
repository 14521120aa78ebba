"""/v1/allocations: propose, list, read; approve, reject, adjust, cancel, transfer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response

from api.auth import Approver, Ledger, Officer, Reader, require_in_scope, scoped_school_filter
from api.commands import IdempotencyKey, IfMatch, etag, execute, expected_version
from api.reads import After, Limit, MinPosition, next_link, row_dict, views_at
from api.routes.changes import pending
from api.schemas import CODE_PATTERN, Page
from api.schemas.allocations import (
    AdjustAllocation,
    AllocationPublic,
    ApproveAllocation,
    CancelAllocation,
    ProposeAllocation,
    RejectAllocation,
    TransferAllocation,
    allocation_public,
)
from api.schemas.changes import ChangePublic
from api.strict_json import StrictJsonRoute
from domain.allocation import Status
from domain.errors import AllocationNotFound
from domain.limits import CODE_LENGTH_MAX, FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/allocations", tags=["allocations"])
AllocationId = Annotated[UUID, Path(alias="id")]
CodeFilter = Annotated[str | None, Query(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]


@router.post("", status_code=201, response_model=AllocationPublic)
def propose_allocation(body: ProposeAllocation, actor: Officer, ledger: Ledger, request: Request,
                       response: Response,
                       idempotency_key: IdempotencyKey = None) -> AllocationPublic:
    """Propose part of a fund for a school; an approver (not the proposer) decides (officer)."""
    outcome = execute(request, response, lambda: ledger.propose_allocation(
        actor, **body.model_dump(), idempotency_key=idempotency_key), created=True)
    return allocation_public(outcome.subject, outcome.position)


@router.get("", response_model=Page[AllocationPublic])
def list_allocations(
    actor: Reader, request: Request, limit: Limit = 100, after: After = None,
    school: CodeFilter = None, fund: CodeFilter = None, status: Status | None = None,
    fiscal_year: Annotated[int | None, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)] = None,
    min_position: MinPosition = None,
) -> Page[AllocationPublic]:
    """Allocations filtered by school, fund, status and fiscal year, in pages."""
    views = views_at(request, min_position)
    school, schools = scoped_school_filter(actor, school)
    rows, cursor = views.list_allocations(school=school, fund=fund, schools=schools,
                                          status=status and status.value,
                                          fiscal_year=fiscal_year, after=after, limit=limit)
    return Page[AllocationPublic](
        items=[AllocationPublic.model_validate(row_dict(r)) for r in rows],
        next=next_link(request, cursor), position=views.position())


@router.get("/{id}", response_model=AllocationPublic)
def get_allocation(allocation_id: AllocationId, actor: Reader, ledger: Ledger,
                   response: Response) -> AllocationPublic:
    """One allocation as the books hold it now."""
    allocation = ledger.get_allocation(allocation_id)
    require_in_scope(actor, allocation.school_code, AllocationNotFound,
                     f"allocation {allocation_id}")
    response.headers["ETag"] = etag(allocation.version)
    return allocation_public(allocation)


@router.post("/{id}/approve", response_model=AllocationPublic)
def approve_allocation(allocation_id: AllocationId, body: ApproveAllocation, actor: Approver,
                       ledger: Ledger, request: Request, response: Response,
                       idempotency_key: IdempotencyKey = None,
                       if_match: IfMatch = None) -> AllocationPublic:
    """Approve a proposal: the fund commits the amount (approver, not the proposer)."""
    version = expected_version(if_match)
    outcome = execute(request, response, lambda: ledger.approve_allocation(
        actor, allocation_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
    return allocation_public(outcome.subject, outcome.position)


@router.post("/{id}/reject", response_model=AllocationPublic)
def reject_allocation(allocation_id: AllocationId, body: RejectAllocation, actor: Approver,
                      ledger: Ledger, request: Request, response: Response,
                      idempotency_key: IdempotencyKey = None,
                      if_match: IfMatch = None) -> AllocationPublic:
    """Reject a proposal, with a reason (approver, not the proposer)."""
    version = expected_version(if_match)
    outcome = execute(request, response, lambda: ledger.reject_allocation(
        actor, allocation_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
    return allocation_public(outcome.subject, outcome.position)


@router.post("/{id}/adjust", status_code=202, response_model=ChangePublic)
def adjust_allocation(allocation_id: AllocationId, body: AdjustAllocation, actor: Approver,
                      ledger: Ledger, request: Request, response: Response,
                      idempotency_key: IdempotencyKey = None,
                      if_match: IfMatch = None) -> ChangePublic:
    """Ask for an approved allocation to be raised or lowered (approver): a pending two-person
    change, applied when another approver (not the allocation's proposer) approves it."""
    version = expected_version(if_match)
    return pending(request, response, lambda: ledger.adjust_allocation(
        actor, allocation_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))


@router.post("/{id}/cancel", status_code=202, response_model=ChangePublic)
def cancel_allocation(allocation_id: AllocationId, body: CancelAllocation, actor: Officer,
                      ledger: Ledger, request: Request, response: Response,
                      idempotency_key: IdempotencyKey = None,
                      if_match: IfMatch = None) -> ChangePublic:
    """Ask for an allocation to be cancelled, its unspent remainder going back to the fund
    (officer): a pending two-person change (/v1/changes)."""
    version = expected_version(if_match)
    return pending(request, response, lambda: ledger.cancel_allocation(
        actor, allocation_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))


@router.post("/{id}/transfer", status_code=202, response_model=ChangePublic)
def transfer_allocation(allocation_id: AllocationId, body: TransferAllocation, actor: Officer,
                        ledger: Ledger, request: Request, response: Response,
                        idempotency_key: IdempotencyKey = None,
                        if_match: IfMatch = None) -> ChangePublic:
    """Ask for part of the unspent remainder to move to another school's allocation of the
    same fund (officer): a pending two-person change, applied in one atomic write when an
    approver approves it. `If-Match` is the source allocation's version."""
    version = expected_version(if_match)
    return pending(request, response, lambda: ledger.transfer_allocation(
        actor, allocation_id, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
