"""A year-end close is tried on the books when it is made (domain/approvals.py). When the store
has not moved since, the approval applies that try as it is instead of deciding the whole
close a second time; any write in between, and it decides again. Either way the events are
recorded at the approval's time (both stores)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from api.settings import Settings
from domain.clock import recording_clock
from domain.ledger import FundLedger
from tests import factories as f
from tests.conftest import APPROVER, CHECKER, TODAY

MADE_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
APPROVED_AT = datetime(2026, 1, 6, 10, 30, tzinfo=UTC)


@pytest.fixture
def ledger(store_settings: Settings) -> Any:
    opened = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    yield opened
    opened.close()


def counting_decisions(ledger: FundLedger) -> list[int]:
    """Counts the close's decisions (each reads and plans every allocation)."""
    calls: list[int] = []
    decide: Callable[..., Any] = ledger.decide_close_fund

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return decide(*args, **kwargs)

    ledger.decide_close_fund = counted  # type: ignore[method-assign]
    return calls


def test_an_approval_with_nothing_written_since_applies_the_try(ledger: FundLedger) -> None:
    allocation = f.funded_school(ledger, amount=9_000)
    f.expenditure(ledger, allocation, amount=4_000)
    f.fund(ledger, code="PUB-2026", fiscal_year=2026, effective_date=date(2025, 12, 20))
    decisions = counting_decisions(ledger)
    with recording_clock(lambda: MADE_AT):
        made = ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026")
    with recording_clock(lambda: APPROVED_AT):
        ledger.approve_change(CHECKER, made.subject.id)
    assert len(decisions) == 1  # tried at the making, applied as tried
    closed = ledger.get_allocation(allocation)
    assert (closed.status, closed.spent) == ("closed", 4_000)
    assert ledger.get_fund("PUB-2026").allocated == 5_000
    last = list(ledger.events.get(allocation))[-1]
    assert type(last).__name__ == "CarriedForward"
    assert last.timestamp == APPROVED_AT  # recorded when approved, not when tried
    assert ledger.repository.get(allocation).modified_on == APPROVED_AT


def test_a_write_between_making_and_approval_decides_again(ledger: FundLedger) -> None:
    f.funded_school(ledger, amount=9_000)
    f.fund(ledger, code="PUB-2026", fiscal_year=2026, effective_date=date(2025, 12, 20))
    decisions = counting_decisions(ledger)
    made = ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026")
    f.school(ledger, code="XZ-OTHER")  # any write at all: the try may no longer hold
    ledger.approve_change(CHECKER, made.subject.id)
    assert len(decisions) == 2
    assert ledger.get_fund("PUB-2026").allocated == 9_000


def test_a_refused_approval_leaves_nothing_to_reuse(ledger: FundLedger) -> None:
    allocation = f.funded_school(ledger, amount=9_000)
    f.fund(ledger, code="PUB-2026", fiscal_year=2026, effective_date=date(2025, 12, 20))
    decisions = counting_decisions(ledger)
    made = ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026")
    with pytest.raises(Exception, match="cannot also decide"):
        ledger.approve_change(APPROVER, made.subject.id)  # the maker
    ledger.approve_change(CHECKER, made.subject.id)
    assert len(decisions) == 1  # the maker's refusal came before the try was taken
    assert ledger.get_allocation(allocation).status == "closed"


def test_a_spend_elsewhere_between_making_and_approval_is_carried(
        ledger: FundLedger, store_settings: Settings) -> None:
    elsewhere = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        allocation = f.funded_school(ledger, amount=9_000)
        f.fund(ledger, code="PUB-2026", fiscal_year=2026, effective_date=date(2025, 12, 20))
        decisions = counting_decisions(ledger)
        made = ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026")
        f.expenditure(elsewhere, allocation, amount=2_500)  # another process, after the try
        ledger.approve_change(CHECKER, made.subject.id)
        # The try no longer held: decided again, from this process's memory (stale: the store
        # refuses the save), then from the store.
        assert len(decisions) == 3
        assert ledger.get_allocation(allocation).spent == 2_500
        assert ledger.get_fund("PUB-2026").allocated == 6_500  # the rest carried, exactly
    finally:
        elsewhere.close()
