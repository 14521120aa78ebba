"""The auditor's command line: verify, digest, verify --digest, replay, report and export."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app
from tests.audit.conftest import AuditedStore


@pytest.fixture
def cli(sqlite_audited: AuditedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditedStore:
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", sqlite_audited.settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(tmp_path / "keys" / "bureau.pem"))
    return sqlite_audited


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_verify_digest_then_tamper(cli: AuditedStore, tmp_path: Path) -> None:
    code, output = run("verify")
    assert code == 0, output
    assert "ok:" in output
    digest = tmp_path / "digest.json"
    code, output = run("digest", "--out", str(digest))
    assert code == 0, output
    assert (tmp_path / "keys" / "bureau.pub.pem").exists()
    assert run("verify", "--digest", str(digest))[0] == 0
    target = cli.position_of("Allocation.Spent", nth=3)
    cli.flip_byte(target)
    code, output = run("verify")
    assert code == 1
    assert f"altered at position {target}" in output
    code, output = run("verify", "--digest", str(digest))
    assert code == 1
    assert "changed" in output


def test_a_digest_checked_against_another_key_is_refused(cli: AuditedStore, tmp_path: Path) -> None:
    digest = tmp_path / "digest.json"
    assert run("digest", "--out", str(digest))[0] == 0
    code, listed = run("digests")  # the digests signed so far: this one, asked on the CLI
    assert code == 0 and "cli:" in listed and "Digests signed so far (1)" in listed
    other = tmp_path / "other.pub.pem"
    from projections.digests import public_pem, signing_key  # noqa: PLC0415

    other.write_bytes(public_pem(signing_key(tmp_path / "other.pem").public_key()))
    code, output = run("verify", "--digest", str(digest), "--public-key", str(other))
    assert code == 1
    assert "another key" in output


def test_replay_as_of_a_date_agrees_with_the_views(cli: AuditedStore, tmp_path: Path) -> None:
    code, output = run("replay", "--as-of", "2025-06-30")
    assert code == 0, output
    assert "equals the stored views" in output
    # Written to a pipe, not a terminal: amounts in yuan, whole, never cut at 80 columns.
    assert "¥" in output and "…" not in output
    out = tmp_path / "replay.xlsx"
    code, output = run("replay", "--position", "20", "--year", "2025", "--format", "xlsx", "--out", str(out))
    assert code == 0, output
    assert load_workbook(out).sheetnames == ["balances", "totals", "rural_support", "counties"]
    assert run("replay")[0] == 2


def test_report_and_exports(cli: AuditedStore, tmp_path: Path) -> None:
    out = tmp_path / "rural.xlsx"
    code, output = run("report", "rural-support", "--year", "2025", "--format", "xlsx", "--out", str(out))
    assert code == 0, output
    assert load_workbook(out).sheetnames[0] == "rural_support"
    # `report rural`, the first name, is kept as an alias of the one name.
    code, output = run("report", "rural", "--year", "2025", "--format", "csv")
    assert code == 0, output
    code, aliased = run("report", "rural-support", "--year", "2025", "--format", "csv")
    assert aliased == output
    code, output = run("export", "balances", "--year", "2025", "--format", "csv")
    assert code == 0
    assert output.splitlines()[0].startswith("学校代码 school,学校名称 name")
    code, output = run("export", "journal", "--year", "2025", "--format", "xlsx")
    assert code == 2
    assert "--out" in output


def test_the_journal_exports_from_the_command_line(cli: AuditedStore, tmp_path: Path) -> None:
    # The journal is a stream of the views' rows: written while the views are open.
    code, output = run("export", "journal", "--year", "2025", "--format", "csv")
    assert code == 0, output
    assert output.splitlines()[0].startswith("位置 position,")
    out = tmp_path / "journal.xlsx"
    code, output = run("export", "journal", "--year", "2025", "--format", "xlsx", "--out", str(out))
    assert code == 0, output
    rows = load_workbook(out)["journal"].max_row - 1
    assert rows > 0 and f"{rows} rows written" in output


def test_report_carry_over(cli: AuditedStore, tmp_path: Path) -> None:
    code, output = run("report", "carry-over", "--year", "2025", "--format", "csv")
    assert code == 0, output
    assert output.splitlines()[0].startswith(
        "资金 fund,来源级次 source level,学校 school,单位 unit,carry_in_minor")
    out = tmp_path / "carry-over.xlsx"
    code, output = run("report", "carry-over", "--year", "2025", "--format", "xlsx", "--out",
                       str(out))
    assert code == 0, output
    assert load_workbook(out).sheetnames == ["carry_over", "surplus"]


def test_exports_and_reports_take_the_readers_language(cli: AuditedStore, tmp_path: Path) -> None:
    code, english = run("export", "journal", "--year", "2025", "--format", "csv")
    assert code == 0, english
    code, chinese = run("export", "journal", "--year", "2025", "--format", "csv", "--lang", "zh")
    assert code == 0, chinese
    assert chinese.splitlines()[0] == english.splitlines()[0]  # bilingual titles either way
    assert "拨款批准" in chinese and "拨款批准" not in english
    assert "Allocation approved" in english
    out = tmp_path / "rural.xlsx"
    code, output = run("report", "rural-support", "--year", "2025", "--format", "xlsx", "--out", str(out),
                       "--lang", "zh")
    assert code == 0, output
    rows = list(load_workbook(out)["rural_support"].iter_rows(min_row=2, values_only=True))
    assert {row[1] for row in rows} == {"城区", "乡村", "镇区"}
    code, output = run("report", "carry-over", "--year", "2025", "--format", "csv", "--lang", "fr")
    assert code == 2 and "--lang" in output
