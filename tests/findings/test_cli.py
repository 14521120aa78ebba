"""`fundledger findings` on a real store: table, CSV and XLSX, and one-line errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from domain.ledger import FundLedger
from scripts.anomalies import approve_as
from tests.conftest import OFFICER, TODAY
from tests.findings.conftest import build_bureau


@pytest.fixture
def store(sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    bureau = build_bureau(ledger)
    bureau.open_fund("OLD-2025", "equipment", date(2025, 4, 1))
    allocation, _ = bureau.allocate("OLD-2025", "GL-P1", 1_000_001, date(2025, 4, 1), None)
    approve_as(ledger, allocation, actor_id=OFFICER.user_id, role="approver", day=date(2025, 4, 2))
    bureau.spend(allocation, 1_000_001, date(2025, 11, 2), economic_class="equipment")
    ledger.close()
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", sqlite_settings.database_url)
    return str(allocation)


def test_findings_are_listed_exported_and_asked_as_of_a_day(store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["findings", "--year", "2025", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("rule,fiscal_year,key")
    assert len(lines) == 2
    assert lines[1].startswith("maker_checker,2025,") and store in lines[1]
    early = runner.invoke(app, ["findings", "--year", "2025", "--as-of", "2025-04-01", "--format", "csv"])
    assert early.output.strip().splitlines()[1:] == []
    out = tmp_path / "findings.xlsx"
    result = runner.invoke(
        app, ["findings", "--year", "2025", "--rule", "maker_checker", "--format", "xlsx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    assert sheet.cell(row=2, column=1).value == "maker_checker"
    table = runner.invoke(app, ["findings", "--year", "2025"])
    assert table.exit_code == 0 and "1 findings" in table.output


def test_a_bad_rule_or_date_is_one_line_and_a_non_zero_exit(store: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["findings", "--year", "2025", "--rule", "nope"])
    assert result.exit_code == 2
    assert "unknown rule" in result.output
    result = runner.invoke(app, ["findings", "--year", "2025", "--as-of", "31/12/2025"])
    assert result.exit_code == 2
