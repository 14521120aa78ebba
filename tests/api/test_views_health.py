"""The views tell the truth (issue 14): a runner stuck on an event makes /healthz answer 503
with the reason and the position it is stuck at, and `reconcile` fails while the views are
not at the store's head. Found when a NUL in a school's name stopped the PostgreSQL views
for good while /healthz said ok and reconcile exited 0."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from api.cli import app
from domain.actors import Stamp
from domain.school import School
from projections.database import ViewDatabase
from projections.reconcile import reconcile
from tests.api.conftest import Api
from tests.conftest import TODAY

WAIT_SECONDS = 10.0


def _poison_written_before_the_fix(api: Api) -> int:
    """An old store's poison: saved past today's checks, as v0.1.0 accepted it."""
    school = School(code="XZ-NUL-1", name="School\u0000Zero", district="Pei", level="primary",
                    locale="rural", poverty_area=False, students=10,
                    stamp=Stamp("old.officer", "officer", TODAY))
    return api.ledger.save(school)[-1].notification.id


def _health(api: Api) -> tuple[int, dict[str, object]]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        answer = api.client.get("/healthz")
        body = answer.json()
        settled = answer.status_code == 503 or body["views_position"] == body["position"]
        if settled or time.monotonic() > deadline:
            return answer.status_code, body
        time.sleep(0.1)


def _reconciled(api: Api, school: str | None = None) -> tuple[list[str], str | None]:
    """What reconcile says, and the name the views show for `school` (if asked)."""
    db = ViewDatabase.open(api.client.app.state.settings)  # type: ignore[attr-defined]
    try:
        _, lines = reconcile(api.ledger, db)
        shown = (db.rows("SELECT name FROM schools WHERE school_code = ?", (school,))[0][0]
                 if school else None)
    finally:
        db.close()
    return lines, shown


def test_a_nul_written_before_the_validator_no_longer_stops_the_views(stored_api: Api) -> None:
    """An old store's NUL once stopped the PostgreSQL views for good (rebuild and verify
    ended in a traceback). The event stays as written; the PostgreSQL views show U+FFFD."""
    api = stored_api
    api.school()
    poisoned_at = _poison_written_before_the_fix(api)
    api.school("XZ-PX-0002")  # a later write the views must show
    status, body = _health(api)
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    lines, shown = _reconciled(api, "XZ-NUL-1")
    assert status == 200, body
    assert body["status"] == "ok" and body["views_position"] == body["position"]
    assert lines == []
    assert api.ok(api.get("reader", "/v1/schools/XZ-PX-0002"))["code"] == "XZ-PX-0002"
    if settings.is_postgres:  # text there cannot hold NUL
        assert shown == "School\ufffdZero"
        assert body["nul_text_at"] == [poisoned_at]
    else:
        assert shown == "School\u0000Zero"


def test_a_failing_runner_is_503_with_its_position_and_reconcile_fails(
        stored_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever stops the views (it was a NUL once), /healthz and reconcile say so."""
    api = stored_api
    api.school()
    _health(api)
    runner = api.client.app.state.view_runner  # type: ignore[attr-defined]

    def fails(*_: object) -> None:
        msg = "a view cannot apply this page"
        raise RuntimeError(msg)

    monkeypatch.setattr(runner.views[0], "apply_page", fails)
    stuck_at = api.ledger.last_position()
    api.school("XZ-PX-0002")  # a write the stuck views never show
    status, body = _health(api)
    lines, _ = _reconciled(api)
    assert status == 503, body
    assert body["status"] == "views_failing" and body["stuck_at"] == stuck_at
    assert "cannot apply" in str(body["reason"])
    assert any("not applied" in line for line in lines), lines


def test_views_standing_still_behind_the_store_are_503(api: Api) -> None:
    state = api.client.app.state  # type: ignore[attr-defined]
    state.settings = state.settings.model_copy(update={"health_views_stall_seconds_max": 0.2})
    runner = state.view_runner
    runner.failures = 0
    queries = state.queries
    real_position = queries.position
    stuck = real_position()
    queries.position = lambda: stuck  # the views stop moving …
    try:
        api.school()  # … while the store moves on
        first = api.client.get("/healthz")
        time.sleep(0.3)
        second = api.client.get("/healthz")
    finally:
        queries.position = real_position
    assert first.status_code == 200, first.text
    assert second.status_code == 503, second.text
    assert (second.json()["status"], second.json()["stuck_at"]) == ("views_stalled", stuck)


def test_rebuild_and_verify_name_an_old_nul_and_go_on(stored_api: Api,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`rebuild` and `verify` ended in a PostgreSQL traceback on such a store."""
    api = stored_api
    api.school()
    poisoned_at = _poison_written_before_the_fix(api)
    api.school("XZ-PX-0002")
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    for name, value in settings.eventsourcing_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", settings.postgres_schema)
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(settings.signing_key_path))
    rebuilt = CliRunner().invoke(app, ["rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    verified = CliRunner().invoke(app, ["verify"])
    assert verified.exit_code == 0, verified.output
    assert f"event at position {poisoned_at} holds a NUL" in " ".join(verified.output.split())
    assert "Traceback" not in rebuilt.output + verified.output
    reconciled = CliRunner().invoke(app, ["reconcile"])
    assert reconciled.exit_code == 0, reconciled.output
