from __future__ import annotations

from datetime import date

import pytest

from domain.errors import ExpenditureClassNotAllowed
from scripts.anomalies import record_legacy_expenditure
from tests.conftest import OFFICER
from tests.findings.conftest import Bureau


def test_the_ledger_itself_refuses_salaries_from_public_operating_funds(bureau: Bureau) -> None:
    with pytest.raises(ExpenditureClassNotAllowed):
        bureau.spend(bureau.allocations["GL-P1"], 100_001, date(2025, 7, 1), economic_class="salaries")


def test_legacy_salaries_charged_to_public_operating_funds_are_found_until_reversed(bureau: Bureau) -> None:
    expenditure, position = record_legacy_expenditure(
        bureau.ledger,
        bureau.allocations["GL-P1"],
        amount=300_017,
        payee="教师绩效工资",
        voucher="LEG-0001",
        spent_on=date(2025, 7, 1),
        economic_class="salaries",
    )
    (finding,) = bureau.findings("purpose_violation")
    assert finding.key == {"expenditure_id": str(expenditure)}
    assert finding.evidence == (position,)
    assert finding.amount_minor == 300_017
    bureau.ledger.reverse_expenditure(
        OFFICER, expenditure, reason="diverted; refunded", effective_date=date(2025, 11, 1)
    )
    assert bureau.findings("purpose_violation") == []
    assert len(bureau.findings("purpose_violation", as_of=date(2025, 10, 31))) == 1
