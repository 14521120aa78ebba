from __future__ import annotations

from datetime import date

from tests.findings.conftest import Bureau


def test_an_allocation_approved_after_the_deadline_is_late_with_its_evidence(bureau: Bureau) -> None:
    received = bureau.open_fund("TR-2025", "equipment", date(2025, 3, 2))
    allocation, (proposed, approved) = bureau.allocate(
        "TR-2025", "GL-P1", 5_000_037, date(2025, 3, 10), date(2025, 6, 1)
    )
    (finding,) = bureau.findings("pass_through_late")
    assert finding.key == {"allocation_id": str(allocation)}
    assert finding.measure == 91
    assert finding.threshold == 60
    assert finding.evidence == (received, proposed, approved)
    # The Budget Law's 90-day deadline for central special transfers lets it pass.
    assert bureau.findings("pass_through_late", deadline_days=91) == []


def test_a_proposal_still_waiting_past_the_deadline_is_late_as_of_that_day(bureau: Bureau) -> None:
    bureau.open_fund("TR-2025", "equipment", date(2025, 3, 2))
    allocation, _ = bureau.allocate("TR-2025", "PZ-J1", 5_000_037, date(2025, 3, 10), None)
    assert bureau.findings("pass_through_late", as_of=date(2025, 5, 1)) == []
    (finding,) = bureau.findings("pass_through_late", as_of=date(2025, 5, 2))
    assert finding.key == {"allocation_id": str(allocation)}
    assert finding.measure == 61
