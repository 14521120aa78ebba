"""Export jobs: an auditor's export written in the background, its progress asked for, its
file downloaded when done — so a year's journal (600,000 rows, tens of seconds as XLSX)
never holds a request worker.

One thread writes the exports one after another (they read the whole journal; two at once
would only share the same two cores), each on a views connection of its own, into a file
of this server's export directory, renamed into place when complete. Jobs live in the
server's memory: a restart forgets them and their files (the auditor asks again), and a
server keeps the last `JOBS_KEPT` of them. A job is its starter's: another user asking for it
is told it does not exist.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.errors import IdempotencyKeyReused, NotFound
from projections import export_files, exports
from projections.database import ViewDatabase

if TYPE_CHECKING:
    from api.settings import Settings
    from projections.queries import BureauQueries

JOBS_KEPT = 32

RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass
class ExportJob:
    id: str
    owner: str
    kind: str
    output_format: str
    fiscal_year: int
    as_of: date | None
    language: str = "en"  # of the values of the books in the file (headers are bilingual)
    status: str = RUNNING
    rows_written: int = 0
    rows_expected: int | None = None
    filename: str = ""
    error_code: str | None = None
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    path: Path | None = None

    @property
    def progress(self) -> float | None:
        """Share of the rows written, 0 … 1 (None while the count is not known)."""
        if self.status == DONE:
            return 1.0
        if not self.rows_expected:
            return None
        return min(1.0, self.rows_written / self.rows_expected)

    def as_dict(self, base: str) -> dict[str, Any]:
        return {
            "job": self.id, "status": self.status, "kind": self.kind, "format": self.output_format,
            "fiscal_year": self.fiscal_year,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "rows_written": self.rows_written, "rows_expected": self.rows_expected,
            "progress": self.progress, "filename": self.filename or None,
            "error": ({"type": self.error_code, "detail": self.error}
                      if self.error_code else None),
            "links": {"self": f"{base}/{self.id}", "file": f"{base}/{self.id}/file"},
        }


class ExportJobUnknown(NotFound):
    """No such export job for this user (never started, forgotten, or another user's)."""


class ExportJobs:
    """The export jobs of one server."""

    def __init__(self, settings: Settings, queries: BureauQueries | None,
                 directory: Path | None = None) -> None:
        self.settings = settings
        self.queries = queries
        self.directory = directory or Path(tempfile.mkdtemp(prefix="fundledger-exports-"))
        self._own_directory = directory is None
        self._jobs: OrderedDict[str, ExportJob] = OrderedDict()
        self._by_key: dict[tuple[str, str], str] = {}  # (owner, idempotency key) -> job id
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fundledger-export")

    def start(self, owner: str, kind: str, output_format: str, fiscal_year: int,
              as_of: date | None, idempotency_key: str | None = None,
              language: str = "en") -> ExportJob:
        """A new job; or, under an idempotency key this user gave before, the job it started
        (while the server still keeps it)."""
        if kind not in exports.KINDS or output_format not in export_files.FORMATS:
            msg = f"no {kind} export as {output_format}"
            raise ValueError(msg)
        job = ExportJob(uuid.uuid4().hex, owner, kind, output_format, fiscal_year, as_of, language)
        with self._lock:
            if idempotency_key is not None:
                earlier = self._jobs.get(self._by_key.get((owner, idempotency_key), ""))
                if earlier is not None:
                    asked = (kind, output_format, fiscal_year, as_of, language)
                    if asked != (earlier.kind, earlier.output_format, earlier.fiscal_year,
                                 earlier.as_of, earlier.language):
                        msg = (f"Idempotency-Key {idempotency_key} started another export "
                               f"({earlier.kind} {earlier.fiscal_year} {earlier.output_format})")
                        raise IdempotencyKeyReused(msg)
                    return earlier
                self._by_key[(owner, idempotency_key)] = job.id
            self._jobs[job.id] = job
            while len(self._jobs) > JOBS_KEPT:
                _, forgotten = self._jobs.popitem(last=False)
                if forgotten.path is not None:
                    forgotten.path.unlink(missing_ok=True)
        self._writer.submit(self._run, job)
        return job

    def get(self, owner: str, job_id: str) -> ExportJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            msg = f"no export job {job_id}"
            raise ExportJobUnknown(msg)
        return job

    def _run(self, job: ExportJob) -> None:
        db = ViewDatabase.open(self.settings)
        part = self.directory / f"{job.id}.{job.output_format}.part"
        try:
            built = exports.build_export(job.kind, db, self.queries, job.fiscal_year,  # type: ignore[arg-type]
                                         job.as_of)
            job.rows_expected = built.rows_expected
            job.filename = built.filename(job.output_format)

            def progress(rows: int) -> None:
                job.rows_written = rows

            with part.open("wb") as out:
                built.write(job.output_format, out, progress, job.language)
            final = self.directory / f"{job.id}.{job.output_format}"
            part.replace(final)
            job.path = final
            job.status = DONE
        except export_files.ExportTooLarge as error:
            self._failed(job, "export_too_large", str(error))
        except Exception as error:  # any failure is the job's answer; the server goes on
            self._failed(job, "export_failed", f"{type(error).__name__}: {error}")
        finally:
            part.unlink(missing_ok=True)
            job.finished_at = time.time()
            db.close()

    @staticmethod
    def _failed(job: ExportJob, code: str, detail: str) -> None:
        job.error_code, job.error, job.status = code, detail, FAILED

    def close(self) -> None:
        self._writer.shutdown(wait=True, cancel_futures=True)
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
