"""The two-person changes' page: pending first, for approvers and auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.i18n import translate
from api.dashboard.pages import PageActor, ViewsDb, _language, _render
from api.dashboard.workplace.queue import _change_subject
from domain.actors import Role
from domain.units import money_text
from projections.changes import ChangeRow, list_changes

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
    language = _language(request)
    shown = [{**vars(row), "kind": translate(row.kind, language),
              "params": _params_text(request, row, language)} for row in rows]
    return _render(request, "changes.html", actor, db, "changes", "", None, changes=shown,
                   status=status)


def _params_text(request: Request, change: ChangeRow, language: str) -> str:
    """What a change asks, for a person: named in the page's language, its amounts in yuan
    (a change stores fen, `delta=-7295600`, which nobody should have to read)."""
    unit = ""
    shown = []
    for key, value in change.params.items():
        if value is None:
            continue
        text = str(value)
        if key in AMOUNT_PARAMS and isinstance(value, int) and not isinstance(value, bool):
            unit = unit or _change_subject(request.app.state.ledger, change.subjects,
                                           change.params)[2]
            text = money_text(value, unit, language)
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value) or "—"
        shown.append(f"{translate(key, language)}={text}")
    return "; ".join(shown)


AMOUNT_PARAMS = ("amount", "delta")
