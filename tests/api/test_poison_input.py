"""Poison input (issue 14): refused at the edge on every path, the field named, nothing
written. Found as `POST /v1/schools {"name": "School\\u0000Zero"}` → 201, after which the
PostgreSQL view runner failed on every page, forever, while /healthz said ok."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.rules import clean_text
from tests.api.conftest import FISCAL_YEAR, Api

POISON = {
    "nul": "School\u0000Zero",
    "c0": "Sch\u0007ool",
    "c1": "Sch\u0085ool",
    "newline": "School\nZero",
    "tab": "School\tZero",
    "bidi override": "School\u202eoreZ",
    "bidi isolate": "School\u2066x\u2069",
    "only zero-width": "\u200b\u200c\ufeff",
    "only format and spaces": " \u2060 \u200b ",
    "lone surrogate": "School\ud800",
}


def _school(name: str) -> dict[str, Any]:
    return {"code": "XZ-POISON-1", "name": name, "district": "Pei", "level": "primary",
            "locale": "rural", "students": 10}


@pytest.mark.parametrize("name", POISON.values(), ids=POISON.keys())
def test_poison_in_a_name_is_422_with_the_field_named_and_writes_nothing(stored_api: Api,
                                                                         name: str) -> None:
    before = stored_api.ledger.last_position()
    # Sent as JSON escapes (as a client would send a lone surrogate: "\ud800").
    response = stored_api.client.post(
        "/v1/schools", content=json.dumps(_school(name)),
        headers={**stored_api.headers("officer"), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][-1] == "name"
    assert stored_api.ledger.last_position() == before


def test_newlines_are_allowed_where_a_field_has_lines(funded: dict[str, Any], api: Api) -> None:
    body = {"allocation": funded["allocation"]["id"], "amount": 1, "payee": "p",
            "voucher": "V-NL", "spent_on": f"{FISCAL_YEAR}-05-01",
            "description": "第一行\n第二行"}
    assert api.post("officer", "/v1/expenditures", body).status_code == 201
    payee = api.post("officer", "/v1/expenditures", {**body, "voucher": "V-NL2",
                                                     "payee": "a\nb"})
    assert payee.status_code == 422
    assert payee.json()["errors"][0]["loc"][-1] == "payee"


def test_text_is_stored_in_nfc(api: Api) -> None:
    decomposed = "Cafe\u0301"  # e + combining acute
    school = api.ok(api.post("officer", "/v1/schools", _school(decomposed)), 201)
    assert school["name"] == "Caf\u00e9"


def test_a_poisoned_school_name_leaves_the_views_running(stored_api: Api) -> None:
    """The original failure: after the refusal the views keep applying later writes."""
    stored_api.post("officer", "/v1/schools", _school("School\u0000Zero"))
    stored_api.school()
    listed = stored_api.ok(stored_api.get("reader", "/v1/schools",
                                          min_position=stored_api.ledger.last_position()))
    assert [s["code"] for s in listed["items"]] == ["XZ-PX-0001"]


def test_a_poisoned_query_filter_is_422(stored_api: Api) -> None:
    response = stored_api.get("reader", "/v1/schools", district="Pei\u0000")
    assert response.status_code == 422, response.text


@given(st.text(max_size=30))
def test_clean_text_either_refuses_or_returns_nfc_without_controls(text: str) -> None:
    """Property: whatever it is given, the validator answers InvalidInput or clean NFC text."""
    import unicodedata  # noqa: PLC0415

    try:
        cleaned = clean_text(text, "t")
    except InvalidInput:
        return
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in cleaned)
    assert not cleaned or not all(unicodedata.category(c) == "Cf" or c.isspace()
                                  for c in cleaned)
