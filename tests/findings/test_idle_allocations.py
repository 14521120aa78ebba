from __future__ import annotations

from datetime import date

from tests.conftest import APPROVER, OFFICER
from tests.factories import applied
from tests.findings.conftest import Bureau


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
    applied(ledger, ledger.close_fund(APPROVER, "PRJ-2024", disposition="carry_over", carry_to="PRJ-2025"))
    (finding,) = bureau.findings("stale_balance")
    carried = ledger.get_fund("PRJ-2025").allocation_ids[-1]
    assert finding.key == {"allocation_id": str(carried)}
    assert finding.measure == (date(2025, 12, 31) - date(2024, 6, 1)).days
    assert approved in finding.evidence
    assert first != carried
    assert bureau.findings("stale_balance", as_of=date(2025, 5, 31)) == []
    assert OFFICER.user_id  # the proposer is an ordinary officer: nothing here needs a legacy path
