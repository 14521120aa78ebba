"""The CSV import page: the upload (an officer's), the history of imports and the
templates to fill in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from api.dashboard.pages import (
    AsOf,
    PageActor,
    ViewsDb,
    _language,
    _render,
)
from api.reads import PrimaryViewsDb
from domain.actors import Role
from domain.book_import import import_csv
from domain.errors import LedgerError
from domain.import_sheet import ImportKind, template_csv
from domain.terms import refusal_line
from projections.database import ViewDatabase
from projections.import_records import ImportRecords

router = APIRouter(prefix="/dashboard", include_in_schema=False)
IMPORT_HISTORY_SHOWN_MAX = 20  # the rest: GET /v1/imports


@router.get("/imports", response_class=HTMLResponse)
def import_form(request: Request, actor: PageActor, db: PrimaryViewsDb, as_of: AsOf = "",
                year: str | None = None) -> Response:
    return _render(request, "imports.html", actor, db, "imports", as_of, year, result=None,
                   history=ImportRecords(db).history(IMPORT_HISTORY_SHOWN_MAX)[0])


@router.post("/imports", response_class=HTMLResponse)
async def import_upload(request: Request, actor: PageActor, db: ViewsDb) -> Response:
    # Connecting and rendering read the views, importing the store: each in the pool, never
    # on the event loop.
    if Role.OFFICER not in actor.roles:
        return await run_in_threadpool(lambda: _render(
            request, "denied.html", actor, db, "imports", "", None, message_key="not_officer"))
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    filename = upload.filename or "" if isinstance(upload, UploadFile) else ""
    records = ImportRecords(await run_in_threadpool(ViewDatabase.open, request.app.state.settings))
    try:
        result = await run_in_threadpool(import_csv, request.app.state.ledger, actor, data,
                                         filename=filename, records=records)
        problem = None
    except LedgerError as error:
        result, problem = None, refusal_line(error, _language(request))
    finally:
        records.close()
    return await run_in_threadpool(lambda: _render(
        request, "imports.html", actor, db, "imports", "", None, result=result, problem=problem,
        history=ImportRecords(db).history(IMPORT_HISTORY_SHOWN_MAX)[0]))


@router.get("/imports/template/{kind}")
def import_template(request: Request, kind: ImportKind) -> Response:
    language = _language(request)
    return Response(template_csv(kind, language).encode("utf-8"), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'})
