"""A store written by an earlier release opens with today's code, on SQLite and PostgreSQL:
every aggregate loads (from its snapshot where it has one, and from its events alone), the views
migrate (`fundledger migrate`) and rebuild equal to an independent replay, the hash chain
verifies, the release's signed digest still holds, and new events follow the old ones on the
same chain.

When this fails after a change of an event or of an aggregate's snapshot state, the change needs
an upcaster (`class_version` and `upcast_vX_vY`): docs/upgrading.md."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.store import open_view_runner
from domain.actors import Actor, Role
from domain.event_reading import decode_page
from domain.ledger import FundLedger
from projections import digests
from projections.journal import event_table, verify_journal
from projections.reconcile import reconcile, replay_aggregates
from projections.runner import ViewRunner
from tests.old_stores.conftest import OldStore

TODAY = date(2025, 3, 31)


def _cli(store: OldStore, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", store.settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", store.settings.postgres_schema)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_POOL_SIZE", "2")
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(store.settings.signing_key_path))
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_every_aggregate_of_an_old_store_loads(old_store: OldStore) -> None:
    ledger = FundLedger(env=old_store.settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        replayed = replay_aggregates(ledger)
        assert ledger.last_position() == old_store.facts["position"]
        for originator_id, from_events in replayed.items():
            loaded = ledger.repository.get(originator_id)  # through its snapshot, if any
            assert type(loaded) is type(from_events)
            assert loaded.version == from_events.version
            assert _plain(loaded.__dict__) == _plain(from_events.__dict__), originator_id
    finally:
        ledger.close()


def _plain(value: Any) -> Any:
    """State as compared: a snapshot's JSON gives back a tuple as a list."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def test_an_old_store_rebuilds_reconciles_verifies_and_its_digest_holds(
        old_store: OldStore, monkeypatch: pytest.MonkeyPatch) -> None:
    position = old_store.facts["position"]
    migrated = _cli(old_store, monkeypatch, "migrate")  # the upgrade's first step
    assert f"at position {position}" in migrated
    assert "nothing to do" in _cli(old_store, monkeypatch, "migrate")
    assert f"rebuilt views from {position:,} events" in _cli(old_store, monkeypatch, "rebuild")
    assert f"up to position {position}" in _cli(old_store, monkeypatch, "reconcile")
    assert f"{position:,} events verified" in _cli(old_store, monkeypatch, "verify")
    folder = old_store.folder
    held = _cli(old_store, monkeypatch, "verify", "--digest", str(folder / "digest.json"),
                "--public-key", str(folder / "signing-key.pub.pem"))
    assert f"history up to position {position} is unchanged" in held
    with open_view_runner(old_store.settings) as runner:
        for table, count in old_store.facts["counts"].items():
            assert runner.db.scalar(f"SELECT COUNT(*) FROM {table}") == count, table


def test_new_events_follow_an_old_store_on_the_same_chain(old_store: OldStore) -> None:
    ledger = FundLedger(env=old_store.settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        officer = Actor("new.officer", frozenset({Role.OFFICER}))
        carried = ledger.get_fund(old_store.facts["carry_to"])
        allocation = ledger.get_allocation(carried.allocation_ids[0])
        ledger.record_expenditure(officer, allocation=allocation.id, amount=1_00, payee="新供应商",
                                  voucher="NEW-2025-0001", spent_on=TODAY)
        ledger.add_user("new.auditor", ["auditor"])
        with ViewRunner(old_store.settings, ledger=ledger, check_schema=False) as runner:
            runner.migrate()
        with ViewRunner(old_store.settings, ledger=ledger) as runner:
            runner.run_until_caught_up()
            checked = verify_journal(runner.db)
            assert checked.ok and checked.head_position == ledger.last_position()
            old = digests.Digest.read(old_store.folder / "digest.json")
            trusted = digests.public_key_from_pem((old_store.folder / "signing-key.pub.pem").read_bytes())
            assert digests.check_history(old, event_table(runner.db), trusted).ok
            position, lines = reconcile(ledger, runner.db)
            assert position == ledger.last_position() and lines == []
    finally:
        ledger.close()


def test_the_views_read_each_old_event_as_the_library_mapper_does(old_store: OldStore) -> None:
    """The views decode a page at a time without the library's mapper (domain/event_reading.py
    `decode_page`): the same classes and values, upcast alike, for every event of the old
    store (its events at older class versions included)."""
    ledger = FundLedger(env=old_store.settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        notifications = ledger.recorder.select_notifications(start=1, limit=1_000_000)
        assert len(notifications) == old_store.facts["position"]
        upcast = 0
        for start in range(0, len(notifications), 100):
            stored = notifications[start:start + 100]
            for notification, event in zip(stored, decode_page(ledger.mapper, stored), strict=True):
                expected = ledger.mapper.to_domain_event(notification)
                assert type(event) is type(expected), notification.id
                assert event.__dict__ == expected.__dict__, notification.id
                assert {k: str(v) for k, v in event.__dict__.items()} == {
                    k: str(v) for k, v in expected.__dict__.items()}, notification.id
                upcast += b'"class_version"' not in notification.state and getattr(
                    type(event), "class_version", 1) > 1
        assert upcast, "the old store holds events stored before their class's current version"
    finally:
        ledger.close()
