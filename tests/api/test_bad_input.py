"""Every kind of bad input is a 4xx problem, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.limits import AMOUNT_MINOR_MAX
from tests.api.conftest import FISCAL_YEAR, Api

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _expenditure(allocation: str, **change: Any) -> dict[str, Any]:
    return {"allocation": allocation, "amount": 100, "payee": "p", "voucher": "V-77",
            "spent_on": f"{FISCAL_YEAR}-04-01", **change}


BAD_AMOUNTS = ["12.5", 12.5, 1e30, True, None, -1, 0, AMOUNT_MINOR_MAX + 1, 10**30, [1], {"a": 1}]
BAD_DATES = ["2025-02-30", "yesterday", 20250401, "2025/04/01", "", f"{FISCAL_YEAR + 1}-01-01",
             f"{FISCAL_YEAR - 1}-12-31"]


def _assert_refused(api: Api, response: Any, before: int) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == response.status_code
    assert "Traceback" not in response.text
    assert api.ledger.last_position() == before
    return body


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_an_amount_that_is_not_a_positive_bounded_integer_is_422(
        funded: dict[str, Any], api: Api, amount: Any) -> None:
    before = api.ledger.last_position()
    response = api.post("officer", "/v1/expenditures",
                        _expenditure(funded["allocation"]["id"], amount=amount))
    assert _assert_refused(api, response, before)["status"] == 422


@pytest.mark.parametrize("spent_on", BAD_DATES, ids=repr)
def test_a_bad_date_is_refused(funded: dict[str, Any], api: Api, spent_on: Any) -> None:
    before = api.ledger.last_position()
    response = api.post("officer", "/v1/expenditures",
                        _expenditure(funded["allocation"]["id"], spent_on=spent_on))
    assert _assert_refused(api, response, before)["status"] == 422


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/v1/expenditures", _expenditure(UNKNOWN_ID), 404),
    (f"/v1/allocations/{UNKNOWN_ID}/approve", {}, 404),
    ("/v1/allocations/not-a-uuid/cancel", {"reason": "x"}, 422),
    ("/v1/allocations", {"fund": "NOPE", "school": "XZ-PX-0001", "amount": 1, "purpose": "x"}, 404),
    ("/v1/allocations", {"fund": "PUB-1", "school": "NOPE", "amount": 1, "purpose": "x"}, 404),
    ("/v1/schools/NOPE/close", {"reason": "x"}, 404),
    ("/v1/funds", {"code": "F", "name": "n", "fiscal_year": 2025, "unit": "cny", "amount": 1,
                   "source": "county", "category": "other"}, 422),
    ("/v1/schools", {"code": "X 1", "name": "n", "district": "d", "level": "primary",
                     "locale": "rural", "students": 1}, 422),
    ("/v1/schools", {"code": "X1", "name": "n", "district": "d", "level": "university",
                     "locale": "rural", "students": 1}, 422),
    ("/v1/schools", {"code": "X1", "name": "n", "district": "d", "level": "primary",
                     "locale": "rural", "students": "300"}, 422),
    ("/v1/allocations", {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": 1, "purpose": "x",
                         "approved": True}, 422),
    ("/v1/allocations", {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": 1}, 422),
    ("/v1/allocations", [1, 2], 422),
    ("/v1/schools/XZ-PX-0001/reclassify", {"locale": "rural", "reason": "same as now"}, 422),
])
def test_unknown_ids_and_wrong_shapes_are_refused(funded: dict[str, Any], api: Api, path: str,
                                                   body: Any, status: int) -> None:
    before = api.ledger.last_position()
    response = api.post("officer" if "approve" not in path else "approver", path, body)
    assert _assert_refused(api, response, before)["status"] == status


@pytest.mark.parametrize("raw", [b"{bad json", b"", b"\xff\xfe", b'{"amount": 1,}', b"null"])
def test_malformed_json_is_a_problem(funded: dict[str, Any], api: Api, raw: bytes) -> None:
    before = api.ledger.last_position()
    response = api.client.post("/v1/expenditures", content=raw, headers=api.headers(
        "officer", **{"Content-Type": "application/json"}))
    assert _assert_refused(api, response, before)["status"] in (400, 422)


def test_an_oversized_body_is_413(funded: dict[str, Any], api: Api) -> None:
    before = api.ledger.last_position()
    limit = api.client.app.state.settings.request_body_bytes_max  # type: ignore[attr-defined]
    body = b'{"description": "' + b"x" * limit + b'"}'
    response = api.client.post("/v1/expenditures", content=body, headers=api.headers(
        "officer", **{"Content-Type": "application/json"}))
    assert _assert_refused(api, response, before)["status"] == 413

    def chunks() -> Any:  # no Content-Length: the limit is counted as the body streams in
        for _ in range(limit // 4096 + 2):
            yield b"x" * 4096

    response = api.client.post("/v1/expenditures", content=chunks(), headers=api.headers(
        "officer", **{"Content-Type": "application/json"}))
    assert _assert_refused(api, response, before)["status"] == 413


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.one_of(st.integers(max_value=0), st.integers(min_value=AMOUNT_MINOR_MAX + 1),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5), st.booleans()))
def test_no_out_of_range_or_non_integer_amount_is_ever_written(
        funded: dict[str, Any], api: Api, amount: Any) -> None:
    before = api.ledger.last_position()
    response = api.post("officer", "/v1/allocations",
                        {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": amount, "purpose": "x"})
    assert _assert_refused(api, response, before)["status"] == 422


def test_a_huge_page_or_position_is_refused(api: Api) -> None:
    assert api.get("reader", "/v1/schools", limit=1001).status_code == 422
    assert api.get("reader", "/v1/schools", limit=0).status_code == 422
    response = api.get("reader", "/v1/schools", min_position=10**9)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"



@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400", "12.50"])
def test_a_non_finite_or_fractional_json_number_is_422(
        funded: dict[str, Any], api: Api, literal: str) -> None:
    # A JSON client cannot send these from a float; a hand-written body can.
    before = api.ledger.last_position()
    body = ('{"fund": "PUB-1", "school": "XZ-PX-0001", "purpose": "x", "amount": ' + literal + "}")
    response = api.client.post("/v1/allocations", content=body, headers=api.headers(
        "officer", **{"Content-Type": "application/json"}))
    assert _assert_refused(api, response, before)["status"] == 422
