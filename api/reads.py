"""The read path shared by lists, balances and reports: the views, read-your-writes waits,
and cursor pagination.

A read with `min_position=N` waits (at most `Settings.read_wait_seconds_max`) until the views
have processed event N. If they have not got there in time the answer is 503 `views_behind`
with `Retry-After`: the books are fine, the views are catching up, and the same request will
succeed shortly. A position beyond the last event written is a client mistake (422).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, is_dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from starlette.datastructures import URL

from api.problems import ApiProblem
from api.settings import Settings
from projections.database import ViewDatabase

PAGE_SIZE_MAX = 1000
POSITION_MAX = 2**62
CURSOR_LENGTH_MAX = 500
VIEWS_RETRY_AFTER_SECONDS = 1
READ_METHODS = ("GET", "HEAD")
# Where the path the client asked for is kept when a bureau's path (/v1/bureaus/{bureau}/X)
# is served by its /v1/X route (api/bureau_books.py).
ASKED_PATH = "fundledger.asked_path"


def own_views_db(request: Request) -> Iterator[ViewDatabase]:
    """A views connection of this request's own, closed once it is answered: a long read (a
    dashboard page, a verification streaming the whole store) holds none of the shared ones.
    A read opens it on the views' replica when one is configured; a write's form reads the
    primary's views, as its command will see the books."""
    settings: Settings = request.app.state.settings
    yield from _opened(settings.views_reading() if request.method in READ_METHODS else settings)


def primary_views_db(request: Request) -> Iterator[ViewDatabase]:
    """The same on the primary, whatever the method: for reads of what the server itself keeps
    beside the views (the hash chain's signed checkpoint, the signed digests, the imports'
    records), whose tables a standby cannot make or write."""
    yield from _opened(request.app.state.settings)


def _opened(settings: Settings) -> Iterator[ViewDatabase]:
    db = ViewDatabase.open(settings)
    try:
        yield db
    finally:
        db.close()


ViewsDb = Annotated[ViewDatabase, Depends(own_views_db)]
PrimaryViewsDb = Annotated[ViewDatabase, Depends(primary_views_db)]
MinPosition = Annotated[
    int | None,
    Query(ge=0, le=POSITION_MAX,
          description="Wait (bounded) until the views have processed this position"),
]
Limit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Page size, at most 1000")]
After = Annotated[
    str | None,
    Query(min_length=1, max_length=CURSOR_LENGTH_MAX,
          description="The cursor from the previous page's `next` link"),
]


def queries_of(request: Request) -> Any:
    queries = getattr(request.app.state, "queries", None)
    if queries is None:
        msg = "the views are not available in this process"
        raise ApiProblem("views_behind", msg,
                         headers={"Retry-After": str(VIEWS_RETRY_AFTER_SECONDS)})
    return queries


def views_at(request: Request, min_position: int | None) -> Any:
    """The views, once they have processed `min_position` (if given)."""
    queries = queries_of(request)
    if min_position is None or min_position == 0:
        return queries
    if queries.position() >= min_position:
        return queries
    last = request.app.state.ledger.last_position()
    if min_position > last:
        msg = f"min_position {min_position} is beyond the last event written ({last})"
        raise ApiProblem("validation_error", msg)
    settings: Settings = request.app.state.settings
    queries.wait_for(min_position, settings.read_wait_seconds_max)
    reached = queries.position()
    if reached < min_position:
        where = "the views on the read replica" if settings.reads_replica else "the views"
        msg = (f"{where} are at position {reached}, not yet {min_position}, after "
               f"{settings.read_wait_seconds_max} s ({last - reached} event(s) behind the "
               f"last written, {last}); retry shortly")
        raise ApiProblem("views_behind", msg,
                         headers={"Retry-After": str(VIEWS_RETRY_AFTER_SECONDS)})
    return queries


def asked_url(request: Request) -> URL:
    """The URL as the client asked for it: links in an answer point back to the bureau's path."""
    asked = request.scope.get(ASKED_PATH)
    return request.url.replace(path=asked) if asked else request.url


def next_link(request: Request, cursor: str | None) -> str | None:
    """The same request with `after` set to the cursor, or nothing on the last page."""
    if cursor is None:
        return None
    return str(asked_url(request).include_query_params(after=cursor))


def row_dict(row: Any) -> dict[str, Any]:
    """A view row (a dataclass, a mapping or a plain object) as a dict for a response model."""
    if isinstance(row, dict):
        return row
    if is_dataclass(row) and not isinstance(row, type):
        return asdict(row)
    return dict(vars(row))
