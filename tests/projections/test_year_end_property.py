"""Over random multi-year histories (opening, allocating, spending, reversing, closing years
with random dispositions and exceptions), on SQLite and PostgreSQL:

- for every fund, source level and year: appropriation + carry-in + adjustments = spent +
  carried forward + surplus + unallocated (+ what open allocations still hold), in the
  aggregates and in the 结转结余 statement, which agree figure by figure;
- the recovered surplus of each year and source (with prior-year adjustments: a closed year's
  spending reversed later) equals the statement's;
- no money changes purpose across years: every carried remainder lands in a fund of the same
  category, earmark, expenditure classes, unit and source level.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.allocation import Allocation
from domain.dispositions import purpose_of
from domain.errors import LedgerError
from domain.fund import Fund
from domain.ledger import FundLedger
from domain.surplus import RecoveredSurplus
from projections.queries import BureauQueries
from projections.runner import ViewRunner
from tests.conftest import APPROVER, CHECKER, OFFICER

TODAY = date(2028, 6, 30)
YEARS = (2025, 2026, 2027)
CATEGORIES = ("public_operating", "facilities")
SOURCES = ("county", "central")
SCHOOLS = ("S0", "S1", "S2")

YEAR = st.sampled_from(YEARS)
LINE = st.tuples(YEAR, st.sampled_from(CATEGORIES), st.sampled_from(SOURCES))
OPS = st.one_of(
    st.tuples(st.just("open"), LINE),
    st.tuples(st.just("open"), LINE),
    st.tuples(st.just("allocate"), LINE, st.sampled_from(SCHOOLS), st.integers(1, 40_000)),
    st.tuples(st.just("allocate"), LINE, st.sampled_from(SCHOOLS), st.integers(1, 40_000)),
    st.tuples(st.just("spend"), st.integers(0, 30), st.integers(1, 20_000)),
    st.tuples(st.just("spend"), st.integers(0, 30), st.integers(1, 20_000)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("prior_year"), st.integers(0, 30)),
    st.tuples(st.just("adjust"), LINE, st.integers(-5_000, 5_000).filter(bool)),
    st.tuples(st.just("close"), LINE, st.sampled_from([None, "carry_over", "surplus"]),
              st.integers(0, 30), st.sampled_from([None, "carry_over", "surplus"])),
)


def code(line: tuple[int, str, str]) -> str:
    year, category, source = line
    return f"{category[:3].upper()}-{source[:3].upper()}-{year}"


class History:
    def __init__(self, ledger: FundLedger) -> None:
        self.ledger = ledger
        self.allocations: list[Any] = []
        self.expenditures: list[Any] = []
        self.funds: set[str] = set()
        self.vouchers = 0

    def apply(self, op: tuple[Any, ...]) -> None:
        # A refusal writes nothing; the invariants must hold either way.
        with contextlib.suppress(LedgerError):
            getattr(self, "_" + op[0])(*op[1:])

    def _open(self, line: tuple[int, str, str]) -> None:
        year, category, source = line
        self.ledger.open_fund(OFFICER, code=code(line), name="f", fiscal_year=year, unit="CNY",
                              amount=100_000, source=source, category=category,
                              effective_date=date(year, 1, 2))
        self.funds.add(code(line))

    def _allocate(self, line: tuple[int, str, str], school: str, amount: int) -> None:
        allocation = self.ledger.propose_allocation(
            OFFICER, fund=code(line), school=school, amount=amount, purpose="p",
            effective_date=date(line[0], 3, 1)).subject.id
        self.ledger.approve_allocation(APPROVER, allocation, effective_date=date(line[0], 3, 2))
        self.allocations.append(allocation)

    def _spend(self, index: int, amount: int) -> None:
        ids = self._all_allocations()
        if not ids:
            return
        allocation = self.ledger.get_allocation(ids[index % len(ids)])
        self.vouchers += 1
        classes = {"public_operating": "office", "facilities": "repairs"}
        self.expenditures.append(self.ledger.record_expenditure(
            OFFICER, allocation=allocation.id, amount=amount, payee="p",
            voucher=f"V{self.vouchers}", spent_on=date(allocation.fiscal_year, 6, 1),
            economic_class=classes[allocation.category]).subject.id)

    def _reverse(self, index: int) -> None:
        if self.expenditures:
            self.ledger.reverse_expenditure(OFFICER, self.expenditures[index % len(self.expenditures)],
                                            reason="r")

    def _prior_year(self, index: int) -> None:
        if self.expenditures:
            self._applied(self.ledger.adjust_prior_year(
                OFFICER, self.expenditures[index % len(self.expenditures)], reason="以前年度盈余调整"))

    def _adjust(self, line: tuple[int, str, str], delta: int) -> None:
        self._applied(self.ledger.adjust_fund(APPROVER, code(line), delta=delta, reason="r",
                                              effective_date=date(line[0], 5, 1)))

    def _close(self, line: tuple[int, str, str], disposition: str | None, index: int,
               exception: str | None) -> None:
        fund = self.ledger.get_fund(code(line))
        exceptions = []
        if exception is not None and fund.allocation_ids:
            exceptions.append({"allocation": str(fund.allocation_ids[index % len(fund.allocation_ids)]),
                               "disposition": exception, "reason": "项目延续"})
        next_year = [c for c in self.funds if c.endswith(str(line[0] + 1))]
        self._applied(self.ledger.close_fund(
            APPROVER, code(line), disposition=disposition,
            reason="项目延续" if disposition else "", exceptions=exceptions,
            next_year_funds=next_year))

    def _applied(self, made: Any) -> None:
        """Two-person changes (adjustments, closes, prior-year adjustments) take effect only
        when a second person approves them."""
        self.ledger.approve_change(CHECKER, made.subject.id)

    def _all_allocations(self) -> list[Any]:
        found = []
        for fund_code in sorted(self.funds):
            found.extend(self.ledger.get_fund(fund_code).allocation_ids)
        return found


def _check(ledger: FundLedger, queries: BureauQueries, funds: set[str]) -> None:
    surplus_by_level: dict[tuple[int, str], int] = defaultdict(int)
    for year in YEARS:
        statement = queries.carry_over(year)
        rows_by_fund = defaultdict(list)
        for row in statement.rows:
            rows_by_fund[row.fund].append(row)
        for fund_code in sorted(c for c in funds if c.endswith(str(year))):
            fund = ledger.get_fund(fund_code)
            allocations = [ledger.get_allocation(i) for i in fund.allocation_ids]
            spent = sum(a.spent for a in allocations)
            holding = sum(a.remaining for a in allocations if a.status == "approved")
            closes = [e for e in ledger.events.get(fund.id) if type(e).__name__ == "YearEndClosed"]
            carried_forward = sum(e.carried_forward for e in closes)
            surplus_recovered = sum(e.surplus_recovered for e in closes)
            # A closed fund's remainders left it: what it never allocated is what is left
            # after them (its `allocated` keeps only what was spent).
            unallocated = fund.available - carried_forward - surplus_recovered
            # The books' identity, from the aggregates and their events alone.
            assert fund.appropriated == (spent + carried_forward + surplus_recovered
                                         + unallocated + holding)
            rows = rows_by_fund[fund_code]
            own = [r for r in rows if r.school is None]
            assert sum(r.appropriation + r.adjustments + r.carry_in for r in rows) == fund.appropriated
            assert sum(r.spent for r in rows) == spent
            assert sum(r.carried_forward for r in rows) == carried_forward
            assert sum(r.surplus_recovered for r in rows) == surplus_recovered
            assert own[0].closing == unallocated
            assert sum(r.closing for r in rows if r.school) == holding
            surplus_by_level[year, fund.source] += surplus_recovered
            for allocation in allocations:
                _check_purpose_kept(ledger, fund, allocation)
        for balance in statement.surplus:
            account = ledger.repository.get(RecoveredSurplus.id_for(year, balance.source, "CNY"))
            # Recovered at close, plus prior-year adjustments (以前年度盈余调整) since.
            assert (account.recovered, account.prior_year_adjustments) == (
                balance.recovered, balance.prior_year_adjustments)
    for (year, source), recovered in surplus_by_level.items():
        if recovered:
            account = ledger.repository.get(RecoveredSurplus.id_for(year, source, "CNY"))
            assert account.recovered == recovered


def _check_purpose_kept(ledger: FundLedger, fund: Fund, allocation: Allocation) -> None:
    successor_id = uuid5(NAMESPACE_URL, f"fundledger:carry:{allocation.id}")
    try:
        successor = ledger.get_allocation(successor_id)
    except LedgerError:
        return
    target = ledger.get_fund(successor.fund_code)
    assert purpose_of(target) == purpose_of(fund)
    assert (successor.school_code, successor.fiscal_year) == (allocation.school_code,
                                                            allocation.fiscal_year + 1)


def _run(store: Callable[[], AbstractContextManager[Settings]], examples: int) -> None:
    @settings(max_examples=examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(ops=st.lists(OPS, min_size=10, max_size=45))
    def books_balance_across_years(ops: list[tuple[Any, ...]]) -> None:
        with store() as settings_:
            ledger = FundLedger(env=settings_.eventsourcing_env(), clock=lambda: TODAY)
            try:
                for school in SCHOOLS:
                    ledger.register_school(OFFICER, code=school, name="s", district="D",
                                           level="primary", locale="rural", poverty_area=False,
                                           students=100, effective_date=date(2025, 1, 1))
                history = History(ledger)
                for op in ops:
                    history.apply(op)
                with ViewRunner(settings_, ledger=ledger) as runner:
                    runner.run_until_caught_up()
                queries = BureauQueries(settings_)
                try:
                    _check(ledger, queries, history.funds)
                finally:
                    queries.close()
            finally:
                ledger.close()

    books_balance_across_years()


def test_money_balances_and_keeps_its_purpose_across_years(
        fresh_store: Callable[[], AbstractContextManager[Settings]]) -> None:
    _run(fresh_store, 25)
