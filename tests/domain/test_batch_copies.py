"""Inside a batch, each command works on a copy of the batch's aggregates, so a refused command
leaves the batch as it was. The copy is one level deep (domain/ledger.py `_working_copy`):
these tests fail if a container were shared between the copy and the batch's aggregate."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import OverAllocation
from domain.fund import Fund
from domain.ledger import FundLedger, _working_copy
from tests import factories as f
from tests.conftest import APPROVER


def test_a_working_copy_shares_no_container_with_its_original(ledger: FundLedger) -> None:
    f.school(ledger)
    f.fund(ledger, amount=100_000)
    f.approved(ledger, amount=10_000)
    fund = ledger.repository.get(Fund.id_for("PUB-2025"))
    ids_before = list(fund.allocation_ids)

    copy = _working_copy(fund)
    copy.allocation_ids.append(copy.id)

    assert fund.allocation_ids == ids_before
    assert copy.allocation_ids is not fund.allocation_ids
    assert copy._pending_events is not fund._pending_events
    assert fund.collect_events() == []


def test_a_refused_command_in_a_batch_leaves_the_batch_as_it_was(ledger: FundLedger) -> None:
    f.school(ledger)
    f.fund(ledger, amount=100_000)
    first, refused, third = (f.proposal(ledger, amount=amount)
                             for amount in (60_000, 50_000, 40_000))
    with ledger.batch():
        ledger.approve_allocation(APPROVER, first, effective_date=f.PROPOSED_ON)
        f.refused(ledger, OverAllocation, "over_allocation",
                  lambda: ledger.approve_allocation(APPROVER, refused, effective_date=f.PROPOSED_ON))
        ledger.approve_allocation(APPROVER, third, effective_date=f.PROPOSED_ON)
    fund = ledger.repository.get(Fund.id_for("PUB-2025"))
    assert fund.allocated == 100_000
    assert ledger.get_allocation(refused).status == "proposed"
    # A later batch starts from what this process remembers: the refused approval is not in it.
    with ledger.batch():
        ledger.reject_allocation(APPROVER, refused, reason="超出预算", effective_date=f.PROPOSED_ON)
    assert ledger.get_allocation(refused).status == "rejected"


states = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.none() | st.integers() | st.text(max_size=4) | st.uuids() | st.dates() | st.datetimes()
    | st.tuples(st.integers()) | st.lists(st.integers(), max_size=3)
    | st.sets(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=3).map(OrderedDict),
    max_size=8)


@settings(max_examples=200, deadline=None)
@given(state=states)
def test_a_working_copy_equals_its_original_and_shares_no_container(state: dict[str, Any]) -> None:
    original = Fund.__new__(Fund)
    original.__dict__.update(state)
    copy = _working_copy(original)
    assert type(copy) is Fund
    assert vars(copy) == vars(original)
    for name, value in vars(original).items():
        if isinstance(value, list | dict | set):
            assert vars(copy)[name] is not value
        else:
            assert vars(copy)[name] is value
