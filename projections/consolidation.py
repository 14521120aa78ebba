"""One bureau's money by category and source, as of a day: the part of a supervisor's
consolidated report (issue 15) that the rural-support view does not already give.

An indexed sum over `ledger_entries` (projections/books.py) joined with the funds' category
and source, up to the position the views had applied when the read began: the same figures
as the school balances, grouped the way a city bureau compares its counties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.database import ViewDatabase
from projections.read_scope import in_effect_by


@dataclass(frozen=True)
class CategorySourceTotal:
    category: str
    source: str
    unit: str
    allocated: int
    spent: int


def category_source_totals(db: ViewDatabase, fiscal_year: int, as_of: date | None,
                           position: int) -> list[CategorySourceTotal]:
    """Allocated and spent per category × source × unit of the year, as of `as_of` (every
    entry that took effect on or before it), counting no event past `position`."""
    params: list[Any] = [fiscal_year, position]
    where = in_effect_by("e.fiscal_year = ? AND e.position <= ?", params, as_of, "e.")
    rows = db.rows(
        "SELECT f.category, f.source, e.unit, "  # noqa: S608  (where: fixed clauses)
        "SUM(CASE WHEN e.kind = 'allocated' THEN e.delta ELSE 0 END), "
        "SUM(CASE WHEN e.kind = 'spent' THEN e.delta ELSE 0 END) "
        "FROM ledger_entries e JOIN funds f ON f.fund_code = e.fund_code "
        f"WHERE {where} GROUP BY f.category, f.source, e.unit "
        "ORDER BY f.category, f.source, e.unit", params)
    return [CategorySourceTotal(c, s, u, int(a), int(sp)) for c, s, u, a, sp in rows]
