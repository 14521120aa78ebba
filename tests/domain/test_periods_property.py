"""Property (both stores): over random histories of spending, reversals, two-person changes
and month closes — one command at a time and in batches — nothing is recorded with an
effective date in a month after that month was closed, and the closed months listed are the
ones whose close was approved."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.actors import Stamp
from domain.errors import LedgerError
from domain.ledger import FundLedger
from domain.periods import AccountingPeriods, month_of
from tests import factories as f
from tests.conftest import APPROVER, CHECKER, OFFICER

TODAY = date(2025, 12, 31)
DAY = st.builds(date, st.just(2025), st.integers(2, 11), st.integers(1, 28))
OPS = st.one_of(
    st.tuples(st.just("spend"), DAY, st.integers(1, 500)),
    st.tuples(st.just("spend"), DAY, st.integers(1, 500)),
    st.tuples(st.just("spend_batch"), st.lists(DAY, min_size=1, max_size=4)),
    st.tuples(st.just("reverse"), st.integers(0, 20), DAY),
    st.tuples(st.just("adjust"), DAY),
    st.tuples(st.just("decide"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("close"), st.integers(2, 11)),
    st.tuples(st.just("close"), st.integers(2, 11)),
)


class History:
    def __init__(self, ledger: FundLedger) -> None:
        self.ledger = ledger
        f.school(ledger)
        f.fund(ledger)
        self.allocation = f.approved(ledger, amount=10_000_000)
        self.expenditures: list[Any] = []
        self.pending: list[Any] = []
        self.vouchers = 0

    def apply(self, op: tuple[Any, ...]) -> None:
        with contextlib.suppress(LedgerError):
            getattr(self, "_" + op[0])(*op[1:])

    def _spend(self, day: date, amount: int) -> None:
        self.vouchers += 1
        self.expenditures.append(f.expenditure(
            self.ledger, self.allocation, amount=amount, spent_on=day,
            voucher=f"V{self.vouchers}").subject.id)

    def _spend_batch(self, days: list[date]) -> None:
        with self.ledger.batch():
            for day in days:
                with contextlib.suppress(LedgerError):
                    self._spend(day, 1)

    def _reverse(self, index: int, day: date) -> None:
        if self.expenditures:
            self.ledger.reverse_expenditure(OFFICER, self.expenditures[index % len(
                self.expenditures)], reason="r", effective_date=day)

    def _adjust(self, day: date) -> None:
        self.pending.append(self.ledger.adjust_allocation(
            APPROVER, self.allocation, delta=100, reason="r", effective_date=day).subject.id)

    def _decide(self, index: int, approve: bool) -> None:
        if self.pending:
            change = self.pending[index % len(self.pending)]
            if approve:
                self.ledger.approve_change(CHECKER, change)
            else:
                self.ledger.reject_change(CHECKER, change, reason="r")

    def _close(self, month: int) -> None:
        made = self.ledger.close_period(APPROVER, f"2025-{month:02d}")
        self.pending.append(made.subject.id)
        self.ledger.approve_change(CHECKER, made.subject.id)


def _check(ledger: FundLedger) -> None:
    closed: set[str] = set()
    dated = 0
    for notification in ledger.recorder.select_notifications(start=1, limit=1_000_000):
        event = ledger.mapper.to_domain_event(notification)
        if isinstance(event, AccountingPeriods.MonthClosed):
            closed.add(event.month)
            continue
        stamp = getattr(event, "stamp", None)
        if isinstance(stamp, Stamp):
            dated += 1
            assert month_of(stamp.effective_date) not in closed, (type(event), stamp)
    assert dated > 0
    assert {c.month for c in ledger.closed_periods()} == closed


def _run(store: Callable[[], AbstractContextManager[Settings]], examples: int) -> None:
    @settings(max_examples=examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(ops=st.lists(OPS, min_size=5, max_size=30))
    def nothing_lands_in_a_closed_month(ops: list[tuple[Any, ...]]) -> None:
        with store() as settings_:
            ledger = FundLedger(env=settings_.eventsourcing_env(), clock=lambda: TODAY)
            try:
                history = History(ledger)
                for op in ops:
                    history.apply(op)
                _check(ledger)
            finally:
                ledger.close()

    nothing_lands_in_a_closed_month()


def test_nothing_lands_in_a_closed_month(
        fresh_store: Callable[[], AbstractContextManager[Settings]]) -> None:
    _run(fresh_store, 20)
