"""The closed months' page (月结, docs/year-end.md): read-only, for every reader; a month is
closed through the API or `fundledger periods close`, applied by a second approver."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard.pages import PageActor, ViewsDb, _render

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("/periods", response_class=HTMLResponse)
def periods(request: Request, actor: PageActor, db: ViewsDb) -> Response:
    """The closed months, newest first, with who asked, who approved and when."""
    closed = sorted(request.app.state.ledger.closed_periods(), key=lambda c: c.month,
                    reverse=True)
    return _render(request, "periods.html", actor, db, "periods", "", None, closed=closed)
