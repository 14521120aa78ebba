"""The year-end close starts from the allocations this process last wrote (its memory of recent
aggregates) instead of decoding every event again. When another process spent from one of
them meanwhile, the close's save meets its new version, forgets the memory and decides again
from the store: the spend is carried, never lost (both stores)."""

from __future__ import annotations

from datetime import date

from api.settings import Settings
from domain.ledger import FundLedger
from tests import factories as f
from tests.conftest import APPROVER, CHECKER, TODAY


def test_a_close_from_memory_carries_what_another_process_left(store_settings: Settings) -> None:
    here = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    elsewhere = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        allocation = f.funded_school(here, amount=9_000)
        f.fund(here, code="PUB-2026", fiscal_year=2026, effective_date=date(2025, 12, 20))
        assert here._recall(allocation) is not None  # this process wrote it last
        f.expenditure(elsewhere, allocation, amount=4_000)  # another process spends from it
        made = here.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026")
        here.approve_change(CHECKER, made.subject.id)
        closed = here.get_allocation(allocation)
        assert (closed.status, closed.spent) == ("closed", 4_000)
        assert here.get_fund("PUB-2026").allocated == 5_000  # 9,000 − 4,000 carried
    finally:
        here.close()
        elsewhere.close()
