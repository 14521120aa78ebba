"""How the API reads one school's stocks (posts, assets, indicators): the same checks and one
consistent snapshot of the stock views for every such answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import Request

from api.auth import require_school
from api.reads import queries_of, views_at

if TYPE_CHECKING:
    from domain.actors import Actor
    from domain.school import School
    from projections.database import ViewDatabase


@contextmanager
def school_stock_snapshot(request: Request, actor: Actor, code: str, as_of: date | None,
                          min_position: int | None
                          ) -> Iterator[tuple[School, date, int, ViewDatabase]]:
    """The school (the reader may see it: scoped tokens; it exists: 404), the day asked for
    (today by default) and, inside one snapshot of the stock views once they have reached
    `min_position`, the views' position and their database."""
    require_school(actor, code)
    school = request.app.state.ledger.get_school(code)  # 404 for an unknown school
    views: Any = views_at(request, min_position) if min_position else queries_of(request)
    day = as_of or request.app.state.ledger.today()
    db = views.stocks_db()
    with db.snapshot():
        yield school, day, views.position(), db
