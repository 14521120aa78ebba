"""Many aggregates read together (domain/event_reading.py, the year-end close's and the
tranches' read) start from each aggregate's latest sealed snapshot and fold only the events
after it: the state is the one a replay of every event gives; a snapshot whose seal fails is
passed over and counted, as a single read passes it over. On both stores."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from domain.allocation import Allocation
from domain.errors import BatchRejected, LedgerError
from domain.event_reading import read_aggregate, read_aggregates
from domain.ledger import FundLedger
from domain.snapshot_seal import seal
from projections.database import ViewDatabase
from projections.snapshot_check import check_snapshots
from tests import factories as f
from tests.conftest import APPROVER, OFFICER, TODAY
from tests.domain.test_snapshot_seal import _forge, _snapshot_table

INTERVAL = FundLedger.snapshotting_intervals[Allocation]


def _funded(ledger: FundLedger, school: str) -> UUID:
    f.school(ledger, code=school)
    allocation = f.proposal(ledger, school_code=school, amount=1_000_000_00)
    ledger.approve_allocation(APPROVER, allocation)
    return allocation


def _spend(ledger: FundLedger, allocation: UUID, count: int, tag: str) -> None:
    for start in range(0, count, 500):
        ledger.record_expenditures(OFFICER, [
            {"allocation": allocation, "amount": 100 + i, "payee": "徐州市教学用品供应站",
             "voucher": f"{tag}-{i}", "spent_on": TODAY}
            for i in range(start, min(count, start + 500))])


def _past_a_snapshot(store: Settings) -> UUID:
    """An allocation spent from two events past its first snapshot, the ledger closed."""
    ledger = FundLedger(env=store.eventsourcing_env(), clock=lambda: TODAY)
    try:
        f.fund(ledger, amount=4_000_000_00)
        allocation_id = _funded(ledger, "S001")
        _spend(ledger, allocation_id, INTERVAL + 2, "V")
    finally:
        ledger.close()
    return allocation_id


def _replayed(ledger: FundLedger, aggregate_id: UUID) -> Any:
    aggregate = None
    for event in ledger.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    return aggregate


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spends=st.lists(st.integers(min_value=0, max_value=INTERVAL * 2 + 3), min_size=1,
                       max_size=3))
def test_many_read_equals_a_replay_of_every_event(
        fresh_store: Callable[[], AbstractContextManager[Settings]], spends: list[int]) -> None:
    with fresh_store() as store:
        ledger = FundLedger(env=store.eventsourcing_env(), clock=lambda: TODAY)
        try:
            f.fund(ledger, amount=4_000_000_00)
            ids = []
            for index, count in enumerate(spends):
                ids.append(_funded(ledger, f"S{index:03d}"))
                _spend(ledger, ids[-1], count, f"V{index}")
        finally:
            ledger.close()
        reopened = FundLedger(env=store.eventsourcing_env(), clock=lambda: TODAY)
        try:
            read = read_aggregates(reopened, ids)
            for aggregate_id, count in zip(ids, spends, strict=True):
                assert vars(read[aggregate_id]) == vars(_replayed(reopened, aggregate_id))
                assert read[aggregate_id].spent == sum(100 + i for i in range(count))
                # One aggregate read alone (a command's `load`) folds the same way.
                assert vars(read_aggregate(reopened, aggregate_id)) == vars(read[aggregate_id])
        finally:
            reopened.close()


def test_many_read_starts_from_the_sealed_snapshot(store_settings: Settings) -> None:
    """A snapshot sealed under the bureau's key is taken as the aggregate's state at its
    version (that is what the seal vouches for): the read folds only the events after it."""
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        f.fund(ledger, amount=4_000_000_00)
        allocation_id = _funded(ledger, "S001")
        _spend(ledger, allocation_id, INTERVAL + 2, "V")
        assert ledger.snapshots is not None
        (snapshot,) = ledger.snapshots.get(allocation_id)
        # Rewritten and sealed again with the key: only a holder of the key can do this.
        snapshot.state["spent"] += 7
        stored = seal(ledger.snapshots.key, ledger.mapper.to_stored_event(snapshot))
    finally:
        ledger.close()
    assert _forge(store_settings, lambda _state: stored.state) == 1
    reopened = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        key = reopened.snapshots.key  # type: ignore[union-attr]
        assert key == ledger.snapshots.key
        for read in (read_aggregates(reopened, [allocation_id])[allocation_id],
                     read_aggregate(reopened, allocation_id)):
            assert read.spent == _replayed(reopened, allocation_id).spent + 7
            assert read.version == _replayed(reopened, allocation_id).version
    finally:
        reopened.close()


def test_many_read_passes_over_a_forged_snapshot_and_counts_it(store_settings: Settings) -> None:
    allocation_id = _past_a_snapshot(store_settings)
    assert _forge(store_settings, lambda state: state.replace(b'"spent":', b'"spent":1')) == 1
    reopened = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        read = read_aggregates(reopened, [allocation_id])[allocation_id]
        assert vars(read) == vars(_replayed(reopened, allocation_id))
        assert reopened.snapshots is not None
        assert reopened.snapshots.rejected == 1
        assert vars(read_aggregate(reopened, allocation_id)) == vars(read)
        assert reopened.snapshots.rejected == 2  # counted again: read again
    finally:
        reopened.close()


def _rewrite(settings: Settings, version: int, state: bytes) -> None:
    """The snapshot row at `version` (the only aggregate snapshotted there) given `state`."""
    db = ViewDatabase.open(settings)
    try:
        table = _snapshot_table(settings)
        assert db.rows(f"SELECT 1 FROM {table} WHERE originator_version = ?", (version,)) == [(1,)]
        db.execute(f"UPDATE {table} SET state = ? WHERE originator_version = ?", (state, version))
    finally:
        db.close()


def test_verify_finds_the_one_sealed_snapshot_that_differs_from_the_replay(
        store_settings: Settings) -> None:
    """`verify`'s snapshot check replays each aggregate once, comparing at every snapshot on
    the way: a later snapshot that differs is found, the earlier ones pass."""
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        f.fund(ledger, amount=4_000_000_00)
        allocation_id = _funded(ledger, "S001")
        for batch in range(3):  # a snapshot per save that crosses a multiple of the interval
            _spend(ledger, allocation_id, INTERVAL, f"V{batch}")
        assert ledger.snapshots is not None
        snapshots = list(ledger.snapshots.get(allocation_id))
        assert len(snapshots) >= 2
        assert check_snapshots(ledger) == []
        later = snapshots[-1]
        later.state["allocated"] -= 1
        stored = seal(ledger.snapshots.key, ledger.mapper.to_stored_event(later))
        _rewrite(store_settings, later.originator_version, stored.state)
        assert check_snapshots(ledger) == [
            f"snapshot of {allocation_id} at version {later.originator_version}: "
            "differs from a replay of its events"]
    finally:
        ledger.close()


batch_items = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 700)), min_size=1, max_size=12)


def _three_allocations(store: Settings) -> list[UUID]:
    ledger = FundLedger(env=store.eventsourcing_env(), clock=lambda: TODAY)
    try:
        f.fund(ledger, amount=4_000_000_00)
        ids = []
        for index in range(3):
            f.school(ledger, code=f"S{index:03d}")
            allocation = f.proposal(ledger, school_code=f"S{index:03d}", amount=1_000)
            ledger.approve_allocation(APPROVER, allocation)
            ids.append(allocation)
        return ids
    finally:
        ledger.close()


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=batch_items)
def test_a_batch_read_ahead_decides_as_one_by_one_in_a_fresh_process(
        fresh_store: Callable[[], AbstractContextManager[Settings]],
        items: list[tuple[int, int]]) -> None:
    """A batch in a process that remembers none of its allocations reads them together
    (`read_ahead`) and never one by one; it refuses exactly what one-by-one recording in
    another fresh process refuses, and leaves the same books."""
    with fresh_store() as batch_store, fresh_store() as alone_store:
        batch_ids, alone_ids = _three_allocations(batch_store), _three_allocations(alone_store)
        alone = FundLedger(env=alone_store.eventsourcing_env(), clock=lambda: TODAY)
        batch = FundLedger(env=batch_store.eventsourcing_env(), clock=lambda: TODAY)
        try:
            refused_alone = []
            for index, (which, amount) in enumerate(items):
                try:
                    alone.record_expenditure(OFFICER, allocation=alone_ids[which], amount=amount,
                                             payee="p", voucher=f"V{index}", spent_on=TODAY)
                except LedgerError as error:
                    refused_alone.append((index, error.code))
            one_by_one: list[UUID] = []
            read_one = batch._read
            batch._read = lambda i, kind: one_by_one.append(i) or read_one(i, kind)  # type: ignore[method-assign]
            refused: list[tuple[int, str]] | None = None
            try:
                batch.record_expenditures(OFFICER, [
                    {"allocation": batch_ids[which], "amount": amount, "payee": "p",
                     "voucher": f"V{index}", "spent_on": TODAY}
                    for index, (which, amount) in enumerate(items)])
            except BatchRejected as rejection:
                refused = [(i, code) for i, code, _ in rejection.errors]
            finally:
                batch._read = read_one  # type: ignore[method-assign]
            assert not set(one_by_one) & set(batch_ids)
            if refused is not None:
                assert refused == refused_alone
                assert [batch.get_allocation(i).spent for i in batch_ids] == [0, 0, 0]
            else:
                assert refused_alone == []
                assert ([batch.get_allocation(i).spent for i in batch_ids]
                        == [alone.get_allocation(i).spent for i in alone_ids])
        finally:
            alone.close()
            batch.close()


@pytest.mark.postgres
def test_one_aggregate_is_read_from_its_snapshot_and_later_events_in_one_query(
        postgres_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server reading an allocation it has not met asks the store once, not once for the
    snapshot and once more for the events after it."""
    allocation_id = _past_a_snapshot(postgres_settings)
    reopened = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        recorder = reopened.recorder
        asked: list[str] = []
        for name in ("select_snapshot_and_events", "select_events"):
            method = getattr(recorder, name)
            monkeypatch.setattr(recorder, name, lambda *a, _m=method, _n=name, **k:
                                asked.append(_n) or _m(*a, **k))
        monkeypatch.setattr(reopened.snapshots, "get", lambda *a, **k: pytest.fail("asked apart"))
        allocation = reopened.load(allocation_id)
        assert asked == ["select_snapshot_and_events"]
        assert vars(allocation) == vars(_replayed(reopened, allocation_id))
    finally:
        reopened.close()
