"""A consolidated report asked again reads nothing of a child whose views have not moved
(issue 15, "keep each child's report for its (position, day)"): only the children's positions
are read; a child that has moved is read again, alone; another day is another question."""

from __future__ import annotations

from typing import Any

import pytest

from api import consolidated
from tests.bureaus.conftest import CITY, PEI, TONGSHAN, YEAR, City
from tests.bureaus.test_bureaus_http import _two_counties


def _without_read_times(report: dict[str, Any]) -> dict[str, Any]:
    return report | {"children": [c | {"read_seconds": 0} for c in report["children"]]}


def test_a_report_asked_again_reads_only_the_children_that_moved(
        city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    books = _two_counties(city)
    for bureau, user in ((TONGSHAN, "ts.auditor"), (PEI, "px.auditor")):
        city.ok(city.get(user, f"/v1/bureaus/{bureau}/schools", min_position=books[bureau]["position"]))
    opened: list[str] = []
    child_views = consolidated.child_views

    def counted(settings: Any, child: str) -> Any:
        opened.append(child)
        return child_views(settings, child)

    monkeypatch.setattr(consolidated, "child_views", counted)

    def report(**params: Any) -> dict[str, Any]:
        opened.clear()
        return city.ok(city.get("xz.reader", f"/v1/bureaus/{CITY}/reports/consolidated",
                                fiscal_year=YEAR, **params))

    first = report()
    assert sorted(opened) == [PEI, TONGSHAN]
    again = report()
    assert opened == []  # no child's books read
    assert _without_read_times(again) == _without_read_times(first)
    assert {c["read_seconds"] for c in again["children"]} == {0}

    spent = city.ok(city.post("px.officer", f"/v1/bureaus/{PEI}/expenditures", {
        "allocation": books[PEI]["allocation"], "amount": 300_00, "payee": "供电公司",
        "voucher": f"{PEI}-V2", "spent_on": f"{YEAR}-05-01", "description": "电费"}), 201)
    city.ok(city.get("px.auditor", f"/v1/bureaus/{PEI}/schools", min_position=spent["position"]))
    moved = report()
    assert opened == [PEI]
    children = {c["bureau"]: c for c in moved["children"]}
    assert children[PEI]["spent"] == 2_000_00 + 300_00
    assert children[PEI]["position"] == spent["position"]
    assert children[TONGSHAN] == {c["bureau"]: c for c in first["children"]}[TONGSHAN] | {
        "read_seconds": 0}
    assert moved["totals"]["spent"] == first["totals"]["spent"] + 300_00

    earlier = report(as_of=f"{YEAR}-03-01")
    assert sorted(opened) == [PEI, TONGSHAN]
    assert earlier["totals"]["allocated"] == 0
    report(as_of=f"{YEAR}-03-01")
    assert opened == []
