"""The published document against DESIGN §6, the contract outside clients are written to:
every path and method, the request fields, and the answer fields, by name; and the whole
document against its pin (tests/api/openapi.json, `make openapi-pin`), so that no change to it
goes unnoticed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import openapi_pin
from tests.api.conftest import Api

# DESIGN §6's table, operation by operation.
DESIGN_OPERATIONS = {
    ("POST", "/v1/schools"), ("GET", "/v1/schools"), ("GET", "/v1/schools/{code}"),
    ("POST", "/v1/schools/{code}/reclassify"), ("POST", "/v1/schools/{code}/enrolment"),
    ("POST", "/v1/schools/{code}/close"),
    ("POST", "/v1/funds"), ("GET", "/v1/funds"), ("GET", "/v1/funds/{code}"),
    ("POST", "/v1/funds/{code}/adjust"), ("POST", "/v1/funds/{code}/close"),
    ("POST", "/v1/allocations"), ("GET", "/v1/allocations"), ("GET", "/v1/allocations/{id}"),
    ("POST", "/v1/allocations/{id}/approve"), ("POST", "/v1/allocations/{id}/reject"),
    ("POST", "/v1/allocations/{id}/adjust"), ("POST", "/v1/allocations/{id}/cancel"),
    ("POST", "/v1/allocations/{id}/transfer"),
    ("POST", "/v1/expenditures"), ("GET", "/v1/expenditures"), ("GET", "/v1/expenditures/{id}"),
    ("POST", "/v1/expenditures/{id}/reverse"),
    ("POST", "/v1/imports"), ("GET", "/v1/imports/{id}"),
    ("GET", "/v1/schools/{code}/balances"), ("GET", "/v1/reports/rural-support"),
    ("GET", "/v1/audit/journal"), ("GET", "/v1/audit/history/{entity_id}"),
    ("GET", "/v1/audit/verify"), ("POST", "/v1/audit/digests"),
    ("GET", "/healthz"), ("GET", "/metrics"),
    # Issue 14.
    ("GET", "/v1/changes"), ("GET", "/v1/changes/{id}"),
    ("POST", "/v1/changes/{id}/approve"), ("POST", "/v1/changes/{id}/reject"),
}

PENDING = {"change", "status", "kind", "maker", "position"}  # a two-person change (issue 14)

# "Request and response bodies": (method, path) → (request fields, answer fields).
BODIES: dict[tuple[str, str], tuple[set[str], set[str]]] = {
    ("POST", "/v1/schools"): ({"code", "name", "district", "level", "locale", "poverty_area",
                               "students"}, {"code", "name", "district", "level", "locale",
                                             "poverty_area", "students", "position"}),
    ("POST", "/v1/funds"): ({"code", "name", "fiscal_year", "unit", "amount", "source", "category",
                             "earmark"}, {"appropriated", "allocated", "spent", "available",
                                          "position"}),
    ("POST", "/v1/allocations"): ({"fund", "school", "amount", "purpose", "effective_date"},
                                  {"id", "status", "fund", "school", "amount", "allocated", "spent",
                                   "remaining", "version", "position"}),
    ("POST", "/v1/allocations/{id}/approve"): (set(), {"id", "status", "version", "position"}),
    ("POST", "/v1/allocations/{id}/reject"): ({"reason"}, {"id", "status", "position"}),
    # Two-person changes (issue 14): the POST answers 202 with the pending change.
    ("POST", "/v1/allocations/{id}/adjust"): ({"delta", "reason"}, PENDING),
    ("POST", "/v1/allocations/{id}/cancel"): ({"reason"}, PENDING),
    ("POST", "/v1/allocations/{id}/transfer"): ({"to_school", "amount", "reason"}, PENDING),
    ("POST", "/v1/funds/{code}/adjust"): ({"delta", "reason"}, PENDING),
    ("POST", "/v1/funds/{code}/close"): ({"disposition"}, PENDING),
    ("POST", "/v1/changes/{id}/approve"): ({"reason"}, PENDING),
    ("POST", "/v1/changes/{id}/reject"): ({"reason"}, PENDING),
    ("POST", "/v1/expenditures"): ({"allocation", "amount", "payee", "voucher", "spent_on",
                                    "description"},
                                   {"id", "allocation", "amount", "status", "position"}),
    ("POST", "/v1/expenditures/{id}/reverse"): ({"reason"}, {"id", "status", "position"}),
    ("GET", "/v1/schools/{code}/balances"): (set(), {"school", "fiscal_year", "as_of", "position",
                                                     "balances"}),
    ("GET", "/v1/reports/rural-support"): (set(), {"fiscal_year", "as_of", "position", "rows",
                                                   "rural_to_urban_per_student_ratio", "counties"}),
    ("GET", "/v1/audit/verify"): (set(), {"ok", "checked", "head_hash", "first_bad_position"}),
    ("GET", "/v1/audit/journal"): (set(), {"items", "next"}),
}
# Fields of the items inside answers.
ITEMS = {
    ("GET", "/v1/schools/{code}/balances", "balances"): {"fund", "unit", "allocated", "spent",
                                                         "remaining"},
    ("GET", "/v1/reports/rural-support", "rows"): {"district", "locale", "unit", "schools",
                                                   "students", "allocated", "spent",
                                                   "per_student_allocated"},
    ("GET", "/v1/reports/rural-support", "counties"): {"district", "level",
                                                       "difference_coefficient", "threshold",
                                                       "within_threshold"},
    ("GET", "/v1/audit/journal", "items"): {"position", "recorded_at", "actor", "entity_id",
                                            "entity_type", "event", "amount", "unit", "reason",
                                            "hash"},
}
LISTS = ["/v1/schools", "/v1/funds", "/v1/allocations", "/v1/expenditures", "/v1/audit/journal",
         "/v1/changes",
         "/v1/audit/history/{entity_id}"]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_pin.document()


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:  # Optional[...]
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return _schema(document, schema)
    if schema.get("type") == "array":
        return _schema(document, schema["items"])
    return schema


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method.lower()]
    return operation


def _answer(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses = _operation(document, method, path)["responses"]
    success = next(v for k, v in responses.items() if k.startswith("2"))
    return _schema(document, success["content"]["application/json"]["schema"])


def test_every_operation_of_the_design_is_published(document: dict[str, Any]) -> None:
    published = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert DESIGN_OPERATIONS - published == set()


@pytest.mark.parametrize(("method", "path"), sorted(BODIES), ids=[f"{m} {p}" for m, p in sorted(BODIES)])
def test_bodies_carry_the_contract_field_names(document: dict[str, Any], method: str, path: str) -> None:
    request_fields, answer_fields = BODIES[(method, path)]
    if request_fields:
        body = _operation(document, method, path)["requestBody"]["content"]["application/json"]
        assert request_fields <= set(_schema(document, body["schema"])["properties"])
    assert answer_fields <= set(_answer(document, method, path)["properties"])


@pytest.mark.parametrize(("method", "path", "field"), sorted(ITEMS))
def test_items_carry_the_contract_field_names(document: dict[str, Any], method: str, path: str,
                                              field: str) -> None:
    answer = _answer(document, method, path)
    assert ITEMS[(method, path, field)] <= set(_schema(document, answer["properties"][field])["properties"])


@pytest.mark.parametrize("path", LISTS)
def test_every_list_is_cursor_paginated(document: dict[str, Any], path: str) -> None:
    parameters = {p["name"]: p for p in _operation(document, "GET", path).get("parameters", [])}
    assert {"limit", "after"} <= parameters.keys()
    assert parameters["limit"]["schema"]["maximum"] == 1000
    assert "next" in _answer(document, "GET", path)["properties"]


@pytest.mark.parametrize("path", [*LISTS, "/v1/funds/{code}", "/v1/schools/{code}/balances",
                                  "/v1/reports/rural-support"])
def test_reads_of_the_views_accept_min_position(document: dict[str, Any], path: str) -> None:
    parameters = {p["name"] for p in _operation(document, "GET", path).get("parameters", [])}
    assert "min_position" in parameters


def test_every_post_accepts_an_idempotency_key(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        # A new token is a secret shown once and never stored, so issuing one cannot be
        # replayed; revoking is idempotent by nature.
        unkeyed = ("/v1/audit/digests", "/v1/users", "/v1/users/{name}/revoke")
        if "post" in operations and path.startswith("/v1/") and path not in unkeyed:
            headers = {p["name"] for p in operations["post"].get("parameters", [])
                       if p["in"] == "header"}
            assert "Idempotency-Key" in headers, path


def test_docs_and_document_are_served(api: Api) -> None:
    docs = api.client.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    assert api.client.get("/openapi.json").json()["paths"].keys() >= {p for _, p in DESIGN_OPERATIONS}


def test_the_whole_document_is_the_pinned_one(document: dict[str, Any]) -> None:
    """Every schema, description, status and parameter, not only the names above: a refactor
    that changes any of them fails here, saying what changed and how to pin it on purpose."""
    now = openapi_pin.canonical(document)
    pinned = openapi_pin.PIN.read_text(encoding="utf-8") if openapi_pin.PIN.exists() else ""
    if now != pinned:
        pytest.fail(openapi_pin.why_not_pinned(pinned, now), pytrace=False)


def test_the_pin_stands_for_the_whole_document(document: dict[str, Any]) -> None:
    assert openapi_pin.expanded(openapi_pin.normalised(document)) == document
