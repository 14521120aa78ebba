"""The dashboard's login (the API token kept in an HttpOnly, SameSite=Strict cookie),
logout, language switch and its static files."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.auth import READ_ROLES
from api.bureau_access import token_home
from api.bureau_books import BUREAU_COOKIE
from api.dashboard.i18n import (
    LABELS,
    LANGUAGES,
    translate,
)
from api.dashboard.pages import (
    HERE,
    LANGUAGE_COOKIE,
    TOKEN_COOKIE,
    TOKEN_LENGTH_MAX,
    _language,
    templates,
)
from api.dashboard.workplace import session as work_session
from domain.errors import UnknownToken

router = APIRouter(prefix="/dashboard", include_in_schema=False)
COOKIE_MAX_AGE_SECONDS = 8 * 3600
STATIC_FILES = frozenset({"dashboard.css"})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/dashboard", failed: bool = False,  # noqa: A002
               expired: bool = False) -> HTMLResponse:
    language = _language(request)
    return templates.TemplateResponse(request, "login.html", {
        "L": {key: translate(key, language) for key in LABELS}, "lang": language,
        "next": _safe_next(next), "failed": failed, "expired": expired})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", "")).strip()
    target = _safe_next(str(form.get("next", "/dashboard")))
    try:
        if not token or len(token) > TOKEN_LENGTH_MAX:
            raise UnknownToken("no token")
        home = await run_in_threadpool(token_home, request, token)  # the token's own bureau
        actor = await run_in_threadpool(home.ledger.authenticate, token)
        if not actor.roles & READ_ROLES:
            raise UnknownToken("this token cannot read the books")
    except UnknownToken:
        return RedirectResponse(f"/dashboard/login?{urlencode({'next': target, 'failed': 1})}",
                                status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(BUREAU_COOKIE, path="/dashboard")  # a new login shows its own books
    response.set_cookie(TOKEN_COOKIE, token, max_age=COOKIE_MAX_AGE_SECONDS, httponly=True,
                        samesite="strict", path="/dashboard",
                        secure=request.url.scheme == "https")
    work_session.start(request, response, token)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/dashboard")
    response.delete_cookie(BUREAU_COOKIE, path="/dashboard")
    work_session.end(response)
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
