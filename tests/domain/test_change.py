"""Two-person changes (issue 14): every move of approved money is made by one person and
applied only when another approves it. On both stores."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.actors import Actor, Role, Stamp
from domain.change import CHANGE_KINDS, ChangeStatus, register_change_kind
from domain.errors import (
    BelowSpent,
    ChangeNotFound,
    ChangeNotPending,
    LedgerError,
    MakerCheckerViolation,
    Overspend,
    RoleNotAllowed,
)
from domain.ledger import FundLedger
from domain.unit_of_work import Decision as _Decision
from tests.conftest import APPROVER, CHECKER, OFFICER, OFFICER_2, TODAY
from tests.factories import (
    CHIEF_OFFICER,
    applied,
    expenditure,
    fund,
    funded_school,
    proposal,
    refused,
    school,
)

THIRD = Actor("tan.third", frozenset({Role.APPROVER}))


def test_the_proposer_cannot_raise_their_own_allocation(stored_ledger: FundLedger) -> None:
    """Defect 1: a user holding officer and approver proposed, another approved, and the
    proposer then raised the allocation alone."""
    school(stored_ledger)
    fund(stored_ledger)
    allocation_id = proposal(stored_ledger, amount=5_000_00, actor=CHIEF_OFFICER)
    stored_ledger.approve_allocation(APPROVER, allocation_id)
    made = stored_ledger.adjust_allocation(CHIEF_OFFICER, allocation_id, delta=900_000_00,
                                           reason="raise my own")
    assert made.subject.status == ChangeStatus.PENDING
    assert stored_ledger.get_allocation(allocation_id).allocated == 5_000_00, "nothing moved"
    refused(stored_ledger, MakerCheckerViolation, "maker_checker",
            lambda: stored_ledger.approve_change(CHIEF_OFFICER, made.subject.id))
    # Another approver, not the proposer, may approve; the original approver too.
    done = stored_ledger.approve_change(APPROVER, made.subject.id)
    assert done.subject.decided_by == APPROVER.user_id
    assert stored_ledger.get_allocation(allocation_id).allocated == 5_000_00 + 900_000_00


def test_a_proposer_who_makes_no_change_still_cannot_approve_one(stored_ledger: FundLedger) -> None:
    """The allocation's proposer is excluded even when someone else made the change."""
    school(stored_ledger)
    fund(stored_ledger)
    allocation_id = proposal(stored_ledger, actor=CHIEF_OFFICER)
    stored_ledger.approve_allocation(APPROVER, allocation_id)
    made = stored_ledger.adjust_allocation(APPROVER, allocation_id, delta=-1_00, reason="less")
    refused(stored_ledger, MakerCheckerViolation, "maker_checker",
            lambda: stored_ledger.approve_change(CHIEF_OFFICER, made.subject.id))
    refused(stored_ledger, MakerCheckerViolation, "maker_checker",
            lambda: stored_ledger.reject_change(CHIEF_OFFICER, made.subject.id, reason="no"))


def test_an_officer_alone_cannot_move_approved_money(stored_ledger: FundLedger) -> None:
    """Defect 2: an officer transferred to another school; the new allocation was approved
    with approved_by null and spendable at once."""
    allocation_id = funded_school(stored_ledger)
    school(stored_ledger, code="XZ-PZ-0002")
    made = stored_ledger.transfer_allocation(OFFICER, allocation_id, amount=90_000_00,
                                             reason="move", to_school="XZ-PZ-0002")
    assert made.subject.status == "pending"
    assert stored_ledger.get_allocation(allocation_id).allocated == 100_000_00
    # An officer cannot approve it, and the maker cannot either.
    refused(stored_ledger, RoleNotAllowed, "role_not_allowed",
            lambda: stored_ledger.approve_change(OFFICER_2, made.subject.id))
    done = stored_ledger.approve_change(CHECKER, made.subject.id)
    change, source, target = done.subjects
    assert change.status == "approved" and change.decided_by == CHECKER.user_id
    assert source.allocated == 10_000_00
    assert target.status == "approved" and target.allocated == 90_000_00
    assert target.approved_by == CHECKER.user_id
    assert stored_ledger.get_allocation(target.id).approved_by == CHECKER.user_id


@pytest.mark.parametrize("make", [
    lambda ledger, a: ledger.adjust_allocation(APPROVER, a, delta=-1_00, reason="r"),
    lambda ledger, a: ledger.adjust_allocation(APPROVER, a, delta=1_00, reason="r"),
    lambda ledger, a: ledger.cancel_allocation(OFFICER, a, reason="r"),
    lambda ledger, a: ledger.transfer_allocation(OFFICER, a, amount=1_00, reason="r",
                                                 to_school="XZ-PZ-0002"),
    lambda ledger, a: ledger.adjust_fund(APPROVER, "PUB-2025", delta=1_00, reason="r"),
    lambda ledger, a: ledger.adjust_fund(APPROVER, "PUB-2025", delta=-1_00, reason="r"),
    lambda ledger, a: ledger.close_fund(APPROVER, "PUB-2025", disposition="carry_over",
                                        carry_to="PUB-2026"),
], ids=["lower", "raise", "cancel", "transfer", "appropriate+", "appropriate-", "close"])
def test_every_move_of_approved_money_waits_for_a_second_person(ledger: FundLedger,
                                                                make: object) -> None:
    allocation_id = funded_school(ledger)
    school(ledger, code="XZ-PZ-0002")
    fund(ledger, code="PUB-2026", fiscal_year=2026)  # where a close carries the remainder
    before = (ledger.get_allocation(allocation_id).allocated, ledger.get_fund("PUB-2025").appropriated,
              ledger.get_fund("PUB-2025").allocated, ledger.get_fund("PUB-2025").closed)
    made = make(ledger, allocation_id)  # type: ignore[operator]
    after = (ledger.get_allocation(allocation_id).allocated, ledger.get_fund("PUB-2025").appropriated,
             ledger.get_fund("PUB-2025").allocated, ledger.get_fund("PUB-2025").closed)
    assert after == before
    refused(ledger, MakerCheckerViolation, "maker_checker",
            lambda: ledger.approve_change(Actor(made.subject.maker, frozenset({Role.APPROVER})),
                                          made.subject.id))
    applied(ledger, made, THIRD)
    moved = (ledger.get_allocation(allocation_id).allocated, ledger.get_fund("PUB-2025").appropriated,
             ledger.get_fund("PUB-2025").allocated, ledger.get_fund("PUB-2025").closed)
    assert moved != before


def test_a_change_that_no_longer_fits_is_refused_at_approval_and_stays_pending(
        stored_ledger: FundLedger) -> None:
    allocation_id = funded_school(stored_ledger, amount=10_000_00)
    made = stored_ledger.adjust_allocation(APPROVER, allocation_id, delta=-8_000_00, reason="less")
    expenditure(stored_ledger, allocation_id, amount=5_000_00)
    refused(stored_ledger, BelowSpent, "below_spent",
            lambda: stored_ledger.approve_change(CHECKER, made.subject.id))
    assert stored_ledger.get_change(made.subject.id).status == "pending"
    stored_ledger.reject_change(CHECKER, made.subject.id, reason="spent meanwhile")
    assert stored_ledger.get_change(made.subject.id).status == "rejected"
    refused(stored_ledger, ChangeNotPending, "change_not_pending",
            lambda: stored_ledger.approve_change(THIRD, made.subject.id))
    assert stored_ledger.get_allocation(allocation_id).allocated == 10_000_00


def test_a_change_that_cannot_fit_now_is_refused_when_made(ledger: FundLedger) -> None:
    allocation_id = funded_school(ledger, amount=10_000_00)
    school(ledger, code="XZ-PZ-0002")
    refused(ledger, Overspend, "overspend",
            lambda: ledger.transfer_allocation(OFFICER, allocation_id, amount=20_000_00,
                                               reason="r", to_school="XZ-PZ-0002"))


def test_an_approved_change_is_applied_once(stored_ledger: FundLedger) -> None:
    allocation_id = funded_school(stored_ledger)
    made = stored_ledger.adjust_allocation(APPROVER, allocation_id, delta=1_00, reason="more")
    applied(stored_ledger, made)
    refused(stored_ledger, ChangeNotPending, "change_not_pending",
            lambda: stored_ledger.approve_change(THIRD, made.subject.id))
    assert stored_ledger.get_allocation(allocation_id).allocated == 100_000_00 + 1_00


def test_unknown_change_is_not_found(ledger: FundLedger) -> None:
    refused(ledger, ChangeNotFound, "change_not_found",
            lambda: ledger.approve_change(CHECKER, uuid4()))


def test_changes_made_under_a_key_are_made_once(ledger: FundLedger) -> None:
    allocation_id = funded_school(ledger)
    first = ledger.adjust_allocation(APPROVER, allocation_id, delta=1_00, reason="r",
                                     idempotency_key="k1")
    again = ledger.adjust_allocation(APPROVER, allocation_id, delta=1_00, reason="r",
                                     idempotency_key="k1")
    assert again.replayed and again.subject.id == first.subject.id


def test_a_new_kind_plugs_in(ledger: FundLedger) -> None:
    """Other commands register their own kinds: this is all it takes."""
    def apply(ledger_: FundLedger, context: object, params: dict[str, object]) -> _Decision:
        fund = ledger_.get_fund(str(params["code"]))
        fund.adjust_appropriation(int(params["delta"]), Stamp(  # type: ignore[arg-type]
            context.maker.user_id, context.maker_role.value, TODAY,  # type: ignore[attr-defined]
            context.key, "test"))  # type: ignore[attr-defined]
        return _Decision([fund], [fund])

    register_change_kind("test_double_appropriation", apply)
    try:
        funded_school(ledger)
        made = ledger.propose_change(OFFICER, Role.OFFICER, "test_double_appropriation",
                                     {"code": "PUB-2025", "delta": 7, "reason": "x"}, None)
        assert made.subject.subjects == ["fund:PUB-2025"]
        applied(ledger, made)
        assert ledger.get_fund("PUB-2025").appropriated == 1_000_000_00 + 7
    finally:
        CHANGE_KINDS.pop("test_double_appropriation")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deltas=st.lists(st.integers(-60_000_00, 60_000_00).filter(bool), min_size=1, max_size=6),
       approve=st.lists(st.booleans(), min_size=6, max_size=6))
def test_pending_changes_never_move_money_and_approved_ones_keep_the_invariants(
        deltas: list[int], approve: list[bool]) -> None:
    """Property: whatever is made and whichever are approved, allocated moves by exactly the
    approved deltas that fitted, and 0 ≤ spent ≤ allocated ≤ appropriated holds throughout."""
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    try:
        allocation_id = funded_school(ledger, amount=100_000_00, fund_amount=200_000_00)
        expenditure(ledger, allocation_id, amount=30_000_00, spent_on=date(2025, 3, 2))
        made = []
        for delta in deltas:
            try:
                made.append((delta, ledger.adjust_allocation(APPROVER, allocation_id,
                                                             delta=delta, reason="r")))
            except LedgerError:  # refused when made: nothing recorded
                continue
        expected = ledger.get_allocation(allocation_id).allocated
        assert expected == 100_000_00
        for (delta, change), yes in zip(made, approve, strict=False):
            if not yes:
                continue
            try:
                applied(ledger, change)
                expected += delta
            except LedgerError:  # no longer fits: stays pending
                assert ledger.get_change(change.subject.id).status == "pending"
                continue
            allocation, fund = ledger.get_allocation(allocation_id), ledger.get_fund("PUB-2025")
            assert 0 <= allocation.spent <= allocation.allocated
            assert fund.allocated <= fund.appropriated
        assert ledger.get_allocation(allocation_id).allocated == expected
    finally:
        ledger.close()

