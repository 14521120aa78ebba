"""Every rule of the books (DESIGN §2), one refusal each: its error class, its published code,
and that the refused command wrote nothing."""

from __future__ import annotations

import unicodedata
from datetime import date
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import Status
from domain.errors import (
    AllocationClosed,
    AllocationNotFound,
    AlreadyReversed,
    AmountOutOfRange,
    AppropriationBelowAllocated,
    BelowSpent,
    CarryOverTargetInvalid,
    DateInFuture,
    DateOutsideFiscalYear,
    DuplicateVoucher,
    EarmarkViolation,
    ExpenditureClassNotAllowed,
    FundClosed,
    LevelNotEligible,
    MakerCheckerViolation,
    NotApproved,
    NotProposed,
    OverAllocation,
    Overspend,
    SchoolClosed,
    SpentBeforeApproval,
    TransferNotAllowed,
    UnitMismatch,
    UnknownUnit,
)
from domain.ledger import FundLedger
from domain.limits import AMOUNT_MINOR_MAX
from domain.rules import reason_text
from tests import factories as f
from tests.conftest import APPROVER, OFFICER, OFFICER_2
from tests.factories import CHIEF_OFFICER, applied, refused

# ------------------------------------------------------------------ spending


def test_spending_more_than_the_remainder_is_an_overspend(ledger: FundLedger):
    allocation_id = f.funded_school(ledger, amount=10_000)
    f.expenditure(ledger, allocation_id, amount=6_000, voucher="V1")
    refused(ledger, Overspend, "overspend",
            lambda: f.expenditure(ledger, allocation_id, amount=4_001, voucher="V2"))
    f.expenditure(ledger, allocation_id, amount=4_000, voucher="V3")  # exactly the remainder
    allocation = ledger.get_allocation(allocation_id)
    assert (allocation.allocated, allocation.spent, allocation.remaining) == (10_000, 10_000, 0)
    refused(ledger, Overspend, "overspend",
            lambda: f.expenditure(ledger, allocation_id, amount=1, voucher="V4"))


def test_spending_on_a_proposal_is_refused_as_not_approved(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    allocation_id = f.proposal(ledger)
    refused(ledger, NotApproved, "not_approved", lambda: f.expenditure(ledger, allocation_id))


def test_spending_dated_before_the_approval_is_refused(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    refused(ledger, SpentBeforeApproval, "spent_before_approval",
            lambda: f.expenditure(ledger, allocation_id, spent_on=date(2025, 2, 2)))
    f.expenditure(ledger, allocation_id, spent_on=f.APPROVED_ON)  # the approval day itself is fine


def test_spending_dated_outside_the_fiscal_year_is_refused(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    refused(ledger, DateOutsideFiscalYear, "date_outside_fiscal_year",
            lambda: f.expenditure(ledger, allocation_id, spent_on=date(2024, 12, 31)))


def test_spending_dated_in_the_future_is_refused(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, code="PUB-2026", fiscal_year=2026)
    # Carry-over is the only way to hold a 2026 allocation while today is still 2025.
    f.fund(ledger)
    allocation_id = f.approved(ledger)
    applied(ledger, ledger.close_fund(APPROVER, "PUB-2025", disposition="carry_over", carry_to="PUB-2026"))
    (carried,) = ledger.get_fund("PUB-2026").allocation_ids
    refused(ledger, DateInFuture, "date_in_future",
            lambda: f.expenditure(ledger, carried, spent_on=date(2026, 1, 5)))
    refused(ledger, DateInFuture, "date_in_future",
            lambda: f.expenditure(ledger, allocation_id, spent_on=date(2026, 1, 1)))


def test_an_effective_date_in_the_future_is_refused(ledger: FundLedger):
    refused(ledger, DateInFuture, "date_in_future",
            lambda: f.school(ledger, effective_date=date(2026, 1, 1)))


def test_an_allocation_dated_outside_the_fund_year_is_refused(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    refused(ledger, DateOutsideFiscalYear, "date_outside_fiscal_year",
            lambda: f.proposal(ledger, effective_date=date(2024, 12, 1)))


@pytest.mark.parametrize("economic_class", ["salaries", "construction", "debt_repayment"])
def test_public_operating_funds_may_not_pay_salaries_construction_or_debt(
    ledger: FundLedger, economic_class: str,
):
    allocation_id = f.funded_school(ledger)
    refused(ledger, ExpenditureClassNotAllowed, "expenditure_class_not_allowed",
            lambda: f.expenditure(ledger, allocation_id, economic_class=economic_class))
    f.expenditure(ledger, allocation_id, economic_class="utilities")


def test_a_fund_may_name_the_only_classes_it_pays_for(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, category="other", expenditure_classes=["books"])
    allocation_id = f.approved(ledger)
    refused(ledger, ExpenditureClassNotAllowed, "expenditure_class_not_allowed",
            lambda: f.expenditure(ledger, allocation_id, economic_class="travel"))
    # With no class named, the category's everyday class (office) is assumed, and refused too.
    refused(ledger, ExpenditureClassNotAllowed, "expenditure_class_not_allowed",
            lambda: f.expenditure(ledger, allocation_id))
    f.expenditure(ledger, allocation_id, economic_class="books")


# ------------------------------------------------------------------ vouchers


def test_a_voucher_number_is_unique_per_school_and_fiscal_year(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    f.expenditure(ledger, allocation_id, voucher="2025-0001")
    refused(ledger, DuplicateVoucher, "duplicate_voucher",
            lambda: f.expenditure(ledger, allocation_id, voucher="2025-0001", amount=5))


def test_a_voucher_number_is_unique_across_the_schools_allocations(ledger: FundLedger):
    first = f.funded_school(ledger)
    f.fund(ledger, code="NUT-2025", category="other")
    second = f.approved(ledger, fund_code="NUT-2025")
    f.expenditure(ledger, first, voucher="2025-0001")
    refused(ledger, DuplicateVoucher, "duplicate_voucher",
            lambda: f.expenditure(ledger, second, voucher="2025-0001"))


def test_a_voucher_number_is_free_again_after_its_expenditure_is_reversed(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    wrong = f.expenditure(ledger, allocation_id, voucher="2025-0001", amount=9_999)
    ledger.reverse_expenditure(OFFICER, wrong.subject.id, reason="wrong amount keyed")
    right = f.expenditure(ledger, allocation_id, voucher="2025-0001", amount=999)
    assert right.subject.voucher == "2025-0001"
    assert ledger.get_allocation(allocation_id).spent == 999
    refused(ledger, DuplicateVoucher, "duplicate_voucher",
            lambda: f.expenditure(ledger, allocation_id, voucher="2025-0001"))


def test_another_school_may_use_the_same_voucher_number(ledger: FundLedger):
    first = f.funded_school(ledger)
    f.school(ledger, code="XZ-PZ-0002")
    second = f.approved(ledger, school_code="XZ-PZ-0002")
    f.expenditure(ledger, first, voucher="2025-0001")
    f.expenditure(ledger, second, voucher="2025-0001")
    assert ledger.get_allocation(second).spent == 1_000_00


# ------------------------------------------------------------------ reversals


def test_an_expenditure_is_reversed_once(ledger: FundLedger):
    allocation_id = f.funded_school(ledger, amount=10_000)
    spent = f.expenditure(ledger, allocation_id, amount=7_000)
    ledger.reverse_expenditure(OFFICER, spent.subject.id, reason="duplicate entry")
    assert ledger.get_allocation(allocation_id).remaining == 10_000
    assert ledger.get_expenditure(spent.subject.id).status == "reversed"
    refused(ledger, AlreadyReversed, "already_reversed",
            lambda: ledger.reverse_expenditure(OFFICER, spent.subject.id, reason="again"))
    assert ledger.get_allocation(allocation_id).remaining == 10_000


# ------------------------------------------------------------------ amounts and units


@pytest.mark.parametrize("amount", [0, -1, -100_00, AMOUNT_MINOR_MAX + 1, 10**15, True, 1.5, 100.0])
def test_amounts_out_of_range_are_refused_everywhere(ledger: FundLedger, amount: object):
    allocation_id = f.funded_school(ledger)
    refused(ledger, AmountOutOfRange, "amount_out_of_range",
            lambda: f.fund(ledger, code="BAD", amount=amount))
    refused(ledger, AmountOutOfRange, "amount_out_of_range",
            lambda: f.proposal(ledger, amount=amount))  # type: ignore[arg-type]
    refused(ledger, AmountOutOfRange, "amount_out_of_range",
            lambda: f.expenditure(ledger, allocation_id, amount=amount))  # type: ignore[arg-type]
    refused(ledger, AmountOutOfRange, "amount_out_of_range",
            lambda: ledger.transfer_allocation(OFFICER, allocation_id, amount=amount,  # type: ignore[arg-type]
                                               reason="move", to_school="XZ-PZ-0001"))


@pytest.mark.parametrize("delta", [0, 10**15, -(10**15), True, 0.5])
def test_deltas_out_of_range_are_refused(ledger: FundLedger, delta: object):
    allocation_id = f.funded_school(ledger)
    refused(ledger, AmountOutOfRange, "amount_out_of_range",
            lambda: ledger.adjust_fund(APPROVER, "PUB-2025", delta=delta, reason="x"))  # type: ignore[arg-type]
    refused(ledger, AmountOutOfRange, "amount_out_of_range",
            lambda: ledger.adjust_allocation(APPROVER, allocation_id, delta=delta, reason="x"))  # type: ignore[arg-type]


def test_the_largest_amount_is_accepted(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, amount=AMOUNT_MINOR_MAX)
    allocation_id = f.approved(ledger, amount=AMOUNT_MINOR_MAX)
    assert ledger.get_fund("PUB-2025").available == 0
    assert ledger.get_allocation(allocation_id).allocated == 10**15 - 1


def test_a_unit_other_than_the_funds_is_refused(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, code="POSTS-2025", unit="TEACHER_POST", amount=40, category="personnel")
    refused(ledger, UnitMismatch, "unit_mismatch",
            lambda: f.proposal(ledger, fund_code="POSTS-2025", amount=2, unit="CNY"))
    allocation_id = f.approved(ledger, fund_code="POSTS-2025", amount=2, unit="TEACHER_POST")
    refused(ledger, UnitMismatch, "unit_mismatch",
            lambda: f.expenditure(ledger, allocation_id, amount=1, unit="CNY",
                                  economic_class="staffing"))
    f.expenditure(ledger, allocation_id, amount=1, unit="TEACHER_POST", economic_class="staffing")


@pytest.mark.parametrize("unit", ["cny", "元", "TEACHER POST", "", "CNY;DROP"])
def test_a_unit_that_is_no_unit_code_is_refused(ledger: FundLedger, unit: str):
    refused(ledger, UnknownUnit, "unknown_unit", lambda: f.fund(ledger, unit=unit))


def test_the_bureau_may_declare_a_resource_unit_without_decimals(ledger: FundLedger):
    f.fund(ledger, code="DESKS-2025", unit="DESK_SET", amount=300, category="equipment")
    assert ledger.get_fund("DESKS-2025").unit == "DESK_SET"


# ------------------------------------------------------------------ over-allocation


def test_a_proposal_beyond_the_unallocated_appropriation_is_refused(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, amount=10_000)
    f.approved(ledger, amount=7_000)
    refused(ledger, OverAllocation, "over_allocation", lambda: f.proposal(ledger, amount=3_001))
    f.proposal(ledger, amount=3_000)


def test_an_approval_beyond_the_unallocated_appropriation_is_refused(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger, amount=10_000)
    first = f.proposal(ledger, amount=6_000)
    second = f.proposal(ledger, amount=6_000)  # each fits alone; not both
    ledger.approve_allocation(APPROVER, first, effective_date=f.APPROVED_ON)
    refused(ledger, OverAllocation, "over_allocation",
            lambda: ledger.approve_allocation(APPROVER, second, effective_date=f.APPROVED_ON))
    assert ledger.get_allocation(second).status == Status.PROPOSED
    assert ledger.get_fund("PUB-2025").allocated == 6_000


def test_adjusting_an_allocation_up_beyond_the_fund_is_refused(ledger: FundLedger):
    allocation_id = f.funded_school(ledger, amount=6_000, fund_amount=10_000)
    refused(ledger, OverAllocation, "over_allocation",
            lambda: ledger.adjust_allocation(APPROVER, allocation_id, delta=4_001, reason="more"))
    applied(ledger, ledger.adjust_allocation(APPROVER, allocation_id, delta=4_000, reason="more"))
    assert ledger.get_fund("PUB-2025").available == 0


def test_adjusting_an_allocation_below_what_is_spent_is_refused(ledger: FundLedger):
    allocation_id = f.funded_school(ledger, amount=10_000)
    f.expenditure(ledger, allocation_id, amount=7_000)
    refused(ledger, BelowSpent, "below_spent",
            lambda: ledger.adjust_allocation(APPROVER, allocation_id, delta=-3_001, reason="cut"))
    applied(ledger, ledger.adjust_allocation(APPROVER, allocation_id, delta=-3_000, reason="cut"))
    assert ledger.get_fund("PUB-2025").allocated == 7_000


def test_an_appropriation_cannot_fall_below_what_is_allocated(ledger: FundLedger):
    f.funded_school(ledger, amount=6_000, fund_amount=10_000)
    refused(ledger, AppropriationBelowAllocated, "appropriation_below_allocated",
            lambda: ledger.adjust_fund(APPROVER, "PUB-2025", delta=-4_001, reason="cut"))
    applied(ledger, ledger.adjust_fund(APPROVER, "PUB-2025", delta=-4_000, reason="cut"))
    assert ledger.get_fund("PUB-2025").available == 0


# ------------------------------------------------------------------ lifecycle


def test_approving_twice_is_refused_as_not_proposed(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    refused(ledger, NotProposed, "not_proposed",
            lambda: ledger.approve_allocation(APPROVER, allocation_id))
    refused(ledger, NotProposed, "not_proposed",
            lambda: ledger.reject_allocation(APPROVER, allocation_id, reason="too late"))


def test_a_rejected_allocation_is_closed_to_everything(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    allocation_id = f.proposal(ledger)
    ledger.reject_allocation(APPROVER, allocation_id, reason="no need")
    refused(ledger, NotProposed, "not_proposed",
            lambda: ledger.approve_allocation(APPROVER, allocation_id))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: f.expenditure(ledger, allocation_id))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: ledger.adjust_allocation(APPROVER, allocation_id, delta=1, reason="x"))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: ledger.cancel_allocation(OFFICER, allocation_id, reason="x"))


def test_a_cancelled_allocation_releases_its_remainder_and_is_closed(ledger: FundLedger):
    allocation_id = f.funded_school(ledger, amount=10_000, fund_amount=50_000)
    f.expenditure(ledger, allocation_id, amount=2_500)
    applied(ledger, ledger.cancel_allocation(OFFICER, allocation_id, reason="school merged"))
    allocation = ledger.get_allocation(allocation_id)
    assert (allocation.status, allocation.allocated, allocation.spent) == ("cancelled", 2_500, 2_500)
    assert ledger.get_fund("PUB-2025").allocated == 2_500
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: f.expenditure(ledger, allocation_id, voucher="V9"))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: ledger.cancel_allocation(OFFICER, allocation_id, reason="again"))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: ledger.adjust_allocation(APPROVER, allocation_id, delta=100, reason="x"))


def test_a_year_closed_allocation_takes_no_more_spending(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    spent = f.expenditure(ledger, allocation_id)
    f.fund(ledger, code="PUB-2026", fiscal_year=2026)
    applied(ledger, ledger.close_fund(APPROVER, "PUB-2025", carry_to="PUB-2026"))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: f.expenditure(ledger, allocation_id, voucher="V2"))
    refused(ledger, AllocationClosed, "allocation_closed",
            lambda: ledger.reverse_expenditure(OFFICER, spent.subject.id, reason="late"))
    # Its fund closed with it: a transfer is refused by the fund before the allocation is asked.
    refused(ledger, FundClosed, "fund_closed",
            lambda: ledger.transfer_allocation(OFFICER, allocation_id, amount=1, reason="x",
                                               to_school="XZ-PZ-0001"))


def test_a_closed_fund_takes_no_approvals_adjustments_or_proposals(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    waiting = f.proposal(ledger)
    applied(ledger, ledger.close_fund(APPROVER, "PUB-2025"))
    refused(ledger, FundClosed, "fund_closed", lambda: f.proposal(ledger))
    refused(ledger, FundClosed, "fund_closed",
            lambda: ledger.approve_allocation(APPROVER, waiting, effective_date=f.APPROVED_ON))
    refused(ledger, FundClosed, "fund_closed",
            lambda: ledger.adjust_fund(APPROVER, "PUB-2025", delta=1, reason="x"))
    refused(ledger, FundClosed, "fund_closed", lambda: ledger.close_fund(APPROVER, "PUB-2025"))


def test_a_closed_school_takes_no_new_allocations_or_changes(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    ledger.close_school(OFFICER, "XZ-PZ-0001", reason="merged", effective_date=date(2025, 6, 30))
    # Before its closure it could still have been funded: the rule is about the allocation's date.
    f.proposal(ledger, effective_date=date(2025, 6, 29))
    refused(ledger, SchoolClosed, "school_closed",
            lambda: f.proposal(ledger, effective_date=date(2025, 6, 30)))
    refused(ledger, SchoolClosed, "school_closed",
            lambda: ledger.reclassify_school(OFFICER, "XZ-PZ-0001", locale="urban", reason="x"))
    refused(ledger, SchoolClosed, "school_closed",
            lambda: ledger.report_enrolment(OFFICER, "XZ-PZ-0001", students=1))
    refused(ledger, SchoolClosed, "school_closed",
            lambda: ledger.close_school(OFFICER, "XZ-PZ-0001", reason="again"))


def test_a_transfer_to_a_closed_school_is_refused(ledger: FundLedger):
    allocation_id = f.funded_school(ledger)
    f.school(ledger, code="XZ-PZ-0002")
    ledger.close_school(OFFICER, "XZ-PZ-0002", reason="merged", effective_date=date(2025, 6, 30))
    refused(ledger, SchoolClosed, "school_closed",
            lambda: ledger.transfer_allocation(OFFICER, allocation_id, amount=1, reason="x",
                                               to_school="XZ-PZ-0002"))


# ------------------------------------------------------------------ maker-checker


def test_the_proposer_may_not_approve_their_own_proposal(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    allocation_id = f.proposal(ledger, actor=CHIEF_OFFICER)
    refused(ledger, MakerCheckerViolation, "maker_checker",
            lambda: ledger.approve_allocation(CHIEF_OFFICER, allocation_id))
    ledger.approve_allocation(APPROVER, allocation_id)
    assert ledger.get_allocation(allocation_id).approved_by == APPROVER.user_id


def test_the_proposer_may_not_reject_their_own_proposal(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    allocation_id = f.proposal(ledger, actor=CHIEF_OFFICER)
    refused(ledger, MakerCheckerViolation, "maker_checker",
            lambda: ledger.reject_allocation(CHIEF_OFFICER, allocation_id, reason="mine"))


def test_a_chief_may_approve_what_someone_else_proposed(ledger: FundLedger):
    f.school(ledger)
    f.fund(ledger)
    allocation_id = f.proposal(ledger, actor=OFFICER_2)
    ledger.approve_allocation(CHIEF_OFFICER, allocation_id)
    assert ledger.get_allocation(allocation_id).status == Status.APPROVED


# ------------------------------------------------------------------ earmark and level


def test_rural_support_does_not_go_to_an_urban_school_outside_poverty_areas(ledger: FundLedger):
    f.school(ledger, code="XZ-GL-0001", locale="urban", district="Gulou")
    f.fund(ledger, code="RUR-2025", earmark="rural_support")
    refused(ledger, EarmarkViolation, "earmark_violation",
            lambda: f.proposal(ledger, fund_code="RUR-2025", school_code="XZ-GL-0001"))


@pytest.mark.parametrize(("locale", "poverty_area"),
                         [("town", False), ("rural", False), ("urban", True), ("rural", True)])
def test_rural_support_goes_to_town_rural_and_poverty_area_schools(
    ledger: FundLedger, locale: str, poverty_area: bool,
):
    f.school(ledger, code="XZ-X-0001", locale=locale, poverty_area=poverty_area)
    f.fund(ledger, code="RUR-2025", earmark="rural_support")
    allocation_id = f.approved(ledger, fund_code="RUR-2025", school_code="XZ-X-0001")
    assert ledger.get_allocation(allocation_id).allocated == 100_000_00


def test_rural_support_follows_the_locale_in_force_on_the_allocations_date(ledger: FundLedger):
    f.school(ledger, code="XZ-TS-0001", locale="urban")
    f.school(ledger, code="XZ-TS-0002", locale="rural")
    f.fund(ledger, code="RUR-2025", earmark="rural_support")
    # The first became rural from June; the second became urban from June (城区扩展).
    ledger.reclassify_school(OFFICER, "XZ-TS-0001", locale="rural", reason="re-survey",
                             effective_date=date(2025, 6, 1))
    ledger.reclassify_school(OFFICER, "XZ-TS-0002", locale="urban", reason="city grew",
                             effective_date=date(2025, 6, 1))
    refused(ledger, EarmarkViolation, "earmark_violation",
            lambda: f.proposal(ledger, fund_code="RUR-2025", school_code="XZ-TS-0001",
                               effective_date=date(2025, 5, 31)))
    f.proposal(ledger, fund_code="RUR-2025", school_code="XZ-TS-0001",
               effective_date=date(2025, 6, 1))
    f.proposal(ledger, fund_code="RUR-2025", school_code="XZ-TS-0002",
               effective_date=date(2025, 5, 31))
    refused(ledger, EarmarkViolation, "earmark_violation",
            lambda: f.proposal(ledger, fund_code="RUR-2025", school_code="XZ-TS-0002",
                               effective_date=date(2025, 6, 1)))


def test_a_back_dated_reclassification_changes_what_held_on_earlier_days(ledger: FundLedger):
    f.school(ledger, code="XZ-TS-0003", locale="urban")
    f.fund(ledger, code="RUR-2025", earmark="rural_support")
    ledger.reclassify_school(OFFICER, "XZ-TS-0003", locale="town", reason="re-survey",
                             effective_date=date(2025, 9, 1))
    # Recorded later but effective earlier: the school was town from March to September too.
    ledger.reclassify_school(OFFICER, "XZ-TS-0003", locale="town", reason="survey correction",
                             effective_date=date(2025, 3, 1))
    f.proposal(ledger, fund_code="RUR-2025", school_code="XZ-TS-0003",
               effective_date=date(2025, 4, 1))
    refused(ledger, EarmarkViolation, "earmark_violation",
            lambda: f.proposal(ledger, fund_code="RUR-2025", school_code="XZ-TS-0003",
                               effective_date=date(2025, 2, 28)))


def test_a_transfer_of_rural_support_to_an_urban_school_is_refused(ledger: FundLedger):
    f.school(ledger)
    f.school(ledger, code="XZ-GL-0001", locale="urban")
    f.fund(ledger, code="RUR-2025", earmark="rural_support")
    allocation_id = f.approved(ledger, fund_code="RUR-2025")
    refused(ledger, EarmarkViolation, "earmark_violation",
            lambda: ledger.transfer_allocation(OFFICER, allocation_id, amount=1, reason="x",
                                               to_school="XZ-GL-0001"))


def test_a_fund_restricted_to_levels_refuses_other_schools(ledger: FundLedger):
    f.school(ledger, code="XZ-J-0001", level="junior")
    f.school(ledger, code="XZ-P-0001", level="primary")
    f.fund(ledger, code="NUT-2025", category="nutrition", levels=["primary", "nine_year"])
    refused(ledger, LevelNotEligible, "level_not_eligible",
            lambda: f.proposal(ledger, fund_code="NUT-2025", school_code="XZ-J-0001"))
    f.proposal(ledger, fund_code="NUT-2025", school_code="XZ-P-0001")


# ------------------------------------------------------------------ transfers


def test_a_transfer_opens_a_new_allocation_for_another_school_atomically(ledger: FundLedger):
    source = f.funded_school(ledger, amount=10_000, fund_amount=50_000)
    f.school(ledger, code="XZ-PZ-0002")
    f.expenditure(ledger, source, amount=4_000)
    before = ledger.last_position()
    moved = applied(ledger, ledger.transfer_allocation(
        OFFICER, source, amount=5_000, reason="enrolment moved", to_school="XZ-PZ-0002",
        effective_date=date(2025, 5, 1)))
    source_after, target = moved.subjects
    assert (source_after.allocated, source_after.spent) == (5_000, 4_000)
    assert (target.school_code, target.allocated, target.status) == ("XZ-PZ-0002", 5_000, "approved")
    fund = ledger.get_fund("PUB-2025")
    assert fund.allocated == 10_000  # nothing left the fund
    assert target.id in fund.allocation_ids  # so that year-end close reaches it
    assert moved.position == ledger.last_position() > before
    f.expenditure(ledger, target.id, amount=5_000, voucher="T1", spent_on=date(2025, 5, 2))


def test_a_transfer_to_an_existing_allocation_of_the_same_fund(ledger: FundLedger):
    source = f.funded_school(ledger, amount=10_000, fund_amount=50_000)
    f.school(ledger, code="XZ-PZ-0002")
    target = f.approved(ledger, school_code="XZ-PZ-0002", amount=1_000)
    applied(ledger, ledger.transfer_allocation(OFFICER, source, amount=3_000, reason="x",
                                               to_allocation=target))
    assert ledger.get_allocation(source).allocated == 7_000
    assert ledger.get_allocation(target).allocated == 4_000
    assert ledger.get_fund("PUB-2025").allocated == 11_000


def test_a_transfer_moves_only_the_unspent_remainder(ledger: FundLedger):
    source = f.funded_school(ledger, amount=10_000, fund_amount=50_000)
    f.school(ledger, code="XZ-PZ-0002")
    f.expenditure(ledger, source, amount=6_000)
    refused(ledger, Overspend, "overspend",
            lambda: ledger.transfer_allocation(OFFICER, source, amount=4_001, reason="x",
                                               to_school="XZ-PZ-0002"))


def test_a_transfer_stays_within_one_fund_and_never_to_itself(ledger: FundLedger):
    source = f.funded_school(ledger)
    f.fund(ledger, code="EQP-2025", category="equipment")
    other_fund = f.approved(ledger, fund_code="EQP-2025")
    refused(ledger, TransferNotAllowed, "transfer_not_allowed",
            lambda: ledger.transfer_allocation(OFFICER, source, amount=1, reason="x",
                                               to_allocation=other_fund))
    refused(ledger, TransferNotAllowed, "transfer_not_allowed",
            lambda: ledger.transfer_allocation(OFFICER, source, amount=1, reason="x",
                                               to_allocation=source))


def test_a_transfer_from_or_to_a_proposal_is_refused(ledger: FundLedger):
    source = f.funded_school(ledger)
    waiting = f.proposal(ledger)
    refused(ledger, NotApproved, "not_approved",
            lambda: ledger.transfer_allocation(OFFICER, source, amount=1, reason="x",
                                               to_allocation=waiting))
    refused(ledger, NotApproved, "not_approved",
            lambda: ledger.transfer_allocation(OFFICER, waiting, amount=1, reason="x",
                                               to_allocation=source))


# ------------------------------------------------------------------ year-end close


def test_year_end_surplus_recovers_every_project_remainder_and_closes_everything(
        ledger: FundLedger):
    f.school(ledger)
    f.school(ledger, code="XZ-PZ-0002")
    f.fund(ledger, code="PRJ-2025", amount=100_000, category="facilities")
    first = f.approved(ledger, "PRJ-2025", amount=30_000)
    second = f.approved(ledger, "PRJ-2025", school_code="XZ-PZ-0002", amount=20_000)
    f.expenditure(ledger, first, amount=12_345, economic_class="construction")
    outcome = applied(ledger, ledger.close_fund(APPROVER, "PRJ-2025"))  # a project's default: 结余
    fund = outcome.subject
    assert fund.closed
    assert (fund.appropriated, fund.allocated) == (100_000, 12_345)
    for allocation_id, spent in ((first, 12_345), (second, 0)):
        allocation = ledger.get_allocation(allocation_id)
        assert (allocation.status, allocation.allocated, allocation.spent) == ("closed", spent, spent)
    events = ledger.repository.event_store.get(fund.id)
    (closing,) = [e for e in events if type(e).__name__ == "YearEndClosed"]
    assert (closing.surplus_recovered, closing.carried_forward) == (30_000 - 12_345 + 20_000, 0)


def test_year_end_carry_over_opens_next_years_allocations_in_the_named_fund(ledger: FundLedger):
    f.school(ledger)
    f.school(ledger, code="XZ-PZ-0002")
    f.fund(ledger, amount=100_000)
    f.fund(ledger, code="PUB-2026", fiscal_year=2026, amount=500_000)
    first = f.approved(ledger, amount=30_000)
    second = f.approved(ledger, school_code="XZ-PZ-0002", amount=20_000)
    spent_up = f.approved(ledger, amount=5_000)
    f.expenditure(ledger, first, amount=10_000)
    f.expenditure(ledger, spent_up, amount=5_000, voucher="V2")
    applied(ledger, ledger.close_fund(APPROVER, "PUB-2025", disposition="carry_over", carry_to="PUB-2026"))

    old, new = ledger.get_fund("PUB-2025"), ledger.get_fund("PUB-2026")
    assert old.closed and old.allocated == 15_000
    # 20,000 + 20,000 arrive as appropriation and are at once allocated to the same schools.
    assert (new.appropriated, new.allocated, new.available) == (540_000, 40_000, 500_000)
    assert new.allocated <= new.appropriated
    carried = {ledger.get_allocation(i).school_code: ledger.get_allocation(i)
               for i in new.allocation_ids}
    assert set(carried) == {"XZ-PZ-0001", "XZ-PZ-0002"}  # nothing to carry from a spent-up one
    for code, amount in (("XZ-PZ-0001", 20_000), ("XZ-PZ-0002", 20_000)):
        successor = carried[code]
        assert (successor.status, successor.origin, successor.fiscal_year) == (
            "approved", "carry_over", 2026)
        assert (successor.allocated, successor.spent, successor.approved_on) == (
            amount, 0, date(2026, 1, 1))
        assert successor.carried_since == 2025
    for allocation_id in (first, second, spent_up):
        assert ledger.get_allocation(allocation_id).status == "closed"
    events = ledger.repository.event_store.get(old.id)
    (closing,) = [e for e in events if type(e).__name__ == "YearEndClosed"]
    assert (closing.surplus_recovered, closing.carried_forward) == (0, 40_000)


@pytest.mark.parametrize(("code", "fiscal_year", "unit", "close_it"), [
    ("PUB-2027", 2027, "CNY", False),  # not the next year
    ("PUB-2024", 2024, "CNY", False),  # a past year
    ("PST-2026", 2026, "TEACHER_POST", False),  # another unit
    ("OLD-2026", 2026, "CNY", True),  # closed already
])
def test_carry_over_goes_only_to_an_open_fund_of_the_next_year_in_the_same_unit(
    ledger: FundLedger, code: str, fiscal_year: int, unit: str, close_it: bool,
):
    allocation_id = f.funded_school(ledger)
    f.fund(ledger, code=code, fiscal_year=fiscal_year, unit=unit, amount=100,
           effective_date=date(2025, 1, 2))
    if close_it:
        ledger.today = lambda: date(2026, 2, 1)  # a 2026 fund can be closed only in 2026
        applied(ledger, ledger.close_fund(APPROVER, code))
    refused(ledger, CarryOverTargetInvalid, "carry_over_target_invalid",
            lambda: ledger.close_fund(APPROVER, "PUB-2025", disposition="carry_over",
                                      carry_to=code))
    assert ledger.get_allocation(allocation_id).status == "approved"
    refused(ledger, CarryOverTargetInvalid, "carry_over_target_invalid",
            lambda: ledger.close_fund(APPROVER, "PUB-2025", disposition="carry_over",
                                      carry_to="PUB-2025"))


def test_carry_over_into_a_rural_support_fund_keeps_the_earmark(ledger: FundLedger):
    f.school(ledger, code="XZ-GL-0001", locale="rural", district="Gulou")
    f.fund(ledger, code="RUR-2025", earmark="rural_support")
    f.fund(ledger, code="RUR-2026", fiscal_year=2026, earmark="rural_support")
    allocation_id = f.approved(ledger, "RUR-2025", school_code="XZ-GL-0001")
    # The school became urban before the carried money would arrive: the earmark still holds.
    ledger.reclassify_school(OFFICER, "XZ-GL-0001", locale="urban", reason="城区扩展",
                             effective_date=date(2025, 12, 1))
    refused(ledger, EarmarkViolation, "earmark_violation",
            lambda: ledger.close_fund(APPROVER, "RUR-2025", carry_to="RUR-2026"))
    assert ledger.get_allocation(allocation_id).status == "approved"


def test_carry_over_into_a_level_restricted_fund_keeps_the_restriction(ledger: FundLedger):
    f.school(ledger, level="junior")
    f.fund(ledger)
    f.fund(ledger, code="PRI-2026", fiscal_year=2026, levels=["primary"])
    f.approved(ledger)
    refused(ledger, LevelNotEligible, "level_not_eligible",
            lambda: ledger.close_fund(APPROVER, "PUB-2025", disposition="carry_over",
                                      carry_to="PRI-2026"))


def test_an_unknown_allocation_id_is_not_found(ledger: FundLedger):
    f.funded_school(ledger)
    fund_id = ledger.get_fund("PUB-2025").id
    for missing in (uuid4(), fund_id):  # a fund's id is no allocation's
        refused(ledger, AllocationNotFound, "allocation_not_found",
                lambda missing=missing: ledger.approve_allocation(APPROVER, missing))


@given(st.lists(st.text(st.characters(categories=["L", "N", "P", "Zs"]), min_size=1,
                        max_size=40), min_size=1, max_size=6))
def test_a_reason_is_its_lines_as_written(lines: list[str]) -> None:
    """One rule for every reason (domain.rules.reason_text): line breaks are kept, the text is
    not otherwise changed but for NFC and the outer white space."""
    written = "\n".join(lines)
    expected = unicodedata.normalize("NFC", written).strip()
    if not expected:
        return
    assert reason_text(written) == expected
