"""Reads from the views: read-your-writes with min_position, pagination, balances, health, metrics."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import FISCAL_YEAR, ROLES, Api
from tests.conftest import TODAY


def test_balances_follow_each_write_with_min_position(api: Api) -> None:
    api.school()
    api.fund()
    allocation = api.allocation()
    url = "/v1/schools/XZ-PX-0001/balances"

    def balances(position: int) -> dict[str, Any]:
        return api.ok(api.get("reader", url, fiscal_year=FISCAL_YEAR, min_position=position))

    body = balances(allocation["position"])
    assert body["position"] >= allocation["position"]
    assert body["balances"] == [{"fund": "PUB-1", "unit": "CNY", "allocated": 50_000_00,
                                 "spent": 0, "remaining": 50_000_00, "fund_name": "生均公用经费"}]
    spent = api.expenditure(allocation["id"], amount=300_00)
    assert balances(spent["position"])["balances"][0]["spent"] == 300_00
    before = api.ok(api.get("reader", url, fiscal_year=FISCAL_YEAR, as_of=f"{FISCAL_YEAR}-03-01",
                            min_position=spent["position"]))
    assert before["balances"][0]["spent"] == 0  # spent on 03-02: not yet as of 03-01
    fund = api.ok(api.get("reader", "/v1/funds/PUB-1", min_position=spent["position"]))
    assert (fund["allocated"], fund["spent"], fund["available"]) == (50_000_00, 300_00, 950_000_00)


def test_views_that_do_not_get_there_in_time_answer_503(api: Api) -> None:
    api.school()
    api.client.app.state.settings.read_wait_seconds_max = 0  # type: ignore[attr-defined]
    queries = api.client.app.state.queries  # type: ignore[attr-defined]
    position = api.ledger.last_position()
    original = queries.position
    queries.position = lambda: 0
    try:
        response = api.get("reader", "/v1/schools", min_position=position)
    finally:
        queries.position = original
    assert response.status_code == 503
    assert response.json()["code"] == "views_behind"
    assert "Retry-After" in response.headers


@pytest.mark.parametrize(("path", "key", "count"), [
    ("/v1/schools", "code", 5), ("/v1/allocations", "id", 5), ("/v1/funds", "code", 3),
    ("/v1/expenditures", "id", 5),
])
def test_lists_page_through_every_row_once_by_next_links(api: Api, path: str, key: str,
                                                         count: int) -> None:
    api.fund()
    api.fund("PUB-2")
    api.fund("PUB-3")
    for i in range(5):
        api.school(f"XZ-PX-{i:04d}")
        allocation = api.allocation(school=f"XZ-PX-{i:04d}")
        api.expenditure(allocation["id"], voucher=f"V-{i}")
    position = api.ledger.last_position()
    seen: list[str] = []
    response = api.get("reader", path, limit=2, min_position=position)
    pages = 0
    while True:
        page = api.ok(response)
        assert len(page["items"]) <= 2
        seen += [item[key] for item in page["items"]]
        pages += 1
        if page["next"] is None:
            break
        response = api.client.get(page["next"], headers=api.headers("reader"))
    assert len(seen) == len(set(seen)) == count
    assert pages == (count + 1) // 2


def test_filters_narrow_the_lists(api: Api) -> None:
    api.fund()
    api.school("XZ-U-1", locale="urban")
    api.school("XZ-R-1", locale="rural")
    api.allocation(school="XZ-R-1", approve=False)
    position = api.ledger.last_position()
    schools = api.ok(api.get("reader", "/v1/schools", locale="urban", min_position=position))
    assert [s["code"] for s in schools["items"]] == ["XZ-U-1"]
    proposed = api.ok(api.get("reader", "/v1/allocations", status="proposed", school="XZ-R-1",
                              min_position=position))
    assert len(proposed["items"]) == 1
    assert api.ok(api.get("reader", "/v1/allocations", status="approved"))["items"] == []


def test_rural_support_report(funded: dict[str, Any], api: Api) -> None:
    report = api.ok(api.get("reader", "/v1/reports/rural-support", fiscal_year=FISCAL_YEAR,
                            min_position=api.ledger.last_position()))
    assert {"fiscal_year", "as_of", "position", "rows", "rural_to_urban_per_student_ratio",
            "counties"} <= report.keys()
    rural = [r for r in report["rows"] if r["locale"] == "rural" and r["unit"] == "CNY"]
    assert rural[0]["allocated"] == 50_000_00


def test_unknown_school_balances_are_404(api: Api) -> None:
    response = api.get("reader", "/v1/schools/NOPE/balances", fiscal_year=FISCAL_YEAR)
    assert (response.status_code, response.json()["code"]) == (404, "school_not_found")


def test_a_school_the_views_have_not_reached_has_empty_balances_not_404(
        sqlite_settings: Settings) -> None:
    app = create_app(sqlite_settings, clock=lambda: TODAY, run_views=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, {role: app.state.ledger.add_user(f"user.{role}", [role]) for role in ROLES})
        api.school()
        answer = api.ok(api.get("reader", "/v1/schools/XZ-PX-0001/balances", fiscal_year=FISCAL_YEAR))
        assert (answer["school"], answer["balances"]) == ("XZ-PX-0001", [])
        unknown = api.get("reader", "/v1/schools/NOPE/balances", fiscal_year=FISCAL_YEAR)
        assert (unknown.status_code, unknown.json()["code"]) == (404, "school_not_found")


def test_healthz_and_metrics(funded: dict[str, Any], api: Api) -> None:
    health = api.ok(api.client.get("/healthz"))
    assert health["position"] == api.ledger.last_position()
    api.get("reader", f"/v1/allocations/{funded['allocation']['id']}")
    text = api.client.get("/metrics").text
    assert 'fundledger_http_requests_total{method="GET",route="/v1/allocations/{id}",status="200"}' in text
    assert "fundledger_view_lag_events" in text
    assert "fundledger_http_request_duration_seconds_bucket" in text
