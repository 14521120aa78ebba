"""Bureaus over HTTP on both stores (issue 15, contract): each bureau's own books under
/v1/bureaus/{bureau}/…, a supervisor that reads and never writes, consolidated reports read
from each child's views, and the refusals: unknown bureau, foreign token, school moves."""

from __future__ import annotations

from typing import Any

import pytest

from projections.runner import ViewRunner
from projections.view_schema import ViewsOutdated
from tests.bureaus.conftest import CITY, PEI, TONGSHAN, YEAR, City


def _two_counties(city: City) -> dict[str, dict[str, Any]]:
    return {
        TONGSHAN: city.books(TONGSHAN, "XZ-TS-0001", "Tongshan", "rural", 400, 80_000_00, 1_500_00),
        PEI: city.books(PEI, "XZ-PX-0001", "Pei", "urban", 1_000, 100_000_00, 2_000_00),
    }


def test_each_bureau_keeps_its_own_books(city: City) -> None:
    books = _two_counties(city)
    tongshan = city.ok(city.get("ts.officer", f"/v1/bureaus/{TONGSHAN}/schools",
                                min_position=books[TONGSHAN]["position"]))
    assert [s["code"] for s in tongshan["items"]] == ["XZ-TS-0001"]
    # A path without a bureau is the token's own bureau's.
    assert city.ok(city.get("px.officer", "/v1/schools", min_position=books[PEI]["position"])
                   )["items"][0]["code"] == "XZ-PX-0001"
    # Each bureau has its own log: positions start again in each.
    assert books[TONGSHAN]["position"] == books[PEI]["position"]
    chains = [city.ok(city.get(f"{b}.auditor", f"/v1/bureaus/{bureau}/audit/verify"))
              for b, bureau in (("ts", TONGSHAN), ("px", PEI))]
    assert all(c["ok"] for c in chains)
    assert chains[0]["head_hash"] != chains[1]["head_hash"]


def test_links_in_answers_keep_the_bureaus_path(city: City) -> None:
    _two_counties(city)
    city.ok(city.post("ts.officer", f"/v1/bureaus/{TONGSHAN}/schools", {
        "code": "XZ-TS-0002", "name": "铜山二小", "district": "Tongshan", "level": "primary",
        "locale": "town", "poverty_area": False, "students": 300,
        "effective_date": f"{YEAR}-01-02"}), 201)
    response = city.client.post(f"/v1/bureaus/{TONGSHAN}/schools", headers=city.headers("ts.officer"), json={
        "code": "XZ-TS-0003", "name": "铜山三小", "district": "Tongshan", "level": "primary",
        "locale": "town", "poverty_area": False, "students": 300, "effective_date": f"{YEAR}-01-02"})
    assert response.headers["location"] == f"/v1/bureaus/{TONGSHAN}/schools/XZ-TS-0003"
    page = city.ok(city.get("xz.auditor", f"/v1/bureaus/{TONGSHAN}/schools", limit=1,
                            min_position=city.ok(response, 201)["position"]))
    assert f"/v1/bureaus/{TONGSHAN}/schools?" in page["next"]
    assert city.ok(city.client.get(page["next"], headers=city.headers("xz.auditor")))["items"]


def test_an_unknown_bureau_is_404(city: City) -> None:
    for path in ("/v1/bureaus/XZ-NOPE/schools", "/v1/bureaus/XZ-NOPE",
                 "/v1/bureaus/XZ-NOPE/reports/consolidated"):
        response = city.get("xz.auditor", path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "bureau_not_found"


def test_a_token_never_reads_or_writes_another_bureau(city: City) -> None:
    books = _two_counties(city)
    pei = books[PEI]
    for path in (f"/v1/bureaus/{PEI}/schools", f"/v1/bureaus/{PEI}/schools/{pei['school']}",
                 f"/v1/bureaus/{PEI}/allocations/{pei['allocation']}",
                 f"/v1/bureaus/{PEI}/audit/journal", f"/v1/bureaus/{PEI}",
                 f"/v1/bureaus/{CITY}/reports/consolidated"):
        response = city.get("ts.auditor", path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "bureau_not_found"
    written = city.post("ts.officer", f"/v1/bureaus/{PEI}/expenditures/{pei['expenditure']}/reverse",
                        {"reason": "不是我们的账"})
    assert written.status_code == 404
    # Through its own path, another bureau's ids are simply unknown.
    assert city.get("ts.officer", f"/v1/allocations/{pei['allocation']}").status_code == 404
    expenditure = city.ok(city.get("px.officer", f"/v1/expenditures/{pei['expenditure']}"))
    assert expenditure["status"] == "recorded"


def test_a_supervisor_reads_every_child_and_writes_none(city: City) -> None:
    books = _two_counties(city)
    for bureau, short in ((TONGSHAN, "ts"), (PEI, "px")):
        school = city.ok(city.get("xz.reader", f"/v1/bureaus/{bureau}/schools/{books[bureau]['school']}"))
        assert school["code"] == books[bureau]["school"]
        balances = city.ok(city.get("xz.auditor", f"/v1/bureaus/{bureau}/schools/"
                                    f"{books[bureau]['school']}/balances", fiscal_year=YEAR,
                                    min_position=books[bureau]["position"]))
        assert balances["balances"][0]["spent"] > 0
        journal = city.ok(city.get("xz.auditor", f"/v1/bureaus/{bureau}/audit/journal",
                                   min_position=books[bureau]["position"]))
        assert journal["items"]
        for path, body in ((f"/v1/bureaus/{bureau}/schools/{books[bureau]['school']}/close",
                            {"reason": "撤并"}),
                           (f"/v1/bureaus/{bureau}/expenditures/{books[bureau]['expenditure']}/reverse",
                            {"reason": "冲销"}),
                           (f"/v1/bureaus/{bureau}/audit/digests", {})):
            for user in ("xz.auditor", "xz.reader"):
                refused = city.post(user, path, body)
                assert refused.status_code == 403, (path, refused.text)
                assert refused.json()["code"] == "supervisor_read_only"
        assert city.ok(city.get(f"{short}.officer", f"/v1/bureaus/{bureau}/expenditures/"
                                f"{books[bureau]['expenditure']}"))["status"] == "recorded"
    # A county-level token does not read its parent's reports.
    assert city.get("ts.auditor", f"/v1/bureaus/{CITY}").status_code == 404


def test_the_consolidated_report_reads_each_child_as_of_a_day(city: City) -> None:
    books = _two_counties(city)
    for bureau in (TONGSHAN, PEI):
        city.ok(city.get(f"{'ts' if bureau == TONGSHAN else 'px'}.auditor",
                         f"/v1/bureaus/{bureau}/schools", min_position=books[bureau]["position"]))
    report = city.ok(city.get("xz.reader", f"/v1/bureaus/{CITY}/reports/consolidated",
                              fiscal_year=YEAR))
    children = {c["bureau"]: c for c in report["children"]}
    assert set(children) == {TONGSHAN, PEI}
    assert children[TONGSHAN]["allocated"] == 80_000_00
    assert children[TONGSHAN]["spent"] == 1_500_00
    assert children[TONGSHAN]["per_student_allocated"] == 80_000_00 // 400
    assert children[PEI]["per_student_allocated"] == 100_000_00 // 1_000
    for bureau in (TONGSHAN, PEI):
        assert children[bureau]["position"] == books[bureau]["position"]
        own = city.ok(city.get("xz.reader", f"/v1/bureaus/{bureau}/reports/rural-support",
                               fiscal_year=YEAR))
        assert [r for r in report["by_locale"] if r["bureau"] == bureau] == [
            {"bureau": bureau, **r} for r in own["rows"]]
    totals = report["totals"]
    assert totals["allocated"] == 180_000_00
    assert totals["spent"] == 3_500_00
    assert totals["rural_to_urban_per_student_ratio"] == (80_000_00 / 400) / (100_000_00 / 1_000)
    assert {(r["bureau"], r["category"], r["source"], r["allocated"])
            for r in report["by_category_source"]} == {
        (TONGSHAN, "public_operating", "central", 80_000_00),
        (PEI, "public_operating", "central", 100_000_00)}
    assert {c["bureau"] for c in report["counties"]} <= {TONGSHAN, PEI}
    before = city.ok(city.get("xz.reader", f"/v1/bureaus/{CITY}/reports/consolidated",
                              fiscal_year=YEAR, as_of=f"{YEAR}-03-01"))
    assert before["totals"]["allocated"] == 0
    one = city.ok(city.get("xz.reader", f"/v1/bureaus/{CITY}/reports/consolidated",
                           fiscal_year=YEAR, child=PEI))
    assert [c["bureau"] for c in one["children"]] == [PEI]
    assert city.get("xz.reader", f"/v1/bureaus/{CITY}/reports/consolidated",
                    child="XZ-NOPE").status_code == 404


def test_children_findings_filterable(city: City) -> None:
    books = _two_counties(city)
    for bureau in (TONGSHAN, PEI):
        city.ok(city.get("xz.auditor", f"/v1/bureaus/{bureau}/schools",
                         min_position=books[bureau]["position"]))
    found = city.ok(city.get("xz.auditor", f"/v1/bureaus/{CITY}/reports/findings",
                             fiscal_year=YEAR))
    assert set(found["positions"]) == {TONGSHAN, PEI}
    own = city.ok(city.get("ts.auditor", f"/v1/bureaus/{TONGSHAN}/audit/findings",
                           fiscal_year=YEAR))
    assert len([f for f in found["items"] if f["bureau"] == TONGSHAN]) == own["count"]
    rule = own["items"][0]["rule"] if own["items"] else "below_benchmark"
    filtered = city.ok(city.get("xz.auditor", f"/v1/bureaus/{CITY}/reports/findings",
                                fiscal_year=YEAR, child=TONGSHAN, rule=rule))
    assert {f["bureau"] for f in filtered["items"]} <= {TONGSHAN}
    assert {f["rule"] for f in filtered["items"]} <= {rule}
    assert city.get("xz.reader", f"/v1/bureaus/{CITY}/reports/findings",
                    fiscal_year=YEAR).status_code == 403
    assert city.get("xz.auditor", f"/v1/bureaus/{CITY}/reports/findings", fiscal_year=YEAR,
                    rule="no_such_rule").status_code == 422


def test_a_school_is_not_moved_between_bureaus(city: City) -> None:
    books = _two_counties(city)
    refused = city.post("ts.officer", f"/v1/bureaus/{TONGSHAN}/schools/{books[TONGSHAN]['school']}/move",
                        {"to_bureau": PEI})
    assert refused.status_code == 409
    assert refused.json()["code"] == "school_move_refused"
    assert city.post("ts.officer", f"/v1/bureaus/{TONGSHAN}/schools/XZ-TS-9999/move",
                     {}).status_code == 404


def test_bureaus_listed_as_the_token_sees_them(city: City) -> None:
    listed = city.ok(city.get("xz.reader", "/v1/bureaus"))
    assert [b["code"] for b in listed["items"]] == [CITY, PEI, TONGSHAN]
    assert listed["items"][0]["children"] == [PEI, TONGSHAN]
    assert [b["code"] for b in city.ok(city.get("ts.officer", "/v1/bureaus"))["items"]] == [TONGSHAN]


def test_a_supervising_bureau_writes_no_books_of_its_own(city: City) -> None:
    """A city keeps no books: even a city officer issued over HTTP by its admin writes
    nothing to the city's own log (its users are still managed)."""
    ledger = city.client.app.state.ledger  # type: ignore[attr-defined]  (the city's: the default)
    admin = ledger.add_user("xz.admin", ["admin"])
    issued = city.client.post("/v1/users", json={"name": "xz.officer", "roles": ["officer"]},
                              headers={"Authorization": f"Bearer {admin}"})
    assert issued.status_code == 201, issued.text
    officer = issued.json()["token"]
    before = ledger.last_position()
    refused = city.client.post(f"/v1/bureaus/{CITY}/schools", headers={
        "Authorization": f"Bearer {officer}"}, json={
        "code": "XZ-0001", "name": "市直小学", "district": "Yunlong", "level": "primary",
        "locale": "urban", "poverty_area": False, "students": 100,
        "effective_date": f"{YEAR}-01-02"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "supervisor_read_only"
    assert ledger.last_position() == before


def test_a_bureau_whose_views_an_earlier_release_built_is_503_not_500(
        city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    check = ViewRunner._check_schema

    def outdated_for_pei(runner: ViewRunner) -> None:
        if runner.settings.bureau == PEI:
            msg = "the views' tables were built by an earlier release"
            raise ViewsOutdated(msg)
        check(runner)

    monkeypatch.setattr(ViewRunner, "_check_schema", outdated_for_pei)
    refused = city.get("px.officer", f"/v1/bureaus/{PEI}/schools")
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "views_behind"
    assert "migrating" in refused.json()["detail"]
    assert city.get("ts.officer", f"/v1/bureaus/{TONGSHAN}/schools").status_code == 200
