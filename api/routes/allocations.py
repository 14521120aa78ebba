"""/v1/allocations: propose, list, read; approve, reject, adjust, cancel, transfer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.auth import Approver, Ledger, Officer, Reader, require_in_scope, scoped_school_filter
from api.command_routes import command_route, of_subject
from api.commands import etag
from api.parameters import AggregateId as AllocationId
from api.parameters import CodeFilter
from api.reads import After, Limit, MinPosition, views_at
from api.routes.pages import page_of
from api.schemas import Page
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
from api.schemas.changes import ChangePublic, change_public
from api.strict_json import StrictJsonRoute
from domain.allocation import Status
from domain.errors import AllocationNotFound
from domain.limits import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/allocations", tags=["allocations"])


command_route(router, "", "propose_allocation", role=Officer, body=ProposeAllocation,
              answer=of_subject(allocation_public), response_model=AllocationPublic,
              created=True, doc="Propose part of a fund for a school; an approver (not the "
                                "proposer) decides (officer).")


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
    return page_of(request, views, AllocationPublic, rows, cursor)


@router.get("/{id}", response_model=AllocationPublic)
def get_allocation(allocation_id: AllocationId, actor: Reader, ledger: Ledger,
                   response: Response) -> AllocationPublic:
    """One allocation as the books hold it now."""
    allocation = ledger.get_allocation(allocation_id)
    require_in_scope(actor, allocation.school_code, AllocationNotFound,
                     f"allocation {allocation_id}")
    response.headers["ETag"] = etag(allocation.version)
    return allocation_public(allocation)


# The decisions on a proposal, checked against its version (If-Match).
for path, command, body, doc in (
        ("/{id}/approve", "approve_allocation", ApproveAllocation,
         "Approve a proposal: the fund commits the amount (approver, not the proposer)."),
        ("/{id}/reject", "reject_allocation", RejectAllocation,
         "Reject a proposal, with a reason (approver, not the proposer)."),
):
    command_route(router, path, command, role=Approver, subject=("allocation_id", AllocationId),
                  body=body, versioned=True, answer=of_subject(allocation_public),
                  response_model=AllocationPublic, doc=doc)

# What moves approved money: a pending two-person change (/v1/changes), answered 202.
for path, command, role, body, doc in (
        ("/{id}/adjust", "adjust_allocation", Approver, AdjustAllocation,
         "Ask for an approved allocation to be raised or lowered (approver): a pending "
         "two-person change, applied when another approver (not the allocation's proposer) "
         "approves it."),
        ("/{id}/cancel", "cancel_allocation", Officer, CancelAllocation,
         "Ask for an allocation to be cancelled, its unspent remainder going back to the fund "
         "(officer): a pending two-person change (/v1/changes)."),
        ("/{id}/transfer", "transfer_allocation", Officer, TransferAllocation,
         "Ask for part of the unspent remainder to move to another school's allocation of the "
         "same fund (officer): a pending two-person change, applied in one atomic write when an "
         "approver approves it. `If-Match` is the source allocation's version."),
):
    command_route(router, path, command, role=role, subject=("allocation_id", AllocationId),
                  body=body, versioned=True, answer=of_subject(change_public),
                  response_model=ChangePublic, status_code=202, doc=doc)
