"""Export jobs over HTTP on both stores: 202 and a job to poll, progress, the file when done
(the same bytes the direct download gives), and every refusal: unknown or someone else's
job, a file asked for too early, a failed job, a bad kind or format, a non-auditor."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.settings import Settings
from domain.ledger import FundLedger
from projections import export_files, exports
from tests.audit.conftest import build_small_bureau
from tests.conftest import TODAY
from tests.dashboard_login import dashboard_login

JOB_WAIT_SECONDS = 30
VIEWS_WAIT_SECONDS = 10


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def call(self, method: str, path: str, role: str = "auditor", **params: Any) -> Any:
        return self.client.request(method, path, params=params,
                                   headers={"Authorization": f"Bearer {self.tokens[role]}"})

    def finished(self, job: dict[str, Any], role: str = "auditor") -> dict[str, Any]:
        deadline = time.monotonic() + JOB_WAIT_SECONDS
        while job["status"] == "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
            job = self.call("GET", job["links"]["self"], role).json()
        return job


@pytest.fixture
def api(store_settings: Settings, tmp_path: Any) -> Iterator[Api]:
    settings = store_settings.model_copy(update={"signing_key_path": tmp_path / "bureau.pem"})
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    tokens = {"auditor": ledger.add_user("user.auditor", ["auditor"]),
              "other": ledger.add_user("user.other", ["auditor"]),
              "reader": ledger.add_user("user.reader", ["reader"])}
    app = create_app(settings, clock=lambda: TODAY, ledger=ledger)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.queries.wait_for(ledger.recorder.max_notification_id(), VIEWS_WAIT_SECONDS)
        yield Api(client, tokens)
    ledger.close()


def test_a_journal_export_job_gives_the_same_file_as_the_direct_download(api: Api) -> None:
    started = api.call("POST", "/v1/audit/exports/journal", fiscal_year=2025, format="csv")
    assert started.status_code == 202
    job = started.json()
    assert started.headers["location"] == job["links"]["self"]
    assert job["status"] in ("running", "done") and job["kind"] == "journal"
    done = api.finished(job)
    assert done["status"] == "done" and done["progress"] == 1.0
    assert done["rows_written"] == done["rows_expected"] > 0
    file = api.call("GET", done["links"]["file"])
    assert file.status_code == 200
    assert file.headers["content-type"].startswith("text/csv")
    assert 'filename="journal-2025.csv"' in file.headers["content-disposition"]
    direct = api.call("GET", "/v1/audit/exports/journal", fiscal_year=2025, format="csv")
    assert direct.status_code == 200 and direct.content == file.content
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert len(rows) == done["rows_expected"]
    positions = [int(r["位置 position"]) for r in rows]
    assert positions == sorted(positions)


def test_an_xlsx_job_holds_every_row(api: Api) -> None:
    job = api.finished(api.call("POST", "/v1/audit/exports/journal", fiscal_year=2025,
                                format="xlsx").json())
    file = api.call("GET", job["links"]["file"])
    assert file.status_code == 200
    sheet = load_workbook(io.BytesIO(file.content), read_only=True)["journal"]
    assert sum(1 for _ in sheet.iter_rows()) == job["rows_expected"] + 1  # and the header


def test_balances_and_rural_exports_run_as_jobs_too(api: Api) -> None:
    for kind in ("balances", "rural"):
        job = api.finished(api.call("POST", f"/v1/audit/exports/{kind}", fiscal_year=2025,
                                    format="xlsx").json())
        assert job["status"] == "done", job
        assert api.call("GET", job["links"]["file"]).status_code == 200


def test_an_unknown_job_or_another_users_is_not_found(api: Api) -> None:
    missing = api.call("GET", "/v1/audit/export-jobs/0123456789abcdef")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert api.call("GET", "/v1/audit/export-jobs/0123456789abcdef/file").status_code == 404
    job = api.finished(api.call("POST", "/v1/audit/exports/balances", fiscal_year=2025).json())
    assert api.call("GET", job["links"]["self"], role="other").status_code == 404
    assert api.call("GET", job["links"]["file"], role="other").status_code == 404


def test_the_file_of_a_running_job_is_not_ready(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = exports.build_export

    def held(*args: Any, **kwargs: Any) -> export_files.Export:
        release.wait(JOB_WAIT_SECONDS)
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "build_export", held)
    job = api.call("POST", "/v1/audit/exports/journal", fiscal_year=2025).json()
    try:
        early = api.call("GET", job["links"]["file"])
        assert early.status_code == 409
        assert early.json()["type"].endswith("/export_not_ready")
        assert early.headers["retry-after"] == "1"
        assert api.call("GET", job["links"]["self"]).json()["status"] == "running"
    finally:
        release.set()
    assert api.finished(job)["status"] == "done"


def test_a_job_too_large_fails_and_says_why(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "EXPORT_ROWS_MAX", 3)
    job = api.finished(api.call("POST", "/v1/audit/exports/journal", fiscal_year=2025).json())
    assert job["status"] == "failed"
    assert job["error"]["type"] == "export_too_large"
    file = api.call("GET", job["links"]["file"])
    assert file.status_code == 409 and file.json()["type"].endswith("/export_failed")
    direct = api.call("GET", "/v1/audit/exports/journal", fiscal_year=2025)
    assert direct.status_code == 422  # the direct download refuses before sending a byte


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/v1/audit/exports/ledger", {"fiscal_year": 2025}, 422),
    ("/v1/audit/exports/journal", {"fiscal_year": 2025, "format": "pdf"}, 422),
    ("/v1/audit/exports/journal", {}, 422),
    ("/v1/audit/exports/journal", {"fiscal_year": 1066}, 422),
])
def test_a_bad_export_request_is_refused_and_starts_nothing(
        api: Api, path: str, params: dict[str, Any], status: int) -> None:
    refused = api.call("POST", path, **params)
    assert refused.status_code == status
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_only_auditors_start_or_read_export_jobs(api: Api) -> None:
    assert api.call("POST", "/v1/audit/exports/journal", role="reader",
                    fiscal_year=2025).status_code == 403
    assert api.client.post("/v1/audit/exports/journal?fiscal_year=2025").status_code == 401
    job = api.finished(api.call("POST", "/v1/audit/exports/balances", fiscal_year=2025).json())
    assert api.call("GET", job["links"]["self"], role="reader").status_code == 403


def test_the_dashboard_runs_the_journal_export_as_a_job_with_its_progress_page(api: Api) -> None:
    login = api.client.post("/dashboard/login", data={"token": api.tokens["auditor"]},
                            follow_redirects=False)
    assert login.status_code == 303  # a session, whose CSRF token every form carries
    audit = api.client.get("/dashboard/audit")
    assert 'id="journal-export-form"' in audit.text
    csrf = audit.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert api.client.post("/dashboard/audit/jobs", data={"kind": "journal", "format": "csv",
                                                          "year": "2025"}).status_code == 403
    started = api.client.post("/dashboard/audit/jobs", data={"kind": "journal", "format": "csv",
                                                             "year": "2025", "csrf_token": csrf},
                              follow_redirects=False)
    assert started.status_code == 303
    page_path = started.headers["location"]
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    while 'data-status="running"' in (page := api.client.get(page_path)).text:
        assert 'http-equiv="refresh"' in page.text
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert 'id="export-download"' in page.text
    file = api.client.get(f"{page_path}/file")
    assert file.status_code == 200 and file.content.startswith("\ufeff位置 position,".encode())
    assert "资金下达".encode() in file.content  # the dashboard's language (zh): events named in it
    assert api.client.get("/dashboard/audit/jobs/nope").status_code == 404
    assert api.client.post("/dashboard/audit/jobs", data={"kind": "ledger", "format": "csv",
                                                          "year": "2025", "csrf_token": csrf}
                           ).status_code == 404
    dashboard_login(api.client, api.tokens["other"])
    assert api.client.get(page_path).status_code == 404  # another auditor's job
    assert api.client.get(f"{page_path}/file").status_code == 404


def test_a_repeat_under_the_same_idempotency_key_answers_the_same_job(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.tokens['auditor']}", "Idempotency-Key": "exp-1"}
    first = api.client.post("/v1/audit/exports/balances?fiscal_year=2025", headers=headers)
    again = api.client.post("/v1/audit/exports/balances?fiscal_year=2025", headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["job"] == again.json()["job"]
    other = api.client.post("/v1/audit/exports/balances?fiscal_year=2025",
                            headers={**headers, "Authorization": f"Bearer {api.tokens['other']}"})
    assert other.json()["job"] != first.json()["job"]  # keys are each user's own
    changed = api.client.post("/v1/audit/exports/journal?fiscal_year=2025", headers=headers)
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("/idempotency_key_reused")
