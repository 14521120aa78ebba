from __future__ import annotations

from datetime import date

import pytest

from domain.actors import Actor, Role
from domain.errors import MakerCheckerViolation
from scripts.anomalies import approve_as
from tests.conftest import OFFICER
from tests.findings.conftest import Bureau


def test_the_ledger_itself_refuses_an_approval_by_the_proposer(bureau: Bureau) -> None:
    proposer_as_approver = Actor(OFFICER.user_id, frozenset({Role.OFFICER, Role.APPROVER}))
    allocation, _ = bureau.allocate("PO-2025", "GL-P1", 1_000_001, date(2025, 4, 1), None)
    with pytest.raises(MakerCheckerViolation):
        bureau.ledger.approve_allocation(proposer_as_approver, allocation, effective_date=date(2025, 4, 2))


def test_a_legacy_approval_by_the_proposer_is_found_with_both_events(bureau: Bureau) -> None:
    bureau.open_fund("OLD-2025", "equipment", date(2025, 4, 1))
    allocation, (proposed,) = bureau.allocate("OLD-2025", "GL-P1", 1_000_001, date(2025, 4, 1), None)
    approved = approve_as(
        bureau.ledger, allocation, actor_id=OFFICER.user_id, role="approver", day=date(2025, 4, 2)
    )
    (finding,) = bureau.findings("maker_checker")
    assert finding.key == {"allocation_id": str(allocation)}
    assert finding.evidence == (proposed, approved)
    assert bureau.findings("maker_checker", as_of=date(2025, 4, 1)) == []
    assert bureau.findings("maker_checker", position_max=approved - 1) == []
    assert bureau.findings("approval_role") == []


def test_a_legacy_approval_by_a_clerk_is_found_as_a_role_violation(bureau: Bureau) -> None:
    bureau.open_fund("OLD-2025", "equipment", date(2025, 4, 1))
    allocation, _ = bureau.allocate("OLD-2025", "PZ-J1", 1_000_001, date(2025, 4, 1), None)
    approve_as(bureau.ledger, allocation, actor_id="oscar.clerk", role="officer", day=date(2025, 4, 2))
    (finding,) = bureau.findings("approval_role")
    assert finding.key == {"allocation_id": str(allocation)}
    assert bureau.findings("maker_checker") == []
