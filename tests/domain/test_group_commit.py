"""Group commit keeps every rule of one-save-per-command, under races and other writers."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.errors import DuplicateVoucher, InvalidInput, Overspend, WriteNotStarted
from domain.group_commit import GroupCommit, QueuedWrite
from domain.ledger import FundLedger, Outcome
from tests.conftest import APPROVER, OFFICER, TODAY

T = TypeVar("T")

THREADS = 32


@pytest.fixture
def pg_ledger(postgres_settings: Settings) -> Iterator[FundLedger]:
    app = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    yield app
    app.close()


def _funded_allocations(ledger: FundLedger, count: int, amount: int) -> list[UUID]:
    with ledger.batch():
        ledger.open_fund(OFFICER, code="PUB-2025", name="生均公用经费", fiscal_year=2025, unit="CNY",
                         amount=10**12, source="county", category="public_operating",
                         effective_date=date(2025, 1, 1))
        ids = []
        for i in range(count):
            ledger.register_school(OFFICER, code=f"XZ-PX-{i:04d}", name=f"沛县第{i}小学",
                                   district="Pei", level="primary", locale="rural",
                                   poverty_area=False, students=300,
                                   effective_date=date(2025, 1, 1))
            ids.append(ledger.propose_allocation(
                OFFICER, fund="PUB-2025", school=f"XZ-PX-{i:04d}", amount=amount,
                purpose="春季公用经费", effective_date=date(2025, 2, 1)).subject.id)
    with ledger.batch():
        for allocation_id in ids:
            ledger.approve_allocation(APPROVER, allocation_id, effective_date=date(2025, 2, 3))
    return ids


def _spend(ledger: FundLedger, allocation_id: UUID, voucher: str, amount: int) -> Outcome:
    return ledger.record_expenditure(OFFICER, allocation=allocation_id, amount=amount,
                                     payee="徐州供电公司", voucher=voucher,
                                     spent_on=date(2025, 3, 2))


@pytest.mark.postgres
def test_racing_spenders_through_group_commit_get_exactly_what_the_allocation_affords(
    pg_ledger: FundLedger,
):
    (allocation_id,) = _funded_allocations(pg_ledger, 1, amount=10_000)
    group = GroupCommit(pg_ledger)
    affordable = 7

    def attempt(k: int) -> str:
        try:
            group.submit(lambda: _spend(pg_ledger, allocation_id, f"V{k}", 10_000 // affordable))
        except Overspend:
            return "overspend"
        return "ok"

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(attempt, range(THREADS)))
    group.close()

    assert results.count("ok") == affordable
    assert results.count("overspend") == THREADS - affordable
    fresh = FundLedger(env=dict(pg_ledger.env), clock=lambda: TODAY)
    allocation = fresh.get_allocation(allocation_id)
    assert allocation.spent == affordable * (10_000 // affordable)
    assert allocation.spent <= allocation.allocated
    fresh.close()


@pytest.mark.postgres
def test_a_voucher_taken_by_another_process_is_refused_and_its_group_neighbours_succeed(
    pg_ledger: FundLedger,
):
    first, second = _funded_allocations(pg_ledger, 2, amount=100_000)
    other_process = FundLedger(env=dict(pg_ledger.env), clock=lambda: TODAY)
    _spend(other_process, first, "DUP-1", 100)
    group = GroupCommit(pg_ledger, batch_wait_ms=50)

    with ThreadPoolExecutor(4) as pool:
        duplicate = pool.submit(group.submit, lambda: _spend(pg_ledger, first, "DUP-1", 100))
        neighbours = [pool.submit(group.submit, lambda k=k: _spend(pg_ledger, second, f"N{k}", 100))
                      for k in range(3)]
        with pytest.raises(DuplicateVoucher):
            duplicate.result()
        assert all(n.result().position > 0 for n in neighbours)
    group.close()
    other_process.close()
    assert pg_ledger.get_allocation(second).spent == 300
    assert pg_ledger.get_allocation(first).spent == 100


@pytest.mark.postgres
def test_a_write_by_another_process_does_not_leave_group_commit_working_from_stale_state(
    pg_ledger: FundLedger,
):
    (allocation_id,) = _funded_allocations(pg_ledger, 1, amount=1_000)
    group = GroupCommit(pg_ledger)
    group.submit(lambda: _spend(pg_ledger, allocation_id, "A1", 400))
    other_process = FundLedger(env=dict(pg_ledger.env), clock=lambda: TODAY)
    _spend(other_process, allocation_id, "B1", 400)

    # Only 200 remain: the group must see the other process's spending, not its own memory.
    with pytest.raises(Overspend):
        group.submit(lambda: _spend(pg_ledger, allocation_id, "A2", 400))
    group.submit(lambda: _spend(pg_ledger, allocation_id, "A3", 200))
    group.close()
    other_process.close()
    assert pg_ledger.get_allocation(allocation_id).spent == 1_000


def test_a_repeated_idempotency_key_in_one_group_writes_once(ledger: FundLedger):
    (allocation_id,) = _funded_allocations(ledger, 1, amount=1_000)
    group = GroupCommit(ledger, batch_wait_ms=50)

    def keyed() -> Outcome:
        return ledger.record_expenditure(OFFICER, allocation=allocation_id, amount=100,
                                         payee="新华书店", voucher="K-1",
                                         spent_on=date(2025, 3, 2), idempotency_key="req-1")

    with ThreadPoolExecutor(4) as pool:
        outcomes = [f.result() for f in [pool.submit(group.submit, keyed) for _ in range(4)]]
    group.close()
    assert len({o.subject.id for o in outcomes}) == 1
    assert ledger.get_allocation(allocation_id).spent == 100


def test_a_group_that_cannot_be_confirmed_in_time_says_so(ledger: FundLedger):
    group = GroupCommit(ledger)
    group.close()  # nobody commits any more
    with pytest.raises(WriteNotStarted):
        group.submit(lambda: Outcome([], 0), timeout_seconds=0.05)


def _held_spend(ledger: FundLedger, allocation_id: UUID, release: threading.Event) -> Outcome:
    release.wait(5)  # holds the committer, as a stalled store would
    return _spend(ledger, allocation_id, "V-SLOW", 100)


def test_a_write_that_waits_too_long_in_the_queue_is_withdrawn_unstarted(ledger: FundLedger) -> None:
    (allocation_id,) = _funded_allocations(ledger, 1, amount=10_000)
    group = GroupCommit(ledger)
    release = threading.Event()
    slow_first = partial(_held_spend, ledger, allocation_id, release)

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(group.submit, slow_first)
        time.sleep(0.05)  # the committer has taken the first request
        with pytest.raises(WriteNotStarted):
            group.submit(lambda: _spend(ledger, allocation_id, "V-LATE", 100), timeout_seconds=0.1)
        release.set()
        first.result(timeout=10)
    group.close()
    spent = ledger.get_allocation(allocation_id).spent
    assert spent == 100  # the withdrawn write never ran, even after the committer was free


def test_a_write_already_in_a_batch_is_answered_with_its_outcome_however_long_it_takes(
        ledger: FundLedger) -> None:
    (allocation_id,) = _funded_allocations(ledger, 1, amount=10_000)
    group = GroupCommit(ledger)

    def slow() -> Outcome:
        time.sleep(0.3)  # longer than the caller's bound, but started: its fate is decided
        return _spend(ledger, allocation_id, "V-SLOW", 100)

    outcome = group.submit(slow, timeout_seconds=0.05)
    group.close()
    assert outcome.position is not None
    assert ledger.get_allocation(allocation_id).spent == 100


def _run_on_a_loop_of_its_own(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run` in a thread of its own: an earlier browser test's sync Playwright may
    still hold a running loop in this thread, where `asyncio.run` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def test_an_async_caller_hears_its_outcome_or_its_refusal_once_durable(ledger: FundLedger) -> None:
    """`submit_async` (the `async` routes' way) keeps `submit`'s rules: the outcome once saved,
    a refusal as the same error, concurrent callers grouped and each answered with its own."""
    (allocation_id,) = _funded_allocations(ledger, 1, amount=1_000)
    group = GroupCommit(ledger)

    async def spend_all() -> list[Outcome | BaseException]:
        return await asyncio.gather(*(
            group.submit_async(partial(_spend, ledger, allocation_id, f"A-{i}", 300))
            for i in range(5)), return_exceptions=True)

    try:
        answers = _run_on_a_loop_of_its_own(spend_all)
    finally:
        group.close()
    saved = [a for a in answers if isinstance(a, Outcome)]
    assert len(saved) == 3
    assert all(isinstance(a, Overspend) for a in answers if not isinstance(a, Outcome))
    assert all(o.position is not None for o in saved)
    assert ledger.get_allocation(allocation_id).spent == 900


def test_an_async_write_that_waits_too_long_is_withdrawn_and_a_started_one_awaited(
        ledger: FundLedger) -> None:
    (allocation_id,) = _funded_allocations(ledger, 1, amount=10_000)
    group = GroupCommit(ledger)
    release = threading.Event()
    slow_first = partial(_held_spend, ledger, allocation_id, release)

    async def late_and_slow() -> Outcome:
        first = asyncio.ensure_future(group.submit_async(slow_first, timeout_seconds=0.05))
        await asyncio.sleep(0.1)  # the committer has taken the first request
        with pytest.raises(WriteNotStarted):
            await group.submit_async(lambda: _spend(ledger, allocation_id, "V-LATE", 100),
                                     timeout_seconds=0.1)
        release.set()
        return await first  # past its bound, but started: answered with its fate

    try:
        outcome = _run_on_a_loop_of_its_own(late_and_slow)
    finally:
        group.close()
    assert outcome.position is not None
    assert ledger.get_allocation(allocation_id).spent == 100  # V-LATE never ran


class _CountingQueue(queue.SimpleQueue[Any]):
    """A queue that notes each wait for a request that is not there yet."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if timeout is not None:
            self.waits.append(timeout)
        return super().get(block, timeout)


def test_a_lone_write_is_committed_at_once_and_a_busy_committer_waits_for_company(
        ledger: FundLedger) -> None:
    """One client writing alone would pay the batch wait on every write and gain nothing."""
    group = GroupCommit(ledger, batch_wait_ms=5)
    group.close()  # the committer thread is gone: its steps are taken by hand here
    waiting = _CountingQueue()
    group._queue = waiting
    for last_batch, waits in ((0, 0), (1, 0), (2, 1), (40, 1)):
        group._last_batch_size = last_batch
        waiting.waits.clear()
        assert group._gather([QueuedWrite(lambda: Outcome([], 0))]) is False
        assert len(waiting.waits) == waits, last_batch


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(refusals=st.lists(st.booleans(), min_size=1, max_size=40))
def test_each_queued_write_is_answered_once_with_its_own_fate(
        ledger: FundLedger, refusals: list[bool]) -> None:
    """`enqueue`'s callback (how the committer process answers a worker) hears each write
    exactly once, with its own outcome or refusal, however the writes were grouped."""
    group = GroupCommit(ledger)
    heard: queue.SimpleQueue[tuple[int, Outcome | None, BaseException | None]] = queue.SimpleQueue()

    def command(number: int, refused: bool) -> Outcome:
        if refused:
            raise InvalidInput(f"refused {number}")
        return Outcome([], number)

    try:
        for number, refused in enumerate(refusals):
            group.enqueue(partial(command, number, refused),
                          lambda write, n=number: heard.put((n, write.outcome, write.error)))
        answers = [heard.get(timeout=10) for _ in refusals]
    finally:
        group.close()
    assert heard.empty()
    assert sorted(n for n, _, _ in answers) == list(range(len(refusals)))
    for number, outcome, error in answers:
        if refusals[number]:
            assert outcome is None
            assert isinstance(error, InvalidInput)
            assert str(error) == f"refused {number}"
        else:
            assert error is None
            assert outcome is not None
            assert outcome.position == number
