from __future__ import annotations

from datetime import date

from tests.conftest import OFFICER
from tests.findings.conftest import Bureau


def test_a_school_booking_most_of_its_year_in_late_december_is_found(bureau: Bureau) -> None:
    bureau.ledger.register_school(
        OFFICER,
        code="GL-P4",
        name="surge",
        district="Gulou",
        level="primary",
        locale="urban",
        poverty_area=False,
        students=100,
        effective_date=date(2025, 1, 1),
    )
    allocation, _ = bureau.allocate("PO-2025", "GL-P4", 10_000_000, date(2025, 1, 10), date(2025, 1, 15))
    for month in (3, 5, 7, 9):
        bureau.spend(
            allocation, 500_011, date(2025, month, 10), economic_class="training" if month == 3 else None
        )
    positions = [bureau.spend(allocation, 1_500_007, date(2025, 12, day))[1] for day in (22, 24, 26, 29)]
    (finding,) = bureau.findings("december_surge")
    assert finding.key == {"school": "GL-P4"}
    assert finding.measure == round(6_000_028 / 8_000_072, 4)
    assert finding.evidence == tuple(positions)
    assert bureau.findings("december_surge", as_of=date(2025, 12, 21)) == []
    (fund_finding,) = bureau.findings(
        "december_surge_fund", december_share_max_basis_points=100, last_days_share_max_basis_points=100
    )
    assert fund_finding.key == {"fund": "PO-2025"}
