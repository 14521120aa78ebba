"""`fundledger demo`'s audit anomalies without a browser: offered with --clean to opt out,
and never injected into a year whose December is still to come."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.settings import Settings
from api.store import open_bureau_ledger, open_ledger
from domain.ledger import bureau_today
from scripts.console import app
from scripts.demo import _fill_counties, _fill_county, inject_demo_anomalies
from scripts.generator.geography import bureau_plan


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


def _filled(home: Path, workers: int) -> tuple[str, list[int]]:
    """What filling two counties' books prints (timings masked), and each one's log length."""
    settings = Settings(database_url=f"sqlite:///{home}/fundledger.db",
                        signing_key_path=home / "signing-key.pem")
    counties = bureau_plan("xuzhou").counties[3:5]  # one with audit anomalies, one too small
    fill = partial(_fill_county, settings, year=2025, seed=5, scale=0.02, clean=False)
    out = io.StringIO()
    with redirect_stdout(out):
        _fill_counties(counties, fill, workers)
    lengths = []
    for code, _, _ in counties:
        ledger = open_bureau_ledger(settings, code)
        lengths.append(ledger.last_position())
        ledger.close()
    return re.sub(r"[0-9.,]+ s\b|\([0-9,]+ events/s\)", "…", out.getvalue()), lengths


def test_counties_filled_side_by_side_as_one_after_another(tmp_path: Path) -> None:
    """Each county's books and lines are the same whether filled alone or in worker
    processes, and the lines come county by county in the plan's order."""
    alone = _filled(tmp_path / "alone", workers=1)
    printed, lengths = _filled(tmp_path / "side", workers=2)
    header = "filling 2 counties' books, 2 at a time …\n"
    assert printed.startswith(header)
    assert (printed.removeprefix(header), lengths) == alone
    assert "injected audit anomalies" in alone[0]
    assert all(n > 0 for n in lengths)
