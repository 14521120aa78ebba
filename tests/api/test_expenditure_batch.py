"""POST /v1/expenditures/batch over HTTP, on SQLite and PostgreSQL: all or nothing, every
refused item named by its index, one position, one idempotency key for the whole batch."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from domain.limits import EXPENDITURE_BATCH_MAX
from tests.api.conftest import FISCAL_YEAR, Api
from tests.conftest import OFFICER, TODAY

PATH = "/v1/expenditures/batch"


def _item(allocation: str, amount: int, voucher: str, **fields: Any) -> dict[str, Any]:
    return {"allocation": allocation, "amount": amount, "payee": "徐州供电公司", "voucher": voucher,
            "spent_on": f"{FISCAL_YEAR}-03-02", "description": "电费", **fields}


@pytest.fixture
def two(stored_api: Api) -> tuple[Api, str, str]:
    """Two approved allocations of 500.00 and 300.00 yuan at two schools."""
    api = stored_api
    api.school("XZ-PX-0001")
    api.school("XZ-PX-0002")
    api.fund()
    first = api.allocation(school="XZ-PX-0001", amount=500_00)["id"]
    second = api.allocation(school="XZ-PX-0002", amount=300_00)["id"]
    return api, first, second


def _spent(api: Api, school: str, position: int) -> int:
    balances = api.ok(api.get("reader", f"/v1/schools/{school}/balances",
                              fiscal_year=FISCAL_YEAR, min_position=position))
    return sum(row["spent"] for row in balances["balances"])


def test_a_batch_is_written_whole_with_one_position(two: tuple[Api, str, str]) -> None:
    api, first, second = two
    items = [_item(first, 200_00, "B-1"), _item(second, 300_00, "B-2"), _item(first, 300_00, "B-3")]
    answer = api.ok(api.post("officer", PATH, {"items": items}), 201)
    assert (answer["status"], answer["items"], answer["applied"], answer["bad_items"]) == (
        "applied", 3, 3, 0)
    assert answer["position"] == api.ledger.last_position()
    assert [e["voucher"] for e in answer["expenditures"]] == ["B-1", "B-2", "B-3"]
    assert {e["position"] for e in answer["expenditures"]} == {answer["position"]}
    # The third item saw the first: 200 + 300 is exactly the first allocation's 500.
    assert _spent(api, "XZ-PX-0001", answer["position"]) == 500_00
    assert _spent(api, "XZ-PX-0002", answer["position"]) == 300_00
    one = api.ok(api.get("reader", f"/v1/expenditures/{answer['expenditures'][2]['id']}"))
    assert (one["amount"], one["voucher"]) == (300_00, "B-3")


def test_one_bad_item_refuses_the_batch_naming_every_bad_item(two: tuple[Api, str, str]) -> None:
    api, first, second = two
    api.expenditure(first, amount=1_00, voucher="TAKEN")
    before = api.ledger.last_position()
    items = [
        _item(first, 400_00, "C-1"),
        _item(first, 200_00, "C-2"),  # 400 + 1 already spent leaves 99: overspent
        _item("00000000-0000-0000-0000-000000000000", 1_00, "C-3"),
        _item(second, 1_00, "C-1"),  # another school: its own voucher numbers
        _item(first, 1_00, "C-1"),  # the same school's voucher twice in one batch
        _item(first, 1_00, "TAKEN"),  # a voucher already in the books
        _item(second, 1_00, "C-7", spent_on=f"{FISCAL_YEAR + 1}-01-01"),  # in the future
    ]
    response = api.post("officer", PATH, {"items": items})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "batch_rejected"
    assert [(e["index"], e["code"]) for e in body["batch"]["errors"]] == [
        (1, "overspend"), (2, "allocation_not_found"), (4, "duplicate_voucher"),
        (5, "duplicate_voucher"), (6, "date_in_future")]
    assert (body["batch"]["status"], body["batch"]["items"], body["batch"]["bad_items"]) == (
        "rejected", 7, 5)
    assert api.ledger.last_position() == before
    assert _spent(api, "XZ-PX-0001", before) == 1_00
    # Nothing of the refused batch is held anywhere: the same good items go through now.
    good = [items[0], items[3]]
    assert api.ok(api.post("officer", PATH, {"items": good}), 201)["applied"] == 2


def test_a_voucher_another_process_wrote_is_named_beside_other_bad_items(
        two: tuple[Api, str, str], store_settings: Settings) -> None:
    """The server has never seen that voucher (no memory of it): its batch reads it."""
    api, first, _ = two
    elsewhere = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        elsewhere.record_expenditure(OFFICER, allocation=UUID(first), amount=1_00, payee="p",
                                     voucher="ELSEWHERE", spent_on=TODAY.replace(month=3, day=2))
    finally:
        elsewhere.close()
    before = api.ledger.last_position()
    items = [_item(first, 1_00, "ELSEWHERE"), _item(first, 10_000_00, "I-2"), _item(first, 1, "I-3")]
    body = api.post("officer", PATH, {"items": items}).json()
    assert [(e["index"], e["code"]) for e in body["batch"]["errors"]] == [
        (0, "duplicate_voucher"), (1, "overspend")]
    alone = api.post("officer", PATH, {"items": items[:1]}).json()
    assert [(e["index"], e["code"]) for e in alone["batch"]["errors"]] == [(0, "duplicate_voucher")]
    assert api.ledger.last_position() == before


@pytest.mark.parametrize("count", [0, EXPENDITURE_BATCH_MAX + 1])
def test_an_empty_or_oversized_batch_is_a_problem(two: tuple[Api, str, str], count: int) -> None:
    api, first, _ = two
    before = api.ledger.last_position()
    items = [_item(first, 1, f"D-{i}") for i in range(count)]
    response = api.post("officer", PATH, {"items": items})
    assert response.status_code in (413, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in ("validation_error", "body_too_large")
    assert api.ledger.last_position() == before


def test_a_malformed_item_is_a_validation_problem_naming_it(two: tuple[Api, str, str]) -> None:
    api, first, _ = two
    before = api.ledger.last_position()
    response = api.post("officer", PATH, {"items": [_item(first, 1, "E-1"), _item(first, -5, "E-2")]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:4] == ["body", "items", "1", "amount"]
    assert api.ledger.last_position() == before


def test_the_same_key_and_body_replays_the_answer_and_writes_nothing(
        two: tuple[Api, str, str]) -> None:
    api, first, second = two
    items = [_item(first, 10_00, "F-1"), _item(second, 20_00, "F-2")]
    key = {"Idempotency-Key": "batch-march-1"}
    answer = api.ok(api.post("officer", PATH, {"items": items}, **key), 201)
    position = api.ledger.last_position()
    again = api.post("officer", PATH, {"items": items}, **key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    replayed = again.json()
    assert replayed["replayed"] is True
    assert replayed["expenditures"] == answer["expenditures"]
    assert replayed["position"] == answer["position"]
    assert api.ledger.last_position() == position
    assert _spent(api, "XZ-PX-0001", position) == 10_00


def test_a_different_body_under_the_same_key_is_refused(two: tuple[Api, str, str]) -> None:
    api, first, _ = two
    key = {"Idempotency-Key": "batch-march-2"}
    api.ok(api.post("officer", PATH, {"items": [_item(first, 10_00, "G-1")]}, **key), 201)
    position = api.ledger.last_position()
    for items in ([_item(first, 11_00, "G-1")],
                  [_item(first, 10_00, "G-1"), _item(first, 10_00, "G-2")]):
        response = api.post("officer", PATH, {"items": items}, **key)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "idempotency_key_reused"
    # Nor may a single expenditure take the batch's key.
    single = api.post("officer", "/v1/expenditures", _item(first, 10_00, "G-9"), **key)
    assert single.json()["code"] == "idempotency_key_reused"
    assert api.ledger.last_position() == position


def test_only_officers_record_batches(two: tuple[Api, str, str]) -> None:
    api, first, _ = two
    body = {"items": [_item(first, 1, "H-1")]}
    assert api.post("approver", PATH, body).status_code == 403
    assert api.post("auditor", PATH, body).status_code == 403
    assert api.client.post(PATH, json=body).status_code == 401
