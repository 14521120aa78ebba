"""`fundledger import FILE` on a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from domain.ledger import FundLedger
from tests.conftest import TODAY
from tests.imports.conftest import build_bureau

runner = CliRunner()


@pytest.fixture
def officer_env(sqlite_settings: Settings) -> dict[str, str]:
    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    build_bureau(ledger)
    token = ledger.add_user("olga.officer", ["officer"])
    ledger.close()
    return {"FUNDLEDGER_DATABASE_URL": sqlite_settings.database_url, "FUNDLEDGER_TOKEN": token}


def test_a_good_file_is_applied_and_a_bad_one_prints_its_rows(officer_env: dict[str, str],
                                                               tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("学校代码,资金代码,金额(元),收款人,凭证号,支出日期\n"
                    "XZ-PX-0001,PUB-2025,12.34,徐州供电公司,V-1,2025-03-02\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(good)], env=officer_env)
    assert result.exit_code == 0, result.output
    assert "applied 1 expenditure;" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("学校代码,资金代码,金额(元),收款人,凭证号,支出日期\n"
                   "XZ-PX-0001,PUB-2025,12.34,徐州供电公司,V-1,2025-03-02\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(bad)], env=officer_env)
    assert result.exit_code == 1
    assert "duplicate_voucher" in result.output and "nothing was written" in result.output
    assert "is already used" in result.output
    # In a Chinese terminal the reasons are in Chinese.
    result = runner.invoke(app, ["import", str(bad)], env={**officer_env, "LANG": "zh_CN.UTF-8"})
    assert result.exit_code == 1
    assert "已被支出" in result.output.replace("\n", "").replace("│", "").replace(" ", "")


def test_without_a_token_the_import_is_one_line_error(officer_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    file = tmp_path / "x.csv"
    file.write_text("school,fund,amount,purpose\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(file)], env={**officer_env, "FUNDLEDGER_TOKEN": ""})
    assert result.exit_code == 2


def test_the_template_is_written_to_the_file(tmp_path: Path) -> None:
    file = tmp_path / "t.csv"
    result = runner.invoke(app, ["import", str(file), "--template", "allocations"])
    assert result.exit_code == 0, result.output
    assert file.read_text(encoding="utf-8-sig").startswith("学校代码,资金代码,金额(元)")
