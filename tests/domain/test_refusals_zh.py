"""Issue 19: the refusals a county officer meets daily carry a Chinese detail written where
the rule raises, with the yuan figures of the English one in the one money format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import uuid4

import pytest

from domain.errors import LedgerError
from domain.ledger import FundLedger
from domain.units import money_text
from tests import factories as f
from tests.conftest import APPROVER, CHECKER, OFFICER

# A refusal: the world before it, the command refused, and the money its detail names (fen).
Case = tuple[Callable[[FundLedger], Callable[[], object]], str, tuple[int, ...]]


def _overspend(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg, amount=5_000_00)
    return lambda: f.expenditure(lg, allocation, amount=45_519_50)


def _over_allocation(lg: FundLedger) -> Callable[[], object]:
    f.school(lg)
    f.fund(lg, amount=1_000_00)
    return lambda: f.proposal(lg, amount=2_000_00)


def _too_small(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    return lambda: f.expenditure(lg, allocation, amount=0)


def _unknown_school(lg: FundLedger) -> Callable[[], object]:
    f.funded_school(lg)
    return lambda: f.proposal(lg, school_code="XZ-PZ-9999")


def _unknown_fund(lg: FundLedger) -> Callable[[], object]:
    f.funded_school(lg)
    return lambda: f.proposal(lg, fund_code="PUB-9999")


def _unknown_allocation(lg: FundLedger) -> Callable[[], object]:
    f.funded_school(lg)
    return lambda: f.expenditure(lg, uuid4())


def _before_approval(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    return lambda: f.expenditure(lg, allocation, spent_on=date(2025, 2, 1))


def _period_closed(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    lg.approve_change(CHECKER, lg.close_period(APPROVER, "2025-03").subject.id)
    return lambda: f.expenditure(lg, allocation)


def _allocation_closed(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    f.applied(lg, lg.cancel_allocation(OFFICER, allocation, reason="撤销"))
    return lambda: f.expenditure(lg, allocation)


def _duplicate_voucher(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    f.expenditure(lg, allocation)
    return lambda: f.expenditure(lg, allocation)


def _own_approval(lg: FundLedger) -> Callable[[], object]:
    f.school(lg)
    f.fund(lg)
    allocation = f.proposal(lg, actor=f.CHIEF_OFFICER)
    return lambda: lg.approve_allocation(f.CHIEF_OFFICER, allocation, effective_date=f.APPROVED_ON)


def _level(lg: FundLedger) -> Callable[[], object]:
    f.school(lg)
    f.fund(lg, levels=["junior"])
    return lambda: f.proposal(lg)


def _locale(lg: FundLedger) -> Callable[[], object]:
    f.school(lg, locale="urban")
    f.fund(lg, earmark="rural_support")
    return lambda: f.proposal(lg)


def _school_closed(lg: FundLedger) -> Callable[[], object]:
    f.school(lg)
    f.fund(lg)
    lg.close_school(OFFICER, "XZ-PZ-0001", reason="撤并", effective_date=date(2025, 1, 10))
    return lambda: f.proposal(lg)


def _fiscal_year(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    return lambda: f.expenditure(lg, allocation, spent_on=date(2024, 12, 30))


def _below_spent(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg, amount=5_000_00)
    f.expenditure(lg, allocation, amount=3_000_00)
    return lambda: f.applied(lg, lg.adjust_allocation(APPROVER, allocation, delta=-4_000_00,
                                                      reason="压减"))


def _not_proposed(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    return lambda: lg.approve_allocation(APPROVER, allocation, effective_date=f.APPROVED_ON)


def _already_reversed(lg: FundLedger) -> Callable[[], object]:
    allocation = f.funded_school(lg)
    spent = f.expenditure(lg, allocation).subject.id
    lg.reverse_expenditure(OFFICER, spent, reason="重复")
    return lambda: lg.reverse_expenditure(OFFICER, spent, reason="重复")


def _school_registered(lg: FundLedger) -> Callable[[], object]:
    f.school(lg)
    return lambda: f.school(lg)


CASES: dict[str, Case] = {
    "overspend": (_overspend, "overspend", (5_000_00, 45_519_50)),
    "over_allocation": (_over_allocation, "over_allocation", (1_000_00, 2_000_00)),
    "amount_out_of_range": (_too_small, "amount_out_of_range", ()),
    "school_not_found": (_unknown_school, "school_not_found", ()),
    "fund_not_found": (_unknown_fund, "fund_not_found", ()),
    "allocation_not_found": (_unknown_allocation, "allocation_not_found", ()),
    "spent_before_approval": (_before_approval, "spent_before_approval", ()),
    "period_closed": (_period_closed, "period_closed", ()),
    "allocation_closed": (_allocation_closed, "allocation_closed", ()),
    "duplicate_voucher": (_duplicate_voucher, "duplicate_voucher", ()),
    "maker_checker": (_own_approval, "maker_checker", ()),
    "level_not_eligible": (_level, "level_not_eligible", ()),
    "earmark_violation": (_locale, "earmark_violation", ()),
    "school_closed": (_school_closed, "school_closed", ()),
    "date_outside_fiscal_year": (_fiscal_year, "date_outside_fiscal_year", ()),
    "below_spent": (_below_spent, "below_spent", (3_000_00, 1_000_00)),
    "not_proposed": (_not_proposed, "not_proposed", ()),
    "already_reversed": (_already_reversed, "already_reversed", ()),
    "school_already_registered": (_school_registered, "school_already_registered", ()),
}


@pytest.mark.parametrize("name", CASES)
def test_a_daily_refusal_reads_in_chinese(ledger: FundLedger, name: str) -> None:
    arrange, code, figures = CASES[name]
    command = arrange(ledger)
    with pytest.raises(LedgerError) as caught:
        command()
    error = caught.value
    assert error.code == code
    assert error.detail_zh, f"{code} has no Chinese detail"
    assert error.detail_in("zh") == error.detail_zh
    assert error.detail_in("en") == error.detail
    for amount in figures:
        assert money_text(amount, "CNY") in error.detail
        assert money_text(amount, "CNY", "zh") in error.detail_zh


def test_a_refusal_without_chinese_shows_no_english_beside_the_chinese_title() -> None:
    error = LedgerError("allocation x is cancelled")
    assert error.detail_in("zh") == ""
    assert error.detail_in("en") == "allocation x is cancelled"


def test_overspend_reads_remaining_and_asked_in_yuan(ledger: FundLedger) -> None:
    command = _overspend(ledger)
    with pytest.raises(LedgerError) as caught:
        command()
    assert caught.value.detail_zh == (f"拨款余额 {money_text(5_000_00, 'CNY', 'zh')}，"
                                      f"本次支出 {money_text(45_519_50, 'CNY', 'zh')}")
