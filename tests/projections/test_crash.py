"""A real runner process, SIGKILLed in the middle of a large catch-up, then restarted: the
views equal a full rebuild (no event applied twice or skipped) — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from projections.reconcile import reconcile
from projections.runner import ViewRunner
from tests.conftest import APPROVER, OFFICER, TODAY
from tests.projections.conftest import dump

SCHOOLS = 40
WAIT_SECONDS_MAX = 60


def _fill(ledger: FundLedger, rounds: int) -> None:
    """A few thousand events: schools, a fund, allocations and spending, in batches."""
    with ledger.batch():
        for i in range(SCHOOLS):
            ledger.register_school(OFFICER, code=f"C-{i}", name="c", district=f"D{i % 3}",
                                   level="primary", locale=("urban", "town", "rural")[i % 3],
                                   poverty_area=False, students=100 + i,
                                   effective_date=date(2025, 1, 1))
        ledger.open_fund(OFFICER, code="C-F", name="f", fiscal_year=2025, unit="CNY",
                         amount=10**12, source="county", category="other",
                         effective_date=date(2025, 1, 2))
    for round_ in range(rounds):
        with ledger.batch():
            for i in range(SCHOOLS):
                allocation = ledger.propose_allocation(
                    OFFICER, fund="C-F", school=f"C-{i}", amount=10_000, purpose="p",
                    effective_date=date(2025, 2, 1)).subject
                ledger.approve_allocation(APPROVER, allocation.id, effective_date=date(2025, 2, 2))
                ledger.record_expenditure(OFFICER, allocation=allocation.id, amount=1_000 + i,
                                          payee="p", voucher=f"V{round_}", spent_on=date(2025, 3, 1))


def _runner_process(settings: Settings, page_size: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FUNDLEDGER_DATABASE_URL": settings.database_url,
           "FUNDLEDGER_POSTGRES_SCHEMA": settings.postgres_schema}
    # Small pages, so that the kill lands between (or inside) many transactions.
    command = [sys.executable, "-c", "from api.cli import main; main()", "project",
               "--page-size", str(page_size)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_and_resume(settings: Settings, rounds: int, kill_after_position: int,
                     page_size: int) -> None:
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        _fill(ledger, rounds)
        last = ledger.last_position()
        assert last > 3 * kill_after_position
        with ViewRunner(settings, ledger=ledger) as observer:
            process = _runner_process(settings, page_size)
            deadline = time.monotonic() + WAIT_SECONDS_MAX
            while observer.position() < kill_after_position and time.monotonic() < deadline:
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed_at = observer.position()
            assert 0 < killed_at < last, "the kill must land in the middle of the catch-up"

            process = _runner_process(settings, page_size)
            try:
                observer.wait(last, timeout=WAIT_SECONDS_MAX)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
            resumed = dump(observer.db)
            _, lines = reconcile(ledger, observer.db)
            assert lines == []
            observer.rebuild()
            assert dump(observer.db) == resumed
    finally:
        ledger.close()


def test_killed_runner_resumes_without_applying_twice_or_skipping(store_settings: Settings) -> None:
    # About 2,400 events in pages of 20: the kill lands inside a catch-up of ~120 transactions.
    _kill_and_resume(store_settings, rounds=10, kill_after_position=500, page_size=20)


@pytest.mark.slow
def test_killed_in_a_larger_catch_up(store_settings: Settings) -> None:
    _kill_and_resume(store_settings, rounds=30, kill_after_position=2_000, page_size=50)
