"""The year-end close starts from the allocations this process last wrote (its memory of recent
aggregates) instead of decoding every event again. When another process spent from one of
them meanwhile, the close's save meets its new version, forgets the memory and decides again
from the store: the spend is carried, never lost (both stores)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

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


def test_a_close_in_a_batch_reads_the_unknown_allocations_together(
        store_settings: Settings) -> None:
    """The server's group commit runs each command in a batch; a server that did not write the
    year reads its allocations in a few queries, not one or two per allocation."""
    writer = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    server = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        allocation = f.funded_school(writer, amount=9_000)
        f.expenditure(writer, allocation, amount=4_000)
        f.fund(writer, code="PUB-2026", fiscal_year=2026, effective_date=date(2025, 12, 20))
        read_one_by_one: list[UUID] = []
        read = server._read

        def recorded(aggregate_id: UUID, kind: Any) -> Any:
            read_one_by_one.append(aggregate_id)
            return read(aggregate_id, kind)

        server._read = recorded  # type: ignore[method-assign]
        with server.batch():
            made = server.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026")
        with server.batch():
            server.approve_change(CHECKER, made.subject.id)
        assert allocation not in read_one_by_one
        assert server.get_fund("PUB-2026").allocated == 5_000
        assert writer.get_allocation(allocation).status == "closed"
    finally:
        writer.close()
        server.close()
