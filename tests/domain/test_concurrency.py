"""Racing writers on PostgreSQL, each command with its own save (no group commit): the
optimistic concurrency of DESIGN §3 keeps every allocation within its amount and every fund
within its appropriation, and the stored events add up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

import pytest

from api.settings import Settings
from domain.errors import ConcurrencyConflict, LedgerError, OverAllocation, Overspend
from domain.ledger import FundLedger
from domain.limits import COMMAND_ATTEMPTS_MAX
from tests import factories as f
from tests.conftest import APPROVER, OFFICER, TODAY

THREADS = 32
CONNECTIONS = 12  # fewer than the racers: a racer waits for a connection only to read or save
# A racer retries only after another racer's write won, and there are only K winning writes;
# with K ≤ COMMAND_ATTEMPTS_MAX nobody can run out of attempts before the allocation is spent
# up, so exactly K succeed (and a larger K might leave money unspent by giving up).
AFFORDABLE = COMMAND_ATTEMPTS_MAX
AMOUNT = 12_345


@pytest.fixture
def pg_ledger(postgres_settings: Settings) -> Iterator[FundLedger]:
    settings = postgres_settings.model_copy(update={"postgres_pool_size": CONNECTIONS})
    env = settings.eventsourcing_env()
    # The racers share CONNECTIONS and no more: the suite runs on every core beside tests that
    # serve apps, and a pool of one per racer (up to 42 with the library's overflow of 10) can
    # take the server to its 100 connections (a CI run hit it: another test answered 503).
    env["POSTGRES_MAX_OVERFLOW"] = "0"
    # Many connections opened at once can take longer than the server's 2 s on a loaded 2-core
    # machine; the race is about concurrency control, not connection latency.
    env["POSTGRES_CONNECT_TIMEOUT"] = "15"
    app = FundLedger(env=env, clock=lambda: TODAY)
    yield app
    app.close()


def race(attempts: list[Callable[[], object]]) -> list[str]:
    """Starts every attempt at once; names what each one got."""
    start = Barrier(len(attempts))

    def run(attempt: Callable[[], object]) -> str:
        start.wait()
        try:
            attempt()
        except LedgerError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(run, attempts))


def recorded(ledger: FundLedger, suffix: str) -> int:
    return sum(n.topic.endswith(suffix)
               for n in ledger.recorder.select_notifications(start=1, limit=1_000_000))


@pytest.mark.postgres
def test_racing_spenders_get_exactly_what_the_allocation_affords(pg_ledger: FundLedger):
    allocation_id = f.funded_school(pg_ledger, amount=AFFORDABLE * AMOUNT + AMOUNT - 1)
    outcomes = race([
        lambda k=k: pg_ledger.record_expenditure(
            OFFICER, allocation=allocation_id, amount=AMOUNT, payee="徐州供电公司",
            voucher=f"R-{k:03d}", spent_on=date(2025, 6, 1))
        for k in range(THREADS)
    ])

    assert outcomes.count("ok") == AFFORDABLE
    assert set(outcomes) <= {"ok", Overspend.code, ConcurrencyConflict.code}
    fresh = FundLedger(env=dict(pg_ledger.env), clock=lambda: TODAY)
    allocation = fresh.get_allocation(allocation_id)
    assert allocation.spent == AFFORDABLE * AMOUNT
    assert allocation.spent <= allocation.allocated
    assert recorded(fresh, "Expenditure.Recorded") == AFFORDABLE
    assert recorded(fresh, "Allocation.Spent") == AFFORDABLE
    fresh.close()


@pytest.mark.postgres
def test_racing_approvals_never_over_allocate_the_fund(pg_ledger: FundLedger):
    affordable = AFFORDABLE - 3
    f.school(pg_ledger)
    f.fund(pg_ledger, amount=affordable * AMOUNT + AMOUNT - 1)
    with pg_ledger.batch():
        proposals = [f.proposal(pg_ledger, amount=AMOUNT) for _ in range(THREADS)]
    outcomes = race([
        lambda p=p: pg_ledger.approve_allocation(APPROVER, p, effective_date=f.APPROVED_ON)
        for p in proposals
    ])

    assert outcomes.count("ok") == affordable
    assert set(outcomes) <= {"ok", OverAllocation.code, ConcurrencyConflict.code}
    fresh = FundLedger(env=dict(pg_ledger.env), clock=lambda: TODAY)
    fund = fresh.get_fund("PUB-2025")
    assert fund.allocated == affordable * AMOUNT <= fund.appropriated
    statuses = [fresh.get_allocation(p).status for p in proposals]
    assert statuses.count("approved") == affordable
    assert statuses.count("proposed") == THREADS - affordable
    assert recorded(fresh, "Allocation.Approved") == affordable
    assert recorded(fresh, "Fund.Committed") == affordable
    fresh.close()
