"""A batch of expenditures is all or nothing, and refuses exactly the items that one-by-one
recording would refuse (each against the books as the accepted items before it left them)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import BatchRejected, InvalidInput, LedgerError
from domain.ledger import FundLedger
from tests.conftest import APPROVER, OFFICER, TODAY
from tests.factories import SPENT_ON, approved, expenditure, fund, school


def _bureau() -> tuple[FundLedger, list[UUID]]:
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    fund(ledger)
    ids = []
    for code in ("XZ-PZ-0001", "XZ-PZ-0002"):
        school(ledger, code)
        ids.append(approved(ledger, school_code=code, amount=1_000))
    return ledger, ids


def _item(ids: list[UUID], which: int, amount: int, voucher: str) -> dict[str, Any]:
    return {"allocation": ids[which], "amount": amount, "payee": "邳州供电公司",
            "voucher": voucher, "spent_on": SPENT_ON, "description": "电费"}


def _spent(ledger: FundLedger, ids: list[UUID]) -> list[int]:
    return [ledger.get_allocation(i).spent for i in ids]


items_strategy = st.lists(
    st.tuples(st.integers(0, 1), st.integers(-10, 700), st.sampled_from(["V1", "V2", "V3", ""])),
    min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(items=items_strategy)
def test_a_batch_refuses_what_one_by_one_would_and_writes_all_or_nothing(
        items: list[tuple[int, int, str]]) -> None:
    batch_ledger, ids = _bureau()
    alone_ledger, alone_ids = _bureau()
    refused_alone = []
    for index, (which, amount, voucher) in enumerate(items):
        try:
            alone_ledger.record_expenditure(OFFICER, **_item(alone_ids, which, amount, voucher))
        except LedgerError as error:
            refused_alone.append((index, error.code))
    before = batch_ledger.last_position()
    try:
        outcome = batch_ledger.record_expenditures(
            OFFICER, [_item(ids, *item) for item in items], idempotency_key="k")
    except BatchRejected as refused:
        assert [(i, code) for i, code, _ in refused.errors] == refused_alone
        assert batch_ledger.last_position() == before
        assert _spent(batch_ledger, ids) == [0, 0]
        return
    assert refused_alone == []
    assert outcome.position == batch_ledger.last_position()
    assert [e.amount for e in outcome.subjects] == [amount for _, amount, _ in items]
    assert _spent(batch_ledger, ids) == _spent(alone_ledger, alone_ids)


def test_a_refused_batch_inside_a_group_commit_leaves_its_neighbours_whole() -> None:
    """A group commit runs a batch request as one part of its own batch."""
    ledger, ids = _bureau()
    with ledger.batch(optimistic=True):
        expenditure(ledger, ids[0], amount=100, voucher="A")
        with pytest.raises(BatchRejected):
            ledger.record_expenditures(OFFICER, [_item(ids, 0, 200, "B"), _item(ids, 1, 5_000, "C")])
        expenditure(ledger, ids[0], amount=900, voucher="D")  # fits only if B left nothing
        accepted = ledger.record_expenditures(OFFICER, [_item(ids, 1, 1_000, "B")])
    assert _spent(ledger, ids) == [1_000, 1_000]
    assert accepted.position == ledger.last_position()


def test_only_officers_and_only_one_to_a_thousand_items() -> None:
    ledger, ids = _bureau()
    with pytest.raises(LedgerError, match="officer"):
        ledger.record_expenditures(APPROVER, [_item(ids, 0, 1, "A")])
    for count in (0, 1_001):
        with pytest.raises(InvalidInput, match="1 to 1000"):
            ledger.record_expenditures(OFFICER, [_item(ids, 0, 1, f"V{i}") for i in range(count)])
