from __future__ import annotations

from datetime import date
from uuid import UUID

from tests.conftest import OFFICER
from tests.findings.conftest import Bureau


def test_a_school_without_training_spending_is_under_five_percent(bureau: Bureau) -> None:
    session = bureau.facts()
    (training_id,) = [
        row[0]
        for row in session.rows(
            "SELECT expenditure_id FROM findings_expenditures WHERE school_code = 'GL-P2' "
            "AND economic_class = 'training'"
        )
    ]
    bureau.ledger.reverse_expenditure(
        OFFICER, UUID(training_id), reason="wrong school", effective_date=date(2025, 12, 1)
    )
    assert bureau.findings("teacher_training_share", as_of=date(2025, 11, 30)) == []
    (finding,) = bureau.findings("teacher_training_share")
    assert finding.key == {"school": "GL-P2"}
    assert finding.measure == 0
    assert finding.amount_minor == 72_000_000 * 5 // 100
    # The evidence is the budget's approval and its last change (the reversal); no training left.
    ((approved,),) = session.rows(
        "SELECT decided_position FROM findings_allocations WHERE school_code = 'GL-P2'"
    )
    assert finding.evidence[0] == approved
    assert len(finding.evidence) == 2


def test_the_share_is_judged_against_the_budget_as_of_the_day(bureau: Bureau) -> None:
    # In February nothing has been spent on training yet: every funded school is under 5%.
    assert {f.key["school"] for f in bureau.findings("teacher_training_share", as_of=date(2025, 2, 1))} == {
        "GL-P1",
        "GL-P2",
        "GL-P3",
        "PZ-P1",
        "PZ-J1",
    }
    assert bureau.findings("teacher_training_share", training_share_min_basis_points=601) != []
