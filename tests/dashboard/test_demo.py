"""`fundledger demo`'s audit anomalies without a browser: offered with --clean to opt out,
and never injected into a year whose December is still to come."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.settings import Settings
from api.store import open_ledger
from domain.ledger import bureau_today
from scripts.console import app
from scripts.demo import inject_demo_anomalies


def test_demo_offers_clean() -> None:
    shown = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "--clean" in shown.output


def test_no_anomalies_in_a_year_not_yet_ended(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    ledger = open_ledger(Settings(database_url=f"sqlite:///{tmp_path}/fundledger.db",
                                  signing_key_path=tmp_path / "signing-key.pem"))
    try:
        assert inject_demo_anomalies(ledger, bureau_today().year, 7) == []
        assert ledger.last_position() == 0  # nothing written
    finally:
        ledger.close()
    assert "not ended" in capsys.readouterr().out
