"""What every dashboard page needs: who is asking (the token cookie, checked with the
ledger's own `authenticate`, as the API checks a Bearer token), in which language, for
which fiscal year and as-of day, and the rendering of a template with all of that.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.auth import READ_ROLES, visible_payee
from api.bureau_access import bureau_actor
from api.dashboard.i18n import (
    DEFAULT_LANGUAGE,
    LABELS,
    LANGUAGES,
    Labels,
    translate,
    translate_value,
)
from api.dashboard.workplace import session
from api.reads import ViewsDb  # noqa: F401  (the pages' dependency: a views connection of their own)
from domain.actors import Actor, Role
from domain.errors import BureauNotFound, LedgerError, SupervisorReadOnly, UnknownToken
from domain.ledger import bureau_today
from domain.terms import error_title, event_name
from domain.units import money_text, unit_of
from projections import books_queries
from projections.database import ViewDatabase
from projections.findings.rule import measure_text

HERE = Path(__file__).parent
TOKEN_COOKIE = "fundledger_token"  # noqa: S105  (the cookie's name, not a secret)
LANGUAGE_COOKIE = "fundledger_lang"
TOKEN_LENGTH_MAX = 200


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


AsOf = Annotated[str, Query(max_length=10)]


# ------------------------------------------------------------------ context

def _language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def _actor(request: Request) -> Actor | None:
    token = request.cookies.get(TOKEN_COOKIE, "")
    if not token or len(token) > TOKEN_LENGTH_MAX:
        return None
    if session.current(request, token) is None:
        return None  # no login, or one that has expired (api/dashboard/workplace/session.py)
    try:
        # Checked in its own bureau's books, then against the bureau shown (issue 15).
        actor = bureau_actor(request, token)
    except (UnknownToken, BureauNotFound, SupervisorReadOnly):
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
    # A token cookie without a live session: the login expired (the page says so).
    expired = {"expired": 1} if request.cookies.get(TOKEN_COOKIE) else {}
    return RedirectResponse(f"/dashboard/login?{urlencode({'next': target, **expired})}",
                            status_code=303)


class LoginNeeded(Exception):
    """A page asked without a live login: the answer sends the browser to log in."""


def page_actor(request: Request) -> Actor:
    """Who asks for a page, logged in; otherwise LoginNeeded, answered by `to_login_page`."""
    actor = _actor(request)
    if actor is None:
        raise LoginNeeded
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


async def to_login_page(request: Request, _: Exception) -> Response:
    return _to_login(request)


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


# The pages a school-scoped reader may open (issue 14): its schools. The others show the
# whole bureau (its funds, reports, approval queue) and answer it with the denied page.
SCOPED_PAGES = frozenset({"schools"})


def _render(request: Request, template: str, actor: Actor, db: ViewDatabase, page: str,
            as_of_text: str, year_text: str | None, **context: Any) -> HTMLResponse:
    if actor.schools is not None and page not in SCOPED_PAGES and template != "denied.html":
        return _render(request, "denied.html", actor, db, page, as_of_text, year_text,
                       message_key="scoped_reader")
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
        # A person's name on a personal payment, masked for readers (api.auth, issue 14).
        "payee": lambda e: visible_payee(actor, e.payee, e.economic_class or ""),
        "actor": actor, "is_auditor": Role.AUDITOR in actor.roles,
        "is_officer": Role.OFFICER in actor.roles, "as_of": as_of, "year": year,
        "years": years, "keep": keep, "position": _position(request),
        "url": request.url.path, **context},
        # A page refused for the asker's role says so in its status too, as the workplace does.
        status_code=403 if template == "denied.html" else 200)


def _position(request: Request) -> int:
    queries = request.app.state.queries
    return queries.position() if queries is not None else 0


def _page_context(request: Request, db: ViewDatabase, as_of_text: str, year_text: str | None
                  ) -> tuple[date | None, int]:
    as_of = _day(as_of_text)
    return as_of, _year(db, year_text, as_of)[0]


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


templates.env.filters["json"] = as_json
