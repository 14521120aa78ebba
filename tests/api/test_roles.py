"""Role × endpoint matrix: every endpoint of the API, every role, and no token at all.

A role that may act gets past authorisation (whatever the books then say); a role that may
not gets 403 before anything is read or written; no token or a revoked one gets 401.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import FISCAL_YEAR, ROLES, Api

READERS = {"reader", "auditor", "officer", "approver"}
A = "{allocation}"
E = "{expenditure}"
C = "{change}"  # a pending change (an officer's cancellation of the allocation)
UNKNOWN_IMPORT = "00000000-0000-4000-8000-000000000000"
UNKNOWN_JOB = "0123456789abcdef0123456789abcdef"  # an export job no one started
CSV = b"\xef\xbb\xbfallocation,amount,payee,voucher,spent_on\n"  # an upload: sent as text/csv

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
    ("POST", "/v1/funds/PUB-1/formula-funded", {}, {"officer"}),
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
    ("GET", "/v1/users", None, {"admin"}),
    ("POST", "/v1/users", {"name": "new.user", "roles": ["reader"]}, {"admin"}),
    ("POST", "/v1/users/user.reader/revoke", {}, {"admin"}),
    ("GET", "/v1/changes", None, READERS),
    ("GET", f"/v1/changes/{C}", None, READERS),
    ("POST", f"/v1/changes/{C}/approve", {}, {"approver"}),
    ("POST", f"/v1/changes/{C}/reject", {"reason": "r"}, {"approver"}),
    ("POST", "/v1/expenditures", {"allocation": A, "amount": 1, "payee": "p", "voucher": "V-2",
                                  "spent_on": f"{FISCAL_YEAR}-05-01"}, {"officer"}),
    ("POST", "/v1/expenditures/batch", {"items": [{"allocation": A, "amount": 1, "payee": "p",
                                                    "voucher": "V-3",
                                                    "spent_on": f"{FISCAL_YEAR}-05-01"}]},
     {"officer"}),
    ("GET", "/v1/expenditures", None, READERS),
    ("GET", f"/v1/expenditures/{E}", None, READERS),
    ("POST", f"/v1/expenditures/{E}/reverse", {"reason": "r"}, {"officer"}),
    ("POST", f"/v1/expenditures/{E}/prior-year-adjustment", {"reason": "r"}, {"officer"}),
    ("GET", f"/v1/reports/rural-support?fiscal_year={FISCAL_YEAR}", None, READERS),
    ("GET", f"/v1/reports/carry-over?fiscal_year={FISCAL_YEAR}", None, READERS),
    ("POST", f"/v1/fiscal-years/{FISCAL_YEAR}/close", {}, {"approver"}),
    ("POST", f"/v1/periods/{FISCAL_YEAR}-01/close", {}, {"approver"}),
    ("GET", "/v1/periods", None, READERS),
    ("GET", "/v1/audit/journal", None, {"auditor"}),
    ("GET", f"/v1/audit/history/{A}", None, {"auditor"}),
    ("GET", "/v1/audit/verify", None, {"auditor"}),
    ("GET", "/v1/audit/digests", None, {"auditor"}),
    ("POST", "/v1/audit/digests", {}, {"auditor"}),
    ("GET", f"/v1/audit/findings?fiscal_year={FISCAL_YEAR}", None, {"auditor"}),
    ("GET", "/v1/audit/public-key", None, {"auditor"}),
    ("GET", f"/v1/audit/exports/balances?fiscal_year={FISCAL_YEAR}", None, {"auditor"}),
    ("POST", f"/v1/audit/exports/balances?fiscal_year={FISCAL_YEAR}", {}, {"auditor"}),
    ("GET", f"/v1/audit/export-jobs/{UNKNOWN_JOB}", None, {"auditor"}),
    ("GET", f"/v1/audit/export-jobs/{UNKNOWN_JOB}/file", None, {"auditor"}),
    ("POST", "/v1/imports", CSV, {"officer"}),
    ("GET", f"/v1/imports/{UNKNOWN_IMPORT}", None, {"officer", "auditor"}),
    ("GET", "/v1/imports", None, {"officer", "auditor"}),
    ("GET", "/v1/imports/template?kind=expenditures", None, READERS),
    ("POST", "/v1/schools/XZ-PX-0001/parent", {"parent": "XZ-PX-0001"}, {"officer"}),
    ("POST", "/v1/funding-standards", {"fiscal_year": FISCAL_YEAR, "level": "primary",
                                       "rate": 80000, "document": "d"}, {"officer"}),
    ("GET", f"/v1/funding-standards?fiscal_year={FISCAL_YEAR}", None, READERS),
    ("GET", f"/v1/funding-standards/{UNKNOWN_IMPORT}", None, READERS),
    ("POST", f"/v1/funding-standards/{UNKNOWN_IMPORT}/approve", {}, {"approver"}),
    ("POST", f"/v1/funding-standards/{UNKNOWN_IMPORT}/reject", {"reason": "r"}, {"approver"}),
    ("POST", "/v1/enrolment-snapshots", {"name": "s", "as_of": f"{FISCAL_YEAR}-03-01",
                                         "schools": ["XZ-PX-0001"]}, {"officer"}),
    ("GET", f"/v1/enrolment-snapshots/{UNKNOWN_IMPORT}", None, READERS),
    ("POST", "/v1/tranches", {"fund": "PUB-1", "snapshot": UNKNOWN_IMPORT, "semester": "spring"},
     {"officer"}),
    ("GET", f"/v1/tranches/{UNKNOWN_IMPORT}", None, READERS),
    ("POST", f"/v1/tranches/{UNKNOWN_IMPORT}/approve", {}, {"approver"}),
    ("POST", f"/v1/tranches/{UNKNOWN_IMPORT}/reject", {"reason": "r"}, {"approver"}),
    # Resource stocks (tests/resources/): posts, assets, indicator reports, the evaluation.
    ("POST", "/v1/staffing/Pei/total", {"total": 5, "document": "d"}, {"officer"}),
    ("GET", "/v1/staffing/Pei", None, READERS),
    ("POST", "/v1/schools/XZ-PX-0001/posts", {"posts": 0}, {"officer"}),
    ("POST", "/v1/schools/XZ-PX-0001/hires", {"count": 1}, {"officer"}),
    ("POST", "/v1/schools/XZ-PX-0001/departures", {"count": 1}, {"officer"}),
    ("GET", "/v1/schools/XZ-PX-0001/posts", None, READERS),
    ("POST", "/v1/post-moves", {"from_school": "XZ-PX-0001", "to_school": "XZ-PX-0002",
                                "count": 1, "reason": "r"}, {"officer"}),
    ("GET", f"/v1/post-moves/{UNKNOWN_IMPORT}", None, READERS),
    ("POST", f"/v1/post-moves/{UNKNOWN_IMPORT}/approve", {}, {"approver"}),
    ("POST", f"/v1/post-moves/{UNKNOWN_IMPORT}/reject", {"reason": "r"}, {"approver"}),
    ("POST", "/v1/schools/XZ-PX-0001/assets/receipts", {"asset": "computer", "quantity": 1,
                                                         "value": 1}, {"officer"}),
    ("POST", "/v1/schools/XZ-PX-0001/assets/disposals", {"asset": "computer", "quantity": 9,
                                                          "reason": "r"}, {"officer"}),
    ("POST", "/v1/asset-transfers", {"from_school": "XZ-PX-0001", "to_school": "XZ-PX-0002",
                                     "asset": "computer", "quantity": 9, "reason": "r"},
     {"officer"}),
    ("GET", "/v1/schools/XZ-PX-0001/assets", None, READERS),
    ("GET", "/v1/reports/balanced-development", None, READERS),
    ("GET", "/v1/schools/XZ-PX-0001/indicators", None, READERS),
    ("POST", "/v1/schools/XZ-PX-0001/indicator-reports",
     {"qualified_teachers": 1, "key_teachers": 1, "pe_arts_teachers": 1, "teaching_area_m2": 1,
      "sports_area_m2": 1}, {"officer"}),
    ("POST", "/v1/indicator-reports/import", b"school,as_of\n", {"officer"}),
    # Bureaus (issue 15; tests/bureaus/): the default bureau of a single-bureau install.
    ("GET", "/v1/bureaus", None, READERS),
    ("GET", "/v1/bureaus/HOME", None, READERS),
    ("GET", "/v1/bureaus/HOME/reports/consolidated", None, READERS),
    ("GET", f"/v1/bureaus/HOME/reports/findings?fiscal_year={FISCAL_YEAR}", None, {"auditor"}),
    ("POST", "/v1/schools/XZ-PX-0001/move", {}, {"officer"}),
    ("GET", "/healthz", None, {*ROLES, "scoped", "nobody", "revoked"}),
    ("GET", "/metrics", None, {*ROLES, "scoped", "nobody", "revoked"}),
]


def _fill(text: str, ids: dict[str, str]) -> str:
    return (text.replace(A, ids["allocation"]).replace(E, ids["expenditure"])
            .replace(C, ids.get("change", C)))


def _filled(value: Any, ids: dict[str, str]) -> Any:
    """A body with the ids filled in, in nested items too (a batch's)."""
    if isinstance(value, str):
        return _fill(value, ids)
    if isinstance(value, dict):
        return {k: _filled(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, ids) for v in value]
    return value


def _call(api: Api, role: str, method: str, path: str, body: Any) -> Any:
    headers = {} if role == "nobody" else api.headers(role)
    if role == "revoked":
        headers = {"Authorization": f"Bearer {api.tokens['revoked']}"}
    if isinstance(body, bytes):
        return api.client.request(method, path, content=body,
                                  headers={**headers, "Content-Type": "text/csv"})
    return api.client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "template", "body", "allowed"), MATRIX,
                         ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_each_role_is_let_through_or_refused(funded: dict[str, Any], api: Api, method: str,
                                             template: str, body: Any, allowed: set[str]) -> None:
    api.tokens["revoked"] = api.ledger.add_user("gone.reader", ["reader"])
    api.ledger.revoke_user("gone.reader")
    # A reader scoped to the one school of the matrix (issue 14) passes where a reader does
    # and is refused where a reader is: a scope limits what is read, never adds a power.
    api.tokens["scoped"] = api.ledger.add_user("scoped.reader", ["reader"], ["XZ-PX-0001"])
    if "reader" in allowed:
        allowed = {*allowed, "scoped"}
    ids = {"allocation": funded["allocation"]["id"], "expenditure": funded["expenditure"]["id"]}
    if C in template:
        ids["change"] = api.ok(api.post("officer", f"/v1/allocations/{ids['allocation']}/cancel",
                                        {"reason": "r"}), 202)["change"]
    path = _fill(template, ids)
    if isinstance(body, dict) or (body is None and method == "POST"):
        body = _filled(body or {}, ids)
    for role in (*ROLES, "scoped", "nobody", "revoked"):
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


def _operations(api: Api) -> set[tuple[str, str]]:
    """Every operation the app publishes in its OpenAPI document."""
    document = api.client.get("/openapi.json").json()
    return {(method.upper(), path) for path, operations in document["paths"].items()
            for method in operations}


def test_the_matrix_covers_every_operation_of_the_app(api: Api) -> None:
    published = _operations(api)
    assert len(published) >= 33  # DESIGN §6 alone names 33 operations: the walk found them
    covered = {(m, p.split("?")[0].replace(A, "{id}").replace(E, "{id}")
                .replace(UNKNOWN_IMPORT, "{id}").replace(UNKNOWN_JOB, "{job_id}")
                .replace(C, "{id}"))
               for m, p, _, _ in MATRIX}
    covered = {(m, p.replace("/v1/audit/history/{id}", "/v1/audit/history/{entity_id}")
                .replace("/v1/audit/exports/balances", "/v1/audit/exports/{kind}"))
               for m, p in covered}
    covered = {(m, p if not p.startswith("/v1/schools/XZ-PX-0001") else
                p.replace("/v1/schools/XZ-PX-0001", "/v1/schools/{code}"))
               for m, p in covered}
    covered = {(m, p.replace("/v1/funds/PUB-1", "/v1/funds/{code}")
                .replace("/v1/users/user.reader", "/v1/users/{name}")
                .replace("/v1/bureaus/HOME", "/v1/bureaus/{bureau}")) for m, p in covered}
    covered = {(m, p.replace("/v1/staffing/Pei", "/v1/staffing/{district}")
                .replace("/v1/post-moves/{id}", "/v1/post-moves/{move_id}")
                .replace(f"/v1/fiscal-years/{FISCAL_YEAR}/", "/v1/fiscal-years/{year}/")
                .replace(f"/v1/periods/{FISCAL_YEAR}-01/", "/v1/periods/{month}/"))
               for m, p in covered}
    assert published - covered == set()
    assert covered - published == set()
