"""A first-release store's year-end (a fund carried over, a fund lapsed) shows in the 结转结余
view as 结转 and 结余: the old events are kept, not rewritten, and read as what they were."""

from __future__ import annotations

from datetime import date

from domain.fund import Fund
from domain.ledger import FundLedger
from projections.queries import BureauQueries
from projections.runner import ViewRunner
from tests.old_stores.conftest import OldStore

TODAY = date(2025, 12, 31)


def test_old_closes_read_as_carried_forward_and_recovered_surplus(old_store: OldStore) -> None:
    facts = old_store.facts
    ledger = FundLedger(env=old_store.settings.eventsourcing_env(), clock=lambda: TODAY)
    queries = BureauQueries(old_store.settings)
    try:
        with ViewRunner(old_store.settings, ledger=ledger, check_schema=False) as runner:
            runner.migrate()  # the carry-over view is new in this release: built from the log
        old_events = {name: next(e for e in ledger.events.get(Fund.id_for(facts[name]))
                                 if type(e).__name__ == "Closed")
                      for name in ("carried_fund", "lapsed_fund")}
        statement = queries.carry_over(2024)
        by_fund: dict[str, dict[str, int]] = {}
        for row in statement.rows:
            totals = by_fund.setdefault(row.fund, {"carried_forward": 0, "surplus": 0})
            totals["carried_forward"] += row.carried_forward
            totals["surplus"] += row.surplus_recovered
        carried = old_events["carried_fund"].carried_over
        lapsed = old_events["lapsed_fund"].lapsed
        assert carried > 0 and lapsed > 0
        assert by_fund[facts["carried_fund"]]["carried_forward"] == carried
        assert by_fund[facts["lapsed_fund"]]["surplus"] == lapsed
        received = queries.carry_over(2025)
        assert sum(r.carry_in for r in received.rows if r.fund == facts["carry_to"]) == carried
        balance = queries.fund_balance(facts["lapsed_fund"])
        assert balance.surplus_recovered == lapsed
    finally:
        queries.close()
        ledger.close()
