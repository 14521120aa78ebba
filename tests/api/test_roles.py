"""Role × endpoint matrix: every endpoint of the API, every role, and no token at all.

A role that may act gets past authorisation (whatever the books then say); a role that may
not gets 403 before anything is read or written; no token or a revoked one gets 401.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.api.conftest import FISCAL_YEAR, ROLES, Api

READERS = {"reader", "auditor", "officer", "approver"}
A = "{allocation}"
E = "{expenditure}"

# (method, path template, body, roles allowed). {allocation}/{expenditure} are filled in.
MATRIX: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/v1/schools", {"code": "NEW-1", "name": "n", "district": "Pei", "level": "primary",
                             "locale": "rural", "students": 1}, {"officer"}),
    ("GET", "/v1/schools", None, READERS),
    ("GET", "/v1/schools/XZ-PX-0001", None, READERS),
    ("POST", "/v1/schools/XZ-PX-0001/reclassify", {"locale": "town", "reason": "r"}, {"officer"}),
    ("POST", "/v1/schools/XZ-PX-0001/enrolment", {"students": 5}, {"officer"}),
    ("POST", "/v1/schools/XZ-PX-0001/close", {"reason": "r"}, {"officer"}),
    ("GET", f"/v1/schools/XZ-PX-0001/balances?fiscal_year={FISCAL_YEAR}", None, READERS),
    ("POST", "/v1/funds", {"code": "NEW-F", "name": "n", "fiscal_year": FISCAL_YEAR, "unit": "CNY",
                           "amount": 1, "source": "county", "category": "other"}, {"officer"}),
    ("GET", "/v1/funds", None, READERS),
    ("GET", "/v1/funds/PUB-1", None, READERS),
    ("POST", "/v1/funds/PUB-1/adjust", {"delta": 1, "reason": "r"}, {"approver"}),
    ("POST", "/v1/funds/PUB-1/close", {}, {"approver"}),
    ("POST", "/v1/allocations", {"fund": "PUB-1", "school": "XZ-PX-0001", "amount": 1,
                                 "purpose": "p"}, {"officer"}),
    ("GET", "/v1/allocations", None, READERS),
    ("GET", f"/v1/allocations/{A}", None, READERS),
    ("POST", f"/v1/allocations/{A}/approve", {}, {"approver"}),
    ("POST", f"/v1/allocations/{A}/reject", {"reason": "r"}, {"approver"}),
    ("POST", f"/v1/allocations/{A}/adjust", {"delta": 1, "reason": "r"}, {"approver"}),
    ("POST", f"/v1/allocations/{A}/cancel", {"reason": "r"}, {"officer"}),
    ("POST", f"/v1/allocations/{A}/transfer", {"to_school": "XZ-PX-0001", "amount": 1,
                                               "reason": "r"}, {"officer"}),
    ("POST", "/v1/expenditures", {"allocation": A, "amount": 1, "payee": "p", "voucher": "V-2",
                                  "spent_on": f"{FISCAL_YEAR}-05-01"}, {"officer"}),
    ("GET", "/v1/expenditures", None, READERS),
    ("GET", f"/v1/expenditures/{E}", None, READERS),
    ("POST", f"/v1/expenditures/{E}/reverse", {"reason": "r"}, {"officer"}),
    ("GET", f"/v1/reports/rural-support?fiscal_year={FISCAL_YEAR}", None, READERS),
    ("GET", "/v1/audit/journal", None, {"auditor"}),
    ("GET", f"/v1/audit/history/{A}", None, {"auditor"}),
    ("GET", "/v1/audit/verify", None, {"auditor"}),
    ("POST", "/v1/audit/digests", {}, {"auditor"}),
    ("GET", f"/v1/audit/findings?fiscal_year={FISCAL_YEAR}", None, {"auditor"}),
    ("GET", "/healthz", None, {*ROLES, "nobody", "revoked"}),
    ("GET", "/metrics", None, {*ROLES, "nobody", "revoked"}),
]
# Routes not in the matrix on purpose: the auditor's downloads share the journal's guard.
NOT_IN_MATRIX = {"/v1/audit/public-key", "/v1/audit/exports/{kind}"}


def _fill(text: str, ids: dict[str, str]) -> str:
    return text.replace(A, ids["allocation"]).replace(E, ids["expenditure"])


def _call(api: Api, role: str, method: str, path: str, body: Any) -> Any:
    headers = {} if role == "nobody" else api.headers(role)
    if role == "revoked":
        headers = {"Authorization": f"Bearer {api.tokens['revoked']}"}
    return api.client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "template", "body", "allowed"), MATRIX,
                         ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_each_role_is_let_through_or_refused(funded: dict[str, Any], api: Api, method: str,
                                             template: str, body: Any, allowed: set[str]) -> None:
    api.tokens["revoked"] = api.ledger.add_user("gone.reader", ["reader"])
    api.ledger.revoke_user("gone.reader")
    ids = {"allocation": funded["allocation"]["id"], "expenditure": funded["expenditure"]["id"]}
    path = _fill(template, ids)
    body = {k: _fill(v, ids) if isinstance(v, str) else v for k, v in (body or {}).items()} \
        if method == "POST" else None
    for role in (*ROLES, "nobody", "revoked"):
        before = api.ledger.last_position()
        response = _call(api, role, method, path, body)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
            assert response.status_code < 500, (role, response.text)
        elif role in ("nobody", "revoked"):
            assert response.status_code == 401, (role, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["code"] == "role_not_allowed"
        if response.status_code >= 400 and method == "POST":
            assert api.ledger.last_position() == before, (role, response.text)


def test_the_matrix_covers_every_route_of_the_app(api: Api) -> None:
    routes = {(method, route.path) for route in api.client.app.routes  # type: ignore[attr-defined]
              if isinstance(route, APIRoute) for method in route.methods}
    covered = {(m, p.split("?")[0].replace(A, "{id}").replace(E, "{id}")) for m, p, _, _ in MATRIX}
    covered = {(m, p.replace("/v1/audit/history/{id}", "/v1/audit/history/{entity_id}"))
               for m, p in covered}
    missing = {(m, p) for m, p in routes if p not in NOT_IN_MATRIX} - covered
    assert not missing, missing
