"""The dashboard's bureau pages (issue 15): a supervisor's city page — its county-level
bureaus side by side, read from each one's own views — and the switch that steps into one of
them. Which bureau's books the other pages show is the `fundledger_bureau` cookie set here
(api/bureau_books.py reads it); a token only ever enters its own bureau or one below it."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.bureau_books import BUREAU_COOKIE
from api.consolidated import consolidate
from api.dashboard.pages import AsOf, PageActor, ViewsDb, _actor, _page_context, _render, _to_login
from api.dashboard.session import COOKIE_MAX_AGE_SECONDS
from domain.access import token_bureau
from domain.bureau_registry import BUREAU_CODE_LENGTH_MAX

router = APIRouter(prefix="/dashboard/bureaus", include_in_schema=False)


def _home(request: Request) -> str:
    """The bureau of the logged-in token (whose tree the page shows)."""
    books = request.app.state.bureaus
    return token_bureau(request.cookies.get("fundledger_token", "")) or books.default


YEAR_MIN = 2000  # the earliest fiscal year the page offers to consolidate


@router.get("", response_class=HTMLResponse)
def bureaus_page(request: Request, actor: PageActor,
                 db: ViewsDb, as_of: AsOf = "", year: str | None = None) -> Response:
    day, _ = _page_context(request, db, as_of, year)
    # A city's own views hold no years, so the page takes the year asked for (or the as-of
    # date's) instead of looking it up there: else 2025 showed 2026's figures.
    this_year = request.app.state.ledger.today().year
    asked = int(year) if year and year.isdigit() and YEAR_MIN <= int(year) <= this_year + 1 \
        else None
    fiscal_year = asked or (day.year if day is not None else this_year)
    books = request.app.state.bureaus
    home = books.info(_home(request))
    keepers = ([] if home.level.keeps_books or home.code not in books.directory()
               else books.directory().book_keepers_under(home.code))
    report = consolidate(books.settings, home, keepers, fiscal_year, day, evaluation=False,
                         kept=books.child_reports)
    return _render(request, "bureaus.html", actor, db, "bureaus", as_of, year, home=home,
                   report=report, current=request.app.state.bureau, year=fiscal_year,
                   years=sorted({this_year - 1, this_year, fiscal_year}))


@router.get("/enter/{code}")
def enter(request: Request, code: str = Path(max_length=BUREAU_CODE_LENGTH_MAX)) -> Response:
    """Shows bureau `code`'s books on every page from now on: the token's own bureau or one
    it supervises (anything else leaves the choice as it was)."""
    books = request.app.state.bureaus
    home = _home(request)
    if _actor(request) is None:
        return _to_login(request)
    response = RedirectResponse("/dashboard", status_code=303)
    if code == home or (books.known(code) and books.supervises(home, code)):
        response.set_cookie(BUREAU_COOKIE, code, max_age=COOKIE_MAX_AGE_SECONDS, httponly=True,
                            samesite="strict", path="/dashboard",
                            secure=request.url.scheme == "https")
    return response
