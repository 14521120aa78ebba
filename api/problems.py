"""RFC 9457 problem details: every refusal the API gives, with one stable `type` per kind.

`STATUS_BY_CODE` is the one table from an error code (the domain's `LedgerError.code`, or one
of the API's own below) to an HTTP status. A test checks that every `LedgerError` subclass has
a row, so a new domain rule cannot silently fall back to a generic status.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.strict_json import DuplicateKey
from domain.errors import LedgerError, RoleNotAllowed

PROBLEM_TYPE_BASE = "https://fundledger.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
STORE_RETRY_AFTER_SECONDS = 1

log = logging.getLogger("fundledger.api")

# code → status. Domain codes first (domain/errors.py), then the API's own.
STATUS_BY_CODE: dict[str, int] = {
    # Input that can never be right.
    "ledger_error": 400,
    "invalid_input": 422,
    "amount_out_of_range": 422,
    "unknown_classification_code": 422,
    "shares_mismatch": 422,
    "unknown_unit": 422,
    "unit_mismatch": 422,
    "date_outside_fiscal_year": 422,
    "date_in_future": 422,
    # Access.
    "unknown_token": 401,
    "role_not_allowed": 403,
    "maker_checker": 403,
    "supervisor_read_only": 403,
    "bureau_not_found": 404,
    "bureau_parent_conflict": 409,
    "school_move_refused": 409,
    # Unknown things.
    "not_found": 404,
    "school_not_found": 404,
    "fund_not_found": 404,
    "allocation_not_found": 404,
    "expenditure_not_found": 404,
    "user_not_found": 404,
    "change_not_found": 404,
    # Things that already exist: a conflict with the books as they are.
    "already_exists": 409,
    "school_already_registered": 409,
    "fund_already_opened": 409,
    "duplicate_voucher": 409,
    # Rules of the books.
    "rule_violation": 409,
    "overspend": 409,
    "over_allocation": 409,
    "below_spent": 409,
    "appropriation_below_allocated": 409,
    "not_approved": 409,
    "not_proposed": 409,
    "closed": 409,
    "school_closed": 409,
    "fund_closed": 409,
    "period_closed": 409,
    "period_already_closed": 409,
    "period_not_ended": 409,
    "period_has_pending_changes": 409,
    "allocation_closed": 409,
    "earmark_violation": 409,
    "level_not_eligible": 409,
    "expenditure_class_not_allowed": 409,
    "spent_before_approval": 409,
    "already_reversed": 409,
    "transfer_not_allowed": 409,
    "carry_over_target_invalid": 409,
    # Formula funding (domain/funding_standard.py, enrolment_snapshot.py, tranche.py).
    "unknown_schools": 422,
    "duplicate_schools": 422,
    "standard_not_found": 404,
    "snapshot_not_found": 404,
    "tranche_not_found": 404,
    "snapshot_exists": 409,
    "tranche_exists": 409,
    "standard_pending": 409,
    "standard_missing": 409,
    "tranche_exceeds_available": 409,
    "plan_changed": 409,
    "below_standard": 409,
    "change_not_pending": 409,
    # Resource stocks (domain/stock_errors.py).
    "over_quota": 409,
    "posts_below_filled": 409,
    "no_vacancy": 409,
    "not_enough_filled": 409,
    "not_enough_held": 409,
    "stock_date_order": 409,
    "move_not_pending": 409,
    "school_not_in_county": 422,
    "implausible_figure": 422,
    "move_not_found": 404,
    "purpose_changed": 409,
    "basic_expenditure_surplus": 409,
    "carry_over_target_missing": 409,
    "project_continuation_unexplained": 409,
    "resource_units_not_closed": 409,
    "operating_funds_purpose": 422,
    # Idempotency and concurrency.
    "idempotency_key_reused": 422,
    "batch_rejected": 422,
    "concurrency_conflict": 409,
    "version_mismatch": 412,
    "write_not_started": 503,
    # The API's own.
    "malformed_json": 400,
    "duplicate_key": 400,
    "invalid_header": 400,
    "unknown_query_parameter": 400,
    "validation_error": 422,
    "route_not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "body_too_large": 413,
    "unsupported_media_type": 415,
    "store_unavailable": 503,
    "views_behind": 503,
    "export_not_ready": 409,
    "export_failed": 409,
    "internal_error": 500,
}

_TITLES = {
    "malformed_json": "The body is not valid JSON",
    "duplicate_key": "The body names a key twice",
    "invalid_header": "A request header is malformed",
    "unknown_query_parameter": "The query names a parameter this endpoint does not take",
    "validation_error": "The request does not match the schema",
    "route_not_found": "No such resource",
    "bureau_not_found": "Bureau not found",
    "method_not_allowed": "Method not allowed",
    "body_too_large": "Request body too large",
    "store_unavailable": "The event store is unavailable; retry shortly",
    "views_behind": "The views have not yet reached the requested position",
    "export_not_ready": "The export is still being written; ask for its job again shortly",
    "export_failed": "The export job failed",
    "internal_error": "Internal error",
}


class ApiProblem(Exception):
    """A refusal the API itself gives (not a rule of the books)."""

    def __init__(self, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        assert code in STATUS_BY_CODE, code
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def status_for_error(error: LedgerError) -> int:
    return status_for_kind(type(error))


def status_for_kind(error_kind: type[LedgerError]) -> int:
    """The status of a kind of domain error: its code's row, else its nearest ancestor's."""
    for kind in error_kind.__mro__:
        code = getattr(kind, "code", None)
        if code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return STATUS_BY_CODE["ledger_error"]


def problem(status: int, code: str, title: str, detail: str, *,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status,
            "detail": detail, "code": code, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def api_problem(code: str, detail: str, headers: dict[str, str] | None = None,
                **extra: Any) -> JSONResponse:
    return problem(STATUS_BY_CODE[code], code, _TITLES.get(code, code.replace("_", " ")),
                   detail, headers=headers, **extra)


def is_store_unavailable(error: BaseException) -> bool:
    """Failures of the store that a retry may cure, as opposed to bugs."""
    if isinstance(error, OperationalError | InterfaceError | psycopg.OperationalError | PoolTimeout):
        return True
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return "locked" in text or "busy" in text or "unable to open" in text
    # The library wraps the driver's error; look at the cause too.
    cause = error.__cause__
    return cause is not None and cause is not error and is_store_unavailable(cause)


def store_unavailable_problem(error: BaseException, app: Any = None) -> JSONResponse:
    log.warning("store unavailable: %s", error)
    outage = getattr(getattr(app, "state", None), "store_outage", None)
    if outage is not None:
        outage.trip()
    return api_problem("store_unavailable", "the event store did not answer; retry shortly",
                       headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)})


def _message(error: Any) -> str:
    """A validation message a person can read: a pattern is named by what it allows, never
    shown as a regular expression."""
    if error.get("type") == "string_pattern_mismatch":
        if str((error.get("ctx") or {}).get("pattern", "")).startswith("^[A-Z][A-Z0-9_]"):
            return "must be a unit code: upper-case letters, digits and '_', such as CNY"
        return "may hold only letters, digits, '-', '_' and '.', starting with a letter or digit"
    return str(error.get("msg", "invalid"))


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Location, message and type of each error; never the input itself (it may be huge)."""
    return [{"loc": [str(part) for part in e.get("loc", ())], "msg": _message(e),
             "type": str(e.get("type", ""))} for e in errors]


async def _on_ledger_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LedgerError)
    status = status_for_error(error)
    headers = {"WWW-Authenticate": 'Bearer realm="fundledger"'} if status == 401 else None
    if status == 503:  # nothing was written; the same request may simply be sent again
        headers = {"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}
    return problem(status, error.code, error.title, error.detail, headers=headers,
                   **getattr(error, "extensions", {}))


async def _on_api_problem(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiProblem)
    return api_problem(error.code, error.detail, headers=error.headers)


def roles_required(dependant: Any) -> frozenset[Any] | None:
    """The roles a route's auth dependency lets through (api.auth.requires), or None for a
    route without one."""
    for dependency in getattr(dependant, "dependencies", ()):
        roles = getattr(dependency.call, "allowed_roles", None)
        if roles is not None:
            return frozenset(roles)
        found = roles_required(dependency)
        if found is not None:
            return found
    return None


async def _access_refusal(request: Request) -> JSONResponse | None:
    """Who asks is decided before what they sent (issue 14): a body the API cannot read is
    answered 401 without a valid token and 403 without the role, as a readable one would be."""
    roles = roles_required(getattr(request.scope.get("route"), "dependant", None))
    if roles is None:
        return None
    from api.auth import actor_from_header  # noqa: PLC0415  (api.auth imports the ledger)

    try:
        actor = await actor_from_header(request)
        if not actor.roles & roles:
            held = ", ".join(sorted(actor.roles)) or "none"
            msg = f"{actor.user_id} holds {held}; this needs {' or '.join(sorted(roles))}"
            raise RoleNotAllowed(msg)
    except LedgerError as refused:
        return await _on_ledger_error(request, refused)
    return None


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    refused = await _access_refusal(request)
    if refused is not None:
        return refused
    if isinstance(error.__cause__, DuplicateKey):  # api.strict_json: last-wins is never guessed
        return api_problem("duplicate_key", error.__cause__.msg, key=error.__cause__.key)
    errors = list(error.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return api_problem("malformed_json", "the request body is not valid JSON",
                           errors=_validation_errors(errors))
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    detail = f"{where}: {_message(first)}" if first else "invalid request"
    return api_problem("validation_error", detail, errors=_validation_errors(errors))


async def _on_http_exception(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = {404: "route_not_found", 405: "method_not_allowed", 413: "body_too_large",
            415: "unsupported_media_type", 406: "not_acceptable"}.get(error.status_code)
    headers = dict(error.headers or {})
    if code is None:
        return problem(error.status_code, f"http_{error.status_code}", str(error.detail),
                       str(error.detail), headers=headers)
    return api_problem(code, str(error.detail), headers=headers)


async def _on_store_error(request: Request, error: Exception) -> JSONResponse:
    if is_store_unavailable(error):
        return store_unavailable_problem(error, request.app)
    log.error("store error", exc_info=error)
    return api_problem("internal_error", "the request failed; the error has been logged")


async def _on_overflow(request: Request, error: Exception) -> JSONResponse:
    # A query number beyond what the store can hold (SQLite: 64-bit) that a route's bounds
    # let through: the client's mistake, never a 500.
    log.warning("number too large for the store in %s: %s", request.url.path, error)
    return api_problem("validation_error", "a number in the request is too large")


def install(app: FastAPI) -> None:
    """Maps every refusal to a problem response; the last-resort 500 is api/middleware.py's."""
    app.add_exception_handler(LedgerError, _on_ledger_error)
    app.add_exception_handler(ApiProblem, _on_api_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(OverflowError, _on_overflow)
    for kind in (OperationalError, InterfaceError, psycopg.OperationalError, PoolTimeout,
                 sqlite3.OperationalError):
        app.add_exception_handler(kind, _on_store_error)
