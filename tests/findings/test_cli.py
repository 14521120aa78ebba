"""`fundledger findings` on a real store: table, CSV and XLSX, and one-line errors."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app
from api.dashboard.i18n import rule_name
from api.routes.findings import csv_bytes, xlsx_bytes
from api.settings import Settings
from domain.ledger import FundLedger
from projections.export_files import neutralised
from projections.findings.rule import Finding
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
    assert lines[0].startswith("规则 rule,规则名称 rule_name,财年 fiscal_year,对象 key")
    assert len(lines) == 2
    assert lines[1].startswith("maker_checker,Allocations decided") and store in lines[1]
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


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_findings_files_read_in_the_readers_language_with_yuan_beside_fen(
        store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    files = {}
    for language in ("zh", "en"):
        result = runner.invoke(app, ["findings", "--year", "2025", "--format", "csv", "--lang", language])
        assert result.exit_code == 0, result.output
        files[language] = _csv_rows(result.output)
    zh, en = files["zh"][0], files["en"][0]
    assert zh["规则 rule"] == en["规则 rule"] == "maker_checker"  # the code stays a code
    assert zh["规则名称 rule_name"] == rule_name("maker_checker", "zh") != en["规则名称 rule_name"]
    assert zh["规则名称 rule_name"] == "经办与审批为同一人"
    assert zh["amount_minor"] == en["amount_minor"] == "1000001"
    assert zh["金额 amount"] == en["金额 amount"] == "10000.01"
    assert any("\u4e00" <= c <= "\u9fff" for c in zh["说明 message"])
    assert not any("\u4e00" <= c <= "\u9fff" for c in en["说明 message"].split(store)[0])
    default = runner.invoke(app, ["findings", "--year", "2025", "--format", "csv"])
    assert _csv_rows(default.output) == files["en"]  # English values unless asked
    out = tmp_path / "findings.xlsx"
    result = runner.invoke(app, ["findings", "--year", "2025", "--format", "xlsx", "--out", str(out),
                                 "--lang", "zh"])
    assert result.exit_code == 0, result.output
    table = [list(r) for r in load_workbook(out)["findings"].iter_rows(values_only=True)]
    row = dict(zip(table[0], table[1], strict=True))
    assert set(table[0]) == set(zh)  # the CSV's columns (the integer after its yuan here)
    assert row["规则名称 rule_name"] == "经办与审批为同一人" and row["amount_minor"] == 1000001
    assert row["金额 amount"] == 10000.01
    assert row["说明 message"] == zh["说明 message"]
    table = runner.invoke(app, ["findings", "--year", "2025", "--lang", "zh"], env={"COLUMNS": "400"})
    english = runner.invoke(app, ["findings", "--year", "2025"], env={"COLUMNS": "400"})
    assert "下达给" in table.output and "下达给" not in english.output
    bad = runner.invoke(app, ["findings", "--year", "2025", "--format", "csv", "--lang", "fr"])
    assert bad.exit_code == 2


@given(st.text(max_size=12), st.sampled_from(["zh", "en"]))
def test_a_findings_file_defuses_formulas_as_every_export(text: str, language: str) -> None:
    found = Finding("maker_checker", 2025, {"allocation": text}, 1, 0, text, (1,), message_zh=text)
    row = _csv_rows(csv_bytes([found], language).decode("utf-8-sig"))[0]
    assert row["说明 message"] == neutralised(text)
    sheet = load_workbook(io.BytesIO(xlsx_bytes([found], language)))["findings"]
    assert all(cell.data_type != "f" for cell in next(sheet.iter_rows(min_row=2)))  # text, never a formula
