"""Rural-support figures against values worked out by hand (domain.md §3.1's formula)."""

from __future__ import annotations

from datetime import date

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from projections.queries import BureauQueries
from projections.runner import ViewRunner
from tests.conftest import APPROVER, OFFICER

# code: (level, locale at registration, students at registration, fen allocated on 1 April)
SCHOOLS = {
    "PEI-A": ("primary", "rural", 80, 100_000),  # enrolment 100 reported from 1 February
    "PEI-B": ("primary", "urban", 200, 400_000),
    "PEI-C": ("primary", "rural", 300, 300_000),  # reclassified town from 1 March
    "PEI-D": ("junior", "rural", 100, 300_000),
    "PEI-E": ("junior", "urban", 100, 100_000),
}

SPENT = {"PEI-A": 25_000, "PEI-D": 50_000, "PEI-B": 20_000}  # fen spent on 6 May


def _fixture(ledger: FundLedger) -> None:
    for code, (level, locale, students, _) in SCHOOLS.items():
        ledger.register_school(OFFICER, code=code, name=code, district="Pei", level=level,
                               locale=locale, poverty_area=False, students=students,
                               effective_date=date(2025, 1, 1))
    ledger.report_enrolment(OFFICER, "PEI-A", students=100, effective_date=date(2025, 2, 1))
    ledger.reclassify_school(OFFICER, "PEI-C", locale="town", reason="township merged",
                             effective_date=date(2025, 3, 1))
    ledger.open_fund(OFFICER, code="OPS-25", name="ops", fiscal_year=2025, unit="CNY",
                     amount=10**9, source="county", category="public_operating",
                     effective_date=date(2025, 1, 2))
    for code, (_, _, _, amount) in SCHOOLS.items():
        allocation = ledger.propose_allocation(OFFICER, fund="OPS-25", school=code, amount=amount,
                                               purpose="ops", effective_date=date(2025, 4, 1))
        ledger.approve_allocation(APPROVER, allocation.subject.id, effective_date=date(2025, 4, 2))
        spent = SPENT.get(code)
        if spent:
            ledger.record_expenditure(OFFICER, allocation=allocation.subject.id, amount=spent,
                                      payee="p", voucher=f"V-{code}", spent_on=date(2025, 5, 6))
    # After the allocations: neither changes where April's money is reported.
    ledger.reclassify_school(OFFICER, "PEI-A", locale="town", reason="later change",
                             effective_date=date(2025, 9, 1))
    ledger.report_enrolment(OFFICER, "PEI-B", students=400, effective_date=date(2025, 9, 1))


def test_rural_support_matches_hand_computed_figures(store_settings: Settings,
                                                     stored_ledger: FundLedger) -> None:
    _fixture(stored_ledger)
    with ViewRunner(store_settings, ledger=stored_ledger) as runner:
        runner.run_until_caught_up()
    queries = BureauQueries(store_settings)
    try:
        report = queries.rural_support(2025)
    finally:
        queries.close()
    rows = {(r.district, r.locale, r.unit): (r.schools, r.students, r.allocated, r.spent,
                                             r.per_student_allocated)
            for r in report.rows}
    # rural: A (100 pupils, ¥1,000 each) + D (100, ¥3,000); town: C; urban: B + E.
    assert rows == {
        ("Pei", "rural", "CNY"): (2, 200, 400_000, 75_000, 2_000),
        ("Pei", "town", "CNY"): (1, 300, 300_000, 0, 1_000),
        ("Pei", "urban", "CNY"): (2, 300, 500_000, 20_000, 1_667),  # 1,666.67 fen rounds half up
    }
    assert report.rural_to_urban_per_student_ratio == pytest.approx(2000 / (500_000 / 300))
    # The county coefficients are the balanced-development evaluation's, over resource stocks
    # (none recorded here), never over the year's allocations.
    assert {(c.district, c.level) for c in report.counties} == {("Pei", "primary"), ("Pei", "junior")}
    assert len(report.counties) == 14  # 7 indicators × 2 stages
    assert all(c.difference_coefficient is None for c in report.counties)
    assert {c.threshold for c in report.counties} == {0.50, 0.45}


def test_rural_support_as_of_a_date_before_the_allocations(store_settings: Settings,
                                                           stored_ledger: FundLedger) -> None:
    _fixture(stored_ledger)
    with ViewRunner(store_settings, ledger=stored_ledger) as runner:
        runner.run_until_caught_up()
    queries = BureauQueries(store_settings)
    try:
        before = queries.rural_support(2025, as_of=date(2025, 4, 1))
    finally:
        queries.close()
    assert before.rows == []
    assert all(c.difference_coefficient is None for c in before.counties)
    assert before.rural_to_urban_per_student_ratio is None
