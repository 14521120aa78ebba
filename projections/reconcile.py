"""Reconciliation: the stored views against an independent in-memory replay.

The replay shares no code with the views: it rebuilds every aggregate in memory the way the
eventsourcing library itself does (each event's `mutate`), and derives the expected rows from
the aggregates' own state (`Allocation.allocated`, `Fund.appropriated`, …). The views' ledger
entries must also sum to their balance rows. Any difference is one line of the report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from domain.allocation import Allocation
from domain.expenditure import Expenditure
from domain.fund import Fund
from domain.school import School
from projections.database import ViewDatabase
from projections.page_view import log_pages
from projections.storable_text import storable_value
from projections.tracking import ViewTrackingRecorder

PAGE_SIZE = 2000

Table = dict[tuple[Any, ...], tuple[Any, ...]]


def replay_aggregates(ledger: Any, up_to: int | None = None,
                      progress: Callable[[int], None] | None = None) -> dict[Any, Any]:
    """Every aggregate as its events leave it, up to a position (all when None)."""
    aggregates: dict[Any, Any] = {}
    for page in log_pages(ledger, up_to, PAGE_SIZE):
        for item in page:
            event = item.event
            aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))
        if progress is not None:
            progress(page[-1].position)
    return aggregates


def _of(aggregates: dict[Any, Any], kind: type) -> Iterator[Any]:
    return (a for a in aggregates.values() if isinstance(a, kind))


def expected_tables(aggregates: dict[Any, Any]) -> dict[str, Table]:
    """The rows the views must hold, derived from the aggregates alone."""
    allocations = list(_of(aggregates, Allocation))
    expenditures = list(_of(aggregates, Expenditure))
    proposed: dict[str, int] = defaultdict(int)
    spent: dict[str, int] = defaultdict(int)
    for a in allocations:
        spent[a.fund_code] += a.spent
        if a.status == "proposed":
            proposed[a.fund_code] += a.amount
    balances: dict[tuple[Any, ...], list[Any]] = {}
    for a in allocations:
        if a.approved_on is None:
            continue  # never approved: no balance ever moved
        row = balances.setdefault((a.school_code, a.fiscal_year, a.fund_code), [a.unit, 0, 0, 0, 0])
        row[1] += a.allocated
        row[2] += a.spent
        row[3] += 1
    for x in expenditures:
        if not x.reversed:
            balances[(x.school_code, x.fiscal_year, x.fund_code)][4] += 1
    return {
        "schools": {(s.code,): (s.name, s.district, s.level, s.locale, s.students,
                                bool(s.poverty_area), "closed" if s.is_closed else "open",
                                _iso(s.closed_on), s.version)
                    for s in _of(aggregates, School)},
        "funds": {(f.code,): (f.fiscal_year, f.unit, "closed" if f.closed else "open",
                              f.appropriated, proposed[f.code], f.allocated, spent[f.code],
                              f.version)
                  for f in _of(aggregates, Fund)},
        "allocations": {(str(a.id),): (a.fund_code, a.school_code, a.status, a.amount,
                                       a.allocated, a.spent, a.approved_by, a.version)
                        for a in allocations},
        "expenditures": {(str(x.id),): (str(x.allocation_id), x.amount, x.status, x.version)
                         for x in expenditures},
        "school_balances": {key: tuple(row) for key, row in balances.items()},
    }


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()


def stored_tables(db: ViewDatabase) -> dict[str, Table]:
    """The same rows, as the views hold them; school balances also as sums of entries."""
    def table(statement: str, keys: int) -> Table:
        return {tuple(r[:keys]): tuple(r[keys:]) for r in db.rows(statement)}

    tables = {
        "schools": table("SELECT school_code, name, district, level, locale, students, "
                         "poverty_area, status, closed_on, version FROM schools", 1),
        "funds": table("SELECT fund_code, fiscal_year, unit, status, appropriated, proposed, "
                       "allocated, spent, version FROM funds", 1),
        "allocations": table("SELECT allocation_id, fund_code, school_code, status, amount, "
                             "allocated, spent, approved_by, version FROM allocations", 1),
        "expenditures": table("SELECT expenditure_id, allocation_id, amount, status, version "
                              "FROM expenditures", 1),
        "school_balances": table("SELECT school_code, fiscal_year, fund_code, unit, allocated, "
                                 "spent, allocations, expenditures FROM school_balances", 3),
        "ledger_entries (sums)": table(
            "SELECT school_code, fiscal_year, fund_code, MAX(unit), "
            "SUM(CASE WHEN kind = 'allocated' THEN delta ELSE 0 END), "
            "SUM(CASE WHEN kind = 'spent' THEN delta ELSE 0 END), "
            "SUM(CASE WHEN kind = 'allocated' THEN count_delta ELSE 0 END), "
            "SUM(CASE WHEN kind = 'spent' THEN count_delta ELSE 0 END) "
            "FROM ledger_entries GROUP BY school_code, fiscal_year, fund_code", 3),
    }
    schools = tables["schools"]
    for key, row in schools.items():
        schools[key] = (*row[:5], bool(row[5]), *row[6:])
    for name in ("school_balances", "ledger_entries (sums)"):
        # PostgreSQL's SUM of BIGINT is NUMERIC: compare as integers.
        tables[name] = {k: tuple(int(v) if isinstance(v, Decimal) else v for v in row)
                        for k, row in tables[name].items()}
    return tables


def differences(expected: dict[str, Table], stored: dict[str, Table]) -> list[str]:
    """One line per row that is missing, unexpected or different."""
    lines: list[str] = []
    for name, stored_rows in stored.items():
        wanted = expected["school_balances" if name.startswith("ledger_entries") else name]
        for key in sorted(set(wanted) | set(stored_rows), key=str):
            want, have = wanted.get(key), stored_rows.get(key)
            if want == have:
                continue
            label = "/".join(str(k) for k in key)
            if have is None:
                lines.append(f"{name} {label}: missing (replay has {want})")
            elif want is None:
                lines.append(f"{name} {label}: not in the replay (view has {have})")
            else:
                lines.append(f"{name} {label}: view has {have}, replay has {want}")
    return lines


def reconcile(ledger: Any, db: ViewDatabase,
              progress: Callable[[int], None] | None = None) -> tuple[int, list[str]]:
    """Compares the views with a replay up to the views' own position.

    Returns (position compared, differences).
    """
    with db.snapshot():
        position = ViewTrackingRecorder(db).max_tracking_id(ledger.name) or 0
        stored = stored_tables(db)
    head = ledger.last_position()
    aggregates = replay_aggregates(ledger, up_to=position, progress=progress)
    expected = expected_tables(aggregates)
    if db.is_postgres:  # its views show a NUL of an old event as U+FFFD (storable_text.py)
        expected = {name: {tuple(map(storable_value, key)): tuple(map(storable_value, row))
                           for key, row in table.items()} for name, table in expected.items()}
    lines = differences(expected, stored)
    lines += broken_invariants(aggregates, stored)
    if position < head:
        # Equal rows prove nothing about the events the views never applied (a view runner
        # stuck on a poison event once left every later write out while all else said ok).
        lines.append(f"views at position {position}, the store's head is {head}: "
                     f"{head - position} event(s) not applied")
    return position, lines


def broken_invariants(aggregates: dict[Any, Any], stored: dict[str, Table]) -> list[str]:
    """The rules of the books, checked on the replay and on the views alike: a fund's
    available ≥ 0 (allocated ≤ appropriated), and 0 ≤ spent ≤ allocated for each allocation
    and each fund. Equal rows can still both be wrong; forged state shows up here."""
    lines = []
    for fund in _of(aggregates, Fund):
        if fund.allocated > fund.appropriated:
            lines.append(f"replay: fund {fund.code} has available {fund.appropriated - fund.allocated}"
                         " < 0")
    for allocation in _of(aggregates, Allocation):
        if not 0 <= allocation.spent <= allocation.allocated:
            lines.append(f"replay: allocation {allocation.id} has spent {allocation.spent} and "
                         f"allocated {allocation.allocated}")
    for (code,), row in stored.get("funds", {}).items():
        appropriated, allocated, spent = int(row[3]), int(row[5]), int(row[6])
        if allocated > appropriated:
            lines.append(f"views: fund {code} has available {appropriated - allocated} < 0")
        if not 0 <= spent <= allocated or spent > appropriated:
            lines.append(f"views: fund {code} has spent {spent} and allocated {allocated}")
    for (allocation_id,), row in stored.get("allocations", {}).items():
        allocated, spent = int(row[4]), int(row[5])
        if not 0 <= spent <= allocated:
            lines.append(f"views: allocation {allocation_id} has spent {spent} and allocated "
                         f"{allocated}")
    return lines
