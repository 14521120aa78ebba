"""The one table of error codes, the last-resort 500 and the store-unavailable 503."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from api.committer_client import CommitterUnavailable
from api.problems import PROBLEM_TYPE_BASE, STATUS_BY_CODE, status_for_kind
from domain import errors
from domain.errors import LedgerError
from tests.api.conftest import Api


def _subclasses(kind: type) -> list[type]:
    found = []
    for sub in kind.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


ALL_ERRORS = [LedgerError, *_subclasses(LedgerError)]
# Not the client's mistake: the server could not start the write in time, or the committer
# process did not answer (`fundledger serve --workers N`); nothing was written.
RETRY_LATER = {errors.WriteNotStarted, CommitterUnavailable}


@pytest.mark.parametrize("kind", ALL_ERRORS, ids=lambda k: k.__name__)
def test_every_domain_error_has_its_own_row_and_a_client_status(kind: type[LedgerError]) -> None:
    assert kind.code in STATUS_BY_CODE, f"{kind.__name__} ({kind.code}) needs a row in STATUS_BY_CODE"
    if kind in RETRY_LATER:
        assert status_for_kind(kind) == 503
    else:
        assert 400 <= status_for_kind(kind) < 500


def test_the_walk_finds_every_error_the_domain_declares() -> None:
    declared = {v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, LedgerError)}
    assert declared <= set(ALL_ERRORS)


@pytest.mark.parametrize(("code", "status"), [
    ("overspend", 409), ("maker_checker", 403), ("role_not_allowed", 403), ("unknown_token", 401),
    ("version_mismatch", 412), ("idempotency_key_reused", 422), ("allocation_not_found", 404),
    ("concurrency_conflict", 409), ("store_unavailable", 503), ("body_too_large", 413),
    ("write_not_started", 503),
])
def test_statuses_promised_by_the_design(code: str, status: int) -> None:
    assert STATUS_BY_CODE[code] == status


def _break(api: Api, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def fail(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr(api.ledger, "get_school", fail)


def test_an_unexpected_error_is_a_500_problem_without_a_trace(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _break(api, monkeypatch, RuntimeError("secret internals /etc/passwd"))
    response = api.get("reader", "/v1/schools/ANY")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert body["type"] == PROBLEM_TYPE_BASE + "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("error", [
    OperationalError("connection refused"),
    sqlite3.OperationalError("database is locked"),
], ids=["library", "sqlite-locked"])
def test_a_store_that_does_not_answer_is_503_with_retry_after(
        api: Api, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    _break(api, monkeypatch, error)
    response = api.get("reader", "/v1/schools/ANY")
    assert response.status_code == 503
    assert response.json()["code"] == "store_unavailable"
    assert response.headers["Retry-After"] == "1"


def test_unknown_routes_and_methods_are_problems_too(api: Api) -> None:
    missing = api.get("reader", "/v1/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "route_not_found")
    wrong = api.client.delete("/v1/schools", headers=api.headers("officer"))
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")


def test_a_number_too_large_for_the_store_is_422_not_500(api: Api) -> None:
    response = api.get("auditor", "/v1/audit/journal", after=10814617023952611328)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
