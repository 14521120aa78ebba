"""The views' runner keeps the snapshots the write path leaves out (domain/snapshot_keeping.py):
after it has followed the log, every allocation with at least `kept_every` events has a sealed
snapshot fewer than `kept_every` events behind it, each snapshot is the replay's state at its
version, and none clashes with the write path's own. On both stores."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.allocation import Allocation
from domain.expenditure import Expenditure
from domain.fund import Fund
from domain.ledger import FundLedger
from domain.snapshot_keeping import SnapshotKeeper, aggregate_kind, due
from projections import runner as runner_module
from projections.runner import ViewRunner
from tests import factories as f
from tests.conftest import TODAY
from tests.domain.test_many_reads import _funded, _spend

KEPT_EVERY = FundLedger.snapshots_kept_every[Allocation]
INTERVAL = FundLedger.snapshotting_intervals[Allocation]


def _snapshots(ledger: FundLedger, aggregate_id: UUID) -> list[Any]:
    assert ledger.snapshots is not None
    return list(ledger.snapshots.get(aggregate_id))


def _replayed_to(ledger: FundLedger, aggregate_id: UUID, version: int) -> Any:
    aggregate = None
    for event in ledger.events.get(aggregate_id, lte=version):
        aggregate = event.mutate(aggregate)
    return aggregate


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.lists(st.integers(min_value=0, max_value=KEPT_EVERY * 3 + 1),
                                min_size=2, max_size=2), min_size=1, max_size=8),
       page_size=st.sampled_from([3, 50, 1000]))
def test_a_followed_allocation_is_never_a_kept_interval_behind_its_snapshot(
        fresh_store: Callable[[], AbstractContextManager[Settings]],
        rounds: list[list[int]], page_size: int) -> None:
    """Spends on two allocations in rounds, the runner following after every other round and
    restarted after every third, whatever its page size: every snapshot is the replay at its
    version, and each allocation's latest is fewer than `kept_every` events behind."""
    with fresh_store() as store:
        ledger = FundLedger(env=store.eventsourcing_env(), clock=lambda: TODAY)
        views = ViewRunner(store, ledger=ledger, page_size=page_size)
        try:
            f.fund(ledger, amount=4_000_000_00)
            ids = [_funded(ledger, "S001"), _funded(ledger, "S002")]
            for index, counts in enumerate(rounds):
                for allocation, count in zip(ids, counts, strict=True):
                    _spend(ledger, allocation, count, f"R{index}-{allocation.hex[:6]}")
                if index % 2 == 0:
                    views.run_until_caught_up()
                if index % 3 == 2:  # a restart: what the keeper held is gone
                    views.close()
                    views = ViewRunner(store, ledger=ledger, page_size=page_size)
            views.run_until_caught_up()
            for allocation in ids:
                version = ledger.repository.get(allocation).version
                snapshots = _snapshots(ledger, allocation)
                for snapshot in snapshots:
                    assert vars(snapshot.mutate(None)) == vars(
                        _replayed_to(ledger, allocation, snapshot.originator_version))
                if version >= KEPT_EVERY:
                    assert snapshots, f"no snapshot of an allocation at version {version}"
                    assert version - snapshots[-1].originator_version < KEPT_EVERY
        finally:
            views.close()
            ledger.close()


def test_a_page_seen_again_takes_no_second_snapshot(store_ledger: FundLedger) -> None:
    f.fund(store_ledger, amount=4_000_000_00)
    allocation = _funded(store_ledger, "S001")
    _spend(store_ledger, allocation, KEPT_EVERY * 2, "V")
    page = [(e.originator_id, e.originator_version, e.topic)
            for e in store_ledger.recorder.select_events(allocation)]
    assert SnapshotKeeper(store_ledger).keep(page) == 1
    assert SnapshotKeeper(store_ledger).keep(page) == 0
    assert len(_snapshots(store_ledger, allocation)) == 1


def test_the_write_paths_versions_are_left_to_it() -> None:
    """The write path snapshots every `INTERVAL` events; the keeper never asks for those
    versions, and only kinds it keeps are due."""
    allocation, fund, expenditure = UUID(int=1), UUID(int=2), UUID(int=3)
    spent = "domain.allocation:Allocation.Spent"
    assert aggregate_kind(spent) is Allocation
    assert aggregate_kind("domain.fund:Fund.Committed") is Fund
    assert aggregate_kind("domain.expenditure:Expenditure.Recorded") is Expenditure
    kept = FundLedger.snapshots_kept_every
    intervals = FundLedger.snapshotting_intervals
    assert due([(allocation, KEPT_EVERY, spent)], kept, intervals) == {allocation: KEPT_EVERY}
    assert due([(allocation, KEPT_EVERY, spent), (allocation, KEPT_EVERY + 1, spent)],
               kept, intervals) == {allocation: KEPT_EVERY + 1}
    assert due([(allocation, KEPT_EVERY + 1, spent)], kept, intervals) == {}
    assert due([(allocation, INTERVAL, spent)], kept, intervals) == {}
    assert due([(fund, KEPT_EVERY, "domain.fund:Fund.Committed"),
                (expenditure, KEPT_EVERY, "domain.expenditure:Expenditure.Recorded")],
               kept, intervals) == {}


def test_keeping_that_fails_leaves_the_views_moving(
        runner: ViewRunner, store_ledger: FundLedger, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(keeper: SnapshotKeeper, logged: Any, decoded: Any = ()) -> int:
        raise RuntimeError("snapshot table unreachable")

    monkeypatch.setattr(SnapshotKeeper, "keep", broken)
    f.fund(store_ledger, amount=4_000_000_00)
    allocation = _funded(store_ledger, "S001")
    _spend(store_ledger, allocation, KEPT_EVERY, "V")
    with caplog.at_level(logging.WARNING, logger=runner_module.log.name):
        runner.run_until_caught_up()
    assert runner.position() == store_ledger.last_position()
    assert "keeping snapshots" in caplog.text
    assert _snapshots(store_ledger, allocation) == []


def test_a_rebuild_keeps_none(runner: ViewRunner, store_ledger: FundLedger) -> None:
    """A rebuild replays history whose snapshots were kept as it was written; it takes none,
    and the runner keeps them again afterwards."""
    f.fund(store_ledger, amount=4_000_000_00)
    allocation = _funded(store_ledger, "S001")
    _spend(store_ledger, allocation, KEPT_EVERY, "V")
    runner.rebuild(parts=1)
    assert _snapshots(store_ledger, allocation) == []
    assert runner.keeps_snapshots
    _spend(store_ledger, allocation, KEPT_EVERY, "W")
    runner.run_until_caught_up()
    assert len(_snapshots(store_ledger, allocation)) == 1


def test_a_snapshot_of_a_version_held_already_is_passed_over(store_ledger: FundLedger) -> None:
    """The write path snapshots an aggregate as it saved it, at a version the keeper may have
    taken first: its save must not fail for it, in a batch of snapshots or alone."""
    f.fund(store_ledger, amount=4_000_000_00)
    first, second = _funded(store_ledger, "S001"), _funded(store_ledger, "S002")
    _spend(store_ledger, first, KEPT_EVERY, "V")
    page = [(e.originator_id, e.originator_version, e.topic)
            for e in store_ledger.recorder.select_events(first)]
    assert SnapshotKeeper(store_ledger).keep(page) == 1
    assert store_ledger.snapshots is not None
    aggregates = [store_ledger.repository.get(first), store_ledger.repository.get(second)]
    store_ledger.snapshots.put([Allocation.Snapshot.take(a) for a in aggregates])
    assert [len(_snapshots(store_ledger, a.id)) for a in aggregates] == [1, 1]
