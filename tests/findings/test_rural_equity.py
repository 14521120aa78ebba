from __future__ import annotations

from datetime import date

from domain.balanced_development import coefficient_of_variation
from tests.conftest import OFFICER
from tests.findings.conftest import Bureau


def _equip(bureau: Bureau, school: str, value: int, day: date) -> None:
    bureau.ledger.receive_assets(OFFICER, school, asset="teaching_equipment", quantity=10,
                                 value=value, effective_date=day)


def test_a_county_whose_coefficient_exceeds_the_threshold_is_found(bureau: Bureau) -> None:
    """The same evaluation as GET /v1/reports/balanced-development: equipment value per pupil
    across Gulou's three primary schools (1,000, 900 and 700 pupils)."""
    for school, pupils in (("GL-P1", 1000), ("GL-P2", 900), ("GL-P3", 700)):
        _equip(bureau, school, pupils * 2_500_00, date(2025, 3, 1))
    assert bureau.findings("difference_coefficient") == []
    _equip(bureau, "GL-P3", 700 * 20_000_00, date(2025, 11, 10))
    (finding,) = bureau.findings("difference_coefficient")
    assert finding.key == {"district": "Gulou", "level": "primary", "indicator": "equipment_value"}
    expected = coefficient_of_variation([(1000, 1000 * 2_500_00), (900, 900 * 2_500_00),
                                         (700, 700 * 22_500_00)])
    assert finding.measure == float(expected)
    assert finding.threshold == 0.5
    assert len(finding.evidence) >= 4  # the deliveries and the schools' registrations
    assert bureau.findings("difference_coefficient", as_of=date(2025, 11, 9)) == []


def test_a_low_rural_to_urban_ratio_is_found(bureau: Bureau) -> None:
    assert bureau.findings("rural_urban_ratio") == []
    bureau.open_fund("URB-2025", "facilities", date(2025, 11, 1))
    bureau.allocate("URB-2025", "GL-P1", 100_000_000, date(2025, 11, 5), date(2025, 11, 10))
    (finding,) = bureau.findings("rural_urban_ratio")
    assert finding.key == {"fiscal_year": 2025}
    rural = (8_000_000 + 50_000_000) / 560
    urban = (80_000_000 + 72_000_000 + 56_000_000 + 100_000_000) / 2600
    assert finding.measure == round(rural / urban, 4)
