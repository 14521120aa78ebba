"""A command alone trusts its last read of the closed months for PERIODS_FRESH_SECONDS: a
month closed by another process is refused here once that time has passed, and at once
inside a batch (read from the store once per batch). Both stores."""

from __future__ import annotations

import time
from datetime import date

import pytest

from api.settings import Settings
from domain import periods
from domain.errors import PeriodClosed
from domain.ledger import FundLedger
from tests import factories as f
from tests.conftest import APPROVER, CHECKER, TODAY


def test_a_close_by_another_process_holds_here(store_settings: Settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(periods, "PERIODS_FRESH_SECONDS", 0.2)
    here = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    elsewhere = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        allocation = f.funded_school(here)
        f.expenditure(here, allocation, voucher="V-1", spent_on=date(2025, 3, 2))  # read: open
        made = elsewhere.close_period(APPROVER, "2025-03")
        elsewhere.approve_change(CHECKER, made.subject.id)
        with here.batch():  # a batch reads the closed months from the store
            f.refused(here, PeriodClosed, "period_closed", lambda: f.expenditure(
                here, allocation, voucher="V-2", spent_on=date(2025, 3, 3)))
        time.sleep(0.3)
        f.refused(here, PeriodClosed, "period_closed", lambda: f.expenditure(
            here, allocation, voucher="V-3", spent_on=date(2025, 3, 4)))
        assert here.get_allocation(allocation).spent == 1_000_00
    finally:
        here.close()
        elsewhere.close()
