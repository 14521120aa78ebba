"""A school's devices and rooms as stocks: deliveries, disposals (报废), transfers between
schools, and the holdings as of any day."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr

from api.auth import Ledger, Officer, Reader
from api.commands import IdempotencyKey, execute
from api.reads import MinPosition
from api.schemas import CODE_PATTERN, Code, Command, IsoDate, Reason
from api.stock_reads import school_stock_snapshot
from api.strict_json import StrictJsonRoute
from domain.assets import AssetKind
from domain.limits import AMOUNT_MINOR_MAX, CODE_LENGTH_MAX
from domain.post_commands import DOCUMENT_LENGTH_MAX
from domain.resource_commands import QUANTITY_MAX
from projections.stock_queries import school_assets

router = APIRouter(route_class=StrictJsonRoute, tags=["resources: assets"])
SchoolCode = Annotated[str, Path(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]
AsOf = Annotated[IsoDate | None, Query(description="Business date; today when absent")]
Quantity = Annotated[StrictInt, Field(ge=1, le=QUANTITY_MAX)]
Value = Annotated[StrictInt, Field(ge=0, le=AMOUNT_MINOR_MAX, description="Fen")]


class ReceiveAssets(Command):
    asset: AssetKind
    quantity: Quantity
    value: Value
    expenditure: UUID | None = Field(None, description="The expenditure that paid for them")
    document: Annotated[StrictStr, Field(max_length=DOCUMENT_LENGTH_MAX)] = ""
    effective_date: IsoDate | None = None


class DisposeAssets(Command):
    asset: AssetKind
    quantity: Quantity
    value: Value | None = Field(None, description="Written-off value; in proportion if absent")
    reason: Reason
    effective_date: IsoDate | None = None


class TransferAssets(Command):
    from_school: Code
    to_school: Code
    asset: AssetKind
    quantity: Quantity
    value: Value | None = None
    reason: Reason
    effective_date: IsoDate | None = None


class Holding(BaseModel):
    asset: str
    quantity: int
    value: int = Field(description="Fen")


class SchoolAssetsPublic(BaseModel):
    school: str
    as_of: date | None
    position: int
    holdings: list[Holding]


def _now(aggregates: list[Any], position: int) -> list[SchoolAssetsPublic]:
    return [SchoolAssetsPublic(school=a.school, as_of=a.last_day, position=position,
                               holdings=[Holding(asset=k.value, quantity=a.held(k.value)[0],
                                                 value=a.held(k.value)[1]) for k in AssetKind])
            for a in aggregates]


@router.post("/v1/schools/{code}/assets/receipts", status_code=201,
             response_model=SchoolAssetsPublic)
def receive(code: SchoolCode, body: ReceiveAssets, actor: Officer, ledger: Ledger,
            request: Request, response: Response,
            idempotency_key: IdempotencyKey = None) -> SchoolAssetsPublic:
    """A delivery adds to the school's stock (officer)."""
    outcome = execute(request, response, lambda: ledger.receive_assets(
        actor, code, **body.model_dump(), idempotency_key=idempotency_key), created=True)
    return _now(outcome.subjects, outcome.position)[0]


@router.post("/v1/schools/{code}/assets/disposals", response_model=SchoolAssetsPublic)
def dispose(code: SchoolCode, body: DisposeAssets, actor: Officer, ledger: Ledger,
            request: Request, response: Response,
            idempotency_key: IdempotencyKey = None) -> SchoolAssetsPublic:
    """Write devices off (报废); more than the school holds is 409."""
    outcome = execute(request, response, lambda: ledger.dispose_assets(
        actor, code, **body.model_dump(), idempotency_key=idempotency_key))
    return _now(outcome.subjects, outcome.position)[0]


@router.post("/v1/asset-transfers", response_model=list[SchoolAssetsPublic])
def transfer(body: TransferAssets, actor: Officer, ledger: Ledger, request: Request,
             response: Response,
             idempotency_key: IdempotencyKey = None) -> list[SchoolAssetsPublic]:
    """Move devices from one school of a county to another: one pair of events."""
    outcome = execute(request, response, lambda: ledger.transfer_assets(
        actor, **body.model_dump(), idempotency_key=idempotency_key))
    return _now(outcome.subjects, outcome.position)


@router.get("/v1/schools/{code}/assets", response_model=SchoolAssetsPublic)
def holdings(code: SchoolCode, actor: Reader, request: Request, as_of: AsOf = None,
             min_position: MinPosition = None) -> SchoolAssetsPublic:
    """What a school holds, quantity and value in fen, as of a day."""
    with school_stock_snapshot(request, actor, code, as_of, min_position) as (
            _, day, position, db):
        held = school_assets(db, code, day)
    return SchoolAssetsPublic(school=code, as_of=day, position=position,
                              holdings=[Holding(**vars(h)) for h in held])
