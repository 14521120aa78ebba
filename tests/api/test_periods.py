"""Month-end close over HTTP (both stores): a two-person change; then every command dated in
the month is 409 `period_closed` and writes nothing; closing twice, too early, a malformed
month, and a month with pending changes dated in it are refused with their own problems."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import FISCAL_YEAR, Api
from tests.api.test_year_end import _problem

MARCH = f"{FISCAL_YEAR}-03"


def _closed(api: Api, month: str) -> dict[str, Any]:
    return api.applied(api.post("approver", f"/v1/periods/{month}/close",
                                {"reason": "月末结账"}))


def test_a_closed_month_takes_no_command_dated_in_it(stored_api: Api) -> None:
    api = stored_api
    api.school()
    api.school("XZ-PX-0002")
    api.fund()
    allocation = api.allocation()["id"]
    spent = api.expenditure(allocation)  # dated 03-02
    change = api.ok(api.post("approver", f"/v1/periods/{MARCH}/close", {"reason": "月末结账"}),
                    202)
    assert (change["kind"], change["status"]) == ("period_close", "pending")
    assert api.ok(api.get("reader", "/v1/periods")) == {"closed": []}
    _problem(api.post("approver", f"/v1/changes/{change['change']}/approve", {}), 403,
             "maker_checker")
    api.ok(api.post("checker", f"/v1/changes/{change['change']}/approve", {}))
    listed = api.ok(api.get("reader", "/v1/periods"))["closed"]
    assert [(c["month"], c["closed_by"], c["approved_by"], c["reason"]) for c in listed] == [
        (MARCH, "user.approver", "user.checker", "月末结账")]

    def day(n: int) -> str:
        return f"{MARCH}-{n:02d}"

    before = api.ledger.last_position()
    refused = [
        ("officer", "/v1/expenditures", {"allocation": allocation, "amount": 1_00,
                                         "payee": "徐州供电公司", "voucher": "V-9",
                                         "spent_on": day(15)}),
        ("officer", f"/v1/expenditures/{spent['id']}/reverse",
         {"reason": "发票作废", "effective_date": day(20)}),
        ("officer", "/v1/allocations", {"fund": "PUB-1", "school": "XZ-PX-0002",
                                        "amount": 1_00, "purpose": "p",
                                        "effective_date": day(5)}),
        ("officer", f"/v1/allocations/{allocation}/cancel",
         {"reason": "r", "effective_date": day(6)}),
        ("officer", f"/v1/allocations/{allocation}/transfer",
         {"to_school": "XZ-PX-0002", "amount": 1_00, "reason": "r", "effective_date": day(7)}),
        ("approver", f"/v1/allocations/{allocation}/adjust",
         {"delta": 1_00, "reason": "r", "effective_date": day(7)}),
        ("approver", "/v1/funds/PUB-1/adjust", {"delta": 1_00, "reason": "r",
                                                "effective_date": day(8)}),
        ("officer", "/v1/schools/XZ-PX-0001/enrolment", {"students": 430,
                                                         "effective_date": day(9)}),
        ("officer", "/v1/schools/XZ-PX-0001/reclassify", {"locale": "town", "reason": "r",
                                                          "effective_date": day(10)}),
        ("officer", "/v1/schools/XZ-PX-0001/assets/receipts",
         {"asset": "computer", "quantity": 1, "value": 1, "effective_date": day(11)}),
        ("officer", "/v1/schools", {"code": "XZ-PX-0003", "name": "n", "district": "Pei",
                                    "level": "primary", "locale": "rural", "students": 1,
                                    "effective_date": day(12)}),
    ]
    for role, path, body in refused:
        problem = _problem(api.post(role, path, body), 409, "period_closed")
        assert MARCH in problem["detail"], path
    assert api.ledger.last_position() == before  # nothing written, no pending change either
    # The same commands dated in an open month pass.
    api.ok(api.post("officer", "/v1/expenditures", {
        "allocation": allocation, "amount": 1_00, "payee": "徐州供电公司", "voucher": "V-9",
        "spent_on": f"{FISCAL_YEAR}-04-01"}), 201)
    # Closing twice, a month not yet over, and a month that is no month.
    _problem(api.post("approver", f"/v1/periods/{MARCH}/close", {}), 409,
             "period_already_closed")
    _problem(api.post("approver", f"/v1/periods/{FISCAL_YEAR}-12/close", {}), 409,
             "period_not_ended")
    _problem(api.post("approver", f"/v1/periods/{FISCAL_YEAR}-13/close", {}), 422,
             "invalid_input")
    _problem(api.post("approver", f"/v1/periods/{FISCAL_YEAR}-3/close", {}), 422,
             "validation_error")
    _problem(api.post("officer", f"/v1/periods/{FISCAL_YEAR}-04/close", {}), 403,
             "role_not_allowed")


def test_a_month_with_pending_changes_dated_in_it_is_not_closed(stored_api: Api) -> None:
    api = stored_api
    api.school()
    api.fund()
    allocation = api.allocation()["id"]
    cancel = api.ok(api.post("officer", f"/v1/allocations/{allocation}/cancel",
                             {"reason": "学校撤并", "effective_date": f"{FISCAL_YEAR}-05-06"}),
                    202)
    adjust = api.ok(api.post("approver", "/v1/funds/PUB-1/adjust",
                             {"delta": 1_00, "reason": "追加", "effective_date":
                              f"{FISCAL_YEAR}-06-01"}), 202)
    before = api.ledger.last_position()
    problem = _problem(api.post("approver", f"/v1/periods/{FISCAL_YEAR}-05/close", {}), 409,
                       "period_has_pending_changes")
    assert problem["pending_changes"] == [
        {"change": cancel["change"], "kind": "allocation_cancel", "maker": "user.officer"}]
    assert adjust["change"] not in problem["detail"]  # dated in June
    assert api.ledger.last_position() == before
    api.ok(api.post("approver", f"/v1/changes/{cancel['change']}/reject", {"reason": "不撤销"}))
    _closed(api, f"{FISCAL_YEAR}-05")
    # A change proposed meanwhile for the closed month is refused when made.
    _problem(api.post("officer", f"/v1/allocations/{allocation}/cancel",
                      {"reason": "r", "effective_date": f"{FISCAL_YEAR}-05-07"}), 409,
             "period_closed")


def test_the_dashboard_lists_the_closed_months_in_chinese_first(api: Api) -> None:
    login = api.client.post("/dashboard/login", data={"token": api.tokens["reader"],
                                                      "next": "/dashboard/periods"})
    assert login.status_code == 200, login.text
    assert "尚无已结账的月份" in api.client.get("/dashboard/periods").text
    _closed(api, MARCH)
    page = api.client.get("/dashboard/periods")
    assert page.status_code == 200
    assert "已结账月份" in page.text and f'data-month="{MARCH}"' in page.text
    assert "user.checker" in page.text and "月末结账" in page.text
    api.client.cookies.set("fundledger_lang", "en")
    assert "Closed months" in api.client.get("/dashboard/periods").text
