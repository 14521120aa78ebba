"""`fundledger periods list|close` on both stores: the close is a pending two-person change
that `fundledger changes approve` applies; closing twice is refused."""

from __future__ import annotations

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from tests.api.test_changes_cli import run
from tests.conftest import TODAY


def test_a_month_is_closed_from_the_command_line(store_settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", store_settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", store_settings.postgres_schema)
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        maker = ledger.add_user("cli.maker", ["approver"])
        checker = ledger.add_user("cli.checker", ["approver"])
        officer = ledger.add_user("cli.officer", ["officer"])
    finally:
        ledger.close()
    code, output = run("periods", "close", "2025-03", "--token", officer)
    assert code == 2 and "role_not_allowed" in output, output
    code, output = run("periods", "close", "2025-03", "--token", maker, "--reason", "月末结账")
    assert code == 0 and "pending" in output, output
    change = output.split()[1]
    code, output = run("periods", "list")
    assert code == 0 and "2025-03" not in output, output
    code, output = run("changes", "approve", change, "--token", checker)
    assert code == 0, output
    code, output = run("periods", "list")
    assert code == 0 and "2025-03" in output and "cli.checker" in output, output
    code, output = run("periods", "close", "2025-03", "--token", maker)
    assert code == 2 and "period_already_closed" in output, output
