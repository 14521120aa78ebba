"""The same story on the embedded default and on PostgreSQL: the store keeps what was saved."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg.pq import TransactionStatus

from api.event_store import COPY_EVENTS_MIN
from api.settings import Settings
from domain.allocation import Allocation
from domain.fund import Fund
from domain.ledger import FundLedger
from tests.conftest import APPROVER, OFFICER
from tests.factories import SPENT_ON, funded_school

# A command's save: the store's save function, or (a store made before it) the statements.
SMALL_SAVES = ("function", "statements")


def save_small_ones(ledger: FundLedger, way: str) -> None:
    """Makes `ledger` save a few events the way named."""
    ledger.recorder._save_function_missing = way == "statements"


def test_a_school_funded_and_spending_survives_a_reopen_of_the_store(stored_ledger: FundLedger):
    stored_ledger.register_school(OFFICER, code="XZ-PZ-0007", name="邳州市新河镇中心小学",
                                  district="Pizhou", level="primary", locale="rural",
                                  poverty_area=False, students=240,
                                  effective_date=date(2025, 1, 1))
    stored_ledger.open_fund(OFFICER, code="PUB-2025", name="生均公用经费", fiscal_year=2025,
                            unit="CNY", amount=1_000_000_00, source="county",
                            category="public_operating", effective_date=date(2025, 1, 2))
    proposal = stored_ledger.propose_allocation(OFFICER, fund="PUB-2025", school="XZ-PZ-0007",
                                                amount=156_000_00, purpose="spring tranche",
                                                effective_date=date(2025, 2, 1))
    stored_ledger.approve_allocation(APPROVER, proposal.subject.id, effective_date=date(2025, 2, 3))
    spent = stored_ledger.record_expenditure(OFFICER, allocation=proposal.subject.id,
                                             amount=1_234_56, payee="邳州电力", voucher="2025-0001",
                                             spent_on=date(2025, 2, 10))
    assert spent.position == stored_ledger.last_position()

    reopened = FundLedger(env=dict(stored_ledger.env), clock=stored_ledger.today)
    allocation = reopened.get_allocation(proposal.subject.id)
    assert (allocation.allocated, allocation.spent) == (156_000_00, 1_234_56)
    assert reopened.get_fund("PUB-2025").allocated == 156_000_00
    reopened.close()


def test_a_fund_with_many_allocations_is_snapshotted_and_loads_the_same(stored_ledger: FundLedger):
    """A fund that grows long (one event per approval) is snapshotted every 50 versions; loading
    it from its snapshot plus later events gives what replaying every event gives."""
    interval = FundLedger.snapshotting_intervals[Fund]
    stored_ledger.register_school(OFFICER, code="XZ-PZ-0008", name="s", district="Pizhou",
                                  level="primary", locale="rural", poverty_area=False,
                                  students=100, effective_date=date(2025, 1, 1))
    stored_ledger.open_fund(OFFICER, code="PUB-2025", name="f", fiscal_year=2025, unit="CNY",
                            amount=10**9, source="county", category="public_operating",
                            effective_date=date(2025, 1, 2))
    with stored_ledger.batch():
        proposals = [stored_ledger.propose_allocation(
            OFFICER, fund="PUB-2025", school="XZ-PZ-0008", amount=100 + i, purpose="p",
            effective_date=date(2025, 2, 1)).subject.id for i in range(interval + 5)]
    for proposal in proposals:
        stored_ledger.approve_allocation(APPROVER, proposal, effective_date=date(2025, 2, 3))

    fund_id = stored_ledger.get_fund("PUB-2025").id
    assert stored_ledger.snapshots is not None
    snapshots = list(stored_ledger.snapshots.get(fund_id))
    assert [s.originator_version for s in snapshots] == [interval]
    reopened = FundLedger(env=dict(stored_ledger.env), clock=stored_ledger.today)
    try:
        from_snapshot = reopened.get_fund("PUB-2025")
        replayed = None
        for event in reopened.events.get(fund_id):
            replayed = event.mutate(replayed)
        assert replayed is not None
        assert from_snapshot.version == replayed.version == interval + 6
        assert vars(from_snapshot) == vars(replayed)
        assert from_snapshot.allocated == sum(100 + i for i in range(interval + 5))
    finally:
        reopened.close()


def test_a_batch_that_crosses_the_interval_snapshots_the_allocation_once_as_saved(
        stored_ledger: FundLedger):
    """A batch of spends that carries an allocation past a multiple of its snapshot interval
    leaves one snapshot, at the version the batch saved (not one read back from the store at
    each multiple); loading from it gives what replaying every event gives."""
    interval = FundLedger.snapshotting_intervals[Allocation]
    allocation_id = funded_school(stored_ledger)
    first = stored_ledger.get_allocation(allocation_id).version
    spends = interval + 10
    stored_ledger.record_expenditures(OFFICER, [
        {"allocation": allocation_id, "amount": 100, "payee": "p", "voucher": f"V-{i}",
         "spent_on": SPENT_ON} for i in range(spends)])
    assert stored_ledger.snapshots is not None
    snapshots = list(stored_ledger.snapshots.get(allocation_id))
    assert [s.originator_version for s in snapshots] == [first + spends]
    reopened = FundLedger(env=dict(stored_ledger.env), clock=stored_ledger.today)
    try:
        from_snapshot = reopened.get_allocation(allocation_id)
        replayed = None
        for event in reopened.events.get(allocation_id):
            replayed = event.mutate(replayed)
        assert replayed is not None
        assert vars(from_snapshot) == vars(replayed)
        assert from_snapshot.spent == 100 * spends
    finally:
        reopened.close()


STATE = b'{"payee": "' + b"x" * 300 + b'"}'  # about an expenditure's size: the hang is in bytes


@pytest.mark.postgres
def test_a_copied_save_is_atomic_and_ordered_on_postgres(postgres_settings: Settings) -> None:
    ledger = FundLedger(env=postgres_settings.eventsourcing_env())
    try:
        count = 30_007  # the library's own pipelined INSERT hangs on it
        assert count > COPY_EVENTS_MIN
        events = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:E", state=STATE)
                  for _ in range(count)]
        assert list(ledger.recorder.insert_events(events) or []) == list(range(1, count + 1))
        # One clash in the last event undoes the whole save.
        clash = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:E", state=STATE)
                 for _ in range(count - 1)] + [events[0]]
        with pytest.raises(IntegrityError):
            ledger.recorder.insert_events(clash)
        assert ledger.recorder.max_notification_id() == count
        # A later copied save gets the ids after it, each event at its own id, bytes intact.
        later = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:F",
                             state=STATE + str(i).encode()) for i in range(COPY_EVENTS_MIN + 1)]
        ids = list(ledger.recorder.insert_events(later) or [])
        assert ids == sorted(ids) and ids[0] > count and len(set(ids)) == len(later)
        stored = ledger.recorder.select_notifications(start=ids[0], limit=len(later))
        assert [(n.id, n.originator_id, n.state) for n in stored] == [
            (i, e.originator_id, e.state) for i, e in zip(ids, later, strict=True)]
    finally:
        ledger.close()


@pytest.mark.postgres
@pytest.mark.parametrize("way", SMALL_SAVES)
def test_a_small_save_is_atomic_ordered_and_leaves_its_connection_clean(
        postgres_settings: Settings, monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    """A command's save (the store's save function, or BEGIN … COMMIT in one round trip): a
    clash undoes all of it, raises the store's IntegrityError and hands back a connection out
    of any transaction."""
    ledger = FundLedger(env=postgres_settings.eventsourcing_env(
        ) | {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"})
    try:
        save_small_ones(ledger, way)
        events = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:E", state=STATE)
                  for _ in range(3)]
        assert list(ledger.recorder.insert_events(events) or []) == [1, 2, 3]
        pool = ledger.recorder.datastore.pool
        handed_back: list[TransactionStatus] = []
        putconn = pool.putconn

        def recorded_putconn(connection: psycopg.Connection[Any]) -> None:
            handed_back.append(connection.info.transaction_status)
            putconn(connection)

        monkeypatch.setattr(pool, "putconn", recorded_putconn)
        for _ in range(2):  # the one pooled connection serves the next save after a clash
            clash = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:E",
                                 state=STATE), events[1]]
            with pytest.raises(IntegrityError):
                ledger.recorder.insert_events(clash)
        # (The pool would roll back a connection handed back in a failed transaction, and warn.)
        assert handed_back == [TransactionStatus.IDLE] * 2
        monkeypatch.undo()
        assert ledger.recorder.max_notification_id() == 3
        later = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:F",
                             state=STATE + str(i).encode()) for i in range(2)]
        ids = list(ledger.recorder.insert_events(later) or [])
        stored = ledger.recorder.select_notifications(start=ids[0], limit=10)
        assert [(n.originator_id, n.state) for n in stored] == [
            (e.originator_id, e.state) for e in later]
        assert ids == [n.id for n in stored] and ids[0] > 3
    finally:
        ledger.close()


@pytest.mark.postgres
@pytest.mark.parametrize(("count", "way"), [(2, SMALL_SAVES[0]), (2, SMALL_SAVES[1]),
                                            (COPY_EVENTS_MIN, "copied")])
def test_a_save_that_consulted_an_aggregate_since_changed_is_refused(
        postgres_settings: Settings, count: int, way: str) -> None:
    """The save checks, under the table lock, that each aggregate it only consulted is still at
    the version consulted (0: none yet); otherwise nothing is written, as for any clash."""
    ledger = FundLedger(env=postgres_settings.eventsourcing_env())
    try:
        save_small_ones(ledger, way)
        consulted = uuid4()

        def save(seen: int) -> list[int]:
            events = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:E",
                                  state=STATE) for _ in range(count)]
            return list(ledger.recorder.insert_events(events, consulted={consulted: seen}) or [])

        assert len(save(0)) == count  # none yet, as consulted
        ledger.recorder.insert_events([StoredEvent(originator_id=consulted, originator_version=1,
                                                   topic="t:C", state=STATE)])
        head = ledger.recorder.max_notification_id()
        for stale in (0, 2):
            with pytest.raises(IntegrityError):
                save(stale)
        assert ledger.recorder.max_notification_id() == head
        assert len(save(1)) == count
    finally:
        ledger.close()


@pytest.mark.postgres
def test_a_store_without_the_save_function_saves_by_statements_until_tables_are_made(
        postgres_settings: Settings) -> None:
    """A store made by a release before the save function: its saves still work (the
    statements, one round trip), and the next process that makes tables adds the function."""
    ledger = FundLedger(env=postgres_settings.eventsourcing_env())
    recorder = ledger.recorder
    function = f"{recorder.datastore.schema}.{recorder.save_function_name}"
    with recorder.datastore.get_connection() as conn:
        conn.execute(f"DROP FUNCTION {function}")  # as an older release's store has none
    try:
        first = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:E", state=STATE)]
        assert list(recorder.insert_events(first) or []) == [1]
        assert recorder._save_function_missing
        reopened = FundLedger(env=postgres_settings.eventsourcing_env())
        try:
            second = [StoredEvent(originator_id=uuid4(), originator_version=1, topic="t:E",
                                  state=STATE)]
            assert list(reopened.recorder.insert_events(second) or []) == [2]
            assert not reopened.recorder._save_function_missing
        finally:
            reopened.close()
    finally:
        ledger.close()


@pytest.mark.postgres
def test_each_events_table_of_a_schema_is_saved_into_by_its_own_function(
        postgres_settings: Settings) -> None:
    """A schema holds the ledger's events and the bureau registry's: each save lands in its
    recorder's own table (one function for the schema sent the ledger's users to the
    registry's table, and their tokens were unknown)."""
    from api.store import open_registry  # noqa: PLC0415

    ledger = FundLedger(env=postgres_settings.eventsourcing_env())
    registry = open_registry(postgres_settings)
    try:
        assert ledger.recorder.save_function_name != registry.recorder.save_function_name
        before = (ledger.recorder.max_notification_id() or 0,
                  registry.recorder.max_notification_id() or 0)
        for recorder in (ledger.recorder, registry.recorder):
            recorder.insert_events([StoredEvent(originator_id=uuid4(), originator_version=1,
                                                topic="t:E", state=STATE)])
            assert not recorder._save_function_missing
        assert (ledger.recorder.max_notification_id(),
                registry.recorder.max_notification_id()) == (before[0] + 1, before[1] + 1)
    finally:
        registry.close()
        ledger.close()
