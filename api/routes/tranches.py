"""/v1/tranches: semester tranches of formula funding.

`POST /v1/tranches {fund, snapshot, semester, share, preview: true}` answers every eligible
school's amount with its inputs and the total against the fund's available amount, writing
nothing; with `preview: false` it proposes all of them as one batch at one position.
`POST /v1/tranches/{id}/approve|reject` decides them all at once (a second person).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, get_type_hints
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, create_model

from api.auth import Approver, Ledger, Officer, Reader, require_unscoped
from api.commands import IdempotencyKey, etag
from api.parameters import AggregateId as TrancheId
from api.schemas import Code, Command, IsoDate, Reason, Reasoned
from api.strict_json import StrictJsonRoute
from domain.formula_funding import FormulaFunding
from domain.ledger import Outcome
from domain.tranche import SHARE_DEFAULT, FormulaLine, Semester, Tranche, TrancheNotFound, TranchePlan, plain
from domain.units import money_text

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/tranches", tags=["formula funding"])
EXCLUDED_MAX = 20_000


class TrancheRequest(Command):
    fund: Code
    snapshot: UUID
    semester: Semester
    share: Annotated[Decimal, Field(gt=0, le=1, decimal_places=4)] = SHARE_DEFAULT
    preview: bool = True
    effective_date: IsoDate | None = None
    plan: Annotated[str, Field(max_length=4_000)] | None = Field(
        None, description="The preview's `plan` token: the proposal is refused, naming the "
                          "schools, if any has dropped out since")


class Exclusion(Command):
    school: Code
    reason: Reason


class ApproveTranche(Command):
    exclude: Annotated[list[Exclusion], Field(max_length=EXCLUDED_MAX)] = Field(default_factory=list)
    effective_date: IsoDate | None = None


class RejectTranche(Reasoned):
    pass


def _line_fields() -> dict[str, Any]:
    """A tranche line's fields are the domain's `FormulaLine` (one definition of what a line
    says), two of them described for the API's readers, plus the allocation it proposed."""
    described = {
        "exact": "annual × share before rounding, in fen (exact decimal)",
        "rounding": "amount − exact, in fen"}
    hints = get_type_hints(FormulaLine)
    found: dict[str, Any] = {
        f.name: (hints[f.name], Field(description=described[f.name]) if f.name in described
                 else ...)
        for f in fields(FormulaLine)}
    found["allocation"] = (UUID | None, None)
    return found


LinePublic = create_model("LinePublic", **_line_fields())


class TrancheFigures(BaseModel):
    """What a preview and a proposed tranche both state: the fund, the snapshot, the share
    and the total with its rounding."""

    fund: str
    fiscal_year: int
    unit: str
    snapshot: UUID
    snapshot_name: str
    semester: str
    share: str
    effective_date: date
    schools: int
    total: int
    total_text: str
    exact_total: str
    rounding_difference: str


class PreviewPublic(TrancheFigures):
    available: int
    shortfall: int
    missing_standards: list[dict[str, Any]]
    excluded: list[dict[str, str]]
    plan: str
    lines: list[LinePublic]


class TranchePublic(TrancheFigures):
    id: UUID
    status: str
    proposed_by: str
    decided_by: str | None
    decided_on: date | None
    excluded: list[dict[str, str]]
    reason: str
    lines: list[LinePublic]
    version: int
    position: int | None = None


def preview_public(plan: TranchePlan) -> PreviewPublic:
    return PreviewPublic(
        fund=plan.fund, fiscal_year=plan.fiscal_year, unit=plan.unit,
        snapshot=UUID(plan.snapshot), snapshot_name=plan.snapshot_name, semester=plan.semester,
        share=plan.share, effective_date=plan.effective_date, schools=len(plan.lines),
        total=plan.total, total_text=money_text(plan.total, plan.unit, "zh"),
        exact_total=plain(plan.exact_total), rounding_difference=plain(plan.rounding_difference),
        available=plan.available, shortfall=plan.shortfall,
        missing_standards=plan.missing_standards, excluded=plan.excluded, plan=plan.mark,
        lines=[LinePublic.model_validate(line.__dict__) for line in plan.lines])


def tranche_public(tranche: Tranche, position: int | None = None) -> TranchePublic:
    return TranchePublic(
        id=tranche.id, status=tranche.status, fund=tranche.fund_code,
        fiscal_year=tranche.fiscal_year, unit=tranche.unit, snapshot=tranche.snapshot_id,
        snapshot_name=tranche.snapshot_name, semester=tranche.semester, share=tranche.share,
        effective_date=tranche.effective_date, schools=len(tranche.lines), total=tranche.total,
        total_text=money_text(tranche.total, tranche.unit, "zh"),
        exact_total=tranche.exact_total, rounding_difference=tranche.rounding_difference,
        proposed_by=tranche.proposed_by, decided_by=tranche.decided_by,
        decided_on=tranche.decided_on, excluded=tranche.excluded, reason=tranche.reason,
        lines=[LinePublic.model_validate(line) for line in tranche.lines],
        version=tranche.version, position=position)


def _answer(outcome: Outcome, status: int) -> JSONResponse:
    headers = {"ETag": etag(outcome.subject.version),
               "Location": f"/v1/tranches/{outcome.subject.id}"}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = tranche_public(outcome.subject, outcome.position).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("", response_model=TranchePublic | PreviewPublic,
             responses={200: {"description": "The preview (nothing written)"},
                        201: {"description": "The proposed tranche"}})
def post_tranche(body: TrancheRequest, actor: Officer, ledger: Ledger,
                 idempotency_key: IdempotencyKey = None) -> Any:
    """Preview (default) or propose a semester tranche from a snapshot (officer). Proposing
    writes every allocation as one batch, or nothing."""
    service = FormulaFunding(ledger)
    fields = body.model_dump(exclude={"preview", "plan"})
    if body.preview:
        return preview_public(service.preview_tranche(actor, **fields))
    outcome = service.propose_tranche(actor, **fields, plan=body.plan,
                                      idempotency_key=idempotency_key)
    return _answer(outcome, 201)


@router.get("/{id}", response_model=TranchePublic)
def get_tranche(tranche_id: TrancheId, actor: Reader, ledger: Ledger,
                response: Response) -> TranchePublic:
    """A tranche with every school's line, its allocation and how its amount was computed."""
    require_unscoped(actor, TrancheNotFound, f"tranche {tranche_id}")
    tranche = FormulaFunding(ledger).tranche(tranche_id)
    response.headers["ETag"] = etag(tranche.version)
    return tranche_public(tranche)


@router.post("/{id}/approve", response_model=TranchePublic)
def approve_tranche(tranche_id: TrancheId, body: ApproveTranche, actor: Approver,
                    ledger: Ledger, idempotency_key: IdempotencyKey = None) -> Any:
    """Approve every allocation of the tranche at once (approver, not the proposer); the
    schools named in `exclude`, each with a reason, stay proposed."""
    outcome = FormulaFunding(ledger).approve_tranche(
        actor, tranche_id, exclude={e.school: e.reason for e in body.exclude},
        effective_date=body.effective_date, idempotency_key=idempotency_key)
    return _answer(outcome, 200)


@router.post("/{id}/reject", response_model=TranchePublic)
def reject_tranche(tranche_id: TrancheId, body: RejectTranche, actor: Approver,
                   ledger: Ledger, idempotency_key: IdempotencyKey = None) -> Any:
    """Reject every allocation of the tranche, with a reason (approver, not the proposer)."""
    outcome = FormulaFunding(ledger).reject_tranche(
        actor, tranche_id, **body.model_dump(), idempotency_key=idempotency_key)
    return _answer(outcome, 200)
