"""The generated year looks like a bureau's: level and locale mix, per-student rates at or
above the benchmark, rural support only where the earmark allows, teacher training at 5%+,
December the heaviest month, a few reversals, and every voucher number unique per school."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

from domain.fund import Fund
from domain.ledger import FundLedger
from scripts.generator import GenerationSummary
from scripts.generator.funding import OPERATING_FLOOR_FEN, SMALL_SCHOOL_FLOOR_STUDENTS
from scripts.generator.geography import PRESETS
from scripts.generator.schools import draw_schools
from tests.generator.conftest import domain_events

Generated = tuple[FundLedger, GenerationSummary]


_DECODED: dict[int, dict[str, list[Any]]] = {}


def _by_type(ledger: FundLedger) -> dict[str, list[Any]]:
    """The generated year's events by type (decoded once per ledger)."""
    if id(ledger) in _DECODED:
        return _DECODED[id(ledger)]
    events: dict[str, list[Any]] = defaultdict(list)
    for event in domain_events(ledger):
        events[type(event).__qualname__].append(event)
    _DECODED[id(ledger)] = events
    return events


def test_xuzhou_schools_follow_the_national_mix_and_the_rural_calibration() -> None:
    schools = draw_schools(PRESETS["xuzhou"], 1.0, random.Random(1))
    assert 1_950 <= len(schools) <= 2_050
    levels = Counter(s.level for s in schools)
    assert 0.53 <= levels["kindergarten"] / len(schools) <= 0.57
    assert 0.27 <= levels["primary"] / len(schools) <= 0.31
    assert {s.district for s in schools} == {d.name for d in PRESETS["xuzhou"].districts}
    primary = [s for s in schools if s.level == "primary"]
    rural = [s for s in primary if s.locale == "rural"]
    assert 0.45 <= len(rural) / len(primary) <= 0.55
    rural_pupils = sum(s.students for s in rural) / sum(s.students for s in primary)
    assert 0.22 <= rural_pupils <= 0.35
    assert all(s.locale == "urban" for s in schools if s.district in ("Gulou", "Yunlong", "Quanshan"))
    assert 0 < sum(s.poverty_area for s in schools) < len(schools) * 0.1
    assert len({s.code for s in schools}) == len({s.name for s in schools}) == len(schools)
    assert all(s.code.startswith("XZ-") for s in schools)


def test_laishan_has_about_seventy_schools_a_quarter_to_a_third_of_primaries_rural() -> None:
    schools = draw_schools(PRESETS["laishan"], 1.0, random.Random(3))
    assert 60 <= len(schools) <= 80
    primary = [s for s in schools if s.level == "primary"]
    assert 0.2 <= sum(s.locale == "rural" for s in primary) / len(primary) <= 0.4


def test_the_summary_counts_what_the_ledger_holds(generated: Generated) -> None:
    ledger, summary = generated
    events = _by_type(ledger)
    assert summary.events == ledger.last_position() == sum(len(v) for v in events.values())
    assert summary.schools == len(events["School.Registered"]) == 40
    assert summary.funds == len(events["Fund.Opened"]) >= 10
    assert summary.allocations == len(events["Allocation.Proposed"])
    assert summary.expenditures == len(events["Expenditure.Recorded"])
    assert summary.reversals == len(events["Expenditure.Reversed"]) > 0
    assert summary.reversals <= summary.expenditures * 0.03
    assert summary.enrolment_reports > 0 and summary.reclassifications > 0
    assert summary.adjustments > 0


def test_operating_funds_meet_the_benchmark_for_every_compulsory_school(generated: Generated) -> None:
    ledger, _ = generated
    operating: dict[str, int] = defaultdict(int)
    for event in _by_type(ledger)["Allocation.Approved"]:
        allocation = ledger.get_allocation(event.originator_id)
        if allocation.category == "public_operating" and allocation.unit == "CNY":
            operating[allocation.school_code] += allocation.allocated
    checked = 0
    for event in _by_type(ledger)["School.Registered"]:
        school = ledger.get_school(event.code)
        floor = OPERATING_FLOOR_FEN.get(school.level)
        if floor is None:
            continue
        counted = max(school.students, SMALL_SCHOOL_FLOOR_STUDENTS)
        assert operating[school.code] >= floor * counted, school.code
        checked += 1
    assert checked >= 10


def test_rural_support_goes_only_to_town_rural_or_poverty_schools(generated: Generated) -> None:
    ledger, _ = generated
    earmarked = {e.code for e in _by_type(ledger)["Fund.Opened"] if e.earmark == "rural_support"}
    assert len(earmarked) >= 2
    allocations = [e for e in _by_type(ledger)["Allocation.Proposed"] if e.fund_code in earmarked]
    assert allocations
    for event in allocations:
        school = ledger.get_school(event.school_code)
        assert school.is_rural_support_eligible_on(event.stamp.effective_date)


def test_teacher_training_is_at_least_five_percent_of_operating_funds(generated: Generated) -> None:
    ledger, _ = generated
    events = _by_type(ledger)
    operating = {e.originator_id: e.school_code for e in events["Allocation.Proposed"]
                 if e.category == "public_operating"}
    budget: dict[str, int] = defaultdict(int)
    training: dict[str, int] = defaultdict(int)
    for allocation_id, school in operating.items():
        budget[school] += ledger.get_allocation(allocation_id).allocated
    reversed_ids = {e.originator_id for e in events["Expenditure.Reversed"]}
    for event in events["Expenditure.Recorded"]:
        if (event.allocation_id in operating and event.economic_class == "training"
                and event.originator_id not in reversed_ids):
            training[operating[event.allocation_id]] += event.amount
    assert budget
    for school, amount in budget.items():
        assert training[school] * 10_000 >= amount * 500, school


def test_december_carries_the_heaviest_month_of_spending(generated: Generated) -> None:
    ledger, _ = generated
    by_month: Counter[int] = Counter()
    for event in _by_type(ledger)["Expenditure.Recorded"]:
        if event.unit == "CNY" and event.economic_class != "salaries":
            by_month[event.spent_on.month] += event.amount
    total = sum(by_month.values())
    december = by_month[12] / total
    assert by_month.most_common(1)[0][0] == 12
    assert 0.17 <= december <= 0.30
    assert by_month[1] / total < 0.06 and by_month[2] / total < 0.06  # budgets arrive late
    assert by_month[9] > by_month[8]  # the autumn term starts in September


def test_spending_falls_on_working_days_within_the_year(generated: Generated) -> None:
    ledger, _ = generated
    recorded = _by_type(ledger)["Expenditure.Recorded"]
    assert all(e.spent_on.weekday() < 5 or e.spent_on.isoformat() in {"2025-01-26", "2025-02-08",
               "2025-04-27", "2025-09-28", "2025-10-11"} for e in recorded)
    assert all(e.spent_on.year == 2025 for e in recorded)
    assert not any("2025-01-28" <= e.spent_on.isoformat() <= "2025-02-04" for e in recorded)


def test_amounts_are_integers_and_funds_are_never_over_allocated(generated: Generated) -> None:
    ledger, _ = generated
    for event in _by_type(ledger)["Fund.Opened"]:
        fund: Fund = ledger.get_fund(event.code)
        assert type(fund.appropriated) is int and 0 <= fund.allocated <= fund.appropriated
    units = {e.unit for e in _by_type(ledger)["Fund.Opened"]}
    assert {"CNY", "TEACHER_POST", "COMPUTER"} <= units
    for event in _by_type(ledger)["Expenditure.Recorded"]:
        assert type(event.amount) is int and event.amount > 0


def test_maker_and_checker_are_different_people(generated: Generated) -> None:
    ledger, _ = generated
    for event in _by_type(ledger)["Allocation.Approved"]:
        allocation = ledger.get_allocation(event.originator_id)
        assert allocation.approved_by != allocation.proposed_by
