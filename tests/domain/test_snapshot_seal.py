"""Forged snapshots (issue 14): changing `appropriated` inside a fund's snapshot row made the
API show the forged figure and approve a 400,000,000 allocation against it. Snapshots are
now sealed under a key outside the database; a forged one is ignored, the aggregate replayed
from its events, and the rejection counted. On both stores."""

from __future__ import annotations

import re
from typing import Any

from api.settings import Settings
from domain.errors import OverAllocation
from domain.ledger import FundLedger
from domain.snapshot_seal import SEAL_PREFIX
from projections.database import ViewDatabase
from projections.snapshot_check import check_snapshots
from tests import factories as f
from tests.conftest import APPROVER, TODAY


def _snapshot_table(settings: Settings) -> str:
    return "fundledger_snapshots" if settings.is_postgres else "stored_snapshots"


def _forge(settings: Settings, change: Any) -> int:
    """What an attacker with write access to the database (and not the key) can do."""
    db = ViewDatabase.open(settings)
    try:
        table = _snapshot_table(settings)
        rows = db.rows(f"SELECT originator_id, originator_version, state FROM {table}")
        for originator_id, version, state in rows:
            db.execute(f"UPDATE {table} SET state = ? WHERE originator_id = ? "
                       "AND originator_version = ?", (change(bytes(state)), originator_id, version))
        return len(rows)
    finally:
        db.close()


def _raise_appropriation(state: bytes) -> bytes:
    return re.sub(rb'"appropriated":\s*\d+', b'"appropriated": 500000000000', state)


def test_a_forged_fund_snapshot_is_ignored_and_reported(store_settings: Settings) -> None:
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        f.school(ledger)
        fund = f.fund(ledger, amount=4_000_000_00).subject
        ledger.take_snapshot(fund.id)
    finally:
        ledger.close()
    assert _forge(store_settings, _raise_appropriation) == 1
    restarted = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        assert restarted.get_fund("PUB-2025").appropriated == 4_000_000_00
        assert restarted.snapshots.rejected >= 1
        # The attack's second step: an allocation against the forged figure.
        f.refused(restarted, OverAllocation, "over_allocation",
                  lambda: f.proposal(restarted, amount=400_000_000_00))
        allocation = f.proposal(restarted, amount=4_000_000_00)
        restarted.approve_allocation(APPROVER, allocation)
        assert restarted.get_fund("PUB-2025").available == 0
        problems = check_snapshots(restarted)
        assert len(problems) == 1 and "seal does not hold" in problems[0], problems
    finally:
        restarted.close()


def test_a_resealed_forgery_without_the_key_fails_too(store_settings: Settings) -> None:
    """Stripping the seal, or sealing with a guessed key, is no better."""
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        f.school(ledger)
        fund = f.fund(ledger).subject
        ledger.take_snapshot(fund.id)
    finally:
        ledger.close()
    _forge(store_settings, lambda s: _raise_appropriation(s[len(SEAL_PREFIX) + 32:]))
    restarted = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        assert restarted.get_fund("PUB-2025").appropriated == 1_000_000_00
        assert restarted.snapshots.rejected >= 1
        problems = check_snapshots(restarted)
        assert len(problems) == 1 and "(unsealed): differs from a replay" in problems[0]
    finally:
        restarted.close()


def test_sealed_snapshots_are_used_and_verified(store_settings: Settings) -> None:
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        f.school(ledger)
        fund = f.fund(ledger).subject
        ledger.take_snapshot(fund.id)
        assert ledger.get_fund("PUB-2025").appropriated == 1_000_000_00
        assert ledger.snapshots.rejected == 0
        assert check_snapshots(ledger) == []
    finally:
        ledger.close()


def test_verify_names_a_forged_snapshot_and_exits_1(sqlite_settings: Settings,
                                                    monkeypatch: Any, tmp_path: Any) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from api.cli import app  # noqa: PLC0415

    settings = sqlite_settings.model_copy(update={"signing_key_path": tmp_path / "k" / "b.pem"})
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(settings.signing_key_path))
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        fund = f.fund(ledger).subject
        ledger.take_snapshot(fund.id)
    finally:
        ledger.close()
    assert CliRunner().invoke(app, ["verify"]).exit_code == 0
    _forge(settings, _raise_appropriation)
    result = CliRunner().invoke(app, ["verify"], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    assert f"snapshot of {fund.id} at version 1" in result.output
