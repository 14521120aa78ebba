"""Balances as of a date or a position: history as it stood, from indexed sums."""

from __future__ import annotations

from datetime import date

from api.settings import Settings
from domain.ledger import FundLedger
from projections.queries import BureauQueries
from projections.runner import ViewRunner
from tests.conftest import APPROVER, OFFICER
from tests.factories import applied


def _balance(queries: BureauQueries, **kwargs: object) -> tuple[int, int]:
    found = queries.school_balances("AS-1", 2025, **kwargs)  # type: ignore[arg-type]
    if not found.balances:
        return 0, 0
    (line,) = found.balances
    return line.allocated, line.spent


def test_balances_as_of_dates_before_a_reversal_an_adjustment_and_a_reclassification(
        store_settings: Settings, stored_ledger: FundLedger) -> None:
    ledger = stored_ledger
    ledger.register_school(OFFICER, code="AS-1", name="As", district="Pei", level="primary",
                           locale="rural", poverty_area=False, students=100,
                           effective_date=date(2025, 1, 1))
    ledger.open_fund(OFFICER, code="F-25", name="f", fiscal_year=2025, unit="CNY", amount=10**8,
                     source="county", category="public_operating", effective_date=date(2025, 1, 2))
    first = ledger.propose_allocation(OFFICER, fund="F-25", school="AS-1", amount=5_000,
                                      purpose="ops", effective_date=date(2025, 2, 1)).subject
    ledger.approve_allocation(APPROVER, first.id, effective_date=date(2025, 2, 2))
    spent = ledger.record_expenditure(OFFICER, allocation=first.id, amount=1_200, payee="p",
                                      voucher="V1", spent_on=date(2025, 3, 1))
    reversal = ledger.reverse_expenditure(OFFICER, spent.subject.id, reason="duplicate",
                               effective_date=date(2025, 4, 1))
    applied(ledger, ledger.adjust_allocation(APPROVER, first.id, delta=1_000, reason="more pupils",
                                        effective_date=date(2025, 5, 1)))
    ledger.reclassify_school(OFFICER, "AS-1", locale="town", reason="township",
                             effective_date=date(2025, 6, 1))
    second = ledger.propose_allocation(OFFICER, fund="F-25", school="AS-1", amount=3_000,
                                       purpose="ops", effective_date=date(2025, 7, 1)).subject
    ledger.approve_allocation(APPROVER, second.id, effective_date=date(2025, 7, 1))

    with ViewRunner(store_settings, ledger=ledger, page_size=3) as runner:
        runner.run_until_caught_up()
    queries = BureauQueries(store_settings)
    try:
        assert _balance(queries, as_of=date(2025, 2, 1)) == (0, 0)  # proposed, not approved
        assert _balance(queries, as_of=date(2025, 3, 15)) == (5_000, 1_200)  # before the reversal
        assert _balance(queries, as_of=date(2025, 4, 1)) == (5_000, 0)
        assert _balance(queries, as_of=date(2025, 4, 30)) == (5_000, 0)  # before the adjustment
        assert _balance(queries, as_of=date(2025, 5, 1)) == (6_000, 0)
        assert _balance(queries) == (9_000, 0)
        assert _balance(queries, at_position=reversal.position) == (5_000, 0)
        assert _balance(queries, at_position=spent.position) == (5_000, 1_200)
        now = queries.school_balances("AS-1", 2025)
        assert (now.balances[0].allocations, now.balances[0].expenditures) == (2, 0)
        march = queries.school_balances("AS-1", 2025, as_of=date(2025, 3, 15))
        assert (march.balances[0].allocations, march.balances[0].expenditures) == (1, 1)

        # Before the reclassification all the money was rural; after it, July's is town's.
        june = {r.locale: r.allocated for r in queries.rural_support(2025, as_of=date(2025, 6, 30)).rows}
        assert june == {"rural": 6_000}
        year = {r.locale: r.allocated for r in queries.rural_support(2025).rows}
        assert year == {"rural": 6_000, "town": 3_000}
    finally:
        queries.close()


def test_a_back_dated_reclassification_moves_money_already_reported(
        store_settings: Settings, stored_ledger: FundLedger) -> None:
    ledger = stored_ledger
    ledger.register_school(OFFICER, code="AS-1", name="As", district="Pei", level="primary",
                           locale="rural", poverty_area=False, students=100,
                           effective_date=date(2025, 1, 1))
    ledger.open_fund(OFFICER, code="F-25", name="f", fiscal_year=2025, unit="CNY", amount=10**8,
                     source="county", category="public_operating", effective_date=date(2025, 1, 2))
    allocation = ledger.propose_allocation(OFFICER, fund="F-25", school="AS-1", amount=5_000,
                                           purpose="ops", effective_date=date(2025, 8, 1)).subject
    ledger.approve_allocation(APPROVER, allocation.id, effective_date=date(2025, 8, 1))
    with ViewRunner(store_settings, ledger=ledger) as runner:
        runner.run_until_caught_up()
        queries = BureauQueries(store_settings)
        try:
            assert [r.locale for r in queries.rural_support(2025).rows] == ["rural"]
            # Recorded later, in force since July: August's allocation was a town school's.
            ledger.reclassify_school(OFFICER, "AS-1", locale="town", reason="survey correction",
                                     effective_date=date(2025, 7, 1))
            runner.run_until_caught_up()
            assert [r.locale for r in queries.rural_support(2025).rows] == ["town"]
            assert queries.list_schools(locale="town")[0][0].code == "AS-1"
        finally:
            queries.close()
