"""A store that cannot be reached: every request is answered at once with a 503
`store_unavailable` problem (RFC 9457, with Retry-After), never a bare 503 and never a 500;
and no request waits out the driver's retries on the event loop, where every other request
would wait with it (tests/faults/test_db_restart.py is the same under load, slowly)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api import bureau_books
from api.app import create_app
from api.known_tokens import KnownTokens
from api.problems import PROBLEM_MEDIA_TYPE
from api.settings import Settings
from domain.bureau import Bureau
from domain.bureau_registry import BureauDirectory, BureauRegistry
from projections.database import ViewDatabase
from scripts.faults import harness
from tests.api.conftest import FISCAL_YEAR, Api
from tests.api.workplace_client import log_in, open_form
from tests.conftest import TODAY, in_ci

ANSWER_SECONDS_MAX = 1.0
# The registry read still under way when the others are answered: the driver's retries take
# seconds while the store is down.
REGISTRY_READ_SECONDS_MIN = 1.0
BEHIND_SECONDS_MAX = 60.0
# A token naming a bureau this server has never heard of: deciding which books the request
# is about reads the bureau registry again.
UNKNOWN_BUREAU_TOKEN = "flt_NOPE.x"

needs_binaries = pytest.mark.skipif(
    not (harness.PG_BIN / "initdb").exists() and not in_ci(),
    reason="PostgreSQL server binaries are not installed")


def _on_the_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _assert_store_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), response.headers
    assert response.json()["code"] == "store_unavailable", response.text
    assert response.headers["Retry-After"] == "1"


class _InFlight:
    """One request sent from a thread of its own, so that others can be sent meanwhile."""

    def __init__(self, client: TestClient, path: str, token: str) -> None:
        self.answers: list[httpx.Response] = []
        self.thread = threading.Thread(target=lambda: self.answers.append(
            client.get(path, headers={"Authorization": f"Bearer {token}"})))
        self.thread.start()

    def answered(self) -> bool:
        return bool(self.answers)

    def answer(self) -> httpx.Response:
        self.thread.join(BEHIND_SECONDS_MAX)
        assert self.answers, f"no answer within {BEHIND_SECONDS_MAX} s"
        return self.answers[0]


@pytest.mark.postgres
@needs_binaries
def test_a_stopped_store_is_a_prompt_503_problem_even_while_a_registry_read_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every bureau the directory lacks is looked up in the registry again (not once a second).
    monkeypatch.setattr(bureau_books, "DIRECTORY_REFRESH_SECONDS_MIN", 0.0)
    with harness.throwaway_cluster() as cluster:
        settings = Settings(database_url=cluster.dsn, postgres_pool_size=1,
                            signing_key_path=tmp_path / "signing-key.pem")
        app = create_app(settings, clock=lambda: TODAY)
        with TestClient(app, raise_server_exceptions=False) as client:
            ledger = app.state.ledger
            tokens = {role: ledger.add_user(f"down.{role}", [role]) for role in ("officer", "reader")}
            # The store watch stopped: this test says when the server learns the store is down,
            # so that one request is surely past the breaker before it does.
            app.state.store_outage.stop()
            cluster.stop("immediate")
            behind = _InFlight(client, "/v1/schools", UNKNOWN_BUREAU_TOKEN)
            time.sleep(0.5)
            app.state.store_outage.trip()  # what the watch does at its next look
            asked: list[tuple[str, str, str | None, Any]] = [
                ("POST", "/v1/schools", "officer", harness.school_body("DOWN-1")),
                ("GET", "/v1/funds/DOWN-F", "reader", None),
                ("GET", "/v1/schools", None, None),
                ("GET", "/healthz", None, None),
            ]
            for method, path, role, body in asked:
                headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
                sent = time.monotonic()
                response = client.request(method, path, json=body, headers=headers)
                assert time.monotonic() - sent < ANSWER_SECONDS_MAX, (method, path)
                _assert_store_unavailable(response)
            assert not behind.answered(), "the registry read was meant to be under way still"
            cluster.start()
            # Whichever comes first, the driver giving up or the store back: a problem.
            late = behind.answer()
            assert late.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), late.text
            assert late.json()["code"] in ("store_unavailable", "bureau_not_found"), late.text


def test_the_bureau_registry_is_never_read_on_the_event_loop(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write of the default bureau, unregistered, asks the registry for its level; a token
    naming an unknown bureau makes the server look it up. Both read the store: in the pool."""
    on_the_loop: list[bool] = []
    directory = BureauRegistry.directory

    def noted(registry: BureauRegistry) -> BureauDirectory:
        on_the_loop.append(_on_the_event_loop())
        return directory(registry)

    monkeypatch.setattr(BureauRegistry, "directory", noted)
    monkeypatch.setattr(bureau_books, "DIRECTORY_REFRESH_SECONDS_MIN", 0.0)
    api.school()
    unknown = api.client.get("/v1/schools",
                             headers={"Authorization": f"Bearer {UNKNOWN_BUREAU_TOKEN}"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "bureau_not_found")
    dashboard = api.client.get("/dashboard", headers={"cookie": f"{bureau_books.BUREAU_COOKIE}=NOPE"},
                               follow_redirects=False)
    assert dashboard.status_code < 500
    assert on_the_loop, "nothing read the registry: the test proves nothing"
    assert not any(on_the_loop), on_the_loop


def test_the_dashboards_async_pages_read_neither_store_nor_views_on_the_event_loop(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's `async` handlers (every workplace write, the journal entry, the
    uploads, a refused tranche, an export job) check the token, which reads the store, and
    render pages, which read the views: each in the pool, answering as before."""
    api.school()
    api.fund()
    log_in(api, "officer")
    guard = open_form(api, "/dashboard/work/register-school")
    upload = open_form(api, "/dashboard/work/import")
    school = {"code": "XZ-LOOP-1", "name": "Loop", "district": "Pei", "level": "primary",
              "locale": "rural", "students": "420", "effective_date": f"{FISCAL_YEAR}-01-01"}
    bad_sheet = b"school,fund,amount_major,purpose,effective_date,unit\nXZ-NOPE,PUB-1,1.00,x,,CNY\n"
    reads: dict[str, list[bool]] = {}
    asking = [""]

    def noted(read: Any) -> Any:
        def reading(*args: Any, **kwargs: Any) -> Any:
            reads.setdefault(asking[0], []).append(_on_the_event_loop())
            return read(*args, **kwargs)
        return reading

    # Every token check reads the store, as when the remembered tokens were forgotten.
    monkeypatch.setattr(KnownTokens, "remembered", lambda _self, _token: None)
    monkeypatch.setattr(Bureau, "authenticate", noted(Bureau.authenticate))
    for name in ("rows", "dicts"):
        monkeypatch.setattr(ViewDatabase, name, noted(getattr(ViewDatabase, name)))
    asked: list[tuple[str, dict[str, Any], dict[str, Any], int]] = [
        ("/dashboard/work/register-school", {**guard, **school, "students": "-3"}, {}, 422),
        ("/dashboard/work/register-school", {**guard, **school}, {}, 200),
        ("/dashboard/work/register-school", {**school, "csrf_token": "forged"}, {}, 403),
        ("/dashboard/work/queue/bulk", {"csrf_token": guard["csrf_token"]}, {}, 403),
        ("/dashboard/work/import", upload, {"file": ("bad.csv", bad_sheet, "text/csv")}, 422),
        ("/dashboard/imports", {"csrf_token": guard["csrf_token"]},
         {"file": ("bad.csv", bad_sheet, "text/csv")}, 200),
        ("/dashboard/tranches", {"csrf_token": guard["csrf_token"], "fund": "NOPE"}, {}, 200),
        ("/dashboard/audit/jobs", {"csrf_token": guard["csrf_token"]}, {}, 403),
    ]
    for path, data, files, status in asked:
        asking[0] = f"POST {path} {status}"
        answer = api.client.post(path, data=data, files=files or None, follow_redirects=False)
        assert answer.status_code == status, (path, answer.text)
    asking[0] = "GET journal"
    assert api.client.get(f"/dashboard/work/journal/{api.ledger.last_position()}").status_code == 200
    assert len(reads) == len(asked) + 1, f"a request read nothing: {sorted(reads)}"
    assert not [request for request, loop in reads.items() if any(loop)]
