"""Posts (编制), assets and indicator reports: the rules of each stock, on the in-memory store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.errors import DateInFuture, InvalidInput, MakerCheckerViolation, RoleNotAllowed, SchoolClosed
from domain.ledger import FundLedger
from domain.staffing import CountyPosts
from domain.stock_errors import (
    ImplausibleFigure,
    MoveNotPending,
    NotEnoughFilled,
    NotEnoughHeld,
    NoVacancy,
    OverQuota,
    PostsBelowFilled,
    SchoolNotInCounty,
    StockDateOrder,
)
from tests.conftest import APPROVER, OFFICER, OFFICER_2

D = date(2025, 3, 1)
BOTH = Actor("bo.both", frozenset({Role.OFFICER, Role.APPROVER}))


def _posts(ledger: FundLedger) -> CountyPosts:
    return ledger.get_county_posts("Pei")


def _staffed(ledger: FundLedger) -> None:
    ledger.approve_post_total(OFFICER, "Pei", total=100, document="沛编办〔2025〕3号", effective_date=D)
    ledger.distribute_posts(OFFICER, "PX-1", posts=60, effective_date=D)
    ledger.distribute_posts(OFFICER, "PX-2", posts=20, effective_date=D)
    ledger.record_hires(OFFICER, "PX-1", count=55, effective_date=D)
    ledger.record_hires(OFFICER, "PX-2", count=12, effective_date=D)


def test_posts_are_distributed_within_the_county_total(county: FundLedger) -> None:
    _staffed(county)
    posts = _posts(county)
    assert (posts.total, posts.distributed, posts.filled["PX-1"], posts.vacant("PX-2")) == (100, 80, 55, 8)
    with pytest.raises(OverQuota, match="exceed the approved total of 100"):
        county.distribute_posts(OFFICER, "PX-9", posts=21, effective_date=D)
    county.distribute_posts(OFFICER, "PX-9", posts=20, effective_date=D)
    with pytest.raises(OverQuota, match="below the 100 already distributed"):
        county.approve_post_total(OFFICER, "Pei", total=99, document="x", effective_date=D)
    with pytest.raises(PostsBelowFilled):
        county.distribute_posts(OFFICER, "PX-1", posts=54, effective_date=D)
    with pytest.raises(NoVacancy):
        county.record_hires(OFFICER, "PX-2", count=9, effective_date=D)
    with pytest.raises(NotEnoughFilled):
        county.record_departures(OFFICER, "PX-2", count=13, effective_date=D)
    county.record_departures(OFFICER, "PX-2", count=2, effective_date=D)
    assert _posts(county).filled["PX-2"] == 10


def test_the_posts_history_is_kept_in_date_order(county: FundLedger) -> None:
    _staffed(county)
    with pytest.raises(StockDateOrder, match="before the last recorded change"):
        county.record_hires(OFFICER, "PX-2", count=1, effective_date=date(2025, 2, 1))


def test_a_move_is_proposed_by_one_person_and_approved_by_another(county: FundLedger) -> None:
    _staffed(county)
    outcome = county.propose_post_move(OFFICER, from_school="PX-1", to_school="PX-2", count=5,
                                       reason="交流轮岗", effective_date=D)
    move = outcome.subject
    assert move.status == "pending"
    assert _posts(county).filled["PX-1"] == 55  # nothing moved yet
    with pytest.raises(RoleNotAllowed):
        county.decide_post_move(OFFICER_2, move.id, approve=True)
    county.decide_post_move(APPROVER, move.id, approve=True, effective_date=D)
    posts = _posts(county)
    assert (posts.approved["PX-1"], posts.filled["PX-1"]) == (55, 50)
    assert (posts.approved["PX-2"], posts.filled["PX-2"]) == (25, 17)
    assert posts.distributed == 80
    with pytest.raises(MoveNotPending):
        county.decide_post_move(APPROVER, move.id, approve=False, reason="no")


def test_a_move_checks_the_filled_posts_and_the_maker(county: FundLedger) -> None:
    _staffed(county)
    with pytest.raises(NotEnoughFilled, match="12 filled posts, fewer than 13"):
        county.propose_post_move(OFFICER, from_school="PX-2", to_school="PX-1", count=13,
                                 reason="r", effective_date=D)
    with pytest.raises(SchoolNotInCounty):
        county.propose_post_move(OFFICER, from_school="PX-2", to_school="FX-1", count=1,
                                 reason="r", effective_date=D)
    move = county.propose_post_move(BOTH, from_school="PX-2", to_school="PX-1", count=12,
                                    reason="r", effective_date=D).subject
    with pytest.raises(MakerCheckerViolation):
        county.decide_post_move(BOTH, move.id, approve=True, effective_date=D)
    # Departures after the proposal: the approval finds fewer filled posts than it moves.
    county.record_departures(OFFICER, "PX-2", count=1, effective_date=D)
    with pytest.raises(NotEnoughFilled):
        county.decide_post_move(APPROVER, move.id, approve=True, effective_date=D)
    county.decide_post_move(APPROVER, move.id, approve=False, reason="人员已变动", effective_date=D)
    assert county.get_post_move(move.id).status == "rejected"



def test_a_reason_keeps_its_line_breaks_as_the_api_takes_them(
        county: FundLedger) -> None:
    """The API's reason field takes several lines; the commands below once refused them
    (invalid_input) because each checked its reason by hand rather than by `reason_text`."""
    _staffed(county)
    reason = "交流轮岗\n依据县教育局文件"
    move = county.propose_post_move(OFFICER, from_school="PX-1", to_school="PX-2", count=1,
                                    reason=reason, effective_date=D).subject
    assert move.reason == reason
    county.decide_post_move(APPROVER, move.id, approve=False, reason="人员已变动\n下月再议",
                            effective_date=D)
    assert county.get_post_move(move.id).status == "rejected"
    with pytest.raises(InvalidInput, match="control character U\\+0007"):
        county.propose_post_move(OFFICER, from_school="PX-1", to_school="PX-2", count=1,
                                 reason="bell\a", effective_date=D)

def test_assets_are_received_disposed_and_transferred(county: FundLedger) -> None:
    county.receive_assets(OFFICER, "PX-2", asset="computer", quantity=10, value=50_000_00,
                          document="入库单 17", effective_date=D)
    with pytest.raises(NotEnoughHeld, match="holds 10 computer, fewer than 11"):
        county.dispose_assets(OFFICER, "PX-2", asset="computer", quantity=11, reason="报废",
                              effective_date=D)
    county.dispose_assets(OFFICER, "PX-2", asset="computer", quantity=3, reason="报废",
                          effective_date=D)
    assert county.get_assets("PX-2").held("computer") == (7, 35_000_00)
    county.transfer_assets(OFFICER, from_school="PX-2", to_school="PX-1", asset="computer",
                           quantity=7, reason="调剂", effective_date=D)
    assert county.get_assets("PX-2").held("computer") == (0, 0)
    assert county.get_assets("PX-1").held("computer") == (7, 35_000_00)
    with pytest.raises(NotEnoughHeld):
        county.transfer_assets(OFFICER, from_school="PX-2", to_school="PX-1", asset="computer",
                               quantity=1, reason="r", effective_date=D)
    with pytest.raises(InvalidInput):
        county.receive_assets(OFFICER, "PX-2", asset="computer", quantity=-1, value=1)
    with pytest.raises(InvalidInput):
        county.receive_assets(OFFICER, "PX-2", asset="computer", quantity=1, value=-1)


def _figures(**changes: int) -> dict[str, int]:
    return {"qualified_teachers": 20, "key_teachers": 5, "pe_arts_teachers": 4,
            "teaching_area_m2": 2_000, "sports_area_m2": 3_500, **changes}


def test_indicator_reports_refuse_closed_schools_future_dates_and_implausible_areas(
        county: FundLedger) -> None:
    county.report_indicators(OFFICER, "PX-2", figures=_figures(), effective_date=D)
    with pytest.raises(ImplausibleFigure, match="plausible bound of 60 m² per pupil"):
        county.report_indicators(OFFICER, "PX-2", figures=_figures(teaching_area_m2=30_000),
                                 effective_date=D)
    with pytest.raises(ImplausibleFigure, match="1000000 m²"):
        county.report_indicators(OFFICER, "PX-1", figures=_figures(sports_area_m2=2_000_000),
                                 effective_date=D)
    with pytest.raises(InvalidInput, match="not negative"):
        county.report_indicators(OFFICER, "PX-2", figures=_figures(key_teachers=-1), effective_date=D)
    with pytest.raises(DateInFuture):
        county.report_indicators(OFFICER, "PX-2", figures=_figures(), effective_date=date(2026, 1, 5))
    with pytest.raises(InvalidInput, match="junior_pupils is for nine-year"):
        county.report_indicators(OFFICER, "PX-2", figures=_figures(), junior_pupils=10, effective_date=D)
    county.report_indicators(OFFICER, "PX-9", figures=_figures(), junior_pupils=300, effective_date=D)
    county.close_school(OFFICER, "PX-2", reason="撤并", effective_date=date(2025, 7, 1))
    with pytest.raises(SchoolClosed):
        county.report_indicators(OFFICER, "PX-2", figures=_figures(), effective_date=date(2025, 9, 1))


def test_a_delivery_bought_with_spending_is_worth_at_most_what_was_spent(county: FundLedger) -> None:
    county.open_fund(OFFICER, code="EQ", name="设备购置", fiscal_year=2025, unit="CNY",
                     amount=1_000_000_00, source="county", category="equipment",
                     effective_date=date(2025, 1, 2))
    allocation = county.propose_allocation(OFFICER, fund="EQ", school="PX-2", amount=100_000_00,
                                           purpose="计算机教室", effective_date=date(2025, 1, 3)).subject
    county.approve_allocation(APPROVER, allocation.id, effective_date=date(2025, 1, 4))
    spent: Any = county.record_expenditure(
        OFFICER, allocation=allocation.id, amount=80_000_00, payee="供应商", voucher="V1",
        spent_on=date(2025, 2, 1), description="计算机", economic_class="equipment").subject
    with pytest.raises(InvalidInput, match="cannot come from expenditure"):
        county.receive_assets(OFFICER, "PX-2", asset="computer", quantity=20, value=80_000_01,
                              expenditure=spent.id, effective_date=D)
    county.receive_assets(OFFICER, "PX-2", asset="computer", quantity=20, value=80_000_00,
                          expenditure=spent.id, effective_date=D)
    assert county.get_assets("PX-2").held("computer") == (20, 80_000_00)
