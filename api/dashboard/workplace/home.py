"""The workplace's front page (what each role can do here) and the journal entry every
written answer links to.

GET /dashboard/work · GET /dashboard/work/journal/{position}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.dashboard.pages import ViewsDb
from api.dashboard.workplace import context
from domain.actors import Role
from projections.database import ViewDatabase
from projections.journal import JOURNAL_TABLE

router = APIRouter(prefix="/dashboard/work", include_in_schema=False)
JOURNAL_WAIT_SECONDS_MAX = 2.0
WRITE_EVENTS_MAX = 1_000  # the events one form writes lie this close before its position
WRITING_ROLES = frozenset({Role.OFFICER, Role.APPROVER, Role.AUDITOR})


@router.get("")
def work_home(request: Request, db: ViewsDb) -> Response:
    who = context.worker(request)
    if isinstance(who, Response):
        return who
    return context.render(request, "work/home.html", who, db, "work")


@router.get("/journal/{position}")
async def journal_entry(request: Request, db: ViewsDb,
                        position: Annotated[int, Path(ge=1, le=2**62)],
                        key: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The journal's rows of one write: the row at its position and, given the write's
    idempotency key, every event it recorded (each names its key), by whom, when. For the
    roles that write or audit the books (a reader sees balances, not payees)."""
    # The token check and the page read the store and the views: in the pool, never on the
    # event loop (api/dashboard/workplace/context.py).
    who = await run_in_threadpool(context.worker, request)
    if isinstance(who, Response):
        return who
    if not who.actor.roles & WRITING_ROLES:
        return await run_in_threadpool(context.refused, request, who, db, "needs_officer")
    queries = request.app.state.queries
    await run_in_threadpool(queries.wait_for, position, JOURNAL_WAIT_SECONDS_MAX)
    return await run_in_threadpool(_journal_page, request, who, db, position, key)


def _journal_page(request: Request, who: context.Worker, db: ViewDatabase, position: int,
                  key: str) -> Response:
    rows = db.dicts(
        f"SELECT * FROM {JOURNAL_TABLE} WHERE position <= ? AND position > ? "  # noqa: S608
        "AND (position = ? OR idempotency_key = ?) ORDER BY position",
        (position, position - WRITE_EVENTS_MAX, position, key or None))
    return context.render(request, "work/journal_entry.html", who, db, "work",
                          200 if rows else 404, rows=rows, entry_position=position)
