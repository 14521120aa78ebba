"""The 结转结余 statement (预算结转结余变动表 in spirit): a fiscal year's money, per fund, source
level and school, as of any business date.

Columns (docs/year-end.md): opening carry-in (结转 received from last year), appropriation,
adjustments, allocated, spent, carried forward (结转 to next year), surplus recovered (结余),
prior-year adjustments (以前年度盈余调整, spending of the closed year reversed afterwards), and
closing. On a school's row, closing = carry-in + allocated − spent − carried forward − surplus:
what the school still holds. On a fund's own row (school empty), allocated is minus what
the fund allocated to its schools, so closing is what it never allocated. Over all rows of a
fund: appropriation + carry-in + adjustments = spent + carried forward + surplus + closing —
the books' identity, held by a property test.

Prior-year adjustments are shown beside the closed year's spending, which stays as it was
closed: the reversed amount went to the recovered surplus of that year and source level, and
`surplus_balances` counts it there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from projections.read_scope import in_effect_by

if TYPE_CHECKING:
    from projections.database import ViewDatabase

# The kind of each amount the view stores → the statement's column it adds to.
COLUMN_OF_KIND = {"carry_in": "carry_in", "appropriation": "appropriation",
                  "adjustment": "adjustments", "allocated": "allocated", "spent": "spent",
                  "carried_forward": "carried_forward", "surplus": "surplus_recovered",
                  "prior_year_adjustment": "prior_year_adjustments"}


@dataclass
class StatementRow:
    fund: str
    source: str
    school: str | None  # None: the fund's own row (appropriation, what it never allocated)
    carry_in: int = 0
    appropriation: int = 0
    adjustments: int = 0
    allocated: int = 0
    spent: int = 0
    carried_forward: int = 0
    surplus_recovered: int = 0
    prior_year_adjustments: int = 0

    @property
    def closing(self) -> int:
        return (self.carry_in + self.appropriation + self.adjustments + self.allocated
                - self.spent - self.carried_forward - self.surplus_recovered)


@dataclass
class SurplusBalance:
    """Recovered surplus of the year at one source level: at close, and afterwards."""

    source: str
    recovered: int = 0
    prior_year_adjustments: int = 0

    @property
    def balance(self) -> int:
        return self.recovered + self.prior_year_adjustments


@dataclass
class CarryOverStatement:
    fiscal_year: int
    as_of: date | None
    position: int
    unit: str = "CNY"
    rows: list[StatementRow] = field(default_factory=list)
    surplus: list[SurplusBalance] = field(default_factory=list)


def carry_over_statement(db: ViewDatabase, fiscal_year: int, as_of: date | None,
                         position: int) -> CarryOverStatement:
    """Sums the year's movements that took effect on or before `as_of` (all when None)."""
    params: list[Any] = [fiscal_year]
    where = in_effect_by("fiscal_year = ?", params, as_of)
    rows: dict[tuple[str, str], StatementRow] = {}
    allocated_by_fund: dict[str, int] = {}
    for fund, source, school, kind, amount in db.rows(
            "SELECT fund_code, source, school_code, kind, SUM(amount) "  # noqa: S608
            f"FROM carry_over_movements WHERE {where} "
            "GROUP BY fund_code, source, school_code, kind", params):
        row = rows.get((fund, school))
        if row is None:
            row = rows[fund, school] = StatementRow(fund, source, school or None)
        _add(row, kind, int(amount))
        if kind == "allocated":
            allocated_by_fund[fund] = allocated_by_fund.get(fund, 0) + int(amount)
    for fund, allocated in allocated_by_fund.items():
        own = rows.get((fund, ""))
        if own is not None:
            own.allocated -= allocated
    surplus: dict[str, SurplusBalance] = {}
    for row in rows.values():
        balance = surplus.setdefault(row.source, SurplusBalance(row.source))
        balance.recovered += row.surplus_recovered
        balance.prior_year_adjustments += row.prior_year_adjustments
    return CarryOverStatement(
        fiscal_year, as_of, position,
        rows=[rows[k] for k in sorted(rows)],
        surplus=[surplus[s] for s in sorted(surplus) if surplus[s].balance])


def _add(row: StatementRow, kind: str, amount: int) -> None:
    column = COLUMN_OF_KIND[kind]
    setattr(row, column, getattr(row, column) + amount)
