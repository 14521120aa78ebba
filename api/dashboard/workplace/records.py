"""Drill-down for everyone who reads the books: a fund and its allocations, an allocation and
the expenditures behind its balance, one expenditure; search by voucher, payee and school.
The forms that act on a record (reverse, cancel, transfer, adjust) sit on its page and are
record_actions.py.

GET /dashboard/work/funds/{code} · /allocations/{id} · /expenditures/{id} · /search?q=
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth import visible_payee
from api.dashboard.pages import ViewsDb
from api.dashboard.workplace import context
from api.schemas.allocations import allocation_public
from api.schemas.expenditures import expenditure_public
from domain.errors import LedgerError
from domain.personal_data import PERSONAL_PAYMENT_CLASSES
from projections import books_queries

if TYPE_CHECKING:
    from projections.database import ViewDatabase

router = APIRouter(prefix="/dashboard/work", include_in_schema=False)
ROWS_SHOWN_MAX = 500
SEARCH_ROWS_MAX = 50


def _reader(request: Request) -> Any:
    """Anyone who may read the books: the session's worker, or the login page."""
    return context.worker(request)


@router.get("/funds/{code}")
def fund_page(request: Request, db: ViewsDb, code: str) -> Response:
    who = _reader(request)
    if isinstance(who, Response):
        return who
    queries = request.app.state.queries
    try:
        fund = queries.fund_balance(code)
    except LedgerError:
        return Response(status_code=404, content=f"fund {code} not found")
    rows, _ = queries.list_allocations(fund=code, limit=ROWS_SHOWN_MAX)
    return context.render(request, "work/fund.html", who, db, "work", fund=fund,
                          allocations=rows)


def allocation_context(request: Request, allocation_id: UUID) -> dict[str, Any] | None:
    """What the allocation page shows: the allocation as the books hold it now, the
    expenditures behind its spent figure, and its history."""
    ledger, queries = request.app.state.ledger, request.app.state.queries
    try:
        allocation = allocation_public(ledger.get_allocation(allocation_id))
    except LedgerError:
        return None
    spending, _ = queries.list_expenditures(allocation=str(allocation_id), limit=ROWS_SHOWN_MAX)
    return {"allocation": allocation, "expenditures": spending,
            "history": queries.history(str(allocation_id))}


@router.get("/allocations/{allocation_id}")
def allocation_page(request: Request, db: ViewsDb, allocation_id: UUID) -> Response:
    return _record_page(request, db, "allocation", allocation_id, allocation_context)


def expenditure_context(request: Request, expenditure_id: UUID) -> dict[str, Any] | None:
    ledger, queries = request.app.state.ledger, request.app.state.queries
    try:
        expenditure = expenditure_public(ledger.get_expenditure(expenditure_id))
    except LedgerError:
        return None
    return {"expenditure": expenditure, "history": queries.history(str(expenditure_id))}


@router.get("/expenditures/{expenditure_id}")
def expenditure_page(request: Request, db: ViewsDb, expenditure_id: UUID) -> Response:
    return _record_page(request, db, "expenditure", expenditure_id, expenditure_context)


def _record_page(request: Request, db: ViewDatabase, kind: str, record_id: UUID,
                 context_of: Callable[[Request, UUID], dict[str, Any] | None]) -> Response:
    """A record's page (work/<kind>.html) with the forms that act on it, empty."""
    who = _reader(request)
    if isinstance(who, Response):
        return who
    shown = context_of(request, record_id)
    if shown is None:
        return Response(status_code=404, content=f"{kind} {record_id} not found")
    return context.render(request, f"work/{kind}.html", who, db, "work", key=context.new_key(),
                          values={}, errors={}, failed="", **shown)


@router.get("/search")
def search(request: Request, db: ViewsDb,
           q: Annotated[str, Query(max_length=100)] = "") -> Response:
    """Schools by code or name; expenditures whose voucher or payee contains the text (any
    case), newest first, at most SEARCH_ROWS_MAX of each."""
    who = _reader(request)
    if isinstance(who, Response):
        return who
    text = q.strip()
    schools: list[Any] = []
    spending: list[Any] = []
    if text:
        year = request.app.state.ledger.today().year
        schools, _ = books_queries.schools_with_balances(
            db, year, None, search=text, district="", locale="", level="", after="",
            limit=SEARCH_ROWS_MAX)
        by_voucher = books_queries.expenditures_containing(db, "voucher", text,
                                                           limit=SEARCH_ROWS_MAX)
        # A reader may not confirm who was paid personally by guessing names (issue 14): a
        # reader's payee search leaves personal payments out before the limit, and whatever
        # the reader would see masked is left out again here.
        personal = () if who.actor.sees_personal_data else PERSONAL_PAYMENT_CLASSES
        by_payee = books_queries.expenditures_containing(
            db, "payee", text, limit=SEARCH_ROWS_MAX, leave_out_classes=personal)
        by_payee = [e for e in by_payee
                    if visible_payee(who.actor, e.payee, e.economic_class) == e.payee]
        spending = list({e.id: e for e in [*by_voucher, *by_payee]}.values())
    return context.render(request, "work/search.html", who, db, "work", q=text,
                          schools=schools, expenditures=spending)

