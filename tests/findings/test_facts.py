"""The audit-facts view agrees with the aggregates: whatever commands ran, an allocation's
allocated and spent as of the year end equal the aggregate's own, and as of an earlier day
they count only what took effect by then."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import LedgerError
from domain.ledger import FundLedger
from projections.findings import as_of
from projections.findings.rule import Scope
from tests.conftest import APPROVER, OFFICER, TODAY
from tests.factories import applied
from tests.findings.conftest import build_bureau

operations = st.lists(
    st.tuples(
        st.sampled_from(["spend", "reverse", "adjust", "cancel"]),
        st.integers(1, 3_000_000),
        st.integers(0, 300),
    ),
    max_size=12,
)


@settings(max_examples=30, deadline=None)
@given(operations)
def test_allocation_balances_from_the_facts_equal_the_aggregates(ops: list[tuple[str, int, int]]) -> None:
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    bureau = build_bureau(ledger)
    allocation = bureau.allocations["GL-P1"]
    spent: list[tuple[object, date]] = []
    for kind, amount, offset in ops:
        day = date(2025, 2, 1) + timedelta(days=offset)
        try:
            if kind == "spend":
                spent.append((bureau.spend(allocation, amount, day)[0], day))
            elif kind == "reverse" and spent:
                expenditure, spent_on = spent.pop()
                ledger.reverse_expenditure(
                    OFFICER,
                    expenditure,
                    reason="error",  # type: ignore[arg-type]
                    effective_date=max(spent_on, day),
                )
            elif kind == "adjust":
                applied(ledger, ledger.adjust_allocation(
                    APPROVER, allocation, delta=-amount, reason="cut", effective_date=day
                ))
            elif kind == "cancel":
                applied(ledger, ledger.cancel_allocation(OFFICER, allocation, reason="closed",
                                                         effective_date=day))
        except LedgerError:
            pass  # a refused command writes nothing; the facts must agree all the same
    aggregate = ledger.get_allocation(allocation)
    rows = {r["allocation_id"]: r for r in as_of.allocations(bureau.facts(), Scope.year_end(2025))}
    row = rows[str(allocation)]
    assert (row["allocated"], row["spent"]) == (aggregate.allocated, aggregate.spent)
    before = {
        r["allocation_id"]: r
        for r in as_of.allocations(bureau.facts(), Scope.year_end(2025, date(2025, 1, 31)))
    }
    assert before[str(allocation)]["allocated"] == 80_000_000
    bureau.session.close()
    ledger.close()
