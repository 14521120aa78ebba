"""The dashboard's pages: overview, schools, a school, rural support, balanced development,
audit, import.

Every page is rendered on the server from the same views the API reads, and every page
takes `as_of=YYYY-MM-DD` to show the books as they stood on that date. Login stores the
API token in an HttpOnly, SameSite=Strict cookie; each page checks it with the ledger's own
`authenticate`, as the API checks a Bearer token.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from api.auth import READ_ROLES
from api.dashboard import charts
from api.dashboard import findings as dashboard_findings
from api.dashboard.i18n import (
    DEFAULT_LANGUAGE,
    LABELS,
    LANGUAGES,
    Labels,
    district_name,
    rule_name,
    translate,
    translate_value,
)
from api.export_jobs import ExportJob, ExportJobUnknown
from api.routes import findings as findings_file
from api.routes.balanced_development import evaluation_report
from domain.actors import Actor, Role
from domain.book_import import import_csv
from domain.errors import LedgerError, UnknownToken
from domain.import_sheet import ImportKind, template_csv
from domain.ledger import FundLedger, bureau_today
from domain.terms import error_title, event_name
from domain.units import money_text, unit_of
from projections import books_queries, chain_checkpoint, digests, exports, journal_queries
from projections.changes import list_changes
from projections.database import ViewDatabase
from projections.findings.cache import store_key
from projections.findings.registry import RULES, RULES_BY_NAME
from projections.findings.rule import measure_text
from projections.import_records import ImportRecords
from projections.journal import entity_history
from projections.signed_digests import SIGNED_DIGESTS_LISTED_MAX, SignedDigests

HERE = Path(__file__).parent
CHANGES_SHOWN_MAX = 500
TOKEN_COOKIE = "fundledger_token"  # noqa: S105  (the cookie's name, not a secret)
LANGUAGE_COOKIE = "fundledger_lang"
COOKIE_MAX_AGE_SECONDS = 8 * 3600
TOKEN_LENGTH_MAX = 200
SCHOOL_ROWS_PER_PAGE = 50
SCHOOL_LIST_ROWS_MAX = 500
TIMELINE_ALLOCATIONS_MAX = 40
IMPORT_HISTORY_SHOWN_MAX = 20
DIGESTS_SHOWN_MAX = 10  # the rest: GET /v1/audit/digests, `fundledger digests`  # the rest: GET /v1/imports
TIMELINE_ROWS_PER_PAGE = 100  # a school's year is thousands of events: one page was 10,000 px
FINDINGS_SHOWN_MAX = 300
EVIDENCE_SHOWN_MAX = 12  # positions a finding shows; the downloads list them all
STATIC_FILES = frozenset({"dashboard.css"})

def _error_titles() -> dict[str, str]:
    """Every refusal's English title by its code, from the domain's error classes."""
    found: dict[str, str] = {}
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        kind = pending.pop()
        found[kind.code] = kind.title
        pending.extend(kind.__subclasses__())
    return found


ERROR_TITLES_EN = _error_titles()

router = APIRouter(prefix="/dashboard", include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _money(amount: int | None, unit: str = "CNY") -> str:
    """An amount for reading: `1,234.50` yuan; counts of resource units as whole numbers."""
    if amount is None:
        return "—"
    text = unit_of(unit).format(amount)
    whole, _, minor = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{grouped}.{minor}" if minor else f"{sign}{grouped}"


templates.env.filters["money"] = _money


def _views_db(request: Request) -> Iterator[ViewDatabase]:
    db = ViewDatabase.open(request.app.state.settings)
    try:
        yield db
    finally:
        db.close()


ViewsDb = Annotated[ViewDatabase, Depends(_views_db)]
AsOf = Annotated[str, Query(max_length=10)]


# ------------------------------------------------------------------ context

def _language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def _actor(request: Request) -> Actor | None:
    token = request.cookies.get(TOKEN_COOKIE, "")
    if not token or len(token) > TOKEN_LENGTH_MAX:
        return None
    ledger: FundLedger = request.app.state.ledger
    try:
        actor = ledger.authenticate(token)
    except UnknownToken:
        return None
    # The pages read the books: a token that may not read them over the API (an admin's,
    # which manages users only) may not read them here either.
    return actor if actor.roles & READ_ROLES else None


def _auditor_or_refusal(request: Request, db: ViewDatabase | None = None, page: str = "",
                        as_of: str = "", year: str | None = None) -> Actor | Response:
    """The auditor asking, or the answer for anyone else: the login page when nobody is
    logged in; for another role the denied page (of `page`), or 403 for a download."""
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    if Role.AUDITOR in actor.roles:
        return actor
    if page and db is not None:
        return _render(request, "denied.html", actor, db, page, as_of, year, message_key="not_auditor")
    return Response(status_code=403)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dashboard/login?{urlencode({'next': target})}", status_code=303)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _year(db: ViewDatabase, text: str | None, as_of: date | None) -> tuple[int, list[int]]:
    years = books_queries.fiscal_years(db)
    if text and text.isdigit() and int(text) in years:
        return int(text), years
    if as_of is not None and as_of.year in years:
        return as_of.year, years
    return (years[-1] if years else bureau_today().year), years


def _render(request: Request, template: str, actor: Actor, db: ViewDatabase, page: str,
            as_of_text: str, year_text: str | None, **context: Any) -> HTMLResponse:
    language = _language(request)
    as_of = _day(as_of_text)
    year, years = _year(db, year_text, as_of)
    labels = Labels({key: translate(key, language) for key in LABELS})
    keep = {k: v for k, v in request.query_params.items()
            if k not in ("as_of", "year", "after", "before")}
    return templates.TemplateResponse(request, template, {
        "page": page, "lang": language, "L": labels, "t": lambda value: translate_value(value, language),
        "people": lambda amount, unit="CNY": "—" if amount is None else money_text(amount, unit, language),
        "measure": lambda value, unit: measure_text(value, unit, language),
        "ev": lambda kind: event_name(kind, language),
        "err": lambda code: error_title(code, _error_titles().get(code, ""), language),
        "actor": actor, "is_auditor": Role.AUDITOR in actor.roles,
        "is_officer": Role.OFFICER in actor.roles, "as_of": as_of, "year": year,
        "years": years, "keep": keep, "position": _position(request),
        "url": request.url.path, **context})


def _position(request: Request) -> int:
    queries = request.app.state.queries
    return queries.position() if queries is not None else 0


def _page_context(request: Request, db: ViewDatabase, as_of_text: str, year_text: str | None
                  ) -> tuple[date | None, int]:
    as_of = _day(as_of_text)
    return as_of, _year(db, year_text, as_of)[0]


# ------------------------------------------------------------------ login, language, static

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/dashboard", failed: bool = False) -> HTMLResponse:  # noqa: A002
    language = _language(request)
    return templates.TemplateResponse(request, "login.html", {
        "L": {key: translate(key, language) for key in LABELS}, "lang": language,
        "next": _safe_next(next), "failed": failed})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", "")).strip()
    target = _safe_next(str(form.get("next", "/dashboard")))
    ledger: FundLedger = request.app.state.ledger
    try:
        if not token or len(token) > TOKEN_LENGTH_MAX:
            raise UnknownToken("no token")
        actor = await run_in_threadpool(ledger.authenticate, token)
        if not actor.roles & READ_ROLES:
            raise UnknownToken("this token cannot read the books")
    except UnknownToken:
        return RedirectResponse(f"/dashboard/login?{urlencode({'next': target, 'failed': 1})}",
                                status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(TOKEN_COOKIE, token, max_age=COOKIE_MAX_AGE_SECONDS, httponly=True,
                        samesite="strict", path="/dashboard",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/dashboard")
    return response


@router.get("/lang/{language}")
def switch_language(language: str, next: str = "/dashboard") -> Response:  # noqa: A002
    response = RedirectResponse(_safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax",
                            path="/dashboard")
    return response


def _safe_next(target: str) -> str:
    """Only back into the dashboard: never an open redirect."""
    return target if target.startswith("/dashboard") and "//" not in target else "/dashboard"


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    return FileResponse(HERE / "static" / name, headers={"Cache-Control": "max-age=3600"})


# ------------------------------------------------------------------ pages

@router.get("", response_class=HTMLResponse)
def overview(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None) -> Response:
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    day, fiscal_year = _page_context(request, db, as_of, year)
    language = _language(request)
    labels = {key: translate(key, language) for key in LABELS}
    funds = books_queries.fund_totals(db, fiscal_year, day)
    months = books_queries.monthly_remaining(db, fiscal_year, day)
    return _render(request, "overview.html", actor, db, "overview", as_of, year, funds=funds,
                   bars=charts.funds_bars(funds, labels) if funds else "",
                   burn=charts.burn_down(months, labels) if months else "")


@router.get("/schools", response_class=HTMLResponse)
def schools(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
            q: Annotated[str, Query(max_length=100)] = "",
            district: Annotated[str, Query(max_length=200)] = "",
            locale: Annotated[str, Query(max_length=20)] = "",
            level: Annotated[str, Query(max_length=20)] = "",
            after: Annotated[str, Query(max_length=64)] = "") -> Response:
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    day, fiscal_year = _page_context(request, db, as_of, year)
    rows, cursor = books_queries.schools_with_balances(
        db, fiscal_year, day, search=q.strip(), district=district, locale=locale, level=level,
        after=after, limit=SCHOOL_ROWS_PER_PAGE)
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
def school(request: Request, code: str, db: ViewsDb, as_of: AsOf = "",
           year: str | None = None,
           timeline_page: Annotated[int, Query(ge=0, le=10_000)] = 0) -> Response:
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    queries = request.app.state.queries
    day, fiscal_year = _page_context(request, db, as_of, year)
    try:
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


@router.get("/rural", response_class=HTMLResponse)
def rural(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None) -> Response:
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
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
        locale_labels, translate("axis_yuan_per_student", language)) if by_district else ""
    return _render(request, "rural.html", actor, db, "rural", as_of, year, report=report,
                   by_district=sorted(by_district.items()), chart=chart)


@router.get("/changes", response_class=HTMLResponse)
def changes(request: Request, db: ViewsDb,
            status: Annotated[str, Query(max_length=10)] = "pending") -> Response:
    """Two-person changes, pending first: for approvers (who decide) and auditors (read-only)."""
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    if not actor.roles & {Role.APPROVER, Role.AUDITOR}:
        return _render(request, "denied.html", actor, db, "changes", "", None,
                       message_key="changes_need_approver")
    status = status if status in ("pending", "approved", "rejected") else "pending"
    rows, _ = list_changes(db, status=status, kind=None, subject=None, after=None,
                           limit=CHANGES_SHOWN_MAX)
    return _render(request, "changes.html", actor, db, "changes", "", None, changes=rows,
                   status=status)


@router.get("/balanced-development", response_class=HTMLResponse)
def balanced_development(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
                         county: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The balanced-development evaluation (优质均衡): every county-level unit and stage, then
    the chosen county's indicators and the schools that fail, with why."""
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    day = _day(as_of) or request.app.state.ledger.today()
    report = evaluation_report(request.app.state.queries, day, None)
    chosen = next((c for c in report.counties if c.district == county), None)
    if chosen is None and report.counties:
        chosen = next((c for c in report.counties if c.passes is False), report.counties[0])
    return _render(request, "balanced.html", actor, db, "balanced", as_of, year, report=report,
                   chosen=chosen)


CARRY_OVER_ROWS_SHOWN_MAX = 2_000


@router.get("/carry-over", response_class=HTMLResponse)
def carry_over(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None) -> Response:
    """The 结转结余 statement of the year as of a day (docs/year-end.md)."""
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    day, fiscal_year = _page_context(request, db, as_of, year)
    statement = request.app.state.queries.carry_over(fiscal_year, as_of=day)
    truncated = len(statement.rows) > CARRY_OVER_ROWS_SHOWN_MAX
    statement.rows = statement.rows[:CARRY_OVER_ROWS_SHOWN_MAX]
    return _render(request, "carry_over.html", actor, db, "carry_over", as_of, year,
                   statement=statement, truncated=truncated)


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
          entity_type: Annotated[str, Query(max_length=40)] = "",
          actor_name: Annotated[str, Query(alias="actor", max_length=64)] = "",
          event: Annotated[str, Query(max_length=60)] = "",
          entity: Annotated[str, Query(max_length=64)] = "",
          before: Annotated[int, Query(ge=0)] = 0, internal: bool = False) -> Response:
    actor = _auditor_or_refusal(request, db, "audit", as_of, year)
    if isinstance(actor, Response):
        return actor
    day, fiscal_year = _page_context(request, db, as_of, year)
    key = digests.signing_key(request.app.state.settings.signing_key_path)
    # From the last verified position on, not from the first event on every view.
    chain = chain_checkpoint.verify_continuing(db, key)
    signed = SignedDigests(db).listed(DIGESTS_SHOWN_MAX)  # signed when asked, never on a view
    rows, cursor = journal_queries.journal_filtered(db, entity_type=entity_type, actor=actor_name,
                                          event=event, entity=entity.strip(), as_of=day,
                                          before=before, fiscal_year=fiscal_year,
                                          internal=internal)
    types, events = journal_queries.journal_choices(db, store_key(request.app.state.settings))
    next_query = (urlencode({**request.query_params, "before": cursor})
                  if cursor is not None else None)
    return _render(request, "audit.html", actor, db, "audit", as_of, year,
                   verification=chain.verification, chain=chain, signed=signed, rows=rows,
                   types=types,
                   events=events, entity_type=entity_type, actor_name=actor_name, event=event,
                   entity=entity.strip(), next_query=next_query, internal=internal)


@router.get("/audit/export/{kind}")
def export(request: Request, kind: str, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
           output_format: Annotated[str, Query(alias="format")] = "csv") -> Response:
    actor = _auditor_or_refusal(request)
    if isinstance(actor, Response):
        return actor
    if kind not in ("balances", "journal", "rural") or output_format not in ("csv", "xlsx"):
        return Response(status_code=404)
    day, fiscal_year = _page_context(request, db, as_of, year)
    built = exports.build_export(kind, db, request.app.state.queries, fiscal_year, day)
    media = exports.XLSX_MEDIA_TYPE if output_format == "xlsx" else exports.CSV_MEDIA_TYPE
    return Response(built.render(output_format), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{built.filename(output_format)}"'})


@router.post("/audit/digests")
def sign_digest(request: Request, db: ViewsDb) -> Response:
    """The auditor asks for a digest: the journal's head is signed and kept in the list."""
    actor = _auditor_or_refusal(request)
    if isinstance(actor, Response):
        return actor
    try:
        digest = digests.digest_of_journal(
            db, digests.signing_key(request.app.state.settings.signing_key_path))
    except digests.DigestInvalid:
        return RedirectResponse("/dashboard/audit#digest", status_code=303)
    SignedDigests(db).keep(digest, actor.user_id)
    return RedirectResponse("/dashboard/audit#digest", status_code=303)


@router.post("/audit/jobs")
async def start_export_job(request: Request) -> Response:
    """Starts an export in the background and shows its page (progress, then the file)."""
    refusal = _auditor_or_refusal(request)
    if isinstance(refusal, Response):
        return refusal
    form = await request.form()
    kind, output_format = str(form.get("kind", "")), str(form.get("format", ""))
    year_text, day = str(form.get("year", "")), _day(str(form.get("as_of", "")))
    if kind not in exports.KINDS or output_format not in exports.FORMATS or not year_text.isdigit():
        return Response(status_code=404)
    job = request.app.state.export_jobs.start(refusal.user_id, kind, output_format,
                                              int(year_text), day)
    return RedirectResponse(f"/dashboard/audit/jobs/{job.id}", status_code=303)


def _export_job(request: Request, actor: Actor, job_id: str) -> ExportJob | None:
    try:
        job: ExportJob = request.app.state.export_jobs.get(actor.user_id, job_id)
    except ExportJobUnknown:
        return None
    return job


@router.get("/audit/jobs/{job_id}", response_class=HTMLResponse)
def export_job_page(request: Request, job_id: str, db: ViewsDb) -> Response:
    actor = _auditor_or_refusal(request, db, "audit")
    if isinstance(actor, Response):
        return actor
    job = _export_job(request, actor, job_id)
    if job is None:
        return Response(status_code=404, content=f"no export job {job_id}")
    return _render(request, "export_job.html", actor, db, "audit", "", str(job.fiscal_year),
                   job=job)


@router.get("/audit/jobs/{job_id}/file")
def export_job_file(request: Request, job_id: str) -> Response:
    actor = _auditor_or_refusal(request)
    if isinstance(actor, Response):
        return actor
    job = _export_job(request, actor, job_id)
    if job is None or job.status != "done" or job.path is None:
        return Response(status_code=404, content=f"no finished export job {job_id}")
    media = exports.XLSX_MEDIA_TYPE if job.output_format == "xlsx" else exports.CSV_MEDIA_TYPE
    return FileResponse(job.path, media_type=media, filename=job.filename)


@router.get("/audit/digest.json")
def digest_file(request: Request, db: ViewsDb,
                signed_at: Annotated[str, Query(max_length=40)] = "",
                position: Annotated[int, Query(ge=0)] = 0) -> Response:
    """A digest signed earlier (the newest, unless one is named), to keep as a file."""
    refusal = _auditor_or_refusal(request)
    if isinstance(refusal, Response):
        return refusal
    kept = [d for d, _ in SignedDigests(db).listed(SIGNED_DIGESTS_LISTED_MAX)
            if (not signed_at or d.signed_at == signed_at) and position in (0, d.position)]
    if not kept:
        return Response(status_code=404)
    digest = kept[0]
    return Response(digest.to_json(), media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="digest-{digest.position}.json"'})


# ------------------------------------------------------------------ findings

def _findings(request: Request, db: ViewDatabase, fiscal_year: int, day: date | None
              ) -> dashboard_findings.FindingsAnswer:
    """The year's findings as of the day at the views' position: computed once, then cached."""
    settings = request.app.state.settings
    return dashboard_findings.CACHE.get(db, store_key(settings), request.app.state.ledger.name,
                                        fiscal_year, day or findings_file.default_as_of(fiscal_year))


@router.get("/findings", response_class=HTMLResponse)
def findings_page(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
                  rule: Annotated[str, Query(max_length=60)] = "") -> Response:
    actor = _auditor_or_refusal(request, db, "findings", as_of, year)
    if isinstance(actor, Response):
        return actor
    day, fiscal_year = _page_context(request, db, as_of, year)
    language = _language(request)
    answer = _findings(request, db, fiscal_year, day)
    counts = Counter(f.rule for f in answer.findings)
    chosen = rule if rule in RULES_BY_NAME else ""
    shown = [f for f in answer.findings if chosen in ("", f.rule)]
    rules = [{"name": r.name, "title": rule_name(r.name, language), "basis": r.basis,
              "params": dict(r.params), "count": counts.get(r.name, 0)} for r in RULES]
    return _render(request, "findings.html", actor, db, "findings", as_of, year,
                   rows=dashboard_findings.describe(db, shown[:FINDINGS_SHOWN_MAX]),
                   total=len(shown), shown_max=FINDINGS_SHOWN_MAX, rules=rules, rule=chosen,
                   rule_titles={r["name"]: r["title"] for r in rules},
                   rule_bases={r.name: r.basis for r in RULES},
                   rule_params={r.name: dict(r.params) for r in RULES},
                   answer=answer, day=day or findings_file.default_as_of(fiscal_year),
                   evidence_max=EVIDENCE_SHOWN_MAX)


@router.get("/findings/export")
def findings_export(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
                    rule: Annotated[str, Query(max_length=60)] = "",
                    output_format: Annotated[str, Query(alias="format")] = "csv") -> Response:
    """The findings the page lists, as the CLI's CSV or XLSX (`fundledger findings`)."""
    refusal = _auditor_or_refusal(request)
    if isinstance(refusal, Response):
        return refusal
    if output_format not in ("csv", "xlsx") or (rule and rule not in RULES_BY_NAME):
        return Response(status_code=404)
    day, fiscal_year = _page_context(request, db, as_of, year)
    found = [f for f in _findings(request, db, fiscal_year, day).findings
             if rule in ("", f.rule)]
    name = f"findings-{fiscal_year}-{(day or findings_file.default_as_of(fiscal_year)).isoformat()}" \
        f"{'-' + rule if rule else ''}.{output_format}"
    if output_format == "xlsx":
        body, media = findings_file.xlsx_bytes(found), exports.XLSX_MEDIA_TYPE
    else:  # with a byte-order mark, so that Excel reads the Chinese names
        body, media = findings_file.as_csv(found).encode("utf-8-sig"), exports.CSV_MEDIA_TYPE
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ------------------------------------------------------------------ import

@router.get("/imports", response_class=HTMLResponse)
def import_form(request: Request, db: ViewsDb, as_of: AsOf = "",
                year: str | None = None) -> Response:
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    return _render(request, "imports.html", actor, db, "imports", as_of, year, result=None,
                   history=ImportRecords(db).history(IMPORT_HISTORY_SHOWN_MAX)[0])


@router.post("/imports", response_class=HTMLResponse)
async def import_upload(request: Request, db: ViewsDb) -> Response:
    actor = _actor(request)
    if actor is None:
        return _to_login(request)
    if Role.OFFICER not in actor.roles:
        return _render(request, "denied.html", actor, db, "imports", "", None,
                       message_key="not_officer")
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    filename = upload.filename or "" if isinstance(upload, UploadFile) else ""
    records = ImportRecords(ViewDatabase.open(request.app.state.settings))
    try:
        result = await run_in_threadpool(import_csv, request.app.state.ledger, actor, data,
                                         filename=filename, records=records)
        problem = None
    except LedgerError as error:
        result, problem = None, f"{error_title(error.code, error.title, _language(request))}: {error.detail}"
    finally:
        records.close()
    return _render(request, "imports.html", actor, db, "imports", "", None, result=result,
                   problem=problem, history=ImportRecords(db).history(IMPORT_HISTORY_SHOWN_MAX)[0])


@router.get("/imports/template/{kind}")
def import_template(request: Request, kind: ImportKind) -> Response:
    language = _language(request)
    return Response(template_csv(kind, language).encode("utf-8"), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'})


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


templates.env.filters["json"] = as_json
