from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from projections.findings.rural_equity import difference_coefficient
from tests.findings.conftest import Bureau

schools = st.lists(st.tuples(st.integers(1, 5_000), st.integers(0, 10**9)), min_size=1, max_size=30)


@given(schools, st.integers(1, 1_000))
def test_the_difference_coefficient_does_not_depend_on_the_currency_unit(
    rows: list[tuple[int, int]], k: int
) -> None:
    scaled = [(p, a * k) for p, a in rows]
    assert abs(difference_coefficient(rows) - difference_coefficient(scaled)) < 1e-9


@given(st.lists(st.integers(1, 5_000), min_size=1, max_size=30), st.integers(1, 10_000))
def test_equal_per_pupil_amounts_have_no_difference(pupils: list[int], rate: int) -> None:
    assert difference_coefficient([(p, p * rate) for p in pupils]) < 1e-9


def test_the_coefficient_matches_the_official_formula_by_hand() -> None:
    # Two schools: 100 pupils at 10 per pupil, 300 pupils at 2 → mean 4, S² = .25·36 + .75·4 = 12.
    assert abs(difference_coefficient([(100, 1_000), (300, 600)]) - 12**0.5 / 4) < 1e-12


def test_a_county_whose_coefficient_exceeds_the_threshold_is_found(bureau: Bureau) -> None:
    bureau.open_fund("PO2-2025", "public_operating", date(2025, 11, 1))
    _, (_, approved) = bureau.allocate(
        "PO2-2025", "GL-P3", 200_000_000, date(2025, 11, 5), date(2025, 11, 10)
    )
    (finding,) = bureau.findings("difference_coefficient")
    assert finding.key == {"district": "Gulou", "level": "primary"}
    expected = difference_coefficient([(1000, 80_000_000), (900, 72_000_000), (700, 256_000_000)])
    assert finding.measure == round(expected, 4)
    assert approved in finding.evidence
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
