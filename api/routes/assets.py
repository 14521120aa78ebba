"""A school's devices and rooms as stocks: deliveries, disposals (报废), transfers between
schools, and the holdings as of any day."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictInt, StrictStr

from api.auth import Officer, Reader
from api.command_routes import command_route
from api.parameters import AsOfToday as AsOf
from api.parameters import SchoolCode
from api.reads import MinPosition
from api.schemas import Code, Command, IsoDate, Reason
from api.stock_reads import school_stock_snapshot
from api.strict_json import StrictJsonRoute
from domain.assets import AssetKind
from domain.ledger import Outcome
from domain.limits import AMOUNT_MINOR_MAX
from domain.post_commands import DOCUMENT_LENGTH_MAX
from domain.resource_commands import QUANTITY_MAX
from projections.stock_queries import school_assets

router = APIRouter(route_class=StrictJsonRoute, tags=["resources: assets"])
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


def _school_now(outcome: Outcome) -> SchoolAssetsPublic:
    return _now(outcome.subjects, outcome.position)[0]


for path, command, name, created, body, doc in (
        ("/v1/schools/{code}/assets/receipts", "receive_assets", "receive", True, ReceiveAssets,
         "A delivery adds to the school's stock (officer)."),
        ("/v1/schools/{code}/assets/disposals", "dispose_assets", "dispose", False, DisposeAssets,
         "Write devices off (报废); more than the school holds is 409."),
):
    command_route(router, path, command, name=name, role=Officer, subject=("code", SchoolCode),
                  body=body, answer=_school_now, response_model=SchoolAssetsPublic,
                  created=created, doc=doc)
command_route(router, "/v1/asset-transfers", "transfer_assets", role=Officer,
              body=TransferAssets, answer=lambda outcome: _now(outcome.subjects, outcome.position),
              response_model=list[SchoolAssetsPublic], name="transfer",
              doc="Move devices from one school of a county to another: one pair of events.")


@router.get("/v1/schools/{code}/assets", response_model=SchoolAssetsPublic)
def holdings(code: SchoolCode, actor: Reader, request: Request, as_of: AsOf = None,
             min_position: MinPosition = None) -> SchoolAssetsPublic:
    """What a school holds, quantity and value in fen, as of a day."""
    with school_stock_snapshot(request, actor, code, as_of, min_position) as (
            _, day, position, db):
        held = school_assets(db, code, day)
    return SchoolAssetsPublic(school=code, as_of=day, position=position,
                              holdings=[Holding(**vars(h)) for h in held])
