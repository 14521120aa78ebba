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
from domain.group_commit import GroupCommit
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


@pytest.mark.postgres
def test_a_close_by_another_process_holds_at_once_for_a_committer_that_remembers_the_months(
        postgres_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The group commit consults the closed months from memory (no read per batch); the save
    checks them under the table lock, so a close made elsewhere refuses the very next write
    dated in the month, even while the lone command's last read is still trusted."""
    monkeypatch.setattr(periods, "PERIODS_FRESH_SECONDS", 600.0)
    here = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    elsewhere = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    group = GroupCommit(here)
    try:
        allocation = f.funded_school(here)
        f.expenditure(here, allocation, voucher="V-1", spent_on=date(2025, 3, 2))  # alone: open
        group.submit(lambda: f.expenditure(here, allocation, voucher="V-2",
                                           spent_on=date(2025, 3, 2)))  # a batch: open
        made = elsewhere.close_period(APPROVER, "2025-03")
        elsewhere.approve_change(CHECKER, made.subject.id)
        for voucher in ("V-3", "V-4"):
            with pytest.raises(PeriodClosed):
                group.submit(lambda v=voucher: f.expenditure(here, allocation, voucher=v,
                                                             spent_on=date(2025, 3, 3)))
        group.submit(lambda: f.expenditure(here, allocation, voucher="V-5",
                                           spent_on=date(2025, 4, 1)))  # an open month
        assert here.get_allocation(allocation).spent == 3 * 1_000_00
    finally:
        group.close()
        here.close()
        elsewhere.close()
