"""The views tell the truth (issue 14): a runner stuck on an event makes /healthz answer 503
with the reason and the position it is stuck at, and `reconcile` fails while the views are
not at the store's head. Found when a NUL in a school's name stopped the PostgreSQL views
for good while /healthz said ok and reconcile exited 0."""

from __future__ import annotations

import time

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


def test_a_stuck_runner_is_503_with_its_position_and_reconcile_fails(stored_api: Api) -> None:
    api = stored_api
    api.school()
    poisoned_at = _poison_written_before_the_fix(api)
    api.school("XZ-PX-0002")  # a later write the stuck views would never show
    status, body = _health(api)
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    db = ViewDatabase.open(settings)
    try:
        _, lines = reconcile(api.ledger, db)
    finally:
        db.close()
    if settings.is_postgres:  # PostgreSQL text cannot hold NUL: the views stop at it
        assert status == 503, body
        assert body["status"] == "views_failing"
        assert body["stuck_at"] < poisoned_at  # the failing page starts after it
        assert "NUL" in str(body["reason"]) or "0x00" in str(body["reason"])
        assert any("not applied" in line for line in lines), lines
    else:  # SQLite holds it: the views go on, and health and reconcile say so
        assert status == 200, body
        assert body["status"] == "ok" and body["views_position"] == body["position"]
        assert lines == []


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
