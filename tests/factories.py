"""Builders of a small world of schools, funds, allocations and expenditures for tests.

Each builder drives the ledger's own commands with plausible defaults that a test may
override by keyword, so a test names only what it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.actors import Actor, Role
from domain.errors import LedgerError
from domain.ledger import FundLedger, Outcome
from tests.conftest import APPROVER, CHECKER, OFFICER

# An officer who is also a section chief: the only kind of user who could break maker-checker.
CHIEF_OFFICER = Actor("chen.chief", frozenset({Role.OFFICER, Role.APPROVER}))
ADMIN = Actor("adm.admin", frozenset({Role.ADMIN}))
READER = Actor("rea.reader", frozenset({Role.READER}))

FISCAL_YEAR = 2025
REGISTERED_ON = date(2025, 1, 1)
OPENED_ON = date(2025, 1, 2)
PROPOSED_ON = date(2025, 2, 1)
APPROVED_ON = date(2025, 2, 3)
SPENT_ON = date(2025, 3, 2)


def school(ledger: FundLedger, code: str = "XZ-PZ-0001", **overrides: Any) -> Outcome:
    fields: dict[str, Any] = {
        "code": code, "name": f"学校 {code}", "district": "Pizhou", "level": "primary",
        "locale": "rural", "poverty_area": False, "students": 400,
        "effective_date": REGISTERED_ON,
    }
    fields.update(overrides)
    return ledger.register_school(OFFICER, **fields)


def fund(ledger: FundLedger, code: str = "PUB-2025", **overrides: Any) -> Outcome:
    fields: dict[str, Any] = {
        "code": code, "name": f"资金 {code}", "fiscal_year": FISCAL_YEAR, "unit": "CNY",
        "amount": 1_000_000_00, "source": "county", "category": "public_operating",
        "effective_date": OPENED_ON,
    }
    fields.update(overrides)
    return ledger.open_fund(OFFICER, **fields)


def proposal(ledger: FundLedger, fund_code: str = "PUB-2025", school_code: str = "XZ-PZ-0001",
             amount: int = 100_000_00, **overrides: Any) -> UUID:
    fields: dict[str, Any] = {"purpose": "公用经费", "effective_date": PROPOSED_ON}
    fields.update(overrides)
    actor = fields.pop("actor", OFFICER)
    return ledger.propose_allocation(actor, fund=fund_code, school=school_code, amount=amount,
                                     **fields).subject.id


def approved(ledger: FundLedger, fund_code: str = "PUB-2025", school_code: str = "XZ-PZ-0001",
             amount: int = 100_000_00, approved_on: date = APPROVED_ON,
             **overrides: Any) -> UUID:
    allocation_id = proposal(ledger, fund_code, school_code, amount, **overrides)
    ledger.approve_allocation(APPROVER, allocation_id, effective_date=approved_on)
    return allocation_id


def expenditure(ledger: FundLedger, allocation_id: UUID, amount: int = 1_000_00,
                voucher: str = "V-0001", **overrides: Any) -> Outcome:
    fields: dict[str, Any] = {"payee": "邳州供电公司", "spent_on": SPENT_ON,
                              "description": "电费"}
    fields.update(overrides)
    return ledger.record_expenditure(OFFICER, allocation=allocation_id, amount=amount,
                                     voucher=voucher, **fields)


def applied(ledger: FundLedger, made: Outcome, checker: Actor = CHECKER) -> Outcome:
    """A two-person change made by one person, approved by another: what the approval
    changed, as the command's own outcome used to answer (the change itself is dropped)."""
    assert made.subject.status == "pending"
    done = ledger.approve_change(checker, made.subject.id)
    return Outcome(done.subjects[1:], done.position, done.replayed)


def funded_school(ledger: FundLedger, amount: int = 100_000_00,
                  fund_amount: int = 1_000_000_00) -> UUID:
    """The usual start: one rural primary school with an approved allocation of one fund."""
    school(ledger)
    fund(ledger, amount=fund_amount)
    return approved(ledger, amount=amount)


def refused(ledger: FundLedger, error: type[LedgerError], code: str,
            command: Callable[[], object]) -> LedgerError:
    """Runs a command that must be refused with exactly this rule and its published code,
    writing nothing."""
    before = ledger.last_position()
    with pytest.raises(error) as caught:
        command()
    assert type(caught.value) is error, f"refused as {type(caught.value).__name__}, not {error.__name__}"
    assert caught.value.code == code
    assert ledger.last_position() == before, "a refused command wrote an event"
    return caught.value
