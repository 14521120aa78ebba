"""The books' everyday commands on the command line, for scripts and cron jobs: register a
school, open a fund, propose and approve an allocation, record an expenditure (both stores)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from domain.ledger import FundLedger
from tests.conftest import TODAY

runner = CliRunner()
YEAR = TODAY.year


def test_a_year_is_kept_from_the_command_line(store_settings: Settings) -> None:
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    officer = ledger.add_user("olga.officer", ["officer"])
    approver = ledger.add_user("amy.approver", ["approver"])
    ledger.close()
    env = {"FUNDLEDGER_DATABASE_URL": store_settings.database_url, "FUNDLEDGER_TOKEN": officer,
           "FUNDLEDGER_POSTGRES_SCHEMA": store_settings.postgres_schema or ""}

    def run(*args: str, token: str = officer) -> str:
        result = runner.invoke(app, list(args), env={**env, "FUNDLEDGER_TOKEN": token})
        assert result.exit_code == 0, result.output
        return result.output

    assert "registered school XZ-CLI-1" in run(
        "school", "register", "XZ-CLI-1", "--name", "沛县实验小学", "--district", "Pei",
        "--level", "primary", "--locale", "rural", "--students", "420",
        "--effective-date", f"{YEAR}-01-01")
    assert "opened fund PUB-CLI ¥1,000,000.00" in run(
        "fund", "open", "PUB-CLI", "--name", "生均公用经费", "--fiscal-year", str(YEAR),
        "--amount", "1,000,000", "--source", "county", "--category", "public_operating",
        "--effective-date", f"{YEAR}-01-02")
    proposed = run("allocation", "propose", "--fund", "PUB-CLI", "--school", "XZ-CLI-1",
                   "--amount", "50000.50", "--purpose", "春季公用经费",
                   "--effective-date", f"{YEAR}-02-01", "--idempotency-key", "p-1")
    assert "¥50,000.50" in proposed
    allocation = re.search(r"allocation ([0-9a-f-]{36})", proposed).group(1)  # type: ignore[union-attr]
    again = run("allocation", "propose", "--fund", "PUB-CLI", "--school", "XZ-CLI-1",
                "--amount", "50000.50", "--purpose", "春季公用经费",
                "--effective-date", f"{YEAR}-02-01", "--idempotency-key", "p-1")
    assert allocation in again and "nothing new written" in again
    assert "approved allocation" in run("allocation", "approve", allocation,
                                        "--effective-date", f"{YEAR}-02-03", token=approver)
    assert "¥1,200.00" in run("expenditure", "record", "--allocation", allocation,
                              "--amount", "1200", "--payee", "徐州供电公司",
                              "--voucher", "记-03-0001", "--spent-on", f"{YEAR}-03-02")

    refused = runner.invoke(app, ["expenditure", "record", "--allocation", allocation,
                                  "--amount", "100000", "--payee", "p", "--voucher", "记-03-0002",
                                  "--spent-on", f"{YEAR}-03-02"], env=env)
    assert refused.exit_code == 2
    assert "overspend" in refused.output and "¥48,800.50 remaining" in refused.output
    fen = runner.invoke(app, ["allocation", "propose", "--fund", "PUB-CLI", "--school", "XZ-CLI-1",
                              "--amount", "1.234", "--purpose", "p"], env=env)
    assert fen.exit_code == 2 and "decimal places" in fen.output
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        assert ledger.get_fund("PUB-CLI").allocated == 5_000_050
    finally:
        ledger.close()


def test_a_fund_opens_with_its_code_document_and_shares_from_the_command_line(
        sqlite_settings: Settings) -> None:
    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    officer = ledger.add_user("olga.officer", ["officer"])
    ledger.close()
    env = {"FUNDLEDGER_DATABASE_URL": sqlite_settings.database_url, "FUNDLEDGER_TOKEN": officer}
    base = ["fund", "open", "YW-CLI", "--name", "义务教育生均公用经费", "--fiscal-year", str(YEAR),
            "--amount", "1000", "--source", "provincial", "--category", "public_operating",
            "--effective-date", f"{YEAR}-01-02"]
    refused = runner.invoke(app, [*base, "--function-code", "2059998"], env=env)
    assert refused.exit_code != 0 and "function_code" in refused.output
    refused = runner.invoke(app, [*base, "--share", "central=600", "--share", "county=300"], env=env)
    assert refused.exit_code != 0 and "shares" in refused.output
    opened = runner.invoke(app, [*base, "--function-code", "2050202", "--doc-no", "苏财教〔2025〕31号",
                                 "--received-on", f"{YEAR}-01-02", "--share", "central=500",
                                 "--share", "provincial=300", "--share", "county=200"], env=env)
    assert opened.exit_code == 0, opened.output
    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        fund = ledger.get_fund("YW-CLI")
    finally:
        ledger.close()
    assert (fund.function_code, fund.doc_no, fund.issuing_level) == ("2050202", "苏财教〔2025〕31号",
                                                                      "provincial")
    assert fund.shares == [{"source": "central", "amount": 50_000},
                           {"source": "provincial", "amount": 30_000},
                           {"source": "county", "amount": 20_000}]
