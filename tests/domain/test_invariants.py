"""The aggregates assert their invariants after every change (TIGER_STYLE): a bug that
corrupts a balance stops the next command instead of being saved. These tests corrupt an
aggregate in memory, as a bug would, and check that the next change refuses to go on."""

from __future__ import annotations

import pytest

from domain.actors import Stamp
from domain.ledger import FundLedger
from tests.conftest import APPROVER
from tests.factories import APPROVED_ON, approved, fund, school


def test_spent_above_allocated_stops_the_next_change(ledger: FundLedger) -> None:
    school(ledger)
    fund(ledger)
    allocation = ledger.get_allocation(approved(ledger))
    allocation.spent = allocation.allocated + 5  # a bug elsewhere
    with pytest.raises(AssertionError):
        allocation.transfer_in(allocation.id, 1, _stamp())


def test_negative_spent_stops_the_next_change(ledger: FundLedger) -> None:
    school(ledger)
    fund(ledger)
    allocation = ledger.get_allocation(approved(ledger))
    allocation.spent = -1
    with pytest.raises(AssertionError):
        allocation.transfer_in(allocation.id, 1, _stamp())


def test_fund_allocated_above_appropriated_stops_the_next_change(ledger: FundLedger) -> None:
    school(ledger)
    fund_ = fund(ledger).subject
    fund_.allocated = fund_.appropriated + 1
    with pytest.raises(AssertionError):
        fund_.carry_in("OLD", 0, _stamp())


def _stamp() -> Stamp:
    return Stamp(APPROVER.user_id, "approver", APPROVED_ON)


def test_every_change_asserts_even_one_whose_command_never_asked(ledger: FundLedger) -> None:
    """Marking a fund formula-funded never asserted on its own: the assertion now follows every
    event the books trigger (domain/invariants.py), so no command can forget it."""
    school(ledger)
    fund_ = fund(ledger).subject
    fund_.allocated = fund_.appropriated + 1
    with pytest.raises(AssertionError):
        fund_.mark_formula_funded(_stamp())
