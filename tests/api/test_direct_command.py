"""`POST /v1/expenditures` answered directly (api/direct_command.py): the same answer as
FastAPI's route, byte for byte, and every request it does not answer handed on untouched,
nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.direct_command import DirectCommand
from tests.api.conftest import FISCAL_YEAR, Api

PATH = "/v1/expenditures"


@pytest.fixture
def allocation(api: Api) -> str:
    api.school()
    api.fund()
    allocation: str = api.allocation(amount=900_000_00)["id"]
    return allocation


def direct(api: Api) -> DirectCommand:
    route: DirectCommand = api.client.app.state.direct_write  # type: ignore[attr-defined]
    return route


def body(allocation: str, voucher: str, **fields: Any) -> dict[str, Any]:
    return {"allocation": allocation, "amount": 1_200_00, "payee": "徐州供电公司",
            "voucher": voucher, "spent_on": f"{FISCAL_YEAR}-03-02", "description": "电费",
            **fields}


def written(api: Api) -> int:
    return api.ledger.recorder.max_notification_id() or 0


def test_a_plain_write_is_answered_directly(api: Api, allocation: str) -> None:
    before = direct(api).answered
    answer = api.post("officer", PATH, body(allocation, "V-1"))
    assert answer.status_code == 201, answer.text
    assert direct(api).answered == before + 1
    assert answer.headers["location"] == f"{PATH}/{answer.json()['id']}"
    assert answer.headers["etag"] == '"1"'
    assert answer.headers["content-type"] == "application/json"


def answer_both_ways(api: Api, allocation: str, index: int, fields: dict[str, Any],
                     monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The same write, once answered directly and once by FastAPI's route."""
    route = direct(api)
    first = api.post("officer", PATH, body(allocation, f"D-{index}", **fields))
    with monkeypatch.context() as patched:
        async def hand_on(*_: Any) -> None:
            return None

        patched.setattr(route, "_answer", hand_on)
        second = api.post("officer", PATH, body(allocation, f"F-{index}", **fields))
    return first, second


def same_but_for_ids(first: Any, second: Any, index: int) -> None:
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    a, b = first.json(), second.json()
    assert list(a) == list(b)
    replaced = (first.content.replace(a["id"].encode(), b["id"].encode())
                .replace(f"D-{index}".encode(), f"F-{index}".encode())
                .replace(f'"position":{a["position"]}'.encode(), f'"position":{b["position"]}'.encode()))
    assert replaced == second.content
    assert first.headers["location"].replace(a["id"], b["id"]) == second.headers["location"]
    for name in ("etag", "content-type", "content-length"):
        assert first.headers.get(name) == second.headers.get(name), name
    assert first.headers.get("idempotent-replayed") == second.headers.get("idempotent-replayed")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(1, 1_000_00),
       payee=st.text(st.characters(codec="utf-8", exclude_categories=("C",)), min_size=1,
                     max_size=30).filter(str.strip),
       description=st.text(st.characters(codec="utf-8", exclude_categories=("C",)), max_size=40),
       economic_class=st.sampled_from([None, "30201", "30206"]))
def test_a_direct_answer_is_fastapis_byte_for_byte(api: Api, allocation: str,
                                                   monkeypatch: pytest.MonkeyPatch, amount: int,
                                                   payee: str, description: str,
                                                   economic_class: str | None) -> None:
    index = written(api)
    fields: dict[str, Any] = {"amount": amount, "payee": payee, "description": description}
    if economic_class is not None:
        fields["economic_class"] = economic_class
    answered = direct(api).answered
    first, second = answer_both_ways(api, allocation, index, fields, monkeypatch)
    if first.status_code != 201:  # text the domain refuses: refused the same both ways
        assert (first.status_code, first.json()["code"]) == (second.status_code, second.json()["code"])
        return
    assert direct(api).answered == answered + 1
    same_but_for_ids(first, second, index)


def test_a_replayed_write_is_answered_directly_as_a_replay(api: Api, allocation: str) -> None:
    first = api.post("officer", PATH, body(allocation, "K-1"), **{"Idempotency-Key": "k-1"})
    before = written(api)
    again = api.post("officer", PATH, body(allocation, "K-1"), **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert written(api) == before


def test_a_refusal_of_the_books_comes_from_the_route_itself(api: Api, allocation: str) -> None:
    """Too much money: refused by the ledger, after the direct route's checks, as always."""
    before = written(api)
    answered = direct(api).answered
    answer = api.post("officer", PATH, body(allocation, "X-1", amount=900_000_01))
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert written(api) == before
    assert direct(api).answered == answered


HANDED_ON: dict[str, tuple[dict[str, str], bytes | None, int, str]] = {
    # name: (headers beyond the officer's, raw body or None for a good one, status, code)
    "no token": ({"Authorization": ""}, None, 401, "unknown_token"),
    "unknown token": ({"Authorization": "Bearer nope"}, None, 401, "unknown_token"),
    "basic scheme": ({"Authorization": "Basic abc"}, None, 401, "unknown_token"),
    "malformed JSON": ({}, b'{"amount": ', 400, "malformed_json"),
    "a key twice": ({}, b'{"amount": 1, "amount": 2}', 400, "duplicate_key"),
    "invalid body": ({}, b'{"amount": -1}', 422, "validation_error"),
    "not JSON": ({"Content-Type": "text/plain"}, None, 422, "validation_error"),
    "long idempotency key": ({"Idempotency-Key": "k" * 300}, None, 422, "validation_error"),
}


@pytest.mark.parametrize("case", sorted(HANDED_ON))
def test_every_other_request_is_answered_by_fastapi_and_writes_nothing(
        api: Api, allocation: str, case: str) -> None:
    extra, raw, status, code = HANDED_ON[case]
    before, answered = written(api), direct(api).answered
    headers = {"Authorization": f"Bearer {api.tokens['officer']}",
               "Content-Type": "application/json", **extra}
    content = raw if raw is not None else json.dumps(body(allocation, "H-1")).encode()
    answer = api.client.post(PATH, content=content, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert written(api) == before
    assert direct(api).answered == answered


def test_a_reader_hears_403_from_fastapis_route(api: Api, allocation: str) -> None:
    before, answered = written(api), direct(api).answered
    answer = api.post("reader", PATH, body(allocation, "R-1"))
    assert (answer.status_code, answer.json()["code"]) == (403, "role_not_allowed"), answer.text
    assert written(api) == before
    assert direct(api).answered == answered


def test_a_query_string_is_handed_on_and_written_once(api: Api, allocation: str) -> None:
    """FastAPI ignores a POST's query: the write is made, by its route, once."""
    before, answered = written(api), direct(api).answered
    answer = api.client.post(f"{PATH}?note=1", json=body(allocation, "Q-1"),
                             headers=api.headers("officer"))
    assert answer.status_code == 201, answer.text
    assert direct(api).answered == answered
    assert written(api) > before
    assert api.get("officer", f"{PATH}/{answer.json()['id']}").status_code == 200
