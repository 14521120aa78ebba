"""The books' pages: the overview (funds and the year's burn-down), the schools list and
a school (its balances, allocations, expenditures and timeline), as of any day."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import require_school
from api.dashboard import charts
from api.dashboard.i18n import (
    LABELS,
    translate,
)
from api.dashboard.pages import (
    AsOf,
    PageActor,
    ViewsDb,
    _language,
    _page_context,
    _render,
)
from domain.errors import LedgerError
from projections import books_queries
from projections.journal import entity_history

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SCHOOL_ROWS_PER_PAGE = 50
SCHOOL_LIST_ROWS_MAX = 500
TIMELINE_ALLOCATIONS_MAX = 40
TIMELINE_ROWS_PER_PAGE = 100  # a school's year is thousands of events: one page was 10,000 px


@router.get("", response_class=HTMLResponse)
def overview(request: Request, actor: PageActor,
             db: ViewsDb, as_of: AsOf = "", year: str | None = None) -> Response:
    day, fiscal_year = _page_context(request, db, as_of, year)
    language = _language(request)
    labels = {key: translate(key, language) for key in LABELS}
    funds = books_queries.fund_totals(db, fiscal_year, day)
    months = books_queries.monthly_remaining(db, fiscal_year, day)
    return _render(request, "overview.html", actor, db, "overview", as_of, year, funds=funds,
                   bars=charts.funds_bars(funds, labels, language) if funds else "",
                   burn=charts.burn_down(months, labels) if months else "")


@router.get("/schools", response_class=HTMLResponse)
def schools(request: Request, actor: PageActor, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
            q: Annotated[str, Query(max_length=100)] = "",
            district: Annotated[str, Query(max_length=200)] = "",
            locale: Annotated[str, Query(max_length=20)] = "",
            level: Annotated[str, Query(max_length=20)] = "",
            after: Annotated[str, Query(max_length=64)] = "") -> Response:
    day, fiscal_year = _page_context(request, db, as_of, year)
    rows, cursor = books_queries.schools_with_balances(
        db, fiscal_year, day, search=q.strip(), district=district, locale=locale, level=level,
        after=after, limit=SCHOOL_ROWS_PER_PAGE, schools=actor.schools)
    next_query = None
    if cursor is not None:
        next_query = urlencode({**request.query_params, "after": cursor})
    return _render(request, "schools.html", actor, db, "schools", as_of, year, rows=rows,
                   districts=books_queries.districts(db), q=q, district=district, locale=locale,
                   level=level, next_query=next_query,
                   locales=("urban", "town", "rural"),
                   levels=("kindergarten", "primary", "junior", "senior", "nine_year",
                           "complete", "vocational", "college", "special", "adult"))


@router.get("/schools/{code}", response_class=HTMLResponse)
def school(request: Request, actor: PageActor, code: str, db: ViewsDb, as_of: AsOf = "",
           year: str | None = None,
           timeline_page: Annotated[int, Query(ge=0, le=10_000)] = 0) -> Response:
    queries = request.app.state.queries
    day, fiscal_year = _page_context(request, db, as_of, year)
    try:
        require_school(actor, code)  # another school of a scoped reader: as if unknown
        found = queries.get_school(code)
        balances = queries.school_balances(code, fiscal_year, as_of=day)
    except LedgerError:
        return HTMLResponse(status_code=404,
                            content=f"<p>school {html.escape(code)} not found</p>")
    allocations, _ = queries.list_allocations(school=code, fiscal_year=fiscal_year,
                                              limit=SCHOOL_LIST_ROWS_MAX)
    expenditures, _ = queries.list_expenditures(school=code, fiscal_year=fiscal_year,
                                                limit=SCHOOL_LIST_ROWS_MAX)
    histories = {a.id: list(entity_history(db, a.id))
                 for a in sorted(allocations, key=lambda a: a.effective_date)
                 [:TIMELINE_ALLOCATIONS_MAX]}
    if day is not None:
        # As they stood that day: only allocations proposed by then, with what had been
        # allocated and spent by then and the status they had then.
        dated = books_queries.allocation_amounts_as_of(db, code, fiscal_year, day)
        allocations = [
            replace(a, allocated=dated.get(a.id, (0, 0))[0], spent=dated.get(a.id, (0, 0))[1],
                    remaining=dated.get(a.id, (0, 0))[0] - dated.get(a.id, (0, 0))[1],
                    status=books_queries.status_as_of(histories[a.id], day, a.status)
                    if a.id in histories else a.status)
            for a in allocations if a.effective_date <= day]
        expenditures = [e for e in expenditures if e.spent_on <= day]
    timeline = list(entity_history(db, code))
    for history in histories.values():
        timeline += history
    timeline = sorted((e for e in timeline if day is None or not e["effective_date"]
                       or e["effective_date"] <= day.isoformat()),
                      key=lambda e: e["position"])
    stood = books_queries.school_as_of(db, code, day) if day is not None else None
    return _render(request, "school.html", actor, db, "schools", as_of, year, school=found,
                   stood=stood,
                   balances=balances, allocations=sorted(allocations,
                                                         key=lambda a: a.effective_date),
                   expenditures=sorted(expenditures, key=lambda e: (e.spent_on, e.voucher)),
                   timeline=timeline[timeline_page * TIMELINE_ROWS_PER_PAGE:
                                     (timeline_page + 1) * TIMELINE_ROWS_PER_PAGE],
                   timeline_page=timeline_page,
                   timeline_pages=max(1, -(-len(timeline) // TIMELINE_ROWS_PER_PAGE)),
                   timeline_query=lambda page: urlencode(
                       {**request.query_params, "timeline_page": page}))
