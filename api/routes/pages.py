"""A page of a list (schools, funds, allocations, expenditures, changes): the same answer for
every list the views keep, so each list route only says which rows and how a row is shown."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel

from api.reads import next_link, row_dict
from api.schemas import Page

Item = TypeVar("Item", bound=BaseModel)


def page_of(request: Request, views: Any, item: type[Item], rows: Iterable[Any],
            cursor: str | None, shown: Callable[[dict[str, Any]], Item] | None = None
            ) -> Page[Item]:
    """The rows as `item`s (each through `shown` when the reader sees less than the row
    holds), the link to the next page, and the views' position the page was read at."""
    show = shown or item.model_validate
    return Page[item](items=[show(row_dict(r)) for r in rows],
                      next=next_link(request, cursor), position=views.position())
