"""Who is working, in which session, and how a page of the workplace answers.

Every page asks `worker(request)`: the logged-in actor with a live session (else the login
page, saying the session expired). An `async` handler asks it, and renders its pages, in the
thread pool: checking the token may read the store (the bureau's books, its registry) and a
page reads the views, each waiting out the driver's retries while PostgreSQL is down; on the
event loop every other request would wait with it, the store breaker's instant 503s included.
Every POST asks `posted(request, worker)`: its form, once its CSRF token holds (else 403).
A command runs through the API's write path (api/commands.py `execute_async`: the group
commit, the idempotency key), and its answer names the position it wrote, linked to that
journal entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api.commands import execute_async
from api.dashboard import pages
from api.dashboard.workplace import session
from domain.actors import Actor, Role
from domain.ledger import Outcome
from projections.database import ViewDatabase

# The label that says which role a refused worker lacks.
NEEDS_ROLE = {Role.OFFICER: "needs_officer", Role.APPROVER: "needs_approver"}

IDEMPOTENCY_FIELD = "idempotency_key"


@dataclass(frozen=True)
class Worker:
    actor: Actor
    session: str
    csrf: str
    language: str

    @property
    def is_officer(self) -> bool:
        return Role.OFFICER in self.actor.roles

    @property
    def is_approver(self) -> bool:
        return Role.APPROVER in self.actor.roles


def worker(request: Request) -> Worker | Response:
    """The actor of a live session, or the answer that sends them to log in again."""
    actor = pages._actor(request)
    token = request.cookies.get(pages.TOKEN_COOKIE, "")
    live = session.current(request, token) if actor is not None else None
    if actor is None or live is None:
        target = request.url.path if request.method == "GET" else "/dashboard/work"
        query = {"next": target, **({"expired": 1} if token else {})}
        return RedirectResponse(f"/dashboard/login?{urlencode(query)}", status_code=303)
    return Worker(actor, live, session.csrf_token(request, live), pages._language(request))


def worker_as(request: Request, db: ViewDatabase, role: Role) -> Worker | Response:
    """The worker of a live session who has `role`; otherwise the answer: log in again, or a
    page that says the role is needed."""
    who = worker(request)
    if isinstance(who, Response):
        return who
    if role not in who.actor.roles:
        return refused(request, who, db, NEEDS_ROLE[role])
    return who


async def posted(request: Request, who: Worker) -> FormData | None:
    """The form of a POST whose CSRF token belongs to this session; None when it does not."""
    form = await request.form()
    sent = form.get(session.CSRF_FIELD)
    if not isinstance(sent, str) or not session.csrf_holds(request, who.session, sent):
        return None
    return form


async def authorised_post(request: Request, db: ViewDatabase,
                          role: Role) -> tuple[Worker, FormData] | Response:
    """The worker and form of a POST from a live session whose CSRF token holds and who has
    `role`; otherwise the answer that refuses it (nothing is written). Every workplace write
    passes here first."""
    who = await run_in_threadpool(worker, request)
    if isinstance(who, Response):
        return who
    form = await posted(request, who)
    if form is None:
        return await run_in_threadpool(refused, request, who, db, "csrf_refused")
    if role not in who.actor.roles:
        return await run_in_threadpool(refused, request, who, db, NEEDS_ROLE[role])
    return who, form


def new_key() -> str:
    """A form's idempotency key: rendered into the form, so a double click or a resubmit sends
    the same key and the books replay the first answer instead of writing twice."""
    return f"form-{uuid.uuid4()}"


def form_key(form: FormData) -> str | None:
    key = form.get(IDEMPOTENCY_FIELD)
    return key[:200] if isinstance(key, str) and key.startswith("form-") else None


async def run(request: Request, command: Callable[[], Outcome]) -> Outcome:
    """The command through the API's own write path: the loop awaits its commit, as a route's."""
    return await execute_async(request, Response(), command)


def render(request: Request, template: str, who: Worker, db: ViewDatabase, page: str,
           status_code: int = 200, **context: Any) -> HTMLResponse:
    answer = pages._render(request, template, who.actor, db, page, "", None, who=who,
                           csrf_field=session.CSRF_FIELD, key_field=IDEMPOTENCY_FIELD,
                           **context)
    answer.status_code = status_code
    return answer


def refused(request: Request, who: Worker, db: ViewDatabase, message_key: str,
            status_code: int = 403) -> HTMLResponse:
    """A page that says why the request was refused, with the status an API client hears."""
    return render(request, "work/refused.html", who, db, "work", status_code,
                  message_key=message_key)


def written(request: Request, who: Worker, db: ViewDatabase, outcome: Outcome, what: str,
            links: list[tuple[str, str]], key: str, pending: bool = False) -> HTMLResponse:
    """The answer to a write: what it wrote, the position, its journal entry."""
    return render(request, "work/written.html", who, db, "work", what=what, outcome=outcome,
                  links=links, pending=pending, key=key)

