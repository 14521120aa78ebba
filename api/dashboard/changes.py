"""The two-person changes' page: pending first, for approvers and auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.pages import (
    PageActor,
    ViewsDb,
    _render,
)
from domain.actors import Role
from projections.changes import list_changes

router = APIRouter(prefix="/dashboard", include_in_schema=False)
CHANGES_SHOWN_MAX = 500


@router.get("/changes", response_class=HTMLResponse)
def changes(request: Request, actor: PageActor, db: ViewsDb,
            status: Annotated[str, Query(max_length=10)] = "pending") -> Response:
    """Two-person changes, pending first: for approvers (who decide) and auditors (read-only)."""
    if not actor.roles & {Role.APPROVER, Role.AUDITOR}:
        return _render(request, "denied.html", actor, db, "changes", "", None,
                       message_key="changes_need_approver")
    status = status if status in ("pending", "approved", "rejected") else "pending"
    rows, _ = list_changes(db, status=status, kind=None, subject=None, after=None,
                           limit=CHANGES_SHOWN_MAX)
    return _render(request, "changes.html", actor, db, "changes", "", None, changes=rows,
                   status=status)
