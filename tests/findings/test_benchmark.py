from __future__ import annotations

from datetime import date

from tests.conftest import APPROVER, OFFICER
from tests.factories import applied
from tests.findings.conftest import Bureau


def test_a_school_cut_below_the_benchmark_is_found_with_its_evidence(bureau: Bureau) -> None:
    applied(bureau.ledger, bureau.ledger.adjust_allocation(
        APPROVER,
        bureau.allocations["GL-P3"],
        delta=-110_000_00,
        reason="moved to another school",
        effective_date=date(2025, 11, 16),
    ))
    assert bureau.findings("below_benchmark", as_of=date(2025, 11, 15)) == []
    (finding,) = bureau.findings("below_benchmark")
    assert finding.key == {"school": "GL-P3"}
    assert finding.measure == (56_000_000 - 11_000_000) // 700
    assert finding.threshold == 65_000
    ((adjusted,),) = bureau.facts().rows("SELECT position FROM findings_allocation_entries WHERE delta < 0")
    assert adjusted in finding.evidence


def test_a_small_school_is_funded_as_if_it_had_a_hundred_pupils(bureau: Bureau) -> None:
    bureau.ledger.register_school(
        OFFICER,
        code="PZ-P2",
        name="teaching point",
        district="Pizhou",
        level="primary",
        locale="rural",
        poverty_area=True,
        students=60,
        effective_date=date(2025, 1, 1),
    )
    bureau.allocate("PO-2025", "PZ-P2", 65_000 * 60, date(2025, 1, 10), date(2025, 1, 15))
    (finding,) = bureau.findings("below_benchmark")
    assert finding.key == {"school": "PZ-P2"}
    assert finding.measure == 65_000 * 60 // 100
    assert bureau.findings("below_benchmark", small_school_floor_students=60) == []


def test_enrolment_growth_counts_from_its_effective_date(bureau: Bureau) -> None:
    bureau.ledger.report_enrolment(OFFICER, "GL-P1", students=1300, effective_date=date(2025, 11, 1))
    assert bureau.findings("below_benchmark", as_of=date(2025, 10, 31)) == []
    (finding,) = bureau.findings("below_benchmark")
    assert finding.key == {"school": "GL-P1"}
    assert finding.measure == 80_000_000 // 1300
