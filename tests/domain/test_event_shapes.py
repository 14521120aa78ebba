"""The events every expenditure records keep the topics and stored fields (names and order)
they had when the `@event` decorator declared them: an explicit event class must not change
what is stored (old stores hold these shapes; tests/old_stores reads one)."""

from __future__ import annotations

import orjson

from domain.ledger import FundLedger
from tests.conftest import OFFICER
from tests.factories import expenditure, funded_school

# As stored by the decorator-declared classes (captured before they became classes).
SHAPES = {
    "domain.expenditure:Expenditure.Recorded": [
        "timestamp", "originator_topic", "allocation_id", "fund_code", "school_code",
        "fiscal_year", "unit", "amount", "payee", "voucher", "spent_on", "description",
        "economic_class", "stamp"],
    "domain.allocation:Allocation.Spent": ["timestamp", "expenditure_id", "amount", "stamp"],
    "domain.expenditure:VoucherNumber.Claimed": [
        "timestamp", "originator_topic", "school_code", "fiscal_year", "voucher",
        "expenditure_id"],
}


def test_an_expenditures_events_are_stored_as_before(ledger: FundLedger) -> None:
    allocation_id = funded_school(ledger)
    before = ledger.last_position()
    spent = expenditure(ledger, allocation_id, amount=1_234, voucher="V-7")
    stored = ledger.recorder.select_notifications(before + 1, 10)
    assert {n.topic: list(orjson.loads(n.state)) for n in stored} == SHAPES
    recorded = orjson.loads(next(n.state for n in stored if n.topic.endswith("Recorded")))
    assert recorded["originator_topic"] == "domain.expenditure:Expenditure"
    assert (recorded["amount"], recorded["voucher"]) == (1_234, "V-7")
    # Read back through the mapper, the aggregates are what the command left.
    assert ledger.get_allocation(allocation_id).spent == 1_234
    assert ledger.repository.get(spent.subject.id).voucher == "V-7"
    assert spent.subject.recorded_by == OFFICER.user_id
