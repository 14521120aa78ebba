"""The reports' pages: rural support by district and locale, the balanced-development
evaluation (优质均衡) and the 结转结余 statement, as of any day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard import charts
from api.dashboard.i18n import district_name, translate, translate_value
from api.dashboard.pages import AsOf, PageActor, ViewsDb, _day, _language, _page_context, _render
from api.routes.balanced_development import evaluation_report
from projections import books_queries

router = APIRouter(prefix="/dashboard", include_in_schema=False)
CARRY_OVER_ROWS_SHOWN_MAX = 2_000


@router.get("/rural", response_class=HTMLResponse)
def rural(request: Request, actor: PageActor,
          db: ViewsDb, as_of: AsOf = "", year: str | None = None) -> Response:
    day, fiscal_year = _page_context(request, db, as_of, year)
    report = request.app.state.queries.rural_support(fiscal_year, as_of=day)
    by_district: dict[str, dict[str, int | None]] = {}
    for row in report.rows:
        if row.unit == books_queries.MONEY_UNIT:
            by_district.setdefault(row.district, {})[row.locale] = row.per_student_allocated
    language = _language(request)
    locale_labels = {k: translate_value(k, language) for k in ("urban", "town", "rural")}
    chart = charts.per_student_by_locale(
        [(district_name(d, language), values) for d, values in sorted(by_district.items())],
        locale_labels, translate("axis_yuan_per_student", language),
        translate("axis_log_scale", language), language) if by_district else ""
    return _render(request, "rural.html", actor, db, "rural", as_of, year, report=report,
                   by_district=sorted(by_district.items()), chart=chart)


@router.get("/balanced-development", response_class=HTMLResponse)
def balanced_development(request: Request, actor: PageActor,
                         db: ViewsDb, as_of: AsOf = "", year: str | None = None,
                         county: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The balanced-development evaluation (优质均衡): every county-level unit and stage, then
    the chosen county's indicators and the schools that fail, with why."""
    day = _day(as_of) or request.app.state.ledger.today()
    report = evaluation_report(request.app.state.queries, day, None)
    chosen = next((c for c in report.counties if c.district == county), None)
    if chosen is None and report.counties:
        chosen = next((c for c in report.counties if c.passes is False), report.counties[0])
    return _render(request, "balanced.html", actor, db, "balanced", as_of, year, report=report,
                   chosen=chosen)


@router.get("/carry-over", response_class=HTMLResponse)
def carry_over(request: Request, actor: PageActor,
               db: ViewsDb, as_of: AsOf = "", year: str | None = None) -> Response:
    """The 结转结余 statement of the year as of a day (docs/year-end.md)."""
    day, fiscal_year = _page_context(request, db, as_of, year)
    statement = request.app.state.queries.carry_over(fiscal_year, as_of=day)
    truncated = len(statement.rows) > CARRY_OVER_ROWS_SHOWN_MAX
    statement.rows = statement.rows[:CARRY_OVER_ROWS_SHOWN_MAX]
    return _render(request, "carry_over.html", actor, db, "carry_over", as_of, year,
                   statement=statement, truncated=truncated)
