"""The resource stocks over HTTP, on SQLite and PostgreSQL: posts (contract), assets, indicator
reports and the balanced-development report (contract)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

DAY = "2025-03-01"
LATER = "2025-06-01"
DOC = "沛编办〔2025〕3号"


def _county(api: Api) -> None:
    api.school("PX-1", locale="urban", students=1200)
    api.school("PX-2", students=300)
    api.school("PX-3", students=400)


def _read(api: Api, path: str, position: int, **params: Any) -> dict[str, Any]:
    return api.ok(api.get("reader", path, min_position=position, **params))


def test_posts_are_a_standing_quota_distributed_filled_and_moved(stored_api: Api) -> None:
    api = stored_api
    _county(api)
    county = api.ok(api.post("officer", "/v1/staffing/Pei/total",
                             {"total": 100, "document": DOC, "effective_date": DAY}))
    assert (county["total"], county["distributed"]) == (100, 0)
    api.ok(api.post("officer", "/v1/schools/PX-1/posts", {"posts": 70, "effective_date": DAY}))
    over = api.post("officer", "/v1/schools/PX-2/posts", {"posts": 31, "effective_date": DAY})
    assert over.status_code == 409
    assert over.json()["type"].endswith("/over_quota")
    api.ok(api.post("officer", "/v1/schools/PX-2/posts", {"posts": 30, "effective_date": DAY}))
    api.ok(api.post("officer", "/v1/schools/PX-1/hires", {"count": 66, "effective_date": DAY}))
    body = api.ok(api.post("officer", "/v1/schools/PX-2/hires", {"count": 20, "effective_date": DAY}))
    assert (body["filled"], body["vacant"]) == (86, 14)

    move = api.post("officer", "/v1/post-moves", {"from_school": "PX-1", "to_school": "PX-2",
                                                  "count": 6, "reason": "交流轮岗",
                                                  "effective_date": LATER})
    assert move.status_code == 202, move.text
    change = move.json()
    assert (change["status"], change["kind"], change["maker"]) == ("pending", "post_move", "user.officer")
    before = _read(api, "/v1/staffing/Pei", change["position"], as_of=LATER)
    assert {s["school"]: s["filled"] for s in before["schools"]} == {"PX-1": 66, "PX-2": 20}
    approved = api.ok(api.post("approver", f"/v1/post-moves/{change['change']}/approve",
                               {"effective_date": LATER}))
    assert approved["status"] == "approved"
    after = _read(api, "/v1/staffing/Pei", approved["position"], as_of=LATER)
    assert {s["school"]: (s["approved"], s["filled"]) for s in after["schools"]} == {
        "PX-1": (64, 60), "PX-2": (36, 26)}
    assert (after["total"], after["distributed"], after["filled"]) == (100, 100, 86)
    # As of a day before the move, the books show what held then.
    then = _read(api, "/v1/staffing/Pei", approved["position"], as_of=DAY)
    assert {s["school"]: s["filled"] for s in then["schools"]} == {"PX-1": 66, "PX-2": 20}
    school = _read(api, "/v1/schools/PX-2/posts", approved["position"], as_of=LATER)
    assert (school["approved"], school["filled"], school["vacant"]) == (36, 26, 10)
    again = api.post("approver", f"/v1/post-moves/{change['change']}/approve", {})
    assert again.status_code == 409


def test_posts_bad_input_is_refused_with_its_code_and_writes_nothing(api: Api) -> None:
    _county(api)
    api.ok(api.post("officer", "/v1/staffing/Pei/total", {"total": 10, "document": DOC,
                                                          "effective_date": DAY}))
    api.ok(api.post("officer", "/v1/schools/PX-2/posts", {"posts": 10, "effective_date": DAY}))
    api.ok(api.post("officer", "/v1/schools/PX-2/hires", {"count": 3, "effective_date": DAY}))
    position = api.ledger.last_position()
    cases = [
        ("officer", "/v1/schools/PX-2/hires", {"count": 8, "effective_date": DAY}, 409, "no_vacancy"),
        ("officer", "/v1/schools/PX-2/departures", {"count": 4, "effective_date": DAY}, 409,
         "not_enough_filled"),
        ("officer", "/v1/schools/PX-2/posts", {"posts": -1}, 422, "validation_error"),
        ("officer", "/v1/post-moves", {"from_school": "PX-2", "to_school": "PX-1", "count": 4,
                                       "reason": "r", "effective_date": DAY}, 409, "not_enough_filled"),
        ("officer", "/v1/schools/NOPE/hires", {"count": 1}, 404, "school_not_found"),
        ("approver", "/v1/staffing/Pei/total", {"total": 5, "document": DOC}, 403, "role_not_allowed"),
        ("officer", "/v1/schools/PX-2/hires", {"count": 1, "effective_date": "2025-01-01"}, 409,
         "stock_date_order"),
    ]
    for role, path, body, status, code in cases:
        response = api.post(role, path, body)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/" + code), response.text
    assert api.ledger.last_position() == position
    unknown = api.post("approver", "/v1/post-moves/00000000-0000-0000-0000-000000000000/approve", {})
    assert unknown.status_code == 404


def test_assets_are_stocks_as_of_any_day(stored_api: Api) -> None:
    api = stored_api
    _county(api)
    api.ok(api.post("officer", "/v1/schools/PX-2/assets/receipts",
                    {"asset": "computer", "quantity": 10, "value": 45_000_00,
                     "document": "入库单 17", "effective_date": DAY}), 201)
    too_many = api.post("officer", "/v1/schools/PX-2/assets/disposals",
                        {"asset": "computer", "quantity": 11, "reason": "报废", "effective_date": LATER})
    assert too_many.status_code == 409
    assert too_many.json()["type"].endswith("/not_enough_held")
    api.ok(api.post("officer", "/v1/schools/PX-2/assets/disposals",
                    {"asset": "computer", "quantity": 2, "reason": "报废", "effective_date": LATER}))
    moved = api.ok(api.post("officer", "/v1/asset-transfers",
                            {"from_school": "PX-2", "to_school": "PX-3", "asset": "computer",
                             "quantity": 3, "reason": "调剂", "effective_date": LATER}))
    position = moved[0]["position"]
    held = {h["asset"]: h for h in _read(api, "/v1/schools/PX-2/assets", position)["holdings"]}
    assert (held["computer"]["quantity"], held["computer"]["value"]) == (5, 22_500_00)
    before = {h["asset"]: h for h in _read(api, "/v1/schools/PX-2/assets", position, as_of=DAY)["holdings"]}
    assert (before["computer"]["quantity"], before["computer"]["value"]) == (10, 45_000_00)
    other = {h["asset"]: h for h in _read(api, "/v1/schools/PX-3/assets", position)["holdings"]}
    assert (other["computer"]["quantity"], other["computer"]["value"]) == (3, 13_500_00)
    negative = api.post("officer", "/v1/schools/PX-2/assets/receipts",
                        {"asset": "computer", "quantity": -1, "value": 1})
    assert negative.status_code == 422


def _report(api: Api, school: str, **figures: int) -> Any:
    body = {"qualified_teachers": 30, "key_teachers": 6, "pe_arts_teachers": 5,
            "teaching_area_m2": 2_400, "sports_area_m2": 4_000, "effective_date": DAY, **figures}
    return api.post("officer", f"/v1/schools/{school}/indicator-reports", body)


def _equip(api: Api, school: str, pupils: int, *, rooms_per_100: float, yuan_per_pupil: int) -> None:
    api.ok(api.post("officer", f"/v1/schools/{school}/assets/receipts",
                    {"asset": "multimedia_classroom", "quantity": max(1, round(pupils * rooms_per_100 / 100)),
                     "value": pupils * yuan_per_pupil * 100, "effective_date": DAY}), 201)


def test_the_balanced_development_report_shows_each_cv_and_why_schools_fail(stored_api: Api) -> None:
    api = stored_api
    _county(api)
    # PX-1 (1,200 pupils) and PX-3 (400) are well equipped; PX-2 (300, rural) is short of PE/arts
    # teachers and multimedia classrooms.
    api.ok(_report(api, "PX-1", qualified_teachers=70, key_teachers=14, pe_arts_teachers=13,
                   teaching_area_m2=6_000, sports_area_m2=10_000), 201)
    api.ok(_report(api, "PX-3", qualified_teachers=20, key_teachers=5, pe_arts_teachers=4,
                   teaching_area_m2=2_000, sports_area_m2=3_200), 201)
    api.ok(_report(api, "PX-2", qualified_teachers=14, key_teachers=3, pe_arts_teachers=1,
                   teaching_area_m2=1_500, sports_area_m2=2_400), 201)
    _equip(api, "PX-1", 1200, rooms_per_100=2.5, yuan_per_pupil=2_600)
    _equip(api, "PX-3", 400, rooms_per_100=2.5, yuan_per_pupil=2_400)
    _equip(api, "PX-2", 300, rooms_per_100=1.0, yuan_per_pupil=2_100)
    position = api.ledger.last_position()
    report = _read(api, "/v1/reports/balanced-development", position, county="Pei", as_of=LATER)
    (county,) = report["counties"]
    assert county["district"] == "Pei"
    (primary,) = county["stages"]
    assert primary["stage"] == "primary"
    assert [i["indicator"] for i in primary["indicators"]] == [
        "qualified_teachers", "key_teachers", "pe_arts_teachers", "teaching_area",
        "sports_area", "equipment_value", "multimedia_classrooms"]
    assert all(i["threshold"] == 0.5 for i in primary["indicators"])
    assert primary["failing_schools"] == ["PX-2"]
    px2 = next(s for s in primary["schools"] if s["school"] == "PX-2")
    assert px2["passes"] is False
    short = {i["indicator"] for i in px2["indicators"] if i["met"] is False}
    assert short == {"pe_arts_teachers", "multimedia_classrooms"}
    assert any("pe_arts_teachers below 85%" in r for r in px2["reasons"])
    assert county["passes"] is False
    # Before anything was reported the schools are unknown, not passed.
    empty = _read(api, "/v1/reports/balanced-development", position, county="Pei", as_of="2025-02-01")
    assert all(s["passes"] is None for s in empty["counties"][0]["stages"][0]["schools"])
    one = _read(api, "/v1/schools/PX-2/indicators", position, as_of=LATER)
    assert one["reported_by"] == "user.officer"
    assert one["evaluations"][0]["indicators"][5]["source"] == "ledger"


def test_indicator_reports_refuse_what_cannot_be_true(api: Api) -> None:
    _county(api)
    api.ok(api.post("officer", "/v1/schools/PX-3/close", {"reason": "撤并", "effective_date": DAY}))
    position = api.ledger.last_position()
    cases = [
        ("PX-2", {"teaching_area_m2": 300_000}, 422, "implausible_figure"),
        ("PX-2", {"effective_date": "2026-03-01"}, 422, "date_in_future"),
        ("PX-3", {"effective_date": LATER}, 409, "school_closed"),
        ("PX-2", {"key_teachers": -3}, 422, "validation_error"),
    ]
    for school, change, status, code in cases:
        response = _report(api, school, **change)
        assert response.status_code == status, response.text
        assert response.json()["type"].endswith("/" + code)
    assert "60 m² per pupil" in _report(api, "PX-2", teaching_area_m2=300_000).json()["detail"]
    assert api.ledger.last_position() == position


def test_a_csv_of_indicator_reports_is_applied_whole_or_not_at_all(api: Api) -> None:
    _county(api)
    header = ("学校代码,填报日期,高于规定学历教师数,县级以上骨干教师数,体育艺术专任教师数,"
              "教学及辅助用房面积,体育运动场馆面积\n")
    good = header + "PX-1,2025-03-01,70,14,13,6000,10000\nPX-2,2025-03-01,14,3,1,1500,2400\n"
    bad = header + "PX-1,2025-03-01,70,14,13,6000,10000\nPX-2,2025-03-01,14,3,1,99000,2400\n"
    position = api.ledger.last_position()
    refused = api.client.post("/v1/indicator-reports/import", content=bad.encode(),
                              headers=api.headers("officer", **{"Content-Type": "text/csv"}))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["line"] == 3
    assert refused.json()["errors"][0]["code"] == "implausible_figure"
    assert api.ledger.last_position() == position
    applied = api.client.post("/v1/indicator-reports/import", content=good.encode(),
                              headers=api.headers("officer", **{"Content-Type": "text/csv"}))
    assert applied.status_code == 201, applied.text
    assert applied.json()["rows"] == 2
