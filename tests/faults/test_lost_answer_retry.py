"""A write whose answer was lost (the server was killed after the commit) is sent again with
the same Idempotency-Key to a fresh server process, whose group commit has never seen it:
the answer must be the original, not a refusal by the write's own effect.

Found by the API crash scenario: registering a school again answered 409
school_already_registered, approving again 409 not_proposed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from api.settings import Settings
from domain.group_commit import GroupCommit
from domain.ledger import FundLedger
from tests.conftest import APPROVER, OFFICER, TODAY


@pytest.fixture
def two_processes(postgres_settings: Settings) -> Iterator[tuple[FundLedger, FundLedger]]:
    """Two ledgers on one store, as the killed server and its successor."""
    first = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    second = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    yield first, second
    first.close()
    second.close()


def _school(ledger: FundLedger, key: str):
    return ledger.register_school(OFFICER, code="LOST-1", name="n", district="Pei",
                                  level="primary", locale="rural", poverty_area=False,
                                  students=10, effective_date=date(2025, 1, 1),
                                  idempotency_key=key)


@pytest.mark.postgres
def test_a_repeated_registration_through_group_commit_replays(
        two_processes: tuple[FundLedger, FundLedger]) -> None:
    killed, successor = two_processes
    original = GroupCommit(killed)
    first = original.submit(lambda: _school(killed, "k-school"))
    original.close()
    group = GroupCommit(successor)
    try:
        again = group.submit(lambda: _school(successor, "k-school"))
    finally:
        group.close()
    assert again.replayed
    assert again.subject.id == first.subject.id
    assert successor.last_position() == first.position


@pytest.mark.postgres
def test_a_repeated_approval_through_group_commit_replays(
        two_processes: tuple[FundLedger, FundLedger]) -> None:
    killed, successor = two_processes
    _school(killed, "k-setup")
    killed.open_fund(OFFICER, code="LOST-F", name="f", fiscal_year=2025, unit="CNY", amount=10**6,
                     source="county", category="other", effective_date=date(2025, 1, 2))
    proposal = killed.propose_allocation(OFFICER, fund="LOST-F", school="LOST-1", amount=10**5,
                                         purpose="p", effective_date=date(2025, 2, 1)).subject

    def approve(ledger: FundLedger):
        return ledger.approve_allocation(APPROVER, proposal.id, effective_date=date(2025, 2, 2),
                                         idempotency_key="k-approve")

    original = GroupCommit(killed)
    first = original.submit(lambda: approve(killed))
    original.close()
    group = GroupCommit(successor)
    try:
        again = group.submit(lambda: approve(successor))
    finally:
        group.close()
    assert again.replayed
    assert (again.subject.id, again.subject.status) == (proposal.id, "approved")
    assert successor.last_position() == first.position
