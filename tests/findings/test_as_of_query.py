"""The as-of allocations read answers the running totals the view keeps for allocations whose
every entry the scope holds, and sums the others' entries per allocation before joining them
(it grouped the joined rows by every column before, a sort of the whole year): on random
histories applied in pages of random sizes, as of random days and positions, for one year and
for the years before it (those that may hold a balance: carried on, or approved with money
left and not closed before the day), it gives the rows of the grouped query over the entries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import LedgerError
from domain.ledger import FundLedger
from projections.database import ViewDatabase
from projections.findings import as_of
from projections.findings.facts import catch_up
from projections.findings.rule import POSITION_UNBOUNDED, Scope
from tests.conftest import APPROVER, OFFICER, TODAY
from tests.findings.conftest import build_bureau

REFERENCE = """SELECT a.allocation_id, a.fund_code, a.school_code, a.fiscal_year, a.unit,
               a.category, a.origin, a.amount, a.proposed_by, a.proposed_on,
               a.proposed_position, a.decision, a.decided_by, a.decided_role,
               a.decided_on, a.decided_position, a.carried_to,
               COALESCE(SUM(CASE WHEN e.kind = 'allocated' THEN e.delta END), 0) AS allocated,
               COALESCE(SUM(CASE WHEN e.kind = 'spent' THEN e.delta END), 0) AS spent,
               MAX(CASE WHEN e.kind = 'allocated' AND e.delta > 0 THEN e.effective_date END)
                   AS last_funded_on,
               MAX(CASE WHEN e.kind = 'closed' THEN e.effective_date END) AS closed_on,
               MAX(e.position) AS last_position
        FROM findings_allocations a
        LEFT JOIN findings_allocation_entries e ON e.allocation_id = a.allocation_id
             AND e.effective_date <= ? AND e.position <= ?
        WHERE a.proposed_on <= ? AND a.proposed_position <= ? {year_clause}
        GROUP BY a.allocation_id, a.fund_code, a.school_code, a.fiscal_year, a.unit,
               a.category, a.origin, a.amount, a.proposed_by, a.proposed_on,
               a.proposed_position, a.decision, a.decided_by, a.decided_role,
               a.decided_on, a.decided_position, a.carried_to
        ORDER BY a.proposed_position"""


def _reference(db: ViewDatabase, scope: Scope, *, years: str) -> list[dict[str, Any]]:
    params: list[Any] = [scope.day, scope.position_max, scope.day, scope.position_max,
                         scope.fiscal_year]
    compare = {"year": "=", "earlier": "<"}[years]
    rows = db.dicts(REFERENCE.format(year_clause=f"AND a.fiscal_year {compare} ?"), params)
    for row in rows:
        row["allocated"], row["spent"] = int(row["allocated"]), int(row["spent"])
    if years == "earlier":  # only those that may hold a balance or lead to one
        rows = [row for row in rows if row["carried_to"] is not None or (
            row["decision"] == "approved" and row["allocated"] > row["spent"]
            and (row["closed_on"] is None or row["closed_on"] >= scope.day))]
    return rows


operations = st.lists(
    st.tuples(st.sampled_from(["spend", "reverse", "adjust", "cancel", "propose", "approve"]),
              st.integers(1, 3_000_000), st.integers(0, 300)),
    max_size=14,
)


TOTALS = """SELECT a.allocation_id, a.allocated_total, a.spent_total, a.last_funded_on,
                  a.closed_on, a.last_entry_on, a.last_entry_position
           FROM findings_allocations a ORDER BY a.allocation_id"""
SUMMED = """SELECT a.allocation_id,
                   COALESCE(SUM(CASE WHEN e.kind = 'allocated' THEN e.delta END), 0),
                   COALESCE(SUM(CASE WHEN e.kind = 'spent' THEN e.delta END), 0),
                   MAX(CASE WHEN e.kind = 'allocated' AND e.delta > 0 THEN e.effective_date END),
                   MAX(CASE WHEN e.kind = 'closed' THEN e.effective_date END),
                   MAX(e.effective_date), MAX(e.position)
            FROM findings_allocations a
            LEFT JOIN findings_allocation_entries e ON e.allocation_id = a.allocation_id
            GROUP BY a.allocation_id ORDER BY a.allocation_id"""


@settings(max_examples=40, deadline=None)
@given(operations, st.integers(0, 400), st.integers(1, 200), st.integers(1, 6))
def test_the_totals_first_read_equals_the_grouped_one(ops: list[tuple[str, int, int]],
                                                      day_offset: int, position_cut: int,
                                                      page_size: int) -> None:
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    bureau = build_bureau(ledger)
    allocation = bureau.allocations["GL-P1"]
    proposals: list[object] = []
    spent: list[tuple[object, date]] = []
    for kind, amount, offset in ops:
        day = date(2025, 2, 1) + timedelta(days=offset)
        try:
            if kind == "spend":
                spent.append((bureau.spend(allocation, amount, day)[0], day))
            elif kind == "reverse" and spent:
                expenditure, spent_on = spent.pop()
                ledger.reverse_expenditure(OFFICER, expenditure, reason="error",  # type: ignore[arg-type]
                                           effective_date=max(spent_on, day))
            elif kind == "adjust":
                ledger.adjust_allocation(APPROVER, allocation, delta=-amount, reason="cut",
                                         effective_date=day)
            elif kind == "cancel":
                ledger.cancel_allocation(OFFICER, allocation, reason="closed", effective_date=day)
            elif kind == "propose":
                proposals.append(ledger.propose_allocation(
                    OFFICER, fund="PO-2025", school="GL-P1", amount=amount, purpose="追加",
                    effective_date=day).subject.id)
            elif kind == "approve" and proposals:
                ledger.approve_allocation(APPROVER, proposals.pop(), effective_date=day)
        except LedgerError:
            pass  # a refused command writes nothing; both reads must agree all the same
    db = bureau.session
    catch_up(db, ledger, page_size)  # several entries of one allocation in a page, or one
    assert db.rows(TOTALS) == db.rows(SUMMED)
    last = ledger.recorder.max_notification_id() or 0
    for position in (POSITION_UNBOUNDED, max(1, last - position_cut)):
        day = date(2025, 1, 1) + timedelta(days=day_offset)
        # 2024: no rows of its own, 2025's after it; 2026: 2025's are its earlier years'.
        for year in (2024, 2025, 2026):
            scope = Scope(year, day, position)
            for years in ("year", "earlier"):
                assert as_of.allocation_rows(db, scope, years=years) == \
                    _reference(db, scope, years=years)
    bureau.session.close()
    ledger.close()
