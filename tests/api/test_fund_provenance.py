"""Funds carry their 政府收支分类 functional code, each expenditure class its economic code,
and the money's provenance (文号, issuing level, date received, the levels' shares); balances
and the rural-support report cut by source level."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import FISCAL_YEAR, Api

SHARED = {"function_code": "2050202", "doc_no": "苏财教〔2025〕31号", "issuing_level": "provincial",
          "received_on": f"{FISCAL_YEAR}-01-02",
          "shares": [{"source": "central", "amount": 600_000_00},
                     {"source": "county", "amount": 400_000_00}]}


def _refused(api: Api, body: dict[str, Any], code: str, field: str) -> None:
    fund = body.get("code", "PUB-X")
    base = {"code": fund, "name": "生均公用经费", "fiscal_year": FISCAL_YEAR, "unit": "CNY",
            "amount": 1_000_000_00, "source": "county", "category": "public_operating",
            "effective_date": f"{FISCAL_YEAR}-01-02"}
    response = api.post("officer", "/v1/funds", base | body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["code"], problem.get("field")) == (code, field), problem
    assert api.get("reader", f"/v1/funds/{fund}").status_code == 404  # nothing written


def test_a_fund_shows_its_codes_and_provenance_everywhere(api: Api) -> None:
    opened = api.fund(**SHARED)
    assert (opened["function_code"], opened["function_name"]) == ("2050202", "小学教育")
    assert opened["function_name_en"] == "Primary education"
    assert opened["economic_codes"]["office"] == "30201"
    assert (opened["doc_no"], opened["issuing_level"], opened["received_on"]) == (
        "苏财教〔2025〕31号", "provincial", f"{FISCAL_YEAR}-01-02")
    assert opened["shares"] == SHARED["shares"]
    read = api.ok(api.get("reader", "/v1/funds/PUB-1"))
    listed = api.ok(api.get("reader", "/v1/funds", min_position=opened["position"]))["items"][0]
    for answer in (read, listed):
        assert {k: answer[k] for k in ("function_code", "doc_no", "issuing_level", "shares")} == {
            k: opened[k] for k in ("function_code", "doc_no", "issuing_level", "shares")}
        assert answer["received_on"] == opened["received_on"]


def test_defaults_for_a_fund_that_names_no_code_or_provenance(api: Api) -> None:
    opened = api.fund(levels=["junior"])
    assert (opened["function_code"], opened["function_name"]) == ("2050203", "初中教育")
    assert (opened["doc_no"], opened["issuing_level"], opened["shares"]) == ("", "county", [])


def test_unknown_codes_and_wrong_shares_are_refused_naming_the_field(api: Api) -> None:
    _refused(api, {"function_code": "2050209"}, "unknown_classification_code", "function_code")
    _refused(api, {"function_code": "205"}, "unknown_classification_code", "function_code")
    _refused(api, {"shares": [{"source": "central", "amount": 1_00}]}, "shares_mismatch", "shares")
    _refused(api, {"shares": [{"source": "central", "amount": 500_000_00},
                              {"source": "central", "amount": 500_000_00}]},
             "shares_mismatch", "shares")
    _refused(api, {"doc_no": "苏财教\n〔2025〕31号"}, "invalid_input", "doc_no")
    response = api.post("officer", "/v1/funds", {
        "code": "PUB-Y", "name": "x", "fiscal_year": FISCAL_YEAR, "unit": "CNY", "amount": 1,
        "source": "county", "category": "public_operating", "received_on": "2999-01-01"})
    assert (response.status_code, response.json()["code"]) == (422, "date_in_future")
    response = api.post("officer", "/v1/funds", {
        "code": "PUB-Z", "name": "x", "fiscal_year": FISCAL_YEAR, "unit": "CNY", "amount": 1,
        "source": "county", "category": "public_operating", "issuing_level": "township"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "issuing_level"]


def test_balances_and_the_rural_report_cut_by_source(api: Api) -> None:
    api.school()
    api.fund(**SHARED)
    api.fund("LOCAL-1", 200_000_00)
    api.allocation()  # 50,000 yuan of PUB-1 (central 60% / county 40%)
    last = api.allocation(fund="LOCAL-1", amount=10_000_00)  # all county
    whole = api.ok(api.get("reader", "/v1/schools/XZ-PX-0001/balances",
                           min_position=last["position"]))
    central = api.ok(api.get("reader", "/v1/schools/XZ-PX-0001/balances", source="central"))
    county = api.ok(api.get("reader", "/v1/schools/XZ-PX-0001/balances", source="county"))
    assert [(r["fund"], r["allocated"]) for r in central["balances"]] == [("PUB-1", 30_000_00)]
    assert sorted((r["fund"], r["allocated"]) for r in county["balances"]) == [
        ("LOCAL-1", 10_000_00), ("PUB-1", 20_000_00)]
    assert central["totals"][0]["allocated"] + county["totals"][0]["allocated"] == \
        whole["totals"][0]["allocated"]
    assert api.ok(api.get("reader", "/v1/schools/XZ-PX-0001/balances",
                          source="municipal"))["balances"] == []

    def rural_allocated(**params: Any) -> int:
        report = api.ok(api.get("reader", "/v1/reports/rural-support", **params))
        return sum(row["allocated"] for row in report["rows"])

    assert rural_allocated(source="central") == 30_000_00
    assert rural_allocated(source="county") == 30_000_00
    assert rural_allocated() == 60_000_00


def test_an_unknown_source_level_is_refused(api: Api) -> None:
    for path in ("/v1/schools/XZ-PX-0001/balances", "/v1/reports/rural-support"):
        response = api.get("reader", path, source="township")
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["query", "source"]
