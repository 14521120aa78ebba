"""A fund's classification and provenance as the views store them (one row of `funds`), and
balances cut by source level: each level's part of a fund's figures (domain/provenance.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.provenance import shares_of
from projections.rural_support import AllocationTotal

if TYPE_CHECKING:
    from projections.database import ViewDatabase


def shares_text(shares: Sequence[dict[str, Any]]) -> str:
    """`central:500000,county:500000` (minor units); empty when one level pays it all."""
    return ",".join(f"{s['source']}:{int(s['amount'])}" for s in shares)


def parse_shares(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    pairs = (part.split(":", 1) for part in text.split(","))
    return [{"source": source, "amount": int(amount)} for source, amount in pairs]


def source_part(row: dict[str, Any], level: str, amount: int) -> int:
    """`level`'s part of one of a fund row's figures (0 when that level pays none of it)."""
    return shares_of(row["source"], parse_shares(row.get("shares")), amount).get(level, 0)


def allocation_totals(db: ViewDatabase, where: str, params: list[Any],
                      source: str | None = None) -> list[AllocationTotal]:
    """What each school received in each unit from allocations opened on each day (the
    rural-support report's input); with `source`, only that level's part of each fund's."""
    by_fund = "" if source is None else ", e.fund_code"
    rows = db.rows(
        "SELECT e.school_code, e.unit, a.effective_date, "  # noqa: S608
        "SUM(CASE WHEN e.kind = 'allocated' THEN e.delta ELSE 0 END), "
        f"SUM(CASE WHEN e.kind = 'spent' THEN e.delta ELSE 0 END){by_fund} "
        "FROM ledger_entries e JOIN allocations a ON a.allocation_id = e.allocation_id "
        f"WHERE {where} GROUP BY e.school_code, e.unit, a.effective_date{by_fund}", params)
    if source is None:
        return [AllocationTotal(school, unit, date.fromisoformat(day), int(allocated), int(spent))
                for school, unit, day, allocated, spent in rows]
    funds = {code: {"source": level, "shares": shares}
             for code, level, shares in db.rows("SELECT fund_code, source, shares FROM funds")}
    parts: dict[tuple[str, str, str], list[int]] = {}
    for school, unit, day, allocated, spent, fund in rows:
        part = (source_part(funds[fund], source, int(allocated)),
                source_part(funds[fund], source, int(spent)))
        if part != (0, 0):
            cell = parts.setdefault((school, unit, day), [0, 0])
            cell[0] += part[0]
            cell[1] += part[1]
    return [AllocationTotal(school, unit, date.fromisoformat(day), allocated, spent)
            for (school, unit, day), (allocated, spent) in parts.items()]
