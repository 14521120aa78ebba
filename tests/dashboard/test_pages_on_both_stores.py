"""Every dashboard page answers on both stores, now and as of a date (PostgreSQL sums money as
NUMERIC: a page that formatted such a sum failed there with a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.ledger import FundLedger
from tests.audit.conftest import build_small_bureau
from tests.conftest import TODAY
from tests.dashboard_login import dashboard_login

VIEWS_WAIT_SECONDS = 10
PAGES = ("/dashboard", "/dashboard/schools", "/dashboard/schools/XZ-PZ-0002", "/dashboard/rural",
         "/dashboard/audit", "/dashboard/findings")


@pytest.fixture
def client(store_settings: Settings, tmp_path: Any) -> Iterator[TestClient]:
    settings = store_settings.model_copy(update={"signing_key_path": tmp_path / "bureau.pem"})
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    token = ledger.add_user("page.auditor", ["auditor"])
    app = create_app(settings, clock=lambda: TODAY, ledger=ledger)
    with TestClient(app, raise_server_exceptions=False) as made:
        assert app.state.queries.wait_for(ledger.recorder.max_notification_id(), VIEWS_WAIT_SECONDS)
        dashboard_login(made, token)
        yield made
    ledger.close()


@pytest.mark.parametrize("as_of", ["", "2025-06-30"])
def test_every_page_answers(client: TestClient, as_of: str) -> None:
    for path in PAGES:
        response = client.get(path, params={"year": "2025", "as_of": as_of})
        assert response.status_code == 200, (path, response.text[:300])
