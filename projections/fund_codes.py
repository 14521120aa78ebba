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


def allocation_totals(db: ViewDatabase, fiscal_year: int, as_of: date | None,
                      source: str | None = None) -> list[AllocationTotal]:
    """What each school received in each unit from allocations opened on each day, as of a
    day (the rural-support report's input); with `source`, only that level's part of each
    fund's.

    An allocation's `allocated` and `spent` are its entries' sums: one whose entries all lie
    on or before the day (at a past year's end, all of them) answers those, and only the
    others' entries are summed. Sums are merged per (school, unit, day, fund) before a
    level's part is taken, as that part rounds."""
    by_fund = "" if source is None else ", a.fund_code"
    settled, params = "a.last_entry_on IS NOT NULL", [fiscal_year]
    if as_of is not None:
        settled += " AND a.last_entry_on <= ?"
        params.append(as_of.isoformat())
    statement = (
        f"SELECT a.school_code, a.unit, a.effective_date, SUM(a.allocated), SUM(a.spent){by_fund} "  # noqa: S608
        f"FROM allocations a WHERE a.fiscal_year = ? AND {settled} "
        f"GROUP BY a.school_code, a.unit, a.effective_date{by_fund}")
    if as_of is not None:
        statement += (
            " UNION ALL SELECT e.school_code, e.unit, a.effective_date, "  # noqa: S608
            "SUM(CASE WHEN e.kind = 'allocated' THEN e.delta ELSE 0 END), "
            f"SUM(CASE WHEN e.kind = 'spent' THEN e.delta ELSE 0 END){by_fund.replace('a.', 'e.')} "
            "FROM ledger_entries e JOIN allocations a ON a.allocation_id = e.allocation_id "
            "WHERE e.fiscal_year = ? AND e.effective_date <= ? AND a.last_entry_on > ? "
            f"GROUP BY e.school_code, e.unit, a.effective_date{by_fund.replace('a.', 'e.')}")
        params += [fiscal_year, as_of.isoformat(), as_of.isoformat()]
    summed: dict[tuple[str, ...], list[int]] = {}
    for school, unit, day, allocated, spent, *fund in db.rows(statement, params):
        cell = summed.setdefault((school, unit, day, *fund), [0, 0])
        cell[0] += int(allocated)
        cell[1] += int(spent)
    if source is None:
        return [AllocationTotal(school, unit, date.fromisoformat(day), allocated, spent)
                for (school, unit, day), (allocated, spent) in summed.items()]
    funds = {code: {"source": level, "shares": shares}
             for code, level, shares in db.rows("SELECT fund_code, source, shares FROM funds")}
    parts: dict[tuple[str, str, str], list[int]] = {}
    for (school, unit, day, fund), (allocated, spent) in summed.items():
        part = (source_part(funds[fund], source, allocated), source_part(funds[fund], source, spent))
        if part != (0, 0):
            cell = parts.setdefault((school, unit, day), [0, 0])
            cell[0] += part[0]
            cell[1] += part[1]
    return [AllocationTotal(school, unit, date.fromisoformat(day), allocated, spent)
            for (school, unit, day), (allocated, spent) in parts.items()]
