"""Request and response bodies of the HTTP API (DESIGN §6).

Requests are strict: amounts are JSON integers within the domain's bounds ("12.5", 1.5, 1e30
or true are refused, never coerced), text is text, dates are ISO 8601 strings, and a field
the API does not know is an error rather than silently ignored.

This module holds the fields every body is made of, the command base, pages, health and the
problem shape; each resource's bodies are in its own module (api/schemas/schools.py, funds.py,
allocations.py, expenditures.py, changes.py, balances.py).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)

from domain.errors import InvalidInput
from domain.limits import (
    AMOUNT_MINOR_MAX,
    CODE_LENGTH_MAX,
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    NAME_LENGTH_MAX,
    REASON_LENGTH_MAX,
    STUDENTS_MAX,
)
from domain.rules import clean_text

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
UNIT_PATTERN = r"^[A-Z][A-Z0-9_]{1,31}$"
T = TypeVar("T")


def _iso_date_text(value: Any) -> Any:
    """Dates come as 'YYYY-MM-DD' text; a number is not a date (pydantic would read a timestamp)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        # Not a number, a digit string (pydantic would read "1796169600" as a Unix time), nor a
        # datetime with or without an offset: a business date is a calendar day.
        msg = "a date is ISO 8601 text, e.g. 2025-03-01"
        raise ValueError(msg)  # pydantic turns a ValueError into one entry of the 422
    return value


Amount = Annotated[StrictInt, Field(ge=1, le=AMOUNT_MINOR_MAX,
                                    description="Positive integer in the unit's minor unit")]
Delta = Annotated[StrictInt, Field(ge=-AMOUNT_MINOR_MAX, le=AMOUNT_MINOR_MAX,
                                   description="Non-zero integer in the unit's minor unit")]
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]


def _one_line(value: str) -> str:
    try:
        return clean_text(value, "text")
    except InvalidInput as error:
        raise ValueError(error.detail) from None  # pydantic: one 422 entry naming the field


def _lines(value: str) -> str:
    try:
        return clean_text(value, "text", multiline=True)
    except InvalidInput as error:
        raise ValueError(error.detail) from None


# Every text field of every request goes through domain.rules.clean_text (issue 14): NFC, no
# control characters (newlines only in multi-line fields), no bidi overrides, not invisible.
Text = Annotated[StrictStr, AfterValidator(_one_line)]
Lines = Annotated[StrictStr, AfterValidator(_lines)]
Code = Annotated[StrictStr, Field(min_length=1, max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]
Name = Annotated[Text, Field(min_length=1, max_length=NAME_LENGTH_MAX)]
Reason = Annotated[Lines, Field(min_length=1, max_length=REASON_LENGTH_MAX)]
OptionalReason = Annotated[Lines, Field(max_length=REASON_LENGTH_MAX)]
Students = Annotated[StrictInt, Field(ge=0, le=STUDENTS_MAX)]
FiscalYear = Annotated[StrictInt, Field(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)]
UnitCode = Annotated[StrictStr, Field(pattern=UNIT_PATTERN)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A decision that changes one record and must say why (a rejection, a cancellation, a
# reversal, a closing), and one whose reason may be left out (an approval); each takes effect
# on its effective date (default: today). The resources' commands of that shape are these.
class Reasoned(Command):
    reason: Reason
    effective_date: IsoDate | None = None


class Decision(Command):
    reason: OptionalReason = ""
    effective_date: IsoDate | None = None


class Adjustment(Command):
    delta: Delta
    reason: Reason
    effective_date: IsoDate | None = None


# ----------------------------------------------------------------- responses


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(None, description="URL of the next page, absent on the last")
    position: int = Field(description="The views' position the page was read at")


class Health(BaseModel):
    status: Literal["ok", "views_failing", "views_behind", "views_stalled"]
    position: int
    views_position: int | None = Field(
        description="The position of the views this server reads: the read replica's when "
                    "FUNDLEDGER_VIEWS_READ_URL is set (views_read_from)")
    views_read_from: Literal["primary", "replica"] = "primary"
    reason: str | None = None
    stuck_at: int | None = Field(None, description="The views' position when not ok")
    nul_text_at: list[int] = Field(
        default_factory=list,
        description="Events (applied by this server) holding a NUL in their text, written "
                    "before text was validated: PostgreSQL's views show it as U+FFFD")


# ---------------------------------------------------------------- presenters


class Problem(BaseModel):
    """RFC 9457 problem details; `code` is the stable error code, `type` its URI."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}


# Documented on every /v1 route, so clients (and schemathesis) know every refusal's shape.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Malformed request (e.g. not JSON, bad header)"),
    401: _problem_response("No, unknown or revoked token"),
    403: _problem_response("Role not allowed, or maker-checker"),
    404: _problem_response("Unknown school, fund, allocation or expenditure"),
    409: _problem_response("A rule of the books, or a concurrent update"),
    412: _problem_response("If-Match does not match the aggregate's version"),
    413: _problem_response("Request body too large"),
    422: _problem_response("Invalid input, or an idempotency key reused for another body"),
    503: _problem_response("Store unavailable, or views behind min_position; retry"),
}
