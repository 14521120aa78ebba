"""The auditor's API: the journal, an entity's history, the chain check, signed digests and
exports. Every route needs the auditor role; none writes to the books.

GET /v1/audit/journal?after=&limit=&min_position= ·
GET /v1/audit/history/{entity_id}?after=&limit=&min_position= ·
GET /v1/audit/verify · POST /v1/audit/digests · GET /v1/audit/public-key ·
GET /v1/audit/exports/{kind}?fiscal_year=&as_of=&format= ·
POST /v1/audit/exports/{kind}?… (a job) · GET /v1/audit/export-jobs/{id} · GET …/{id}/file
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel

from api.auth import Auditor
from api.commands import IdempotencyKey
from api.export_jobs import ExportJobs
from api.language import LangQuery, request_language
from api.problems import ApiProblem
from api.reads import POSITION_MAX, MinPosition, PrimaryViewsDb, ViewsDb, asked_url, queries_of, views_at
from api.settings import Settings
from api.strict_json import StrictJsonRoute
from domain.errors import InvalidInput, NotFound
from domain.limits import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from projections import chain_checkpoint, digests, export_files, exports
from projections.database import ViewDatabase
from projections.journal import JOURNAL_PAGE_LIMIT_MAX, entity_history, journal_page
from projections.signed_digests import SIGNED_DIGESTS_LISTED_MAX, SignedDigests

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/audit", tags=["audit"])
ENTITY_LENGTH_MAX = 64


class JournalItem(BaseModel):
    position: int
    recorded_at: str
    actor: str | None
    actor_role: str | None
    entity_id: str
    entity_type: str
    entity_version: int
    event: str
    amount: int | None
    unit: str | None
    reason: str | None
    effective_date: str | None
    idempotency_key: str | None
    hash: str


class JournalPage(BaseModel):
    items: list[JournalItem]
    next: str | None


class History(BaseModel):
    entity: str
    items: list[JournalItem]
    next: str | None


class VerifyAnswer(BaseModel):
    ok: bool
    checked: int
    head_hash: str
    first_bad_position: int | None
    head_position: int
    problem: str | None
    pending: int


class Digest(BaseModel):
    """A signed digest of the journal's head, as projections/digests.py makes it."""

    algorithm: str
    position: int
    head_hash: str
    events: int
    signed_at: str
    public_key: str
    signature: str


class DigestAnswer(Digest):
    public_key_pem: str


AfterPosition = Annotated[int, Query(ge=0, le=POSITION_MAX,
                                     description="The position after which to start")]
JournalLimit = Annotated[int, Query(ge=1, le=JOURNAL_PAGE_LIMIT_MAX)]


@router.get("/journal", response_model=JournalPage)
def journal(_: Auditor, request: Request, db: ViewsDb, after: AfterPosition = 0,
            limit: JournalLimit = 100, min_position: MinPosition = None) -> JournalPage:
    """Every event flattened, oldest first, each with its hash-chain link."""
    views_at(request, min_position)
    items, next_after = journal_page(db, after, limit)
    next_link = (None if next_after is None
                 else str(asked_url(request).include_query_params(after=next_after, limit=limit)))
    return JournalPage(items=[JournalItem(**item) for item in items], next=next_link)


@router.get("/history/{entity_id}", response_model=History)
def history(_: Auditor, request: Request, db: ViewsDb,
            entity_id: Annotated[str, Path(min_length=1, max_length=ENTITY_LENGTH_MAX)],
            after: AfterPosition = 0, limit: JournalLimit = 100,
            min_position: MinPosition = None) -> History:
    """Every event of one school, fund, allocation or expenditure (by id, or a school's or
    fund's code), in order, with who did it, when and why; a page at a time."""
    views_at(request, min_position)
    items = entity_history(db, entity_id, after, limit)
    if not items and after == 0:
        msg = f"no events of {entity_id} are in the journal"
        raise NotFound(msg)
    next_link = (str(asked_url(request).include_query_params(after=items[-1]["position"], limit=limit))
                 if len(items) == limit else None)
    return History(entity=entity_id, items=[JournalItem(**item) for item in items], next=next_link)


@router.get("/verify", response_model=VerifyAnswer)
def verify(_: Auditor, request: Request, db: PrimaryViewsDb) -> VerifyAnswer:
    """Recomputes the hash chain from the first stored event and compares it with the journal
    (the whole log, a few seconds at a year's size); a whole chain's head becomes the signed
    checkpoint the dashboard's audit page continues from."""
    settings: Settings = request.app.state.settings
    result = chain_checkpoint.verify_whole(db, digests.signing_key(settings.signing_key_path))
    return VerifyAnswer(ok=result.ok, checked=result.checked, head_hash=result.head_hash,
                        first_bad_position=result.first_bad_position,
                        head_position=result.head_position, problem=result.problem,
                        pending=result.pending)


@router.post("/digests", response_model=DigestAnswer, status_code=201)
def take_digest(actor: Auditor, request: Request, db: ViewsDb) -> DigestAnswer:
    """The journal's head (position, link, time), signed with the bureau's Ed25519 key and
    kept in the list of digests signed so far. Keep it too: `fundledger verify --digest FILE`
    later proves history up to it is unchanged."""
    settings: Settings = request.app.state.settings
    key = digests.signing_key(settings.signing_key_path)
    try:
        digest = digests.digest_of_journal(db, key)
    except digests.DigestInvalid as error:
        raise InvalidInput(str(error)) from None
    SignedDigests(db).keep(digest, actor.user_id)
    pem = digests.public_pem(key.public_key()).decode()
    return DigestAnswer(**digest.__dict__, public_key_pem=pem)


class SignedDigest(Digest):
    signed_by: str


class SignedDigestList(BaseModel):
    items: list[SignedDigest]


@router.get("/digests", response_model=SignedDigestList)
def signed_digests(_: Auditor, db: PrimaryViewsDb,
                   limit: Annotated[int, Query(ge=1, le=SIGNED_DIGESTS_LISTED_MAX)] = 50,
                   ) -> SignedDigestList:
    """The digests signed so far, newest first, with who asked for each."""
    return SignedDigestList(items=[SignedDigest(**digest.__dict__, signed_by=by)
                                   for digest, by in SignedDigests(db).listed(limit)])


@router.get("/public-key", response_class=Response,
            responses={200: {"content": {"application/x-pem-file": {}}}})
def public_key(_: Auditor, request: Request) -> Response:
    """The bureau's public key (PEM), which digests are verified against."""
    settings: Settings = request.app.state.settings
    key = digests.signing_key(settings.signing_key_path)
    return Response(digests.public_pem(key.public_key()), media_type="application/x-pem-file")


# `rural-support` is the report's one name (GET /v1/reports/rural-support, the CLI's `report
# rural-support`); `rural`, its first name here, stays an alias so existing links keep working.
ExportKind = Literal["balances", "journal", "rural-support", "rural", "carry-over", "funds"]
EXPORT_ALIASES = {"rural-support": "rural"}  # the name the exports module builds it under
ExportYear = Annotated[int, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)]
ExportFormat = Annotated[Literal["csv", "xlsx"], Query(alias="format")]
EXPORT_JOBS_PATH = "/v1/audit/export-jobs"
JOB_ID_LENGTH_MAX = 64


@router.get("/exports/{kind}", response_class=Response,
            responses={200: {"content": {export_files.CSV_MEDIA_TYPE: {}, export_files.XLSX_MEDIA_TYPE: {}}}})
def export(_: Auditor, request: Request, kind: ExportKind, fiscal_year: ExportYear,
           as_of: date | None = None, output_format: ExportFormat = "csv",
           lang: LangQuery = None) -> Response:
    """Balances, journal or rural-support report of a year (as of a date) as CSV or XLSX,
    answered at once; headers bilingual, values of the books in `lang` (else Accept-Language,
    else English). CSV is streamed: rows are sent as they are read, memory stays flat.
    For a year's journal as XLSX, start a job instead (`POST` here): see docs/api.md."""
    db = ViewDatabase.open(request.app.state.settings)  # closed when the last row is sent
    try:
        built = exports.build_export(EXPORT_ALIASES.get(kind, kind), db, queries_of(request),
                                     fiscal_year, as_of)
    except export_files.ExportTooLarge as error:
        db.close()
        raise InvalidInput(str(error)) from None
    except BaseException:
        db.close()
        raise
    filename = built.filename(output_format)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    language = request_language(request, lang)
    if output_format == "csv":
        return StreamingResponse(
            _closing(export_files.csv_chunks(built.sheets[0], language=language), db),
            media_type=export_files.CSV_MEDIA_TYPE, headers=headers)
    try:
        body = built.render(output_format, language)
    finally:
        db.close()
    return Response(body, media_type=export_files.XLSX_MEDIA_TYPE, headers=headers)


def _closing(chunks: Iterator[bytes], db: ViewDatabase) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        db.close()


class ExportJobLinks(BaseModel):
    self: str
    file: str


class ExportJobError(BaseModel):
    type: str
    detail: str


class ExportJobAnswer(BaseModel):
    job: str
    status: Literal["running", "done", "failed"]
    kind: str
    format: str
    fiscal_year: int
    as_of: date | None
    rows_written: int
    rows_expected: int | None
    progress: float | None
    filename: str | None
    error: ExportJobError | None
    links: ExportJobLinks


def _jobs(request: Request) -> ExportJobs:
    jobs: ExportJobs = request.app.state.export_jobs
    return jobs


@router.post("/exports/{kind}", status_code=202, response_model=ExportJobAnswer)
def start_export(actor: Auditor, request: Request, response: Response, kind: ExportKind,
                 fiscal_year: ExportYear, as_of: date | None = None,
                 output_format: ExportFormat = "csv",
                 idempotency_key: IdempotencyKey = None, lang: LangQuery = None) -> ExportJobAnswer:
    """Starts writing the export in the background and answers at once: 202 with the job,
    whose `links.self` tells its progress and `links.file` gives the file when it is done.
    A repeat under the same `Idempotency-Key` answers the job the first one started."""
    job = _jobs(request).start(actor.user_id, EXPORT_ALIASES.get(kind, kind), output_format,
                               fiscal_year, as_of, idempotency_key,
                               request_language(request, lang))
    response.headers["Location"] = f"{EXPORT_JOBS_PATH}/{job.id}"
    return ExportJobAnswer(**job.as_dict(EXPORT_JOBS_PATH))


JobId = Annotated[str, Path(min_length=1, max_length=JOB_ID_LENGTH_MAX)]


@router.get("/export-jobs/{job_id}", response_model=ExportJobAnswer)
def export_job(actor: Auditor, request: Request, job_id: JobId) -> ExportJobAnswer:
    """An export job's status and progress (rows written of rows expected)."""
    return ExportJobAnswer(**_jobs(request).get(actor.user_id, job_id).as_dict(EXPORT_JOBS_PATH))


@router.get("/export-jobs/{job_id}/file", response_class=FileResponse,
            responses={200: {"content": {export_files.CSV_MEDIA_TYPE: {}, export_files.XLSX_MEDIA_TYPE: {}}}})
def export_job_file(actor: Auditor, request: Request, job_id: JobId) -> FileResponse:
    """The file of a finished export job; 409 while it is still being written or if it failed."""
    job = _jobs(request).get(actor.user_id, job_id)
    if job.status == "failed":
        raise ApiProblem("export_failed", f"{job.error_code}: {job.error}")
    if job.status != "done" or job.path is None:
        done = f"{job.rows_written} of {job.rows_expected} rows" if job.rows_expected else \
            f"{job.rows_written} rows"
        raise ApiProblem("export_not_ready", f"export job {job.id} is still running ({done} written)",
                         headers={"Retry-After": "1"})
    media = export_files.XLSX_MEDIA_TYPE if job.output_format == "xlsx" else export_files.CSV_MEDIA_TYPE
    return FileResponse(job.path, media_type=media, filename=job.filename)


