"""/v1/imports: upload a CSV of allocations or expenditures (officer); every row is applied in
one atomic batch or none is, and a rejected file's answer lists its bad rows by line.

POST /v1/imports (multipart `file`, or the CSV itself as a text/csv body) ·
GET /v1/imports/template?kind=&lang= · GET /v1/imports/{id}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from api import problems
from api.auth import Officer, Reader, requires
from api.commands import IdempotencyKey
from api.language import LangQuery, Language, request_language
from api.reads import next_link
from api.strict_json import StrictJsonRoute
from domain.actors import Actor, Role
from domain.book_import import ImportResult, import_csv
from domain.errors import InvalidInput, NotFound
from domain.import_sheet import ImportKind, template_csv
from domain.ledger import FundLedger
from domain.terms import refusal_title
from projections.database import ViewDatabase
from projections.import_records import ImportRecords

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/imports", tags=["imports"])
FILENAME_LENGTH_MAX = 255
IMPORTS_PAGE_MAX = 1000
OfficerOrAuditor = Annotated[Actor, Depends(requires(Role.OFFICER, Role.AUDITOR))]


class RowErrorPublic(BaseModel):
    line: int
    code: str
    title: str = Field(description="The code's name in the answer's language")
    detail: str = Field(description="The reason, in the answer's language (`lang`)")
    column: str | None


class ImportSummary(BaseModel):
    """One import in the history: what, who, when, how it ended (its bad rows: GET /{id})."""

    id: str
    kind: str
    status: Literal["applied", "rejected"]
    filename: str
    actor: str
    started_at: str
    finished_at: str
    rows: int
    applied: int
    bad_rows: int
    position: int


class ImportPublic(ImportSummary):
    sha256: str
    errors: list[RowErrorPublic]
    idempotency_key: str | None
    replayed: bool


def import_records(request: Request) -> Iterator[ImportRecords]:
    records = ImportRecords(ViewDatabase.open(request.app.state.settings))
    try:
        yield records
    finally:
        records.close()


Records = Annotated[ImportRecords, Depends(import_records)]


def _public(result: ImportResult, language: Language = "en") -> ImportPublic:
    """The import as recorded, its row errors' titles and reasons in `language`."""
    fields = result.as_dict()
    fields["errors"] = [
        {"line": e.line, "code": e.code, "column": e.column, "detail": e.reason(language),
         "title": refusal_title(e.code, language)}
        for e in result.errors]
    return ImportPublic.model_validate(fields)


@router.post("", status_code=201, response_model=ImportPublic,
             responses={422: {"description": "The file was refused; `import.errors` lists its "
                                             "bad rows by line", "content": {
                                                 problems.PROBLEM_MEDIA_TYPE: {}}}},
             openapi_extra={"requestBody": {"content": {
                 "multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"], "additionalProperties": False,
                     "properties": {"file": {"type": "string", "format": "binary"}}}},
                 "text/csv": {"schema": {"type": "string"}}}}})
async def post_import(
    request: Request, actor: Officer, records: Records,
    kind: Annotated[ImportKind | None, Query(description="Default: read from the header")] = None,
    lang: LangQuery = None, idempotency_key: IdempotencyKey = None,
) -> Response:
    """Import a month's allocations (as proposals) or expenditures from a CSV (officer).
    Column layout: docs/import-format.md; a template: GET /v1/imports/template. Row errors'
    titles and reasons are in `lang`, else the Accept-Language (zh or en), else English."""
    language = request_language(request, lang)
    data, filename = await _upload(request)
    ledger: FundLedger = request.app.state.ledger
    result = await run_in_threadpool(
        import_csv, ledger, actor, data, filename=filename, kind=kind,
        idempotency_key=idempotency_key, records=records)
    public = _public(result, language).model_dump(mode="json")
    if result.status != "applied":
        first = result.errors[0] if result.errors else None
        where = f"; first at line {first.line}: {first.reason(language)}" if first else ""
        return problems.problem(422, "import_rejected", "The file was refused; nothing was written",
                                f"{result.bad_rows} of {result.rows} rows are refused{where}",
                                **{"import": public})
    headers = {"Location": f"/v1/imports/{result.id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(public, status_code=201, headers=headers)


async def _upload(request: Request) -> tuple[bytes, str]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            msg = "send the CSV as the form field `file`"
            raise InvalidInput(msg)
        return await upload.read(), (upload.filename or "")[:FILENAME_LENGTH_MAX]
    if content_type.startswith(("text/csv", "text/plain", "application/octet-stream")):
        return await request.body(), ""
    msg = "send the CSV as multipart/form-data (field `file`) or as a text/csv body"
    raise InvalidInput(msg)


@router.get("/template", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def template(_: Reader, kind: ImportKind,
             lang: Annotated[Literal["zh", "en"], Query()] = "zh") -> Response:
    """A CSV with the header row and one example row (UTF-8 with BOM, as Excel expects)."""
    return Response(template_csv(kind, lang).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'})


class ImportHistory(BaseModel):
    items: list[ImportSummary]
    next: str | None


@router.get("", response_model=ImportHistory)
def list_imports(_: OfficerOrAuditor, records: Records, request: Request,
                 limit: Annotated[int, Query(ge=1, le=IMPORTS_PAGE_MAX)] = 50,
                 after: Annotated[str | None, Query(max_length=200)] = None) -> ImportHistory:
    """The imports done so far, newest first, in pages."""
    found, cursor = records.history(limit, after)
    return ImportHistory(
        items=[ImportSummary(**{k: v for k, v in r.as_dict().items() if k in ImportSummary.model_fields})
               for r in found],
        next=next_link(request, cursor))


@router.get("/{id}", response_model=ImportPublic)
def get_import(_: OfficerOrAuditor, records: Records, request: Request,
               import_id: Annotated[UUID, Path(alias="id")], lang: LangQuery = None) -> ImportPublic:
    """An import as it was recorded: who, when, how many rows, and its bad rows if refused
    (their titles and reasons in `lang`, else the Accept-Language, else English)."""
    found = records.get(str(import_id))
    if found is None:
        msg = f"import {import_id} not found"
        raise NotFound(msg)
    return _public(found, request_language(request, lang))
