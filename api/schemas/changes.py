"""A two-person change's request and response bodies: approve, reject, and the change."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
)

from api.schemas import Command, OptionalReason, Reason
from domain.change import PendingChange


class ApproveChange(Command):
    reason: OptionalReason = ""


class RejectChange(Command):
    reason: Reason


class ChangePublic(BaseModel):
    """A two-person change: made by one person, applied only when another approves it."""

    change: str
    status: Literal["pending", "approved", "rejected"]
    kind: str
    maker: str
    maker_role: str | None = None
    subjects: list[str] = Field([], description="What it concerns: allocation:<id>, fund:<code>")
    params: dict[str, Any] = {}
    reason: str = ""
    proposed_on: date | None = None
    decided_by: str | None = None
    decided_on: date | None = None
    decision_reason: str | None = None
    changed: list[dict[str, Any]] | None = Field(
        None, description="After approval: each changed subject as the books now hold it")
    version: int | None = None
    position: int | None = None


def change_public(change: PendingChange, position: int | None = None,
                  changed: list[dict[str, Any]] | None = None) -> ChangePublic:
    params = {k: (v if v is None or isinstance(v, bool | int | str) else str(v))
              for k, v in change.params.items()}
    return ChangePublic(
        change=str(change.id), status=change.status, kind=change.kind, maker=change.maker,
        maker_role=change.maker_role, subjects=list(change.subjects), params=params,
        reason=change.reason, proposed_on=change.proposed_on, decided_by=change.decided_by,
        decided_on=change.decided_on,
        decision_reason=change.decision_reason if change.decided_by else None,
        changed=changed, version=change.version, position=position)
