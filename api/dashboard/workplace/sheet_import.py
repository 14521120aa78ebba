"""The officer's spreadsheet import in the workplace: the same use case as POST /v1/imports
(domain/book_import.py: every row checked by the command it becomes, all rows or none), with
the file's rows shown and each refused row's reasons beside it. The form's idempotency key
is the import's key, so a resubmitted upload replays the first import instead of importing
twice.

GET /dashboard/work/import · POST /dashboard/work/import
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.dashboard.pages import ViewsDb
from api.dashboard.workplace import context
from api.problems import STATUS_BY_CODE
from domain.actors import Role
from domain.book_import import import_csv
from domain.errors import LedgerError
from domain.import_sheet import COLUMNS, read_sheet
from domain.terms import error_title
from projections.database import ViewDatabase
from projections.import_records import ImportRecords

router = APIRouter(prefix="/dashboard/work/import", include_in_schema=False)
ROWS_SHOWN_MAX = 2_000  # every refused row is shown; good rows up to this many


@router.get("")
def import_page(request: Request, db: ViewsDb) -> Response:
    who = context.worker_as(request, db, Role.OFFICER)
    if isinstance(who, Response):
        return who
    return context.render(request, "work/import.html", who, db, "work", key=context.new_key(),
                          result=None, rows=[], columns=[], problem="")


def _rows_with_errors(data: bytes, result: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The file's rows, each with the reasons it was refused (none for a good row)."""
    try:
        sheet = read_sheet(data)
    except LedgerError:
        return [], []
    by_line: dict[int, list[Any]] = {}
    for error in result.errors:
        by_line.setdefault(error.line, []).append(error)
    columns = list(sheet.rows[0].cells) if sheet.rows else []
    shown = [{"line": row.line, "cells": row.cells, "errors": by_line.get(row.line, [])}
             for index, row in enumerate(sheet.rows)
             if row.line in by_line or index < ROWS_SHOWN_MAX]
    return columns, shown


@router.post("")
async def import_upload(request: Request, db: ViewsDb) -> Response:
    gated = await context.authorised_post(request, db, Role.OFFICER)
    if isinstance(gated, Response):
        return gated
    who, form = gated
    key = context.form_key(form) or context.new_key()
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    filename = (upload.filename or "") if isinstance(upload, UploadFile) else ""
    # Connecting, importing and rendering read the store and the views: in the pool
    # (api/dashboard/workplace/context.py).
    records = ImportRecords(await run_in_threadpool(ViewDatabase.open, request.app.state.settings))
    try:
        result = await run_in_threadpool(import_csv, request.app.state.ledger, who.actor, data,
                                         filename=filename, idempotency_key=key,
                                         records=records)
    except LedgerError as error:
        problem = f"{error_title(error.code, error.title, who.language)}"
        status, detail = STATUS_BY_CODE.get(error.code, 422), error.detail_in(who.language)
        return await run_in_threadpool(lambda: context.render(
            request, "work/import.html", who, db, "work", status, key=key, result=None,
            rows=[], columns=[], problem=problem, problem_detail=detail))
    finally:
        records.close()
    columns, rows = _rows_with_errors(data, result) if result.status != "applied" else ([], [])
    return await run_in_threadpool(lambda: context.render(
        request, "work/import.html", who, db, "work", 200 if result.status == "applied" else 422,
        key=key, result=result, rows=rows, columns=columns, problem="",
        headings={c: _heading(c, who.language) for c in columns}))


def _heading(field: str, language: str) -> str:
    """A column as the template's header names it in the language (学校代码, not `school`):
    the first Chinese or the first English of the column's accepted headers."""
    for column in (c for kind in COLUMNS.values() for c in kind if c.field == field):
        chinese = [h for h in column.headers if not h.isascii()]
        return chinese[0] if language == "zh" and chinese else column.headers[0]
    return field
