"""The audit-facts view batches a page's writes by statement; whatever the page boundaries, the
rows must be those of applying the events one by one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from projections.runner import ViewRunner
from tests import factories as f
from tests.conftest import APPROVER, TODAY


@pytest.fixture
def stored(store_settings: Settings) -> Iterator[tuple[FundLedger, ViewRunner]]:
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    with ViewRunner(store_settings, ledger=ledger) as runner:
        yield ledger, runner
    ledger.close()


def decision(runner: ViewRunner, allocation_id: object) -> str | None:
    rows = runner.db.rows("SELECT decision FROM findings_allocations WHERE allocation_id = ?",
                          (str(allocation_id),))
    return rows[0][0]


def test_an_approval_after_another_rows_rejection_in_one_page_is_kept(
        stored: tuple[FundLedger, ViewRunner]) -> None:
    """Page 2 holds a rejection (an UPDATE of a row from page 1), then a new proposal (an
    INSERT) and its approval (an UPDATE of the new row): the approval must not run before the
    row it approves exists. Ordering statements by first appearance once lost it."""
    ledger, runner = stored
    f.school(ledger)
    f.fund(ledger, amount=100_000)
    rejected = f.proposal(ledger, amount=1_000)
    runner.run_until_caught_up()  # page 1 ends here

    ledger.reject_allocation(APPROVER, rejected, reason="超出预算", effective_date=f.PROPOSED_ON)
    approved = f.proposal(ledger, amount=2_000)
    ledger.approve_allocation(APPROVER, approved, effective_date=f.PROPOSED_ON)
    runner.run_until_caught_up()  # page 2: all three at once

    assert decision(runner, rejected) == "rejected"
    assert decision(runner, approved) == "approved"
