"""The demo closes its generated year as a finance office does (docs/year-end.md, "The demo"):
every money fund of the year closed in one two-person change, no allocation of it left open
for the next year's findings to call stale, basic remainders carried into next year and spent
there, project remainders recovered as surplus."""

from __future__ import annotations

from datetime import date

from domain.allocation import Status
from domain.dispositions import is_money
from scripts.generator import generate
from scripts.generator.year_end import close_generated_year
from tests.generator.conftest import SEED, SMALL_SCALE, new_ledger

YEAR = 2025


def test_the_demo_closes_its_year_and_carries_basic_money_into_the_next() -> None:
    ledger = new_ledger(today=date(YEAR + 1, 3, 1))
    try:
        summary = generate(ledger, preset="xuzhou", seed=SEED, fiscal_year=YEAR,
                           scale=SMALL_SCALE)
        closed = close_generated_year(ledger, YEAR, summary.fund_codes, seed=SEED)
        funds = [ledger.get_fund(code) for code in summary.fund_codes]
        money = [fund for fund in funds if is_money(fund.unit)]
        assert money and all(fund.closed for fund in money)
        assert closed.funds_closed == len(money)
        still_open = [a for fund in money for a in map(ledger.get_allocation, fund.allocation_ids)
                      if a.status in (Status.APPROVED, Status.PROPOSED)]
        assert still_open == []  # nothing of the year left for 2026's stale-balance findings
        assert closed.carried_forward_minor > 0
        assert closed.surplus_recovered_minor > 0
        assert closed.carried_vouchers > 0  # carried money is spent in the new year
    finally:
        ledger.close()
