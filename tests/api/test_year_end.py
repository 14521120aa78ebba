"""Year-end over HTTP (both stores): per-allocation 结转/结余, the refusals as problems that
write nothing, the whole-year close, surplus in the fund balances and the journal, and the
结转结余 statement as JSON, CSV and XLSX."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from tests.api.conftest import FISCAL_YEAR, Api

NEXT = FISCAL_YEAR + 1


def _bureau(api: Api) -> dict[str, Any]:
    """Operating money (carried over) and a facilities project (surplus unless continued)."""
    api.school()
    api.school("XZ-PX-0002")
    api.fund("PUB-1", amount=100_000_00)
    api.fund("FAC-1", amount=80_000_00, category="facilities", source="provincial",
             name="校舍维修改造")
    operating = api.allocation("PUB-1", amount=30_000_00)
    api.expenditure(operating["id"], amount=10_000_00)
    kept = api.allocation("FAC-1", amount=50_000_00)
    recovered = api.allocation("FAC-1", school="XZ-PX-0002", amount=20_000_00)
    api.expenditure(recovered["id"], amount=5_000_00, voucher="V-2", economic_class="repairs")
    return {"operating": operating, "kept": kept, "recovered": recovered}


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + code), body
    return body


def test_a_fund_closes_per_allocation_and_refusals_write_nothing(stored_api: Api) -> None:
    api = stored_api
    made = _bureau(api)
    api.fund("FAC-2", fiscal_year=NEXT, category="facilities", source="provincial",
             effective_date=f"{FISCAL_YEAR}-12-20")
    before = api.ledger.last_position()
    # No open next-year fund of operating money: named, and nothing is written.
    body = _problem(api.post("approver", "/v1/funds/PUB-1/close", {}), 409,
                    "carry_over_target_missing")
    assert "public_operating" in body["detail"]
    _problem(api.post("approver", "/v1/funds/PUB-1/close", {"carry_to": "FAC-2"}), 409,
             "purpose_changed")
    _problem(api.post("approver", "/v1/funds/PUB-1/close", {"disposition": "surplus"}), 409,
             "basic_expenditure_surplus")
    _problem(api.post("approver", "/v1/funds/FAC-1/close", {"disposition": "carry_over"}), 409,
             "project_continuation_unexplained")
    _problem(api.post("officer", "/v1/funds/FAC-1/close", {}), 403, "role_not_allowed")
    assert api.ledger.last_position() == before

    exception = {"allocation": made["kept"]["id"], "disposition": "carry_over",
                 "reason": "二期工程2026年续建"}
    api.applied(api.post("approver", "/v1/funds/FAC-1/close",
                                    {"exceptions": [exception]}))
    closed = api.ok(api.get("reader", "/v1/funds/FAC-1", min_position=api.ledger.last_position()))
    assert closed["closed"]
    assert (closed["carried_forward"], closed["surplus_recovered"]) == (50_000_00, 15_000_00)
    target = api.ok(api.get("reader", "/v1/funds/FAC-2"))
    assert (target["carried_in"], target["allocated"]) == (50_000_00, 50_000_00)
    _problem(api.post("approver", "/v1/funds/FAC-1/close", {}), 409, "fund_closed")

    listed = api.ok(api.get("reader", "/v1/funds", fiscal_year=FISCAL_YEAR,
                            min_position=api.ledger.last_position()))
    by_code = {f["code"]: f for f in listed["items"]}
    assert by_code["FAC-1"]["surplus_recovered"] == 15_000_00
    journal = api.ok(api.get("auditor", "/v1/audit/journal", limit=1000))
    events = {item["event"] for item in journal["items"]}
    assert {"Allocation.CarriedForward", "Allocation.SurplusRecovered",
            "Allocation.CarriedIn", "RecoveredSurplus.Recovered"} <= events


def test_targets_of_another_level_operating_construction_and_stocks_are_refused(
        stored_api: Api) -> None:
    api = stored_api
    api.school()
    api.fund("PUB-1")
    api.allocation("PUB-1", amount=30_000_00)
    api.fund("CEN-2", fiscal_year=NEXT, source="central", effective_date=f"{FISCAL_YEAR}-12-20")
    api.fund("PST-1", amount=10, unit="TEACHER_POST", category="personnel", name="教师编制")
    before = api.ledger.last_position()
    # 结余 goes back to the level that paid: carried money stays that level's.
    _problem(api.post("approver", "/v1/funds/PUB-1/close", {"carry_to": "CEN-2"}), 409,
             "carry_over_target_invalid")
    # Teacher posts are a stock, not money: no 结转, no 结余.
    _problem(api.post("approver", "/v1/funds/PST-1/close", {}), 409, "resource_units_not_closed")
    body = {"code": "PUB-X", "name": "公用经费", "fiscal_year": FISCAL_YEAR, "unit": "CNY",
            "amount": 1_000_00, "source": "county", "category": "public_operating",
            "earmark": "none", "expenditure_classes": ["office", "construction"],
            "effective_date": f"{FISCAL_YEAR}-01-02"}
    # 公用经费 never pays for construction, so no carried operating money can reach it.
    _problem(api.post("officer", "/v1/funds", body), 422, "operating_funds_purpose")
    assert api.ledger.last_position() == before


def test_carry_over_unspent_at_the_second_year_end_is_recovered(stored_api: Api) -> None:
    api = stored_api
    api.ledger.today = lambda: date(NEXT + 1, 2, 1)
    api.school()
    api.fund("PUB-1")
    api.allocation("PUB-1", amount=9_000_00)
    for year, code in ((NEXT, "PUB-2"), (NEXT + 1, "PUB-3")):
        api.fund(code, fiscal_year=year, effective_date=f"{year}-01-02")
    api.applied(api.post("approver", "/v1/funds/PUB-1/close", {"carry_to": "PUB-2"}))
    api.applied(api.post("approver", "/v1/funds/PUB-2/close", {"carry_to": "PUB-3"}))  # 1 year
    api.ledger.today = lambda: date(NEXT + 2, 1, 5)
    # The second year-end since it was first carried: recovered, though operating money is
    # otherwise always carried over, and no next-year fund is needed.
    api.applied(api.post("approver", "/v1/funds/PUB-3/close", {}))
    closed = api.ok(api.get("reader", "/v1/funds/PUB-3", min_position=api.ledger.last_position()))
    assert (closed["carried_in"], closed["carried_forward"], closed["surplus_recovered"]) == (
        9_000_00, 0, 9_000_00)


def test_the_year_closes_all_or_nothing_and_the_statement_adds_up(stored_api: Api) -> None:
    api = stored_api
    made = _bureau(api)
    api.fund("PUB-2", fiscal_year=NEXT, amount=1_00, effective_date=f"{FISCAL_YEAR}-12-20")
    api.applied(api.post("approver", f"/v1/fiscal-years/{FISCAL_YEAR}/close", {}))
    funds = api.ok(api.get("reader", "/v1/funds", fiscal_year=FISCAL_YEAR,
                           min_position=api.ledger.last_position()))["items"]
    assert sorted(f["code"] for f in funds if f["closed"]) == ["FAC-1", "PUB-1"]
    # Operating 30,000 − 10,000 carried; the project's 50,000 + 15,000 recovered.
    assert (sum(f["carried_forward"] for f in funds),
            sum(f["surplus_recovered"] for f in funds)) == (20_000_00, 65_000_00)
    _problem(api.post("approver", f"/v1/fiscal-years/{FISCAL_YEAR}/close", {}), 409, "fund_closed")

    report = api.ok(api.get("reader", "/v1/reports/carry-over", fiscal_year=FISCAL_YEAR,
                            min_position=api.ledger.last_position()))
    rows = report["rows"]
    for fund in ("PUB-1", "FAC-1"):
        mine = [r for r in rows if r["fund"] == fund]
        assert (sum(r["appropriation"] + r["carry_in"] + r["adjustments"] for r in mine)
                == sum(r["spent"] + r["carried_forward"] + r["surplus_recovered"] + r["closing"]
                       for r in mine))
    school_row = next(r for r in rows if r["fund"] == "PUB-1" and r["school"] == "XZ-PX-0001")
    assert (school_row["allocated"], school_row["spent"], school_row["carried_forward"],
            school_row["closing"]) == (30_000_00, 10_000_00, 20_000_00, 0)
    own = next(r for r in rows if r["fund"] == "FAC-1" and r["school"] is None)
    assert own["closing"] == 80_000_00 - 70_000_00  # never allocated
    assert {s["source"]: s["balance"] for s in report["surplus"]} == {"provincial": 65_000_00}
    next_year = api.ok(api.get("reader", "/v1/reports/carry-over", fiscal_year=NEXT))
    carried = [r for r in next_year["rows"] if r["carry_in"]]
    assert [(r["fund"], r["school"], r["carry_in"]) for r in carried] == [
        ("PUB-2", "XZ-PX-0001", 20_000_00)]
    before_close = api.ok(api.get("reader", "/v1/reports/carry-over", fiscal_year=FISCAL_YEAR,
                                  as_of=f"{FISCAL_YEAR}-06-30"))
    assert all(r["carried_forward"] == 0 == r["surplus_recovered"] for r in before_close["rows"])
    assert made["operating"]["id"]

    csv = api.get("reader", "/v1/reports/carry-over", fiscal_year=FISCAL_YEAR, format="csv")
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith(
        "资金 fund,来源级次 source level,学校 school,单位 unit,carry_in_minor")
    assert ",provincial," in text  # English unless asked: the source level named in it
    zh = api.get("reader", "/v1/reports/carry-over", fiscal_year=FISCAL_YEAR, format="csv", lang="zh")
    assert ",省级," in zh.content.decode("utf-8-sig") and ",provincial," not in zh.content.decode("utf-8-sig")
    assert "65000.00" not in text or "surplus" in text
    xlsx = api.get("reader", "/v1/reports/carry-over", fiscal_year=FISCAL_YEAR, format="xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    _problem(api.get("reader", "/v1/reports/carry-over", fiscal_year=1900), 422,
             "validation_error")


def test_the_dashboard_shows_the_statement_in_chinese_first(api: Api) -> None:
    _bureau(api)
    api.fund("PUB-2", fiscal_year=NEXT, amount=1_00, effective_date=f"{FISCAL_YEAR}-12-20")
    api.applied(api.post("approver", f"/v1/fiscal-years/{FISCAL_YEAR}/close", {}))
    login = api.client.post("/dashboard/login", data={"token": api.tokens["reader"],
                                                      "next": "/dashboard/carry-over"})
    assert login.status_code == 200, login.text
    api.client.app.state.queries.wait_for(api.ledger.last_position(), 5)  # type: ignore[attr-defined]
    page = api.client.get("/dashboard/carry-over", params={"year": str(FISCAL_YEAR)})
    assert page.status_code == 200
    assert "结转结余变动表" in page.text and "以前年度盈余调整" in page.text
    assert 'data-fund="FAC-1" data-school="XZ-PX-0002"' in page.text
    assert 'data-source="provincial"' in page.text and "省级" in page.text
    assert "65,000.00" in page.text  # the provincial surplus: 50,000 + 15,000 yuan


def test_a_prior_year_adjustment_is_an_officers_two_person_change(stored_api: Api) -> None:
    """Reversing spending of a closed year: the officer asks (202, nothing moves), a second
    person approves; the amount joins the year's recovered surplus, the allocation stays
    closed. The old path answers 202 pending."""
    api = stored_api
    last = FISCAL_YEAR - 1
    api.school(effective_date=f"{last}-01-01")
    api.fund("PUB-0", fiscal_year=last, effective_date=f"{last}-01-02")
    api.fund("PUB-1", fiscal_year=FISCAL_YEAR)
    made = api.ok(api.post("officer", "/v1/allocations", {
        "fund": "PUB-0", "school": "XZ-PX-0001", "amount": 9_000_00, "purpose": "公用经费",
        "effective_date": f"{last}-02-01"}), 201)
    api.ok(api.post("approver", f"/v1/allocations/{made['id']}/approve",
                    {"effective_date": f"{last}-02-03"}))
    spent = api.expenditure(made["id"], amount=4_000_00, spent_on=f"{last}-03-02")
    path = f"/v1/expenditures/{spent['id']}/prior-year-adjustment"
    # Its year still open: reversed the ordinary way, not as a prior-year adjustment.
    _problem(api.post("officer", path, {"reason": "发票作废"}), 409, "allocation_closed")
    api.applied(api.post("approver", f"/v1/fiscal-years/{last}/close", {}))
    _problem(api.post("officer", f"/v1/expenditures/{spent['id']}/reverse",
                      {"reason": "发票作废"}), 409, "allocation_closed")
    _problem(api.post("approver", path, {"reason": "发票作废"}), 403, "role_not_allowed")
    _problem(api.post("officer", path, {"reason": "x", "effective_date": f"{last}-12-30"}),
             422, "invalid_input")
    before = api.ledger.last_position()
    change = api.ok(api.post("officer", path, {"reason": "发票作废，以前年度盈余调整"}), 202)
    assert (change["kind"], change["status"]) == ("prior_year_adjustment", "pending")
    assert api.ledger.last_position() == before + 1  # the pending change, nothing else
    assert not api.ledger.get_expenditure(UUID(spent["id"])).reversed
    _problem(api.post("officer", f"/v1/changes/{change['change']}/approve", {}), 403,
             "role_not_allowed")
    api.ok(api.post("checker", f"/v1/changes/{change['change']}/approve", {}))
    assert api.ledger.get_expenditure(UUID(spent["id"])).reversed
    assert api.ledger.get_allocation(UUID(made["id"])).status == "closed"
    report = api.ok(api.get("reader", "/v1/reports/carry-over", fiscal_year=last,
                            min_position=api.ledger.last_position()))
    row = next(r for r in report["rows"] if r["school"] == "XZ-PX-0001")
    assert (row["spent"], row["prior_year_adjustments"]) == (4_000_00, 4_000_00)
    _problem(api.post("officer", path, {"reason": "again"}), 409, "already_reversed")
