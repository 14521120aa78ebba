"""The workplace's search on both stores: a voucher or payee is found by any part of it, in
any case, its % and _ taken literally, at most SEARCH_ROWS_MAX rows; a reader's payee search
never confirms a person paid personally (a682caf's rule), not even by a part of the name."""

from __future__ import annotations

import re
import sqlite3
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.dashboard.workplace import records
from projections import books_queries
from tests.api.conftest import Api
from tests.api.workplace_client import log_in

PERSON = "张三丰"


@pytest.fixture
def spent(stored_api: Api) -> dict[str, str]:
    api = stored_api
    api.school()
    api.fund(expenditure_classes=["utilities", "teaching", "student_aid"])
    allocation = api.allocation()["id"]
    bill = api.expenditure(allocation, voucher="PX-2026-0017", payee="徐州供电公司")["id"]
    water = api.expenditure(allocation, voucher="px-2026-0018", payee="Xuzhou Water Co")["id"]
    aid = api.expenditure(allocation, voucher="AID_100%", payee=PERSON,
                          economic_class="student_aid", amount=500_00)
    api.ok(api.get("reader", "/v1/expenditures", min_position=aid["position"]))
    return {"bill": bill, "water": water, "aid": aid["id"]}


def _found(api: Api, q: str) -> tuple[set[str], str]:
    page = api.client.get("/dashboard/work/search", params={"q": q})
    assert page.status_code == 200, page.text
    return set(re.findall(r'data-expenditure="([^"]+)"', page.text)), page.text


def _search(api: Api, role: str, *queries: str) -> list[tuple[set[str], str]]:
    log_in(api, role)
    try:
        return [_found(api, q) for q in queries]
    finally:
        api.client.cookies.clear()


def test_a_voucher_or_payee_is_found_by_any_part_in_any_case(
        spent: dict[str, str], stored_api: Api) -> None:
    (number, _), (upper, _), (payee, _), (water, _), (person, _), (percent, _), (none, _) = (
        _search(stored_api, "officer", "2026-001", "PX-2026", "供电", "WATER", "三丰", "%",
                "0019"))
    assert number == upper == {spent["bill"], spent["water"]}
    assert payee == {spent["bill"]}
    assert water == {spent["water"]}
    assert person == {spent["aid"]}  # an officer finds the person by a part of the name
    assert percent == {spent["aid"]}  # % is a character here, not "anything"
    assert none == set()


def test_a_readers_payee_search_does_not_confirm_a_personal_payment(
        spent: dict[str, str], stored_api: Api) -> None:
    (whole, _), (part, _), (first, _), (voucher, page) = _search(
        stored_api, "reader", PERSON, "三丰", "张", "aid_1")
    assert whole == part == first == set()
    # Found by its voucher, the payment shows its payee masked.
    assert voucher == {spent["aid"]}
    assert "张*" in page and PERSON not in page


def test_the_search_answers_a_bounded_number_of_rows(
        spent: dict[str, str], stored_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "SEARCH_ROWS_MAX", 1)
    ((found, _),) = _search(stored_api, "officer", "px-2026")
    assert found == {spent["water"]} or found == {spent["bill"]}
    assert len(found) == 1


@given(text=st.text(alphabet=string.printable, min_size=1, max_size=6),
       haystack=st.text(alphabet=string.printable, max_size=20))
def test_a_contains_pattern_matches_exactly_the_texts_containing_it(text: str,
                                                                    haystack: str) -> None:
    with sqlite3.connect(":memory:") as db:
        (matched,) = db.execute("SELECT LOWER(?) LIKE ? ESCAPE '!'",
                                (haystack, books_queries._contains(text))).fetchone()
    assert bool(matched) == (text.lower() in haystack.lower())
