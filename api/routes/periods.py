"""Month-end close (月结; docs/year-end.md).

POST /v1/periods/{yyyy-mm}/close — ask for a month to be closed for the bureau (approver): a
    two-person change answering 202; a second approver's approval closes it.
GET /v1/periods — the closed months, who asked, who approved, when.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from api.auth import Approver, Ledger, Reader
from api.commands import IdempotencyKey
from api.routes.changes import pending
from api.schemas import Command, OptionalReason
from api.schemas.changes import ChangePublic
from api.strict_json import StrictJsonRoute

router = APIRouter(prefix="/v1/periods", route_class=StrictJsonRoute, tags=["periods"])
Month = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2025-03"])]


class ClosePeriod(Command):
    reason: OptionalReason = ""


class ClosedPeriodPublic(BaseModel):
    month: str
    closed_by: str
    approved_by: str | None
    closed_on: date
    reason: str


class ClosedPeriods(BaseModel):
    closed: list[ClosedPeriodPublic]


@router.post("/{month}/close", response_model=ChangePublic, status_code=202)
async def close_period(month: Month, body: ClosePeriod, actor: Approver, ledger: Ledger,
                       request: Request, response: Response,
                       idempotency_key: IdempotencyKey = None) -> ChangePublic:
    """Ask for a month to be closed for the bureau (approver): a pending two-person change;
    once another approver approves it, every command dated in the month is refused
    (409 `period_closed`). Refused: a month not yet over (409 `period_not_ended`), closed
    already (409 `period_already_closed`), or with pending changes dated in it
    (409 `period_has_pending_changes`, listed in `pending_changes`)."""
    return await pending(request, response, partial(
        ledger.close_period, actor, month, **body.model_dump(), idempotency_key=idempotency_key))


@router.get("", response_model=ClosedPeriods)
def closed_periods(_: Reader, ledger: Ledger) -> ClosedPeriods:
    """The closed months, oldest first."""
    return ClosedPeriods(closed=[ClosedPeriodPublic(
        month=c.month, closed_by=c.closed_by, approved_by=c.approved_by,
        closed_on=c.closed_on, reason=c.reason) for c in ledger.closed_periods()])
