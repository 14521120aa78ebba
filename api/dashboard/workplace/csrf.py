"""CSRF protection for every state-changing request of the dashboard, not only the
workplace's: the dashboard's routers carry `csrf_guard` as a dependency, and every form a page
renders carries `{{ csrf_input() }}`. A POST without the token of a live session is refused
403 before the page's own code runs (the workplace checks the same token itself, to answer
with a page).

Login is the one exception (there is no session before it: the token itself is the secret
there); logout with no live session has nothing left to protect.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from jinja2 import pass_context
from markupsafe import Markup

from api.dashboard import pages
from api.dashboard.workplace import session

UNGUARDED_PATHS = frozenset({"/dashboard/login"})
# The workplace checks the token itself, to answer with its own page (context.posted).
SELF_GUARDED_PREFIX = "/dashboard/work/"


def live_session(request: Request) -> str | None:
    return session.current(request, request.cookies.get(pages.TOKEN_COOKIE, ""))


async def csrf_guard(request: Request) -> None:
    """A dependency of the dashboard's routers: every POST proves it comes from a page of
    this session."""
    path = request.url.path
    if request.method != "POST" or path in UNGUARDED_PATHS or path.startswith(SELF_GUARDED_PREFIX):
        return
    live = live_session(request)
    if live is None and path == "/dashboard/logout":
        return
    sent = (await request.form()).get(session.CSRF_FIELD) if live is not None else None
    if live is None or not isinstance(sent, str) or not session.csrf_holds(request, live, sent):
        msg = ("csrf_refused: the form carried no valid token of a live session; open the "
               "page again and resubmit")
        raise HTTPException(403, msg)


@pass_context
def csrf_input(context: Any) -> Markup:
    """The hidden field a dashboard form sends back (empty without a live session)."""
    request: Request | None = context.get("request")
    live = live_session(request) if request is not None else None
    if live is None:
        return Markup("")
    token = session.csrf_token(request, live)  # type: ignore[arg-type]
    # Markup.format escapes each argument.
    return Markup('<input type="hidden" name="{}" value="{}">').format(session.CSRF_FIELD, token)


pages.templates.env.globals["csrf_input"] = csrf_input
