"""Isolation (issue 15, security): a token of one bureau never reads or writes another's
books. Every operation of the API, asked under another bureau's path with that bureau's ids
(as of a day, exports and findings included), is 404 `bureau_not_found` — the same answer as
for a bureau that does not exist — and nothing is written there. Through its own paths, the
other bureau's ids are unknown."""

from __future__ import annotations

import re
from typing import Any

from tests.bureaus.conftest import PEI, TONGSHAN, YEAR, City

QUERY = {"fiscal_year": YEAR, "as_of": f"{YEAR}-06-30", "format": "csv"}


def _filled(path: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "code":
            return ids["fund"] if path.startswith("/v1/funds") else ids["school"]
        if name in ("id", "entity_id"):
            return ids["expenditure"] if path.startswith("/v1/expenditures") else ids["allocation"]
        return {"kind": "journal", "district": "Pei", "name": "px.officer", "year": str(YEAR)}.get(
            name, ids["allocation"])
    return re.sub(r"\{(\w+)\}", value, path)


def _operations(city: City) -> list[tuple[str, str]]:
    document = city.client.get("/openapi.json").json()
    return [(method.upper(), path) for path, operations in document["paths"].items()
            for method in operations
            if path.startswith("/v1/") and not path.startswith("/v1/bureaus")]


def test_every_operation_under_another_bureau_is_404(city: City) -> None:
    theirs = city.books(PEI, "XZ-PX-0001", "Pei", "urban", 1_000, 100_000_00, 2_000_00)
    city.books(TONGSHAN, "XZ-TS-0001", "Tongshan", "rural", 400, 80_000_00, 1_500_00)
    before = city.ok(city.get("px.auditor", f"/v1/bureaus/{PEI}/audit/verify"))
    operations = _operations(city)
    assert len(operations) > 60  # the whole API, not a sample
    swept: list[tuple[str, str, int]] = []
    for user in ("ts.officer", "ts.approver", "ts.auditor"):
        for method, path in operations:
            asked = f"/v1/bureaus/{PEI}" + _filled(path, theirs).removeprefix("/v1")
            body: Any = {} if method == "POST" else None
            response = city.client.request(method, asked, params=QUERY, json=body,
                                           headers=city.headers(user))
            swept.append((method, asked, response.status_code))
            assert response.status_code == 404, (user, method, asked, response.text)
            assert response.json()["code"] == "bureau_not_found", (method, asked)
    after = city.ok(city.get("px.auditor", f"/v1/bureaus/{PEI}/audit/verify"))
    assert after["checked"] == before["checked"]  # nothing was written to Pei's books
    assert len(swept) == 3 * len(operations)


def test_another_bureaus_ids_are_unknown_through_ones_own_paths(city: City) -> None:
    theirs = city.books(PEI, "XZ-PX-0001", "Pei", "urban", 1_000, 100_000_00, 2_000_00)
    unknown = 0
    answers: list[tuple[str, int, str]] = []
    for method, path in _operations(city):
        if method != "GET" or "{" not in path:
            continue
        asked = _filled(path, theirs)
        for params in (QUERY, {}):
            response = city.client.get(asked, params=params, headers=city.headers("ts.auditor"))
            unknown += response.status_code == 404
            answers.append((asked, response.status_code, response.text[:120]))
            if response.status_code < 300:  # a refusal may name what was asked for
                for value in theirs.values():
                    assert str(value) not in response.text, (asked, response.text)
    # the school, the fund, the allocation and the expenditure: not found
    assert unknown > 10, [a for a in answers if a[1] != 404]
