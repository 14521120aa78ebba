"""The auditor's pages: the journal and its chain, exports (at once or as a background
job) and signed digests."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.dashboard.pages import (
    AsOf,
    ViewsDb,
    _auditor_or_refusal,
    _day,
    _language,
    _page_context,
    _render,
)
from api.export_jobs import ExportJob, ExportJobUnknown
from api.reads import PrimaryViewsDb
from domain.actors import Actor
from projections import chain_checkpoint, digests, export_files, exports, journal_queries
from projections.findings.cache import store_key
from projections.signed_digests import SIGNED_DIGESTS_LISTED_MAX, SignedDigests

router = APIRouter(prefix="/dashboard", include_in_schema=False)
DIGESTS_SHOWN_MAX = 10  # the rest: GET /v1/audit/digests, `fundledger digests`


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, db: PrimaryViewsDb, as_of: AsOf = "", year: str | None = None,
          entity_type: Annotated[str, Query(max_length=40)] = "",
          actor_name: Annotated[str, Query(alias="actor", max_length=64)] = "",
          event: Annotated[str, Query(max_length=60)] = "",
          entity: Annotated[str, Query(max_length=64)] = "",
          before: Annotated[int, Query(ge=0)] = 0, internal: bool = False) -> Response:
    actor = _auditor_or_refusal(request, db, "audit", as_of, year)
    if isinstance(actor, Response):
        return actor
    day, fiscal_year = _page_context(request, db, as_of, year)
    key = digests.signing_key(request.app.state.settings.signing_key_path)
    # From the last verified position on, not from the first event on every view.
    chain = chain_checkpoint.verify_continuing(db, key)
    signed = SignedDigests(db).listed(DIGESTS_SHOWN_MAX)  # signed when asked, never on a view
    rows, cursor = journal_queries.journal_filtered(db, entity_type=entity_type, actor=actor_name,
                                          event=event, entity=entity.strip(), as_of=day,
                                          before=before, fiscal_year=fiscal_year,
                                          internal=internal)
    types, events = journal_queries.journal_choices(db, store_key(request.app.state.settings))
    next_query = (urlencode({**request.query_params, "before": cursor})
                  if cursor is not None else None)
    return _render(request, "audit.html", actor, db, "audit", as_of, year,
                   verification=chain.verification, chain=chain, signed=signed, rows=rows,
                   types=types,
                   events=events, entity_type=entity_type, actor_name=actor_name, event=event,
                   entity=entity.strip(), next_query=next_query, internal=internal)


@router.get("/audit/export/{kind}")
def export(request: Request, kind: str, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
           output_format: Annotated[str, Query(alias="format")] = "csv") -> Response:
    actor = _auditor_or_refusal(request)
    if isinstance(actor, Response):
        return actor
    if kind not in ("balances", "journal", "rural") or output_format not in ("csv", "xlsx"):
        return Response(status_code=404)
    day, fiscal_year = _page_context(request, db, as_of, year)
    built = exports.build_export(kind, db, request.app.state.queries, fiscal_year, day)
    media = export_files.XLSX_MEDIA_TYPE if output_format == "xlsx" else export_files.CSV_MEDIA_TYPE
    return Response(built.render(output_format, _language(request)), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{built.filename(output_format)}"'})


@router.post("/audit/digests")
def sign_digest(request: Request, db: ViewsDb) -> Response:
    """The auditor asks for a digest: the journal's head is signed and kept in the list."""
    actor = _auditor_or_refusal(request)
    if isinstance(actor, Response):
        return actor
    try:
        digest = digests.digest_of_journal(
            db, digests.signing_key(request.app.state.settings.signing_key_path))
    except digests.DigestInvalid:
        return RedirectResponse("/dashboard/audit#digest", status_code=303)
    SignedDigests(db).keep(digest, actor.user_id)
    return RedirectResponse("/dashboard/audit#digest", status_code=303)


@router.post("/audit/jobs")
async def start_export_job(request: Request) -> Response:
    """Starts an export in the background and shows its page (progress, then the file)."""
    # Checking the token may read the store: in the pool, never on the event loop.
    refusal = await run_in_threadpool(_auditor_or_refusal, request)
    if isinstance(refusal, Response):
        return refusal
    form = await request.form()
    kind, output_format = str(form.get("kind", "")), str(form.get("format", ""))
    year_text, day = str(form.get("year", "")), _day(str(form.get("as_of", "")))
    if kind not in exports.KINDS or output_format not in export_files.FORMATS or not year_text.isdigit():
        return Response(status_code=404)
    job = request.app.state.export_jobs.start(refusal.user_id, kind, output_format,
                                              int(year_text), day, language=_language(request))
    return RedirectResponse(f"/dashboard/audit/jobs/{job.id}", status_code=303)


def _export_job(request: Request, actor: Actor, job_id: str) -> ExportJob | None:
    try:
        job: ExportJob = request.app.state.export_jobs.get(actor.user_id, job_id)
    except ExportJobUnknown:
        return None
    return job


@router.get("/audit/jobs/{job_id}", response_class=HTMLResponse)
def export_job_page(request: Request, job_id: str, db: ViewsDb) -> Response:
    actor = _auditor_or_refusal(request, db, "audit")
    if isinstance(actor, Response):
        return actor
    job = _export_job(request, actor, job_id)
    if job is None:
        return Response(status_code=404, content=f"no export job {job_id}")
    return _render(request, "export_job.html", actor, db, "audit", "", str(job.fiscal_year),
                   job=job)


@router.get("/audit/jobs/{job_id}/file")
def export_job_file(request: Request, job_id: str) -> Response:
    actor = _auditor_or_refusal(request)
    if isinstance(actor, Response):
        return actor
    job = _export_job(request, actor, job_id)
    if job is None or job.status != "done" or job.path is None:
        return Response(status_code=404, content=f"no finished export job {job_id}")
    media = export_files.XLSX_MEDIA_TYPE if job.output_format == "xlsx" else export_files.CSV_MEDIA_TYPE
    return FileResponse(job.path, media_type=media, filename=job.filename)


@router.get("/audit/digest.json")
def digest_file(request: Request, db: PrimaryViewsDb,
                signed_at: Annotated[str, Query(max_length=40)] = "",
                position: Annotated[int, Query(ge=0)] = 0) -> Response:
    """A digest signed earlier (the newest, unless one is named), to keep as a file."""
    refusal = _auditor_or_refusal(request)
    if isinstance(refusal, Response):
        return refusal
    kept = [d for d, _ in SignedDigests(db).listed(SIGNED_DIGESTS_LISTED_MAX)
            if (not signed_at or d.signed_at == signed_at) and position in (0, d.position)]
    if not kept:
        return Response(status_code=404)
    digest = kept[0]
    return Response(digest.to_json(), media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="digest-{digest.position}.json"'})
