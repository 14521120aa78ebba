"""Idempotency (DESIGN §3, contract): a repeat returns the original result and writes nothing;
the same key with other content is refused; keys belong to one user."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from api.settings import Settings
from domain.change import PendingChange
from domain.errors import IdempotencyKeyReused, OverAllocation
from domain.ledger import FundLedger, Outcome
from tests import factories as f
from tests.conftest import APPROVER, OFFICER, OFFICER_2, TODAY
from tests.factories import refused

THREADS = 16


def topics(ledger: FundLedger) -> list[str]:
    return [n.topic for n in ledger.recorder.select_notifications(start=1, limit=1_000_000)]


def count(ledger: FundLedger, suffix: str) -> int:
    return sum(topic.endswith(suffix) for topic in topics(ledger))


def propose(ledger: FundLedger, key: str, amount: int = 5_000, actor=OFFICER) -> Outcome:
    return ledger.propose_allocation(actor, fund="PUB-2025", school="XZ-PZ-0001", amount=amount,
                                     purpose="春季", effective_date=f.PROPOSED_ON,
                                     idempotency_key=key)


def spend(ledger: FundLedger, allocation_id, key: str, amount: int = 100,
          voucher: str = "K-1") -> Outcome:
    return ledger.record_expenditure(OFFICER, allocation=allocation_id, amount=amount,
                                     payee="新华书店", voucher=voucher, spent_on=f.SPENT_ON,
                                     idempotency_key=key)


@pytest.fixture
def funded(ledger: FundLedger) -> FundLedger:
    f.school(ledger)
    f.fund(ledger, amount=100_000)
    return ledger


def test_a_repeated_proposal_returns_the_original_and_writes_nothing(funded: FundLedger):
    first = propose(funded, "req-1")
    position = funded.last_position()
    again = propose(funded, "req-1")
    assert again.replayed and not first.replayed
    assert again.subject.id == first.subject.id
    assert (again.subject.version, again.subject.amount, again.subject.status) == (
        first.subject.version, first.subject.amount, first.subject.status)
    assert funded.last_position() == position
    assert again.position >= first.position  # read-your-writes still holds for the repeat
    assert count(funded, "Allocation.Proposed") == 1


def test_a_repeat_returns_the_result_as_the_request_left_it_not_as_it_is_now(funded: FundLedger):
    first = propose(funded, "req-1")
    funded.approve_allocation(APPROVER, first.subject.id, effective_date=f.APPROVED_ON)
    again = propose(funded, "req-1")
    assert again.replayed
    assert (again.subject.status, again.subject.version) == ("proposed", 1)


def test_a_repeated_expenditure_spends_once(funded: FundLedger):
    allocation_id = f.approved(funded, amount=1_000)
    first = spend(funded, allocation_id, "pay-7")
    position = funded.last_position()
    for _ in range(3):
        again = spend(funded, allocation_id, "pay-7")
        assert again.replayed and again.subject.id == first.subject.id
    assert funded.last_position() == position
    assert funded.get_allocation(allocation_id).spent == 100
    assert count(funded, "Expenditure.Recorded") == 1


def test_repeats_of_two_aggregate_commands_write_once(funded: FundLedger):
    allocation_id = f.proposal(funded, amount=1_000)
    commands = [
        lambda: funded.approve_allocation(APPROVER, allocation_id, effective_date=f.APPROVED_ON,
                                          idempotency_key="ap-1"),
        lambda: funded.adjust_allocation(APPROVER, allocation_id, delta=500, reason="more",
                                         idempotency_key="adj-1"),
        lambda: funded.transfer_allocation(OFFICER, allocation_id, amount=300, reason="moved",
                                           to_school="XZ-PZ-0001", idempotency_key="tr-1",
                                           effective_date=date(2025, 4, 1)),
        lambda: funded.adjust_fund(APPROVER, "PUB-2025", delta=-1, reason="trim",
                                   idempotency_key="fa-1"),
    ]
    for command in commands:
        first = command()
        position = funded.last_position()
        again = command()
        assert again.replayed
        assert [s.id for s in again.subjects] == [s.id for s in first.subjects]
        assert funded.last_position() == position
        if isinstance(first.subject, PendingChange):
            f.applied(funded, first)
            assert command().replayed, "a repeat after the approval is still a repeat"
    assert funded.get_allocation(allocation_id).allocated == 1_200
    assert funded.get_fund("PUB-2025").allocated == 1_500
    assert funded.get_fund("PUB-2025").appropriated == 99_999


def test_the_same_key_with_other_content_is_refused(funded: FundLedger):
    propose(funded, "req-1", amount=5_000)
    refused(funded, IdempotencyKeyReused, "idempotency_key_reused",
            lambda: propose(funded, "req-1", amount=5_001))
    # Nor may the key be taken for another command.
    allocation_id = f.approved(funded, amount=1_000)
    refused(funded, IdempotencyKeyReused, "idempotency_key_reused",
            lambda: spend(funded, allocation_id, "req-1"))


def test_keys_belong_to_one_user(funded: FundLedger):
    mine = propose(funded, "req-1", actor=OFFICER)
    theirs = propose(funded, "req-1", actor=OFFICER_2)
    assert not theirs.replayed
    assert mine.subject.id != theirs.subject.id
    assert count(funded, "Allocation.Proposed") == 2


def test_a_refused_keyed_request_leaves_the_key_free(funded: FundLedger):
    refused(funded, OverAllocation, "over_allocation", lambda: propose(funded, "req-1",
                                                                          amount=100_001))
    outcome = propose(funded, "req-1", amount=100_000)
    assert not outcome.replayed


def test_a_key_reused_inside_a_batch_is_replayed_from_the_batch(funded: FundLedger):
    with funded.batch():
        first = propose(funded, "req-1")
        again = propose(funded, "req-1")
    assert again.subject.id == first.subject.id
    assert count(funded, "Allocation.Proposed") == 1
    # The replay names the write's own position, known once the batch is saved: not the
    # store's head before it (a group-commit twin once answered a position before its write).
    assert again.replayed and again.position == first.position == funded.last_position()


# ------------------------------------------------------------------ concurrent repeats


@pytest.fixture
def pg_ledger(postgres_settings: Settings) -> Iterator[FundLedger]:
    settings = postgres_settings.model_copy(update={"postgres_pool_size": THREADS})
    # No overflow above the pool: the suite runs on every core, within the server's connections.
    app = FundLedger(env=settings.eventsourcing_env() | {"POSTGRES_MAX_OVERFLOW": "0"},
                     clock=lambda: TODAY)
    yield app
    app.close()


@pytest.mark.postgres
def test_concurrent_repeats_of_one_key_write_exactly_once(pg_ledger: FundLedger):
    f.school(pg_ledger)
    f.fund(pg_ledger, amount=100_000)
    allocation_id = f.approved(pg_ledger, amount=10_000)

    waiting = f.proposal(pg_ledger, amount=1_000)

    # Each twin either saves first or must be answered as a repeat, even when it looks at
    # the books only after the winner saved (then the voucher is taken, the proposal approved
    # and the school registered: a rule error would be the wrong answer).
    with ThreadPoolExecutor(THREADS) as pool:
        proposals = list(pool.map(lambda _: propose(pg_ledger, "same-proposal"), range(THREADS)))
        spendings = list(pool.map(lambda _: spend(pg_ledger, allocation_id, "same-payment"),
                                  range(THREADS)))
        approvals = list(pool.map(lambda _: pg_ledger.approve_allocation(
            APPROVER, waiting, effective_date=f.APPROVED_ON, idempotency_key="same-approval"),
            range(THREADS)))
        registrations = list(pool.map(lambda _: f.school(
            pg_ledger, code="XZ-PZ-0099", idempotency_key="same-school"), range(THREADS)))

    for outcomes in (proposals, spendings, approvals, registrations):
        assert len({o.subject.id for o in outcomes}) == 1
        assert sum(not o.replayed for o in outcomes) == 1
    assert count(pg_ledger, "Allocation.Proposed") == 3  # two made here, one raced for
    assert count(pg_ledger, "Expenditure.Recorded") == 1
    assert count(pg_ledger, "Allocation.Approved") == 2
    assert count(pg_ledger, "School.Registered") == 2
    assert pg_ledger.get_allocation(allocation_id).spent == 100
    assert pg_ledger.get_fund("PUB-2025").allocated == 11_000
