"""/v1/enrolment-snapshots: frozen, named per-school pupil counts as of a date.

POST with JSON `{name, as_of}` takes the counts from the schools' reported enrolment history
(all registered schools, or the `schools` named); with JSON `rows` or a CSV (the school
register's export: `school,total,boarders,special_needs`, or 学校代码,在校生数,寄宿生数,特殊需要学生数;
`?name=&as_of=`) it imports them. Every row keeps where its count came from.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt, ValidationError

from api.auth import Officer, Reader, require_unscoped
from api.commands import IdempotencyKey, etag
from api.parameters import AggregateId as SnapshotId
from api.reads import views_at
from api.routes.imports import _upload
from api.schemas import Code, Command, IsoDate, Name
from api.strict_json import StrictJsonRoute
from domain.enrolment_snapshot import SNAPSHOT_ROWS_MAX, EnrolmentSnapshot
from domain.errors import InvalidInput
from domain.formula_funding import FormulaFunding
from domain.import_sheet import decode
from domain.ledger import FundLedger, Outcome
from domain.limits import STUDENTS_MAX
from domain.tranche import SnapshotNotFound

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/enrolment-snapshots", tags=["formula funding"])
Count = Annotated[StrictInt, Field(ge=0, le=STUDENTS_MAX)]
SCHOOL_PAGE_SIZE = 1000
# Column names the register's export uses, in English or Chinese.
CSV_COLUMNS = {"school": "school", "学校代码": "school", "total": "total", "在校生数": "total",
               "boarders": "boarders", "寄宿生数": "boarders", "special_needs": "special_needs",
               "特殊需要学生数": "special_needs"}


class SnapshotRowIn(Command):
    school: Code
    total: Count
    boarders: Count = 0
    special_needs: Count = 0


class TakeSnapshot(Command):
    name: Name
    as_of: IsoDate
    schools: Annotated[list[Code], Field(max_length=SNAPSHOT_ROWS_MAX)] | None = Field(
        None, description="From history: only these schools (default: every registered school)")
    rows: Annotated[list[SnapshotRowIn], Field(max_length=SNAPSHOT_ROWS_MAX)] | None = Field(
        None, description="Imported counts instead of the reported history")


class SnapshotRowPublic(BaseModel):
    school: str
    total: int
    boarders: int
    special_needs: int
    source: dict[str, Any]


class SnapshotPublic(BaseModel):
    id: UUID
    name: str
    as_of: date
    origin: str = Field(description="history (reported enrolment) or csv (imported)")
    taken_by: str
    schools: int
    pupils: int
    rows: list[SnapshotRowPublic]
    version: int
    position: int | None = None


def snapshot_public(snapshot: EnrolmentSnapshot, position: int | None = None) -> SnapshotPublic:
    return SnapshotPublic(id=snapshot.id, name=snapshot.name, as_of=snapshot.as_of,
                          origin=snapshot.origin, taken_by=snapshot.taken_by,
                          schools=len(snapshot.rows),
                          pupils=sum(int(r["total"]) for r in snapshot.rows),
                          rows=[SnapshotRowPublic.model_validate(r) for r in snapshot.rows],
                          version=snapshot.version, position=position)


def _answer(outcome: Outcome) -> JSONResponse:
    headers = {"ETag": etag(outcome.subject.version),
               "Location": f"/v1/enrolment-snapshots/{outcome.subject.id}"}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = snapshot_public(outcome.subject, outcome.position).model_dump(mode="json")
    return JSONResponse(body, status_code=201, headers=headers)


@router.post("", status_code=201, response_model=SnapshotPublic,
             openapi_extra={"requestBody": {"content": {
                 "application/json": {"schema": TakeSnapshot.model_json_schema()},
                 "text/csv": {"schema": {"type": "string"}}}}})
async def take_snapshot(
    request: Request, actor: Officer, idempotency_key: IdempotencyKey = None,
    name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    as_of: Annotated[date | None, Query()] = None,
) -> JSONResponse:
    """Freeze per-school counts as of a date: from the reported history (JSON without
    `rows`), or imported (JSON `rows`, or a CSV with `?name=&as_of=`) (officer)."""
    ledger: FundLedger = request.app.state.ledger
    service = FormulaFunding(ledger)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = TakeSnapshot.model_validate_json(await request.body())
        except ValidationError as error:
            raise _validation(error) from None
        if body.rows is not None:
            rows = [r.model_dump() | {"line": i + 1} for i, r in enumerate(body.rows)]
            outcome = await run_in_threadpool(
                service.snapshot_from_rows, actor, name=body.name, as_of=body.as_of,
                file_name="(request body)", rows=rows, idempotency_key=idempotency_key)
            return _answer(outcome)
        schools = body.schools
        if schools is None:
            schools = await run_in_threadpool(_registered_schools, request, ledger)
        outcome = await run_in_threadpool(
            service.snapshot_from_history, actor, name=body.name, as_of=body.as_of,
            schools=schools, idempotency_key=idempotency_key)
        return _answer(outcome)
    if name is None or as_of is None:
        msg = "a CSV snapshot needs ?name= and ?as_of= in the query"
        raise InvalidInput(msg)
    data, filename = await _upload(request)
    rows = _csv_rows(data)
    outcome = await run_in_threadpool(
        service.snapshot_from_rows, actor, name=name, as_of=as_of,
        file_name=filename or "(request body)", rows=rows, idempotency_key=idempotency_key)
    return _answer(outcome)


@router.get("/{id}", response_model=SnapshotPublic)
def get_snapshot(snapshot_id: SnapshotId, actor: Reader, request: Request,
                 response: Response) -> SnapshotPublic:
    """A snapshot with every row and the report (or CSV line) each count came from."""
    require_unscoped(actor, SnapshotNotFound, f"enrolment snapshot {snapshot_id}")
    snapshot = FormulaFunding(request.app.state.ledger).snapshot(snapshot_id)
    response.headers["ETag"] = etag(snapshot.version)
    return snapshot_public(snapshot)


def _registered_schools(request: Request, ledger: FundLedger) -> list[str]:
    """Every school the catalogue view knows, once it has caught up with the last write."""
    views = views_at(request, ledger.last_position())
    codes: list[str] = []
    after = None
    while True:
        rows, after = views.list_schools(after=after, limit=SCHOOL_PAGE_SIZE)
        codes.extend(r.code for r in rows)
        if after is None:
            return codes


def _csv_rows(data: bytes) -> list[dict[str, Any]]:
    """Rows of the register's export; counts stay text-checked here so a bad cell names its line."""
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        msg = "the file is empty"
        raise InvalidInput(msg) from None
    columns = [CSV_COLUMNS.get(h.strip().lower(), CSV_COLUMNS.get(h.strip())) for h in header]
    if "school" not in columns or "total" not in columns:
        msg = ("the header must name the school code and total columns "
               "(school,total,boarders,special_needs or 学校代码,在校生数,寄宿生数,特殊需要学生数)")
        raise InvalidInput(msg)
    rows: list[dict[str, Any]] = []
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            row: dict[str, Any] = {"line": line}
            for column, cell in zip(columns, cells, strict=False):
                if column == "school":
                    row["school"] = cell.strip()
                elif column is not None:
                    row[column] = _count(cell, line, column)
            rows.append(row)
    except csv.Error as error:
        msg = f"the file is not valid CSV: {error}"
        raise InvalidInput(msg) from None
    return rows


def _count(cell: str, line: int, column: str) -> int | str:
    text = cell.strip() or "0"
    if text.isascii() and text.isdigit():
        return int(text)
    if text.startswith("-") and text[1:].isdigit():
        return int(text)  # refused by the domain with the line named
    msg = f"line {line}: {column} must be a whole number of pupils, not {cell!r}"
    raise InvalidInput(msg)


def _validation(error: ValidationError) -> Exception:
    return RequestValidationError(error.errors(include_url=False))
