"""Path and query parameters that several routes share, each defined once: what a school
code in a path may be, the business-date queries, a code filter, an aggregate's id."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Path, Query

from api.schemas import CODE_PATTERN, IsoDate
from domain.limits import CODE_LENGTH_MAX, FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

SchoolCode = Annotated[str, Path(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]
# An aggregate addressed by its id, `/{id}` in the path (the handler names it by its kind).
AggregateId = Annotated[UUID, Path(alias="id")]
CodeFilter = Annotated[str | None, Query(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]
FiscalYearQuery = Annotated[int, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)]
# A stock or a county's figures as of a day; the books' reads say "as they stood then".
AsOfToday = Annotated[IsoDate | None, Query(description="Business date; today when absent")]
AsOfBooks = Annotated[IsoDate | None, Query(description="Business date: the books as they stood then")]
