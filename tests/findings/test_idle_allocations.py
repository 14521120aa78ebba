from __future__ import annotations

from datetime import date

from projections.findings.registry import rule_named
from projections.findings.rule import Finding, Scope
from tests.conftest import APPROVER
from tests.factories import applied
from tests.findings.conftest import Bureau


def rule_run(rule: str, bureau: Bureau, year: int) -> list[Finding]:
    return rule_named(rule).run(bureau.facts(), Scope.year_end(year), {})


def test_an_allocation_never_spent_becomes_idle_after_the_idle_days(bureau: Bureau) -> None:
    bureau.open_fund("PRJ-2025", "equipment", date(2025, 1, 20))
    allocation, (_, approved) = bureau.allocate(
        "PRJ-2025", "GL-P2", 30_000_011, date(2025, 1, 25), date(2025, 2, 1)
    )
    assert bureau.findings("idle_allocation", as_of=date(2025, 7, 31)) == []
    (finding,) = bureau.findings("idle_allocation")
    assert finding.key == {"allocation_id": str(allocation)}
    assert finding.measure == 333
    assert finding.amount_minor == 30_000_011
    assert finding.evidence == (approved,)


def test_the_idle_clock_restarts_at_each_expenditure(bureau: Bureau) -> None:
    bureau.open_fund("PRJ-2025", "equipment", date(2025, 1, 20))
    allocation, _ = bureau.allocate("PRJ-2025", "GL-P2", 30_000_011, date(2025, 1, 25), date(2025, 2, 1))
    _, spent = bureau.spend(allocation, 1_000_003, date(2025, 5, 1), economic_class="equipment")
    (finding,) = bureau.findings("idle_allocation")
    assert finding.measure == 244
    assert spent in finding.evidence
    assert bureau.findings("idle_allocation", idle_days=244) == []


def test_a_carried_over_balance_is_as_old_as_its_first_approval(bureau: Bureau) -> None:
    ledger = bureau.ledger
    bureau.open_fund("PRJ-2024", "equipment", date(2024, 3, 1), year=2024)
    bureau.open_fund("PRJ-2025", "equipment", date(2025, 1, 2))
    first, (_, approved) = bureau.allocate(
        "PRJ-2024", "PZ-P1", 8_000_009, date(2024, 5, 25), date(2024, 6, 1)
    )
    bureau.spend(first, 1_000_001, date(2024, 9, 1), economic_class="equipment")
    applied(ledger, ledger.close_fund(APPROVER, "PRJ-2024", disposition="carry_over",
                                      carry_to="PRJ-2025", reason="项目跨年实施"))
    (finding,) = bureau.findings("stale_balance")
    carried = ledger.get_fund("PRJ-2025").allocation_ids[-1]
    assert finding.key == {"allocation_id": str(carried)}
    assert finding.measure == (date(2025, 12, 31) - date(2024, 6, 1)).days
    assert approved in finding.evidence
    assert first != carried
    assert bureau.findings("stale_balance", as_of=date(2025, 5, 31)) == []


def test_carry_over_unspent_a_year_after_it_was_first_carried_is_idle(bureau: Bureau) -> None:
    ledger = bureau.ledger
    for year in (2023, 2024, 2025):
        bureau.open_fund(f"EQP-{year}", "equipment", date(year, 1, 2), year=year)
    first, _ = bureau.allocate("EQP-2023", "PZ-P1", 5_000_007, date(2023, 5, 2), date(2023, 5, 9))
    recent, _ = bureau.allocate("EQP-2024", "PZ-P1", 3_000_001, date(2024, 5, 2), date(2024, 5, 9))
    applied(ledger, ledger.close_fund(APPROVER, "EQP-2023", disposition="carry_over", carry_to="EQP-2024",
                      reason="设备分期采购"))
    applied(ledger, ledger.close_fund(APPROVER, "EQP-2024", disposition="carry_over", carry_to="EQP-2025",
                      reason="设备分期采购"))
    (finding,) = bureau.findings("idle_carry_over")
    assert finding.amount_minor == 5_000_007  # first carried on 2024-01-01; the other a day short
    assert finding.measure == (date(2025, 12, 31) - date(2024, 1, 1)).days
    assert "5,000,070.07" not in finding.message and "50,000.07" in finding.message
    assert first and recent
    assert bureau.findings("idle_carry_over", as_of=date(2024, 12, 31)) == []


def test_a_closed_years_balance_shows_at_its_year_end_and_not_after(bureau: Bureau) -> None:
    ledger = bureau.ledger
    bureau.open_fund("FAC-2024", "facilities", date(2024, 1, 2), year=2024)
    allocation, _ = bureau.allocate("FAC-2024", "PZ-P1", 7_000_003, date(2024, 2, 1), date(2024, 2, 5))
    applied(ledger, ledger.close_fund(APPROVER, "FAC-2024"))  # 结余, dated 2024-12-31
    assert bureau.findings("stale_balance") == []  # 2025: the balance went back as surplus
    year_end = rule_run("idle_allocation", bureau, 2024)
    assert [f.key["allocation_id"] for f in year_end] == [str(allocation)]
