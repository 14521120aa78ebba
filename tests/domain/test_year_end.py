"""Year-end rules (domain/dispositions.py): 结转 keeps its purpose, 结余 goes back to its level,
basic expenditure is never surplus, projects continue only with a reason, carry-over money
is recovered after two year-ends, resource units are not closed, and a refused close
writes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actors import Actor, Role
from domain.errors import (
    AllocationClosed,
    AlreadyReversed,
    BasicExpenditureSurplus,
    CarryOverTargetInvalid,
    CarryOverTargetMissing,
    FundClosed,
    InvalidInput,
    MakerCheckerViolation,
    OperatingFundsConstruction,
    ProjectContinuationUnexplained,
    PurposeChanged,
    ResourceUnitsNotClosed,
    RoleNotAllowed,
)
from domain.ledger import FundLedger
from domain.surplus import RecoveredSurplus
from tests import factories as f
from tests.conftest import APPROVER, OFFICER
from tests.factories import refused


def _surplus(ledger: FundLedger, year: int, source: str = "county") -> int:
    account = ledger.repository.get(RecoveredSurplus.id_for(year, source, "CNY"))
    return account.balance


def test_carrying_operating_money_into_a_facilities_fund_is_purpose_changed(ledger: FundLedger):
    """The defect the issue found: 公用经费 carried into a construction fund."""
    allocation_id = f.funded_school(ledger)
    f.fund(ledger, code="FAC-2026", fiscal_year=2026, category="facilities")
    refused(ledger, PurposeChanged, "purpose_changed",
            lambda: ledger.close_fund(APPROVER, "PUB-2025", carry_to="FAC-2026"))
    assert ledger.get_allocation(allocation_id).status == "approved"


def test_other_expenditure_classes_or_earmark_are_purpose_changed(ledger: FundLedger):
    f.funded_school(ledger)
    f.fund(ledger, code="NAR-2026", fiscal_year=2026, expenditure_classes=["office"])
    f.fund(ledger, code="RUR-2026", fiscal_year=2026, earmark="rural_support")
    for target in ("NAR-2026", "RUR-2026"):
        refused(ledger, PurposeChanged, "purpose_changed",
                lambda target=target: ledger.close_fund(APPROVER, "PUB-2025", carry_to=target))


def test_another_source_level_is_no_target(ledger: FundLedger):
    f.funded_school(ledger)
    f.fund(ledger, code="CEN-2026", fiscal_year=2026, source="central")
    refused(ledger, CarryOverTargetInvalid, "carry_over_target_invalid",
            lambda: ledger.close_fund(APPROVER, "PUB-2025", carry_to="CEN-2026"))


def test_public_operating_funds_never_pay_for_construction(ledger: FundLedger):
    refused(ledger, OperatingFundsConstruction, "operating_funds_purpose",
            lambda: f.fund(ledger, code="BAD-2025",
                           expenditure_classes=["office", "construction"]))


def test_basic_expenditure_is_never_surplus(ledger: FundLedger):
    f.funded_school(ledger)
    for disposition in ("surplus", "lapse"):
        refused(ledger, BasicExpenditureSurplus, "basic_expenditure_surplus",
                lambda d=disposition: ledger.close_fund(APPROVER, "PUB-2025", disposition=d))


def test_a_missing_next_year_fund_is_named_and_nothing_is_written(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    f.fund(ledger, code="FAC-2026", fiscal_year=2026, category="facilities")
    position = ledger.last_position()
    with pytest.raises(CarryOverTargetMissing) as refusal:
        ledger.close_fund(APPROVER, "PUB-2025", next_year_funds=["FAC-2026"])
    assert "no open 2026 fund" in refusal.value.detail
    assert "public_operating" in refusal.value.detail
    assert ledger.last_position() == position
    assert ledger.get_allocation(allocation_id).status == "approved"


def test_the_next_year_fund_of_the_same_purpose_is_found(ledger: FundLedger):
    allocation_id = f.funded_school(ledger, amount=50_000)
    f.expenditure(ledger, allocation_id, amount=20_000)
    f.fund(ledger, code="FAC-2026", fiscal_year=2026, category="facilities")
    f.fund(ledger, code="PUB-2026", fiscal_year=2026, amount=1_000)
    f.applied(ledger, ledger.close_fund(APPROVER, "PUB-2025",
                                        next_year_funds=["FAC-2026", "PUB-2026"]))
    target = ledger.get_fund("PUB-2026")
    assert (target.appropriated, target.allocated) == (31_000, 30_000)
    (carried,) = target.allocation_ids
    assert ledger.get_allocation(carried).carried_since == 2025


def test_projects_recover_surplus_unless_continued_with_a_reason(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, code="EQP-2025", category="equipment", source="provincial")
    f.fund(ledger, code="EQP-2026", fiscal_year=2026, category="equipment", source="provincial")
    kept = f.approved(ledger, "EQP-2025", amount=40_000)
    recovered = f.approved(ledger, "EQP-2025", amount=10_000)
    refused(ledger, ProjectContinuationUnexplained, "project_continuation_unexplained",
            lambda: ledger.close_fund(APPROVER, "EQP-2025", disposition="carry_over",
                                      carry_to="EQP-2026"))
    # One default for the fund (surplus), one exception: the project that continues.
    f.applied(ledger, ledger.close_fund(APPROVER, "EQP-2025", exceptions=[
        {"allocation": str(kept), "disposition": "carry_over", "carry_to": "EQP-2026",
         "reason": "实验室设备分两期采购，二期在2026年"}]))
    assert ledger.get_allocation(kept).status == "closed"
    assert ledger.get_allocation(recovered).status == "closed"
    assert ledger.get_fund("EQP-2026").allocated == 40_000
    assert _surplus(ledger, 2025, "provincial") == 10_000


def test_an_exception_naming_another_funds_allocation_is_refused(ledger: FundLedger):
    f.funded_school(ledger)
    f.fund(ledger, code="PUB-2026", fiscal_year=2026)
    f.fund(ledger, code="OTH-2025", category="other")
    other = f.approved(ledger, "OTH-2025")
    refused(ledger, InvalidInput, "invalid_input",
            lambda: ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026", exceptions=[
                {"allocation": str(other), "disposition": "carry_over", "reason": "x"}]))


def test_carry_over_unspent_at_the_second_year_end_is_recovered(ledger: FundLedger):
    ledger.today = lambda: date(2027, 2, 1)
    f.funded_school(ledger, amount=9_000)
    for year in (2026, 2027):
        f.fund(ledger, code=f"PUB-{year}", fiscal_year=year, effective_date=date(year, 1, 2))
    f.applied(ledger, ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026"))
    (first,) = ledger.get_fund("PUB-2026").allocation_ids
    f.expenditure(ledger, first, amount=1_000, spent_on=date(2026, 3, 1), voucher="V26")
    f.applied(ledger, ledger.close_fund(APPROVER, "PUB-2026", carry_to="PUB-2027"))  # 1 year: carried
    (second,) = ledger.get_fund("PUB-2027").allocation_ids
    assert ledger.get_allocation(second).carried_since == 2025
    assert ledger.get_allocation(second).allocated == 8_000
    ledger.today = lambda: date(2028, 1, 5)
    # The second year-end since: recovered, basic or not.
    f.applied(ledger, ledger.close_fund(APPROVER, "PUB-2027"))
    assert _surplus(ledger, 2027) == 8_000
    assert ledger.get_allocation(second).status == "closed"


def test_resource_units_are_not_closed(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, code="PST-2025", unit="TEACHER_POST", amount=10, category="personnel")
    refused(ledger, ResourceUnitsNotClosed, "resource_units_not_closed",
            lambda: ledger.close_fund(APPROVER, "PST-2025"))


def test_closing_twice_is_refused(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, code="FAC-2025", category="facilities")
    f.approved(ledger, "FAC-2025")
    f.applied(ledger, ledger.close_fund(APPROVER, "FAC-2025"))
    refused(ledger, FundClosed, "fund_closed", lambda: ledger.close_fund(APPROVER, "FAC-2025"))


def test_closing_the_year_is_all_or_nothing(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, code="FAC-2025", category="facilities")
    f.fund(ledger)  # public operating, with nowhere to carry its remainder
    f.fund(ledger, code="PST-2025", unit="TEACHER_POST", amount=10, category="personnel")
    f.approved(ledger, "FAC-2025", amount=5_000)
    f.approved(ledger, "PUB-2025", amount=7_000)
    position = ledger.last_position()
    funds = ["FAC-2025", "PUB-2025", "PST-2025"]
    refused(ledger, CarryOverTargetMissing, "carry_over_target_missing",
            lambda: ledger.close_year(APPROVER, 2025, funds=funds))
    assert ledger.last_position() == position
    assert not ledger.get_fund("FAC-2025").closed
    f.fund(ledger, code="PUB-2026", fiscal_year=2026)
    f.applied(ledger, ledger.close_year(APPROVER, 2025, funds=funds, next_year_funds=["PUB-2026"]))
    assert ledger.get_fund("FAC-2025").closed and ledger.get_fund("PUB-2025").closed
    assert not ledger.get_fund("PST-2025").closed  # teacher posts are a standing quota
    assert _surplus(ledger, 2025) == 5_000
    assert ledger.get_fund("PUB-2026").allocated == 7_000


def test_a_closed_years_spending_is_reversed_as_a_prior_year_adjustment(ledger: FundLedger):
    ledger.today = lambda: date(2026, 3, 1)
    allocation_id = f.funded_school(ledger, amount=9_000)
    spent = f.expenditure(ledger, allocation_id, amount=4_000).subject.id
    f.fund(ledger, code="PUB-2026", fiscal_year=2026, effective_date=date(2026, 1, 2))
    f.applied(ledger, ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026"))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: ledger.reverse_expenditure(OFFICER, spent, reason="发票作废"))
    refused(ledger, RoleNotAllowed, "role_not_allowed",
            lambda: ledger.adjust_prior_year(APPROVER, spent, reason="发票作废"))
    position = ledger.last_position()
    # One who holds both roles asks; the same person may not approve it.
    both = Actor(OFFICER.user_id, frozenset({Role.OFFICER, Role.APPROVER}))
    made = ledger.adjust_prior_year(both, spent, reason="发票作废，以前年度盈余调整")
    assert made.subject.kind == "prior_year_adjustment"
    assert not ledger.get_expenditure(spent).reversed  # pending: nothing moved yet
    refused(ledger, MakerCheckerViolation, "maker_checker",
            lambda: ledger.approve_change(both, made.subject.id))
    assert ledger.last_position() == position + 1  # the pending change only
    f.applied(ledger, made)
    allocation = ledger.get_allocation(allocation_id)
    assert (allocation.status, allocation.spent) == ("closed", 4_000)  # never reopened
    assert ledger.get_expenditure(spent).reversed
    account = ledger.repository.get(RecoveredSurplus.id_for(2025, "county", "CNY"))
    assert (account.recovered, account.prior_year_adjustments) == (0, 4_000)
    refused(ledger, AlreadyReversed, "already_reversed",
            lambda: ledger.adjust_prior_year(OFFICER, spent, reason="again"))
    open_year = f.expenditure(ledger, ledger.get_fund("PUB-2026").allocation_ids[0],
                              amount=100, spent_on=date(2026, 2, 1), voucher="V26").subject.id
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: ledger.adjust_prior_year(OFFICER, open_year, reason="x"))
    refused(ledger, InvalidInput, "invalid_input",
            lambda: ledger.adjust_prior_year(OFFICER, spent, reason="x",
                                             effective_date=date(2025, 12, 30)))


def test_the_found_target_is_the_line_for_the_same_school_levels(ledger: FundLedger):
    f.school(ledger, level="junior")
    f.fund(ledger, code="YW-2025", levels=["primary", "junior"])
    allocation_id = f.approved(ledger, "YW-2025")
    f.fund(ledger, code="GZ-2026", fiscal_year=2026, levels=["senior"])
    f.fund(ledger, code="YW-2026", fiscal_year=2026, levels=["junior", "primary"])
    f.applied(ledger, ledger.close_fund(APPROVER, "YW-2025",
                                        next_year_funds=["GZ-2026", "YW-2026"]))
    (carried,) = ledger.get_fund("YW-2026").allocation_ids
    assert ledger.get_allocation(carried).carried_since == 2025
    assert ledger.get_allocation(allocation_id).status == "closed"
