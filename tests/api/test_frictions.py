"""What a new user tripped over: a misspelt filter, a Chinese voucher, a regex in a problem,
a 201 without Location, a fund's `proposed` of null, amounts in fen in a problem's detail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import FISCAL_YEAR, Api
from tests.dashboard_login import dashboard_login

LISTS = ("/v1/schools", "/v1/funds", "/v1/allocations", "/v1/expenditures", "/v1/audit/journal")


@pytest.mark.parametrize("path", LISTS)
def test_an_unknown_query_parameter_is_refused_by_name(api: Api, path: str) -> None:
    response = api.get("auditor", path, vouchr="V-1")
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "unknown_query_parameter"
    assert "'vouchr'" in problem["detail"]


def test_known_parameters_still_pass(api: Api) -> None:
    assert api.get("reader", "/v1/schools", limit=5).status_code == 200


def test_expenditures_filter_by_voucher_payee_dates_and_amounts(api: Api, funded: dict[str, Any]) -> None:
    allocation = funded["allocation"]["id"]
    api.expenditure(allocation, amount=800_00, voucher="记-12-0050", payee="沛县文具店",
                    spent_on=f"{FISCAL_YEAR}-03-10")

    def vouchers(**params: Any) -> list[str]:
        body = api.ok(api.get("reader", "/v1/expenditures", min_position=api.ledger.last_position(),
                              **params))
        return sorted(e["voucher"] for e in body["items"])

    assert vouchers() == ["V-0001", "记-12-0050"]
    assert vouchers(voucher="记-12-0050") == ["记-12-0050"]
    assert vouchers(payee="沛县文具店") == ["记-12-0050"]
    assert vouchers(spent_on_from=f"{FISCAL_YEAR}-03-05") == ["记-12-0050"]
    assert vouchers(spent_on_to=f"{FISCAL_YEAR}-03-02") == ["V-0001"]
    assert vouchers(amount_min=1_000_00) == ["V-0001"]
    assert vouchers(amount_max=800_00) == ["记-12-0050"]
    assert vouchers(amount_min=1, amount_max=799_99) == []


@pytest.mark.parametrize("voucher", ["记-12-0050", "付字第0050号", "PV 2025/0050"])
def test_chinese_and_free_form_vouchers_are_accepted(api: Api, funded: dict[str, Any], voucher: str) -> None:
    written = api.expenditure(funded["allocation"]["id"], amount=1_00, voucher=voucher)
    assert written["voucher"] == voucher


@pytest.mark.parametrize("voucher", ["V-\n1", "V\t1", "V\u200b1", "V" * 65, "   "])
def test_vouchers_with_control_characters_or_too_long_are_refused_without_a_regex(
        api: Api, funded: dict[str, Any], voucher: str) -> None:
    before = api.ledger.last_position()
    response = api.post("officer", "/v1/expenditures", {
        "allocation": funded["allocation"]["id"], "amount": 1_00, "payee": "p",
        "voucher": voucher, "spent_on": f"{FISCAL_YEAR}-03-02"})
    assert response.status_code == 422, response.text
    assert "^" not in response.text and "[A-" not in response.text
    assert api.ledger.last_position() == before


def test_a_pattern_mismatch_is_described_not_shown_as_a_regex(api: Api) -> None:
    response = api.post("officer", "/v1/schools", {
        "code": "X 1", "name": "n", "district": "d", "level": "primary", "locale": "rural",
        "poverty_area": False, "students": 1})
    assert response.status_code == 422
    assert "^" not in response.text and "letters, digits" in response.json()["detail"]


def test_creations_answer_with_a_location(api: Api) -> None:
    school = api.post("officer", "/v1/schools", {
        "code": "XZ-LOC-1", "name": "n", "district": "Pei", "level": "primary", "locale": "rural",
        "poverty_area": False, "students": 10, "effective_date": f"{FISCAL_YEAR}-01-01"})
    assert school.headers["Location"] == "/v1/schools/XZ-LOC-1"
    assert api.client.get(school.headers["Location"], headers=api.headers("reader")).status_code == 200
    fund = api.fund()
    assert fund["proposed"] == 0  # as the list says, never null
    allocation = api.post("officer", "/v1/allocations", {
        "fund": "PUB-1", "school": "XZ-LOC-1", "amount": 1_00, "purpose": "p",
        "effective_date": f"{FISCAL_YEAR}-02-01"})
    assert allocation.headers["Location"] == f"/v1/allocations/{allocation.json()['id']}"
    listed = api.ok(api.get("reader", "/v1/funds/PUB-1", min_position=api.ledger.last_position()))
    assert listed["proposed"] == 1_00


def test_an_overspend_names_the_amounts_in_yuan(api: Api, funded: dict[str, Any]) -> None:
    response = api.post("officer", "/v1/expenditures", {
        "allocation": funded["allocation"]["id"], "amount": 99_999_999, "payee": "p",
        "voucher": "V-9", "spent_on": f"{FISCAL_YEAR}-03-02"})
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "¥48,800.00 remaining" in detail and "¥999,999.99 was asked" in detail


def test_balances_default_to_the_current_year_with_fund_names_and_totals(
        api: Api, funded: dict[str, Any]) -> None:
    api.fund("PUB-2", name="教师培训经费")
    api.allocation(fund="PUB-2", amount=10_000_00)
    body = api.ok(api.get("reader", "/v1/schools/XZ-PX-0001/balances",
                          min_position=api.ledger.last_position()))
    assert body["fiscal_year"] == FISCAL_YEAR
    assert {(b["fund"], b["fund_name"]) for b in body["balances"]} == {
        ("PUB-1", "生均公用经费"), ("PUB-2", "教师培训经费")}
    assert body["totals"] == [{"unit": "CNY", "allocated": 60_000_00, "spent": 1_200_00,
                               "remaining": 58_800_00}]
    rural = api.ok(api.get("reader", "/v1/reports/rural-support"))
    assert rural["fiscal_year"] == FISCAL_YEAR


def test_a_reversed_expenditure_says_why_when_by_whom_and_where(api: Api, funded: dict[str, Any]) -> None:
    expenditure = funded["expenditure"]["id"]
    answer = api.ok(api.post("officer", f"/v1/expenditures/{expenditure}/reverse",
                             {"reason": "重复录入", "effective_date": f"{FISCAL_YEAR}-03-05"}))
    assert answer["reversal"] == {"reason": "重复录入", "reversed_on": f"{FISCAL_YEAR}-03-05",
                                  "reversed_by": "user.officer", "position": answer["position"]}
    api.ok(api.get("reader", "/v1/expenditures", min_position=answer["position"]))
    read = api.ok(api.get("reader", f"/v1/expenditures/{expenditure}"))
    assert read["status"] == "reversed"
    # The expenditure's own last event (its reversal), never null; the answer to the POST
    # gave the position of the command's last event (the allocation's and voucher's follow).
    assert 0 < read["position"] <= answer["position"]
    assert read["reversal"] == {**answer["reversal"], "position": read["position"]}


def test_the_admin_token_reads_the_books_neither_over_the_api_nor_in_the_dashboard(api: Api) -> None:
    assert api.get("admin", "/v1/schools").status_code == 403
    login = api.client.post("/dashboard/login", data={"token": api.tokens["admin"]},
                            follow_redirects=False)
    assert login.status_code == 303 and "failed=1" in login.headers["location"]
    api.client.cookies.set("fundledger_token", api.tokens["admin"], path="/dashboard")
    page = api.client.get("/dashboard/schools", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/dashboard/login")
    dashboard_login(api.client, api.tokens["reader"])
    assert api.client.get("/dashboard/schools", follow_redirects=False).status_code == 200
