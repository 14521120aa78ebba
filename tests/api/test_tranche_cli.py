"""`fundledger tranche preview|propose|approve` on a real store."""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from domain.formula_funding import FormulaFunding
from domain.ledger import FundLedger
from tests.conftest import APPROVER, OFFICER, TODAY

runner = CliRunner()


def test_an_officer_previews_and_proposes_and_an_approver_approves(sqlite_settings: Settings) -> None:
    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    service = FormulaFunding(ledger)
    for code, students in (("XZ-P-1", 420), ("XZ-P-2", 60)):
        ledger.register_school(OFFICER, code=code, name=code, district="Pei", level="primary",
                               locale="rural", poverty_area=False, students=students,
                               effective_date=date(2025, 1, 1))
    ledger.open_fund(OFFICER, code="PUB-1", name="生均公用经费", fiscal_year=2025, unit="CNY",
                     amount=10**9, source="county", category="public_operating",
                     effective_date=date(2025, 1, 2))
    standard = service.set_standard(OFFICER, fiscal_year=2025, level="primary",
                                    category="public_operating", rate=800_00, document="d").subject
    service.decide_standard(APPROVER, standard.id, approve=True)
    service.snapshot_from_history(OFFICER, name="2025春", as_of=date(2025, 3, 1),
                                  schools=["XZ-P-1", "XZ-P-2"])
    officer = ledger.add_user("olga.officer", ["officer"])
    approver = ledger.add_user("ada.approver", ["approver"])
    ledger.close()
    env = {"FUNDLEDGER_DATABASE_URL": sqlite_settings.database_url}
    args = ["--fund", "PUB-1", "--snapshot", "2025春", "--semester", "spring",
            "--effective-date", "2025-03-05"]

    shown = runner.invoke(app, ["tranche", "preview", *args], env={**env, "FUNDLEDGER_TOKEN": officer})
    assert shown.exit_code == 0, shown.output
    assert "2 schools, total 208,000.00 元" in shown.output
    proposed = runner.invoke(app, ["tranche", "propose", *args],
                             env={**env, "FUNDLEDGER_TOKEN": officer})
    assert proposed.exit_code == 0, proposed.output
    tranche_id = proposed.output.split("proposed tranche ")[1].split(":")[0]
    again = runner.invoke(app, ["tranche", "propose", *args], env={**env, "FUNDLEDGER_TOKEN": officer})
    assert again.exit_code == 2 and "tranche_exists" in again.output
    self_approval = runner.invoke(app, ["tranche", "approve", tranche_id],
                                  env={**env, "FUNDLEDGER_TOKEN": officer})
    assert self_approval.exit_code == 2
    approved = runner.invoke(app, ["tranche", "approve", tranche_id, "--exclude", "XZ-P-2=核实人数"],
                             env={**env, "FUNDLEDGER_TOKEN": approver})
    assert approved.exit_code == 0, approved.output
    assert "1 allocations; 1 left proposed" in approved.output
