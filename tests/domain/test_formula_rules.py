"""Formula funding in the domain: the formula's invariants (hypothesis), and stores written
before enrolment reports carried boarders and schools their parent still opening."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.formula_funding import FormulaFunding
from domain.funding_standard import Rates
from domain.ledger import FundLedger
from domain.school import School
from domain.tranche import FormulaLine, Pupils
from tests.conftest import APPROVER, OFFICER

RATES = Rates(800_00, 200_00, 6_000_00, 100, "徐财教〔2025〕12号")
shares = st.integers(min_value=1, max_value=10_000).map(lambda n: Decimal(n) / 10_000)
pupils = st.builds(
    lambda total, b, s: Pupils(total, min(b, total), min(s, total)),
    st.integers(0, 5_000), st.integers(0, 5_000), st.integers(0, 200))
rates = st.builds(Rates, st.integers(1, 2_000_000), st.integers(0, 100_000),
                  st.integers(0, 1_000_000), st.integers(0, 300), st.just("doc"))


@settings(deadline=None)  # pure arithmetic; a busy machine must not fail it on time
@given(rates=rates, pupils=pupils, share=shares)
def test_every_line_is_rate_times_counted_pupils_rounded_half_even(
        rates: Rates, pupils: Pupils, share: Decimal) -> None:
    line = FormulaLine.compute("S", "primary", pupils, rates, share)
    counted = max(pupils.total, rates.small_school_floor) if pupils.total else 0
    assert line.counted_pupils == counted
    annual = (rates.rate * counted + rates.boarder_addition * pupils.boarders
              + rates.special_needs_addition * pupils.special_needs)
    assert line.annual == annual
    exact = Decimal(annual) * share
    assert Decimal(line.exact) == exact
    assert line.amount == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    assert abs(Decimal(line.rounding)) <= Decimal("0.5")
    assert Decimal(line.amount) - exact == Decimal(line.rounding)


@settings(max_examples=25, deadline=None)
@given(counts=st.lists(st.tuples(st.integers(0, 3_000), st.integers(0, 300)), min_size=1,
                       max_size=12), share=shares)
def test_a_proposed_tranche_total_is_the_sum_of_its_allocations(
        counts: list[tuple[int, int]], share: Decimal) -> None:
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                        clock=lambda: date(2025, 12, 31))
    service = FormulaFunding(ledger)
    try:
        rows = []
        for index, (total, boarders) in enumerate(counts):
            code = f"S-{index}"
            ledger.register_school(OFFICER, code=code, name=code, district="Pei", level="primary",
                                   locale="rural", poverty_area=False, students=total,
                                   effective_date=date(2025, 1, 1))
            rows.append({"school": code, "total": total, "boarders": min(boarders, total)})
        ledger.open_fund(OFFICER, code="F", name="生均公用经费", fiscal_year=2025, unit="CNY",
                         amount=10**13, source="county", category="public_operating",
                         effective_date=date(2025, 1, 2))
        standard = service.set_standard(OFFICER, fiscal_year=2025, level="primary",
                                        category="public_operating", rate=RATES.rate,
                                        boarder_addition=RATES.boarder_addition,
                                        document=RATES.document).subject
        service.decide_standard(APPROVER, standard.id, approve=True)
        snapshot = service.snapshot_from_rows(OFFICER, name="s", as_of=date(2025, 3, 1),
                                              file_name="f.csv", rows=rows).subject
        if all(total == 0 for total, _ in counts):
            return
        tranche = service.propose_tranche(OFFICER, fund="F", snapshot=snapshot.id,
                                          semester="spring", share=share,
                                          effective_date=date(2025, 3, 5)).subject
        allocations = {code: ledger.get_allocation(i) for code, i in tranche.allocation_ids().items()}
        assert tranche.total == sum(a.amount for a in allocations.values())
        for code, allocation in allocations.items():
            inputs = allocation.formula
            assert inputs is not None and inputs["tranche"] == str(tranche.id)
            expected = Decimal(inputs["rate"] * inputs["counted_pupils"]
                               + inputs["boarder_addition"] * inputs["boarders"]) * share
            assert allocation.amount == int(expected.quantize(Decimal(1), ROUND_HALF_EVEN)), code
        exact = sum((Decimal(line["exact"]) for line in tranche.lines), Decimal(0))
        assert Decimal(tranche.rounding_difference) == tranche.total - exact
        approved = service.approve_tranche(APPROVER, tranche.id).subject
        assert ledger.get_fund("F").allocated == approved.total
    finally:
        ledger.close()


def _ledger() -> FundLedger:
    return FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                      clock=lambda: date(2025, 12, 31))


def test_an_enrolment_report_stored_before_boarders_were_counted_still_opens() -> None:
    ledger = _ledger()
    ledger.register_school(OFFICER, code="S", name="S", district="Pei", level="primary",
                           locale="rural", poverty_area=False, students=300,
                           effective_date=date(2025, 1, 1))
    ledger.report_enrolment(OFFICER, "S", students=320, effective_date=date(2025, 9, 1))
    events = list(ledger.events.get(School.id_for("S")))
    stored = ledger.mapper.to_stored_event(events[1])
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["boarders"], state["special_needs"]
    old = replace(stored, state=json.dumps(state).encode())
    upcast = ledger.mapper.to_domain_event(old)
    assert (upcast.students, upcast.boarders, upcast.special_needs) == (320, None, None)
    ledger.close()


def test_a_school_snapshot_taken_before_parents_and_boarders_still_opens() -> None:
    ledger = _ledger()
    ledger.register_school(OFFICER, code="S", name="S", district="Pei", level="primary",
                           locale="rural", poverty_area=False, students=300,
                           effective_date=date(2025, 1, 1))
    ledger.report_enrolment(OFFICER, "S", students=320, effective_date=date(2025, 9, 1))
    school = ledger.get_school("S")
    snapshot = School.Snapshot.take(school)
    stored = ledger.mapper.to_stored_event(snapshot)
    state = json.loads(stored.state)
    assert state["state"].pop("class_version") == 2
    del state["state"]["parent_code"], state["state"]["enrolment_reports"]
    old = replace(stored, state=json.dumps(state).encode())
    restored = ledger.mapper.to_domain_event(old).mutate(None)
    assert restored.parent_code is None
    report = restored.enrolment_report_on(date(2025, 10, 1))
    assert (report.students, report.boarders, report.since) == (320, None, date(2025, 9, 1))
    ledger.close()
