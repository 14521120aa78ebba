"""The 结转结余 view: every movement of a fiscal year's money, for the carry-over statement.

One row per movement in `carry_over_movements` — its business date, position, fiscal year,
fund, source level, school (empty for the fund's own appropriation) and kind:

| kind | from | sign |
|---|---|---|
| appropriation | Fund.Opened | + |
| adjustment | Fund.AppropriationAdjusted | ± |
| carry_in | Allocation.CarriedIn / OpenedByCarryOver (first release) | + |
| allocated | approvals, adjustments, transfers, cancellations of allocations | ± |
| spent | Allocation.Spent / SpendingReversed | ± |
| carried_forward | Allocation.CarriedForward; YearClosed with a carry-over (first release) | + |
| surplus | Allocation.SurplusRecovered; YearClosed lapsed (first release: lapsed money went back) | + |
| prior_year_adjustment | RecoveredSurplus.PriorYearAdjusted | + |

The statement (projections/carry_over_statement.py) sums them as of any date. Money units
only: resource units (teacher posts, devices) have no 结转 or 结余. `carry_over_funds` keeps
each fund's source and year-end totals (shown with the fund balances); `carry_over_allocations`
maps an allocation to its fund and school for the events that name neither.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.allocation import Allocation, Origin
from domain.fund import Fund
from domain.surplus import RecoveredSurplus
from projections.page_view import OwnTables, PageEvent, apply_handlers, rows_in

if TYPE_CHECKING:
    from projections.database import ViewDatabase

MONEY_UNIT = "CNY"

MOVEMENT_COLUMNS = ("position", "seq", "kind", "effective_date", "fiscal_year", "fund_code",
                    "source", "school_code", "amount")
FUND_COLUMNS = ("fund_code", "fund_id", "fiscal_year", "source", "unit", "carried_in",
                "carried_forward", "surplus_recovered")
ALLOCATION_COLUMNS = ("allocation_id", "fund_code", "school_code", "amount")
TABLES = ("carry_over_movements", "carry_over_funds", "carry_over_allocations")

CREATE_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS carry_over_movements (
        position BIGINT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
        effective_date TEXT NOT NULL, fiscal_year INTEGER NOT NULL, fund_code TEXT NOT NULL,
        source TEXT NOT NULL, school_code TEXT NOT NULL, amount BIGINT NOT NULL,
        PRIMARY KEY (position, seq))""",
    "CREATE INDEX IF NOT EXISTS carry_over_movements_by_year "
    "ON carry_over_movements (fiscal_year, effective_date)",
    """CREATE TABLE IF NOT EXISTS carry_over_funds (
        fund_code TEXT PRIMARY KEY, fund_id TEXT NOT NULL UNIQUE, fiscal_year INTEGER NOT NULL,
        source TEXT NOT NULL, unit TEXT NOT NULL, carried_in BIGINT NOT NULL,
        carried_forward BIGINT NOT NULL, surplus_recovered BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS carry_over_allocations (
        allocation_id TEXT PRIMARY KEY, fund_code TEXT NOT NULL, school_code TEXT NOT NULL,
        amount BIGINT NOT NULL)""",
)

Row = dict[str, Any]


def _upsert(table: str, columns: Sequence[str], key: str) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT ({key}) DO UPDATE SET {updates}")


UPSERT_FUND = _upsert("carry_over_funds", FUND_COLUMNS, "fund_code")
INSERT_ALLOCATION = (f"INSERT INTO carry_over_allocations ({', '.join(ALLOCATION_COLUMNS)}) "  # noqa: S608
                     "VALUES (?, ?, ?, ?) ON CONFLICT (allocation_id) DO NOTHING")
INSERT_MOVEMENT = (f"INSERT INTO carry_over_movements ({', '.join(MOVEMENT_COLUMNS)}) "  # noqa: S608
                   f"VALUES ({', '.join('?' * len(MOVEMENT_COLUMNS))})")


@dataclass
class _Page:
    funds: dict[str, Row] = field(default_factory=dict)  # by code
    fund_codes: dict[str, str] = field(default_factory=dict)  # fund id → code
    # id → (fund, school, opening amount)
    allocations: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    new_allocations: list[tuple[str, str, str, int]] = field(default_factory=list)
    dirty_funds: set[str] = field(default_factory=set)
    movements: list[tuple[Any, ...]] = field(default_factory=list)
    seq: dict[int, int] = field(default_factory=dict)

    def move(self, position: int, kind: str, event: Any, fund_code: str, school_code: str,
             amount: int, fiscal_year: int | None = None) -> None:
        fund = self.funds.get(fund_code)
        if fund is None or fund["unit"] != MONEY_UNIT or amount == 0:
            return
        seq = self.seq.get(position, 0)
        self.seq[position] = seq + 1
        self.movements.append((position, seq, kind, event.stamp.effective_date.isoformat(),
                               fiscal_year or fund["fiscal_year"], fund_code, fund["source"],
                               school_code, amount))


class CarryOverView(OwnTables):
    """Movements of money by fiscal year, fund, source level and school."""

    name = "carry_over"
    create_statements = CREATE_STATEMENTS
    tables = TABLES

    @property
    def event_bases(self) -> tuple[type, ...]:
        return tuple(HANDLERS)  # the table is defined below the view

    def apply_page(self, db: ViewDatabase, page: Sequence[PageEvent]) -> None:
        state = apply_handlers(HANDLERS, _loaded(db, page), page)
        db.executemany(UPSERT_FUND, [tuple(state.funds[c][k] for k in FUND_COLUMNS)
                                     for c in sorted(state.dirty_funds)])
        db.executemany(INSERT_ALLOCATION, state.new_allocations)
        db.executemany(INSERT_MOVEMENT, state.movements)


def _loaded(db: ViewDatabase, page: Sequence[PageEvent]) -> _Page:
    """Reads every existing row the page's events will change."""
    state = _Page()
    fund_ids: set[str] = set()
    fund_codes: set[str] = set()
    allocation_ids: set[str] = set()
    for item in page:
        event = item.event
        if isinstance(event, Fund.Event) and not isinstance(event, Fund.Opened):
            fund_ids.add(str(event.originator_id))
        elif isinstance(event, (Allocation.Opened, RecoveredSurplus.PriorYearAdjusted)):
            fund_codes.add(event.fund_code)
        elif isinstance(event, Allocation.Event):
            allocation_ids.add(str(event.originator_id))
    for row in rows_in(db, "carry_over_allocations", "allocation_id", allocation_ids):
        state.allocations[row["allocation_id"]] = (row["fund_code"], row["school_code"],
                                                   row["amount"])
        fund_codes.add(row["fund_code"])
    rows = (rows_in(db, "carry_over_funds", "fund_id", fund_ids)
            + rows_in(db, "carry_over_funds", "fund_code", fund_codes))
    for row in rows:
        state.funds[row["fund_code"]] = row
        state.fund_codes[row["fund_id"]] = row["fund_code"]
    return state


# ---------------------------------------------------------------- handlers


def _fund_opened(state: _Page, e: Any, position: int) -> None:
    state.funds[e.code] = {"fund_code": e.code, "fund_id": str(e.originator_id),
                           "fiscal_year": e.fiscal_year, "source": e.source, "unit": e.unit,
                           "carried_in": 0, "carried_forward": 0, "surplus_recovered": 0}
    state.fund_codes[str(e.originator_id)] = e.code
    state.dirty_funds.add(e.code)
    state.move(position, "appropriation", e, e.code, "", e.amount)


def _fund_code(state: _Page, e: Any) -> str:
    return state.fund_codes[str(e.originator_id)]


def _appropriation_adjusted(state: _Page, e: Any, position: int) -> None:
    state.move(position, "adjustment", e, _fund_code(state, e), "", e.delta)


def _fund_carried_in(state: _Page, e: Any, position: int) -> None:
    code = _fund_code(state, e)
    state.funds[code]["carried_in"] += e.amount
    state.dirty_funds.add(code)


def _fund_year_ended(carried: str, recovered: str) -> Callable[[_Page, Any, int], None]:
    """A fund's year-end figures: what it carried forward and what was recovered, from the
    event's fields of those names (the first release's `Fund.Closed` called them
    `carried_over` and `lapsed`: what lapsed went back, as recovered surplus does now)."""
    def handle(state: _Page, e: Any, position: int) -> None:
        code = _fund_code(state, e)
        fund = state.funds[code]
        fund["carried_forward"] += getattr(e, carried)
        fund["surplus_recovered"] += getattr(e, recovered)
        state.dirty_funds.add(code)
    return handle


def _allocation_opened(state: _Page, e: Any, position: int) -> None:
    allocation_id = str(e.originator_id)
    state.allocations[allocation_id] = (e.fund_code, e.school_code, e.amount)
    state.new_allocations.append((allocation_id, e.fund_code, e.school_code, e.amount))
    if e.origin == Origin.CARRY_OVER:
        state.move(position, "carry_in", e, e.fund_code, e.school_code, e.amount)
    elif e.origin != Origin.PROPOSAL:  # opened by a transfer: allocated from the same fund
        state.move(position, "allocated", e, e.fund_code, e.school_code, e.amount)


def _allocation(state: _Page, e: Any) -> tuple[str, str, int]:
    return state.allocations[str(e.originator_id)]


def _approved(state: _Page, e: Any, position: int) -> None:
    """Allocation.Approved approves the proposed amount, which it does not repeat."""
    fund_code, school_code, amount = _allocation(state, e)
    state.move(position, "allocated", e, fund_code, school_code, amount)


def _moved(kind: str, field_name: str, sign: int) -> Callable[[_Page, Any, int], None]:
    def handle(state: _Page, e: Any, position: int) -> None:
        fund_code, school_code, _ = _allocation(state, e)
        state.move(position, kind, e, fund_code, school_code, sign * getattr(e, field_name))

    return handle


def _year_closed(state: _Page, e: Any, position: int) -> None:
    kind = "carried_forward" if e.carry_to_allocation_id is not None else "surplus"
    fund_code, school_code, _ = _allocation(state, e)
    state.move(position, kind, e, fund_code, school_code, e.remainder)


def _prior_year_adjusted(state: _Page, e: Any, position: int) -> None:
    state.move(position, "prior_year_adjustment", e, e.fund_code, e.school_code, e.amount)


HANDLERS: dict[type, Callable[[_Page, Any, int], None]] = {
    Fund.Opened: _fund_opened,
    Fund.AppropriationAdjusted: _appropriation_adjusted,
    Fund.CarriedIn: _fund_carried_in,
    Fund.CarryOverReceived: _fund_carried_in,
    Fund.YearEndClosed: _fund_year_ended("carried_forward", "surplus_recovered"),
    Fund.Closed: _fund_year_ended("carried_over", "lapsed"),
    Allocation.Proposed: _allocation_opened,
    Allocation.OpenedByTransfer: _allocation_opened,
    Allocation.OpenedByCarryOver: _allocation_opened,
    Allocation.CarriedIn: _allocation_opened,
    Allocation.Approved: _approved,
    Allocation.Adjusted: _moved("allocated", "delta", 1),
    Allocation.Cancelled: _moved("allocated", "released", -1),
    Allocation.TransferredOut: _moved("allocated", "amount", -1),
    Allocation.TransferredIn: _moved("allocated", "amount", 1),
    Allocation.Spent: _moved("spent", "amount", 1),
    Allocation.SpendingReversed: _moved("spent", "amount", -1),
    Allocation.CarriedForward: _moved("carried_forward", "remainder", 1),
    Allocation.SurplusRecovered: _moved("surplus", "remainder", 1),
    Allocation.YearClosed: _year_closed,
    RecoveredSurplus.PriorYearAdjusted: _prior_year_adjusted,
}
