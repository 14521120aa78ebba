"""`fundledger changes list|approve|reject` on both stores: the same two-person rule as HTTP."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from api.store import open_view_runner
from domain.ledger import FundLedger
from tests import factories as f
from tests.conftest import APPROVER, TODAY


def run(*args: str, columns: int = 300) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    return result.exit_code, result.output


def test_changes_are_listed_approved_and_rejected_from_the_command_line(
        store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", store_settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", store_settings.postgres_schema)
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        allocation = f.funded_school(ledger)
        raise_ = ledger.adjust_allocation(APPROVER, allocation, delta=1_00, reason="more").subject
        cut = ledger.adjust_allocation(APPROVER, allocation, delta=-1_00, reason="less").subject
        maker = ledger.add_user(APPROVER.user_id, ["approver"])
        checker = ledger.add_user("cli.checker", ["approver"])
    finally:
        ledger.close()
    with open_view_runner(store_settings) as runner:
        runner.run_until_caught_up()
    code, output = run("changes", "list", "--token", checker, "--status", "pending")
    assert code == 0, output
    assert str(raise_.id) in output and str(cut.id) in output
    # Piped where the environment says 60 columns (`… | grep`): the ids a checker copies are whole.
    code, output = run("changes", "list", "--token", checker, "--status", "pending", columns=60)
    assert code == 0 and str(raise_.id) in output and str(cut.id) in output, output
    code, output = run("changes", "approve", str(raise_.id), "--token", maker)
    assert code == 2 and "maker_checker" in output, output
    code, output = run("changes", "approve", str(raise_.id), "--token", checker)
    assert code == 0, output
    code, output = run("changes", "reject", str(cut.id), "--token", checker, "--reason", "no")
    assert code == 0, output
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        assert ledger.get_allocation(allocation).allocated == 100_000_00 + 1_00
        assert ledger.get_change(cut.id).status == "rejected"
    finally:
        ledger.close()
